// What the ledger's domain needs from storage. `src/ledger/store/sql-store.ts` implements it over
// the shared storage layer; the domain never sees SQL.
import type { IdempotencyKeys } from '../../storage/idempotency.ts';
import type { Account, AccountView, Entry, Hold, Participant, Payment, StoredResult } from './types.ts';

/** One money transaction. Row locks are taken in one order: idempotency key, accounts by id, hold. */
export interface LedgerTransaction {
  /** Claimed first, answered last (the shared protocol of `storage/idempotency.ts`). */
  readonly idempotencyKeys: IdempotencyKeys<StoredResult>;

  /** Returns false (and inserts nothing) if the key digest is taken. */
  insertParticipant(participant: Participant, apiKeySha256: string): Promise<boolean>;
  findParticipant(id: string): Promise<Participant | null>;

  insertAccount(account: Account): Promise<void>;
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

export interface LedgerStore {
  transaction<T>(body: (tx: LedgerTransaction) => Promise<T>): Promise<T>;
  findParticipantByKeyDigest(apiKeySha256: string): Promise<Participant | null>;
  findHold(id: string): Promise<Hold | null>;
  findPayment(id: string): Promise<Payment | null>;
  accountView(id: string, nowMs: number): Promise<AccountView | null>;
  /** Entries with sequence > afterSequence, ascending, at most `limit`. */
  entries(accountId: string, afterSequence: number, limit: number): Promise<readonly Entry[]>;
  /**
   * Drops the answers of up to `rowsMax` idempotency keys claimed at or before the time, keeping
   * their tombstones (storage/idempotency.ts); returns how many.
   */
  expireIdempotencyAnswers(claimedAtOrBeforeMs: number, rowsMax: number): Promise<number>;
  /** Database round trip for health checks. */
  ping(): Promise<void>;
}
