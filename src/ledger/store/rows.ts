// Database rows <-> domain types. Decoding is strict (see storage/decode.ts); the same row shapes,
// with bigints as decimal strings, encode the stored answers of idempotent requests.
import { serviceParticipantTable } from '../../storage/participants.ts';
import { AssertionFailed } from '../../core/assert.ts';
import type { Row } from '../../storage/database.ts';
import {
  columnBigint,
  columnOneOf,
  columnSafeInteger,
  columnText,
  columnTextOrNull,
} from '../../storage/decode.ts';
import {
  accountKinds,
  holdStates,
  paymentKinds,
  roles,
  type Account,
  type Entry,
  type Hold,
  type Payment,
  type StoredResult,
} from '../domain/types.ts';

export const participantTable = serviceParticipantTable('ledger_participants', roles);

export function accountFromRow(row: Row): Account {
  return {
    id: columnText(row, 'id'),
    kind: columnOneOf(row, 'kind', accountKinds),
    ownerId: columnTextOrNull(row, 'owner_id'),
    balance: columnBigint(row, 'balance'),
    entryCount: columnSafeInteger(row, 'entry_count'),
    createdAtMs: columnSafeInteger(row, 'created_at_ms'),
  };
}

export function paymentFromRow(row: Row): Payment {
  return {
    id: columnText(row, 'id'),
    kind: columnOneOf(row, 'kind', paymentKinds),
    payerAccountId: columnText(row, 'payer_account_id'),
    payeeAccountId: columnText(row, 'payee_account_id'),
    amount: columnBigint(row, 'amount'),
    reference: columnTextOrNull(row, 'reference'),
    holdId: columnTextOrNull(row, 'hold_id'),
    createdAtMs: columnSafeInteger(row, 'created_at_ms'),
  };
}

export function holdFromRow(row: Row): Hold {
  const closedAt = row['closed_at_ms'];
  return {
    id: columnText(row, 'id'),
    payerAccountId: columnText(row, 'payer_account_id'),
    payeeAccountId: columnText(row, 'payee_account_id'),
    amount: columnBigint(row, 'amount'),
    reference: columnTextOrNull(row, 'reference'),
    state: columnOneOf(row, 'state', holdStates),
    expiresAtMs: columnSafeInteger(row, 'expires_at_ms'),
    createdAtMs: columnSafeInteger(row, 'created_at_ms'),
    paymentId: columnTextOrNull(row, 'payment_id'),
    closedAtMs: closedAt === null ? null : columnSafeInteger(row, 'closed_at_ms'),
  };
}

export function entryFromRow(row: Row): Entry {
  return {
    accountId: columnText(row, 'account_id'),
    sequence: columnSafeInteger(row, 'sequence'),
    paymentId: columnText(row, 'payment_id'),
    kind: columnOneOf(row, 'kind', paymentKinds),
    direction: columnOneOf(row, 'direction', ['debit', 'credit']),
    amount: columnBigint(row, 'amount'),
    balanceAfter: columnBigint(row, 'balance_after'),
    createdAtMs: columnSafeInteger(row, 'created_at_ms'),
  };
}

/** The parameters of an INSERT, in the column order of the statements in sql-store.ts. */
export function paymentParams(payment: Payment): (string | bigint | number | null)[] {
  return [
    payment.id,
    payment.kind,
    payment.payerAccountId,
    payment.payeeAccountId,
    payment.amount,
    payment.reference,
    payment.holdId,
    payment.createdAtMs,
  ];
}

export function holdParams(hold: Hold): (string | bigint | number | null)[] {
  return [
    hold.id,
    hold.payerAccountId,
    hold.payeeAccountId,
    hold.amount,
    hold.reference,
    hold.state,
    hold.expiresAtMs,
    hold.createdAtMs,
    hold.paymentId,
    hold.closedAtMs,
  ];
}

// Stored answers: { kind, row } with the row in column names, bigints as decimal strings.

export function encodeResult(result: StoredResult): string {
  // The rows are built with their bigints already decimal strings: a replacer function would be
  // called for every key of every answer, a cost on each payment's path.
  return JSON.stringify({ kind: result.kind, row: resultRow(result) });
}

function resultRow(result: StoredResult): Record<string, string | number | null> {
  switch (result.kind) {
    case 'participant': {
      // Written out, not participantTable.toRow: these rows hold no bigint (see encodeResult).
      const { id, name, role, createdAtMs } = result.participant;
      return { id, name, role, created_at_ms: createdAtMs };
    }
    case 'account': {
      const { id, kind, ownerId, balance, entryCount, createdAtMs } = result.account;
      return {
        id,
        kind,
        owner_id: ownerId,
        balance: balance.toString(),
        entry_count: entryCount,
        created_at_ms: createdAtMs,
      };
    }
    case 'payment': {
      const { payment } = result;
      return {
        id: payment.id,
        kind: payment.kind,
        payer_account_id: payment.payerAccountId,
        payee_account_id: payment.payeeAccountId,
        amount: payment.amount.toString(),
        reference: payment.reference,
        hold_id: payment.holdId,
        created_at_ms: payment.createdAtMs,
      };
    }
    case 'hold': {
      const { hold } = result;
      return {
        id: hold.id,
        payer_account_id: hold.payerAccountId,
        payee_account_id: hold.payeeAccountId,
        amount: hold.amount.toString(),
        reference: hold.reference,
        state: hold.state,
        expires_at_ms: hold.expiresAtMs,
        created_at_ms: hold.createdAtMs,
        payment_id: hold.paymentId,
        closed_at_ms: hold.closedAtMs,
      };
    }
  }
}

export function decodeResult(text: string): StoredResult {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || !('kind' in parsed) || !('row' in parsed)) {
    throw new AssertionFailed('stored idempotent answer: expected { kind, row }');
  }
  const row = parsed.row;
  if (typeof row !== 'object' || row === null)
    throw new AssertionFailed('stored idempotent answer: row is not an object');
  const fields = row as Row;
  switch (parsed.kind) {
    case 'participant':
      return { kind: 'participant', participant: participantTable.fromRow(fields) };
    case 'account':
      return { kind: 'account', account: accountFromRow(fields) };
    case 'payment':
      return { kind: 'payment', payment: paymentFromRow(fields) };
    case 'hold':
      return { kind: 'hold', hold: holdFromRow(fields) };
    default:
      throw new AssertionFailed(`stored idempotent answer: unknown kind ${String(parsed.kind)}`);
  }
}
