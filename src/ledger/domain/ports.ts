// What the ledger's domain needs from storage. `src/ledger/store/sql-store.ts` implements it over
// the shared storage layer; the domain never sees SQL.
import type {
  ParticipantServiceStore,
  ParticipantServiceTransaction,
} from '../../service-kit/participant-service.ts';
import type { IdempotencyRecord } from '../../storage/idempotency.ts';
import type { Account, AccountView, Entry, Hold, Participant, Payment, StoredResult } from './types.ts';

/** One money transaction. Row locks are taken in one order: idempotency key, accounts by id, hold. */
export interface LedgerTransaction extends ParticipantServiceTransaction<Participant, StoredResult> {
  findParticipant(id: string): Promise<Participant | null>;

  insertAccount(account: Account): Promise<void>;
  /** Reads an account without locking it (its kind and owner never change). */
  findAccount(id: string): Promise<Account | null>;
  /** Locks the accounts for the rest of the transaction, in id order; unknown ids are absent. */
  lockAccounts(ids: readonly string[]): Promise<ReadonlyMap<string, Account>>;
  /** Sum and count of the account's holds that are placed and not expired at `nowMs`. */
  activeHolds(accountId: string, nowMs: number): Promise<{ readonly total: bigint; readonly count: number }>;
  /**
   * Writes the payment and its entries, and sets each entry's account's balance to entry.balanceAfter
   * and its entry count to entry.sequence (the accounts are locked by this transaction).
   */
  postPayment(payment: Payment, entries: readonly Entry[]): Promise<void>;

  insertHold(hold: Hold): Promise<void>;
  /** Reads a hold without locking it (its accounts never change: they name the accounts to lock). */
  findHold(id: string): Promise<Hold | null>;
  lockHold(id: string): Promise<Hold | null>;
  updateHold(hold: Hold): Promise<void>;
  findPayment(id: string): Promise<Payment | null>;
}

/** What a payment (by idempotency key) or a capture (by hold) is about. */
export type PaymentTarget =
  | {
      readonly kind: 'payment';
      readonly participantId: string;
      readonly key: string;
      readonly payerAccountId: string;
      readonly payeeAccountId: string;
      readonly nowMs: number;
    }
  | { readonly kind: 'capture'; readonly holdId: string; readonly nowMs: number };

/** What a payment or capture is decided on: one consistent read. */
export interface PaymentView {
  /** The record under the payment's idempotency key; null if unused, and for a capture. */
  readonly earlier: IdempotencyRecord<StoredResult> | null;
  /** A capture's hold (null if there is none with this id, and for a payment). */
  readonly hold: Hold | null;
  /** The accounts (a capture's: the hold's), null when absent. */
  readonly payer: Account | null;
  readonly payee: Account | null;
  /** Sum of the payer's holds placed and not expired at the target's nowMs (a captured one included). */
  readonly payerHeld: bigint;
}

/** A payment decided on a view, and what it answers once posted. */
export interface PaymentPost<T> {
  readonly payment: Payment;
  /** Stored under the payment's idempotency key (a capture has none: it is idempotent by hold). */
  readonly result: StoredResult | null;
  readonly fingerprint: string;
  /** The hold a capture closes, as it is after the capture. */
  readonly captured: Hold | null;
  readonly answer: T;
}

/** `decide`'s verdict: an answer without posting (a replay), or a payment to post. */
export type PaymentDecision<T> =
  { readonly kind: 'answer'; readonly answer: T } | ({ readonly kind: 'post' } & PaymentPost<T>);

export interface LedgerStore extends ParticipantServiceStore<Participant, LedgerTransaction> {
  /**
   * One payment or capture: reads the view, asks the pure `decide` (which throws a refusal, answers,
   * or returns the payment) and posts it atomically with its answer under the key, its entries and
   * balances. The post re-checks under the locks what the decision read and another request may have
   * changed (the payer's available balance, the hold's state, the key): if that changed, the view is
   * read and decided again, so the decision always stands on what it posts over.
   */
  decideAndPost<T>(target: PaymentTarget, decide: (view: PaymentView) => PaymentDecision<T>): Promise<T>;
  findHold(id: string): Promise<Hold | null>;
  findPayment(id: string): Promise<Payment | null>;
  accountView(id: string, nowMs: number): Promise<AccountView | null>;
  /** Entries with sequence > afterSequence, ascending, at most `limit`. */
  entries(accountId: string, afterSequence: number, limit: number): Promise<readonly Entry[]>;
}
