// Strict decoders for the ledger's answers. A field that does not decode names itself in a
// `ledgerAnswerInvalid` error: the gateway never passes on a value it did not check.
import { answerDecoders } from '../../http-client/answer-decode.ts';
import { ledgerError } from './errors.ts';
import type {
  LedgerAccount,
  LedgerEntry,
  LedgerHold,
  LedgerParticipant,
  LedgerPayment,
  LedgerStatementPage,
} from './types.ts';

const decoders = answerDecoders((detail) => ledgerError('ledgerAnswerInvalid', detail));
export const { field } = decoders;
const { object, text, textOrNull, oneOf, invalid, money } = decoders;

const accountKinds = ['issuance', 'intermediary', 'dcpPool', 'wallet'] as const;
const paymentKinds = ['payment', 'issuance', 'capture', 'settlement'] as const;

export function decodeParticipant(value: unknown, path = 'participant'): LedgerParticipant {
  const fields = object(value, path);
  return {
    id: text(fields, 'id', path),
    name: text(fields, 'name', path),
    role: oneOf(fields, 'role', path, ['operator', 'intermediary', 'dcp', 'settlement']),
  };
}

export function decodeAccount(value: unknown, path = 'account'): LedgerAccount {
  const fields = object(value, path);
  return {
    id: text(fields, 'id', path),
    kind: oneOf(fields, 'kind', path, accountKinds),
    ownerId: textOrNull(fields, 'ownerId', path),
    balance: money(fields, 'balance', path, true),
    held: money(fields, 'held', path),
    available: money(fields, 'available', path, true),
    settled: money(fields, 'settled', path, true),
  };
}

export function decodePayment(value: unknown, path = 'payment'): LedgerPayment {
  const fields = object(value, path);
  return {
    id: text(fields, 'id', path),
    kind: oneOf(fields, 'kind', path, paymentKinds),
    payerAccountId: text(fields, 'payerAccountId', path),
    payeeAccountId: text(fields, 'payeeAccountId', path),
    amount: money(fields, 'amount', path),
    reference: textOrNull(fields, 'reference', path),
    holdId: textOrNull(fields, 'holdId', path),
    createdAt: text(fields, 'createdAt', path),
  };
}

export function decodeHold(value: unknown, path = 'hold'): LedgerHold {
  const fields = object(value, path);
  return {
    id: text(fields, 'id', path),
    payerAccountId: text(fields, 'payerAccountId', path),
    payeeAccountId: text(fields, 'payeeAccountId', path),
    amount: money(fields, 'amount', path),
    reference: textOrNull(fields, 'reference', path),
    status: oneOf(fields, 'status', path, ['held', 'captured', 'released', 'expired']),
    expiresAt: text(fields, 'expiresAt', path),
    paymentId: textOrNull(fields, 'paymentId', path),
  };
}

function decodeEntry(value: unknown, path: string): LedgerEntry {
  const fields = object(value, path);
  const sequence = fields['sequence'];
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 1) {
    throw invalid(`${path}.sequence`, 'a positive integer');
  }
  return {
    sequence,
    paymentId: text(fields, 'paymentId', path),
    kind: oneOf(fields, 'kind', path, paymentKinds),
    direction: oneOf(fields, 'direction', path, ['debit', 'credit']),
    amount: money(fields, 'amount', path),
    balanceAfter: money(fields, 'balanceAfter', path, true),
  };
}

export function decodeStatement(value: unknown): LedgerStatementPage {
  const fields = object(value, 'statement');
  const entries = fields['entries'];
  if (!Array.isArray(entries)) throw invalid('statement.entries', 'an array');
  return {
    entries: entries.map((entry: unknown, index) => decodeEntry(entry, `statement.entries[${index}]`)),
    next: textOrNull(fields, 'next', 'statement'),
  };
}
