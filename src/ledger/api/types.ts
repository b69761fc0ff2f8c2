// What the gateway gives its caller (the DCP): the ledger's answers decoded into typed values,
// amounts as bigint. Defined here, not imported from the ledger, so that the two sides only share
// the wire format (and the error catalogue, src/ledger/api/errors.ts).

export type LedgerAccountKind = 'issuance' | 'intermediary' | 'dcpPool' | 'wallet';
export type LedgerPaymentKind = 'payment' | 'issuance' | 'capture' | 'settlement';
export type LedgerHoldStatus = 'held' | 'captured' | 'released' | 'expired';
export type LedgerRole = 'operator' | 'intermediary' | 'dcp' | 'settlement';

export interface LedgerParticipant {
  readonly id: string;
  readonly name: string;
  readonly role: LedgerRole;
}

export interface LedgerAccount {
  readonly id: string;
  readonly kind: LedgerAccountKind;
  readonly ownerId: string | null;
  readonly balance: bigint;
  readonly held: bigint;
  readonly available: bigint;
  /** Net value settlement payments moved into the account (negative: out of it). */
  readonly settled: bigint;
}

export interface LedgerPayment {
  readonly id: string;
  readonly kind: LedgerPaymentKind;
  readonly payerAccountId: string;
  readonly payeeAccountId: string;
  readonly amount: bigint;
  readonly reference: string | null;
  readonly holdId: string | null;
  readonly createdAt: string;
}

export interface LedgerHold {
  readonly id: string;
  readonly payerAccountId: string;
  readonly payeeAccountId: string;
  readonly amount: bigint;
  readonly reference: string | null;
  readonly status: LedgerHoldStatus;
  readonly expiresAt: string;
  readonly paymentId: string | null;
}

export interface LedgerEntry {
  readonly sequence: number;
  readonly paymentId: string;
  readonly kind: LedgerPaymentKind;
  readonly direction: 'debit' | 'credit';
  readonly amount: bigint;
  readonly balanceAfter: bigint;
}

export interface LedgerStatementPage {
  readonly entries: readonly LedgerEntry[];
  /** Pass as `after` for the next page; null at the end. */
  readonly next: string | null;
}

export type { Replayable } from '../../http-client/json-caller.ts';
