// The core ledger's domain types. Money is bigint minor units; times are milliseconds since the
// epoch from the injected clock.

export const roles = ['operator', 'intermediary', 'dcp', 'settlement'] as const;
/** operator: the central bank's staff (issues, creates participants); intermediary: a commercial
 *  bank; dcp: a Digital Currency Provider (pool and wallet accounts); settlement: the MDS's
 *  settlement between DCP pools (reads pools, pays from one pool to another, owns nothing). */
export type Role = (typeof roles)[number];

export interface Participant {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAtMs: number;
}

export const accountKinds = ['issuance', 'intermediary', 'dcpPool', 'wallet'] as const;
export type AccountKind = (typeof accountKinds)[number];

/** The one account whose balance is negative: minus the money in circulation. */
export const issuanceAccountId = 'issuance';

export interface Account {
  readonly id: string;
  readonly kind: AccountKind;
  /** null only for the issuance account, which belongs to the central bank (its operators act for it). */
  readonly ownerId: string | null;
  readonly balance: bigint;
  /** How many entries the statement has; the next entry gets sequence entryCount + 1. */
  readonly entryCount: number;
  readonly createdAtMs: number;
}

export interface AccountView {
  readonly account: Account;
  /** Sum of the account's active (placed, not expired) holds. */
  readonly held: bigint;
  readonly available: bigint;
  /** Net value settlement payments moved into the account (negative: out of it). */
  readonly settled: bigint;
}

export const paymentKinds = ['payment', 'issuance', 'capture', 'settlement'] as const;
export type PaymentKind = (typeof paymentKinds)[number];

export interface Payment {
  readonly id: string;
  readonly kind: PaymentKind;
  readonly payerAccountId: string;
  readonly payeeAccountId: string;
  readonly amount: bigint;
  readonly reference: string | null;
  /** The hold a capture settles; null for other kinds. */
  readonly holdId: string | null;
  readonly createdAtMs: number;
}

export const holdStates = ['held', 'captured', 'released'] as const;
export type HoldState = (typeof holdStates)[number];
/** What a reader sees: a `held` hold past its expiry is `expired` (expiry is lazy; nothing runs at
 *  the expiry instant, the hold simply stops counting against the payer's available balance). */
export type HoldStatus = HoldState | 'expired';

export interface Hold {
  readonly id: string;
  readonly payerAccountId: string;
  readonly payeeAccountId: string;
  readonly amount: bigint;
  readonly reference: string | null;
  readonly state: HoldState;
  readonly expiresAtMs: number;
  readonly createdAtMs: number;
  /** The capture payment, once captured. */
  readonly paymentId: string | null;
  readonly closedAtMs: number | null;
}

export interface Entry {
  readonly accountId: string;
  readonly sequence: number;
  readonly paymentId: string;
  readonly kind: PaymentKind;
  readonly direction: 'debit' | 'credit';
  readonly amount: bigint;
  readonly balanceAfter: bigint;
  readonly createdAtMs: number;
}

/** The answer to an idempotent request, kept to answer replays identically. */
export type StoredResult =
  | { readonly kind: 'participant'; readonly participant: Participant }
  | { readonly kind: 'account'; readonly account: Account }
  | { readonly kind: 'payment'; readonly payment: Payment }
  | { readonly kind: 'hold'; readonly hold: Hold };

export interface Clock {
  nowMs(): number;
}

/** Makes unique ids, e.g. `pay_5f0c...`; injected so a seeded run replays exactly. */
export interface IdGenerator {
  next(prefix: 'prt' | 'acc' | 'pay' | 'hold'): string;
}
