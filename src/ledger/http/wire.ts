// Domain values → JSON answers. Amounts and balances become decimal strings, times ISO 8601.
import type { Static } from '@sinclair/typebox';
import { serviceParticipantWire } from '../../service-kit/participants.ts';
import { isoTime } from '../../service-kit/schemas.ts';
import type { AccountView, Entry, Hold, HoldStatus, Participant, Payment } from '../domain/types.ts';
import type { AccountWire, EntryWire, HoldWire, ParticipantWire, PaymentWire } from './schemas.ts';

export const participantWire: (participant: Participant) => Static<typeof ParticipantWire> =
  serviceParticipantWire;

export function accountWire(view: AccountView): Static<typeof AccountWire> {
  const { account } = view;
  return {
    id: account.id,
    kind: account.kind,
    ownerId: account.ownerId,
    balance: account.balance.toString(),
    held: view.held.toString(),
    available: view.available.toString(),
    settled: view.settled.toString(),
    createdAt: isoTime(account.createdAtMs),
  };
}

export function paymentWire(payment: Payment): Static<typeof PaymentWire> {
  return {
    id: payment.id,
    kind: payment.kind,
    payerAccountId: payment.payerAccountId,
    payeeAccountId: payment.payeeAccountId,
    amount: payment.amount.toString(),
    reference: payment.reference,
    holdId: payment.holdId,
    createdAt: isoTime(payment.createdAtMs),
  };
}

export function holdWire(hold: Hold, status: HoldStatus): Static<typeof HoldWire> {
  return {
    id: hold.id,
    payerAccountId: hold.payerAccountId,
    payeeAccountId: hold.payeeAccountId,
    amount: hold.amount.toString(),
    reference: hold.reference,
    status,
    expiresAt: isoTime(hold.expiresAtMs),
    createdAt: isoTime(hold.createdAtMs),
    paymentId: hold.paymentId,
    closedAt: hold.closedAtMs === null ? null : isoTime(hold.closedAtMs),
  };
}

export function entryWire(entry: Entry): Static<typeof EntryWire> {
  return {
    sequence: entry.sequence,
    paymentId: entry.paymentId,
    kind: entry.kind,
    direction: entry.direction,
    amount: entry.amount.toString(),
    balanceAfter: entry.balanceAfter.toString(),
    createdAt: isoTime(entry.createdAtMs),
  };
}
