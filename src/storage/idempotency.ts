// Idempotency keys (DESIGN §7, STYLE §7), the same protocol for every service: a mutation claims
// (participant, key) in its own transaction, runs, and stores its answer under the key before it
// commits; a replay with the same request fingerprint gets the stored answer, one with another
// fingerprint is refused. Because claim, mutation and answer commit together, a refused or crashed
// request leaves no claim behind and may be retried with the same key.
//
// Answers are kept for a retention (`idempotencyRetentionMsDefault`, a service may configure its
// own); after it the key is expired: any request under it is refused (`expired`), never executed
// again. `IdempotencyTable.expire` then drops the answer and keeps a tombstone — the row without its
// answer or fingerprint, ~100 bytes — forever, so even a replay years later cannot move money twice.
//
//   key:  claimed ──commit──▶ answered ──retention──▶ expired (lazy: refused) ──expire()──▶ tombstone
//         (uncommitted;         (replays answer)        (answer still stored,      (answer and print
//          rolled back on a                              never sent again)          dropped; refused)
//          refusal: no trace)
//
// Each service keeps its keys in its own table of this shape (its migration creates it):
//   <table> (participant_id TEXT, idempotency_key TEXT, fingerprint TEXT, result TEXT NULL,
//            created_at_ms BIGINT, PRIMARY KEY (participant_id, idempotency_key))
// plus, for `expire`, an index on created_at_ms WHERE result IS NOT NULL. `result` is NULL inside the
// claiming transaction (no other reader sees that) and in a committed tombstone.
import { assert } from '../core/assert.ts';
import type { Executor, Row } from './database.ts';
import { columnSafeInteger, columnText, columnTextOrNull } from './decode.ts';

/**
 * How long an answer is kept: 7 days. Longer than any retry loop of a client (the DCP's outbox
 * retries within minutes) and than the ledger's longest hold (holdSecondsMax, 7 days), so every key
 * a client may still replay replays.
 */
export const idempotencyRetentionMsDefault = 7 * 24 * 60 * 60 * 1000;
/** Answers `expire` turns into tombstones per call: it runs often, each run short. */
export const idempotencyExpiryRowsMax = 1_000;

/**
 * The statement that creates a service's idempotency table (the shape above), for its migration;
 * the text is the one the services' first migrations wrote, so schemas compare equal.
 */
export function idempotencyTableStatement(table: string): string {
  const columns = [
    'participant_id TEXT NOT NULL',
    'idempotency_key TEXT NOT NULL',
    'fingerprint TEXT NOT NULL',
    'result TEXT',
    'created_at_ms BIGINT NOT NULL',
    'PRIMARY KEY (participant_id, idempotency_key))',
  ];
  return `CREATE TABLE ${table} (\n${columns.map((column) => `          ${column}`).join(',\n')}`;
}

/**
 * The index `expire` scans: the answers still kept, oldest first (a partial index, which both engines
 * have; tombstones leave it).
 */
export function idempotencyAnswersIndexStatement(index: string, table: string): string {
  return `CREATE INDEX ${index} ON ${table} (created_at_ms) WHERE result IS NOT NULL`;
}

/** The request fingerprint every service uses (defined in core, where the device side uses it too). */
export { requestFingerprint } from '../core/request-digests.ts';

export interface IdempotencyRecord<Result> {
  readonly fingerprint: string;
  /** null for a tombstone: the key was used and expired, its answer dropped. */
  readonly result: Result | null;
  /** When the key was claimed; left out by a store that keeps no time (its keys never expire). */
  readonly createdAtMs?: number;
}

/** A service's idempotency keys inside one transaction (its transaction port has them). */
export interface IdempotencyKeys<Result> {
  /** Claims (participant, key) for this request; returns null if claimed now, or the earlier record. */
  claim(
    participantId: string,
    key: string,
    fingerprint: string,
    nowMs: number,
  ): Promise<IdempotencyRecord<Result> | null>;
  /** Stores the answer under the key claimed in this transaction. */
  complete(participantId: string, key: string, result: Result): Promise<void>;
}

/** How a service stores its answers as text in the `result` column. */
export interface ResultCodec<Result> {
  encode(result: Result): string;
  decode(text: string): Result;
}

/** One service's key table; the SQL texts are made once, so the engines' statement caches hit. */
export class IdempotencyTable<Result> {
  private readonly claimSql: string;
  private readonly readSql: string;
  private readonly completeSql: string;
  private readonly expireSql: string;
  private readonly claimAnsweredSql: string;

  /**
   * `options.scopeColumn` names the column that scopes keys when it is not `participant_id` (the
   * DCP scopes device operations by SE id in a `scope` column); the API still calls it participantId.
   */
  constructor(
    table: string,
    private readonly codec: ResultCodec<Result>,
    options: { readonly scopeColumn?: string } = {},
  ) {
    const scope = options.scopeColumn ?? 'participant_id';
    // The names are spliced into SQL text: only constant identifiers may come here, never input.
    for (const name of [table, scope])
      assert(
        /^[a-z][a-z0-9_]{0,62}$/.test(name),
        `idempotency table or column name ${name} is an identifier`,
      );
    this.claimSql =
      `INSERT INTO ${table} (${scope}, idempotency_key, fingerprint, result, created_at_ms) ` +
      `VALUES (?, ?, ?, NULL, ?) ON CONFLICT (${scope}, idempotency_key) DO NOTHING`;
    this.readSql =
      `SELECT fingerprint, result, created_at_ms FROM ${table} ` +
      `WHERE ${scope} = ? AND idempotency_key = ?`;
    this.claimAnsweredSql =
      `INSERT INTO ${table} (${scope}, idempotency_key, fingerprint, result, created_at_ms) ` +
      `VALUES (?, ?, ?, ?, ?) ON CONFLICT (${scope}, idempotency_key) DO NOTHING`;
    this.completeSql = `UPDATE ${table} SET result = ? WHERE ${scope} = ? AND idempotency_key = ?`;
    // Row values in IN and LIMIT in a subquery: both engines have them (SQLite ≥ 3.15).
    this.expireSql =
      `UPDATE ${table} SET result = NULL, fingerprint = '' WHERE (${scope}, idempotency_key) IN ` +
      `(SELECT ${scope}, idempotency_key FROM ${table} ` +
      'WHERE result IS NOT NULL AND created_at_ms <= ? LIMIT ?)';
  }

  /**
   * Turns up to `rowsMax` answers claimed at or before `claimedAtOrBeforeMs` into tombstones; returns
   * how many. A statement of its own (no transaction needed): each row changes alone, and a claim
   * racing it finds the key either way and refuses it as expired.
   */
  async expire(
    db: Executor,
    claimedAtOrBeforeMs: number,
    rowsMax: number = idempotencyExpiryRowsMax,
  ): Promise<number> {
    assert(Number.isSafeInteger(rowsMax) && rowsMax > 0, 'expire a positive, bounded number of rows');
    return db.run(this.expireSql, [claimedAtOrBeforeMs, rowsMax]);
  }

  /** The keys as one transaction sees them. */
  in(tx: Executor): IdempotencyKeys<Result> {
    return {
      claim: (participantId, key, fingerprint, nowMs) =>
        this.claim(tx, participantId, key, fingerprint, nowMs),
      complete: (participantId, key, result) => this.complete(tx, participantId, key, result),
    };
  }

  private async claim(
    tx: Executor,
    participantId: string,
    key: string,
    fingerprint: string,
    nowMs: number,
  ): Promise<IdempotencyRecord<Result> | null> {
    // On PostgreSQL a concurrent claim of the same key waits here until the first transaction ends:
    // it then finds the committed record (READ COMMITTED reads it), or claims the key if the first
    // rolled back.
    const claimed = await tx.run(this.claimSql, [participantId, key, fingerprint, nowMs]);
    if (claimed === 1) return null;
    const rows = await tx.all(this.readSql, [participantId, key]);
    const row = rows[0];
    assert(row !== undefined, 'a conflicting idempotency claim is committed');
    // A committed claim has its answer, or is a tombstone (NULL): inside the claiming transaction
    // the row is not visible to any other.
    return this.recordFromRow(row);
  }

  /** A committed record from a row with `fingerprint`, `result` and `created_at_ms` (the table's names). */
  recordFromRow(row: Row): IdempotencyRecord<Result> {
    const result = columnTextOrNull(row, 'result');
    return {
      fingerprint: columnText(row, 'fingerprint'),
      result: result === null ? null : this.codec.decode(result),
      createdAtMs: columnSafeInteger(row, 'created_at_ms'),
    };
  }

  /**
   * Claims the key with its answer in one statement, for a request decided before it claims (its
   * answer is known before it writes); returns false, writing nothing, if the key is taken.
   */
  async claimAnswered(
    tx: Executor,
    claim: { readonly participantId: string; readonly key: string; readonly fingerprint: string },
    result: Result,
    nowMs: number,
  ): Promise<boolean> {
    const params = [claim.participantId, claim.key, claim.fingerprint, this.codec.encode(result), nowMs];
    return (await tx.run(this.claimAnsweredSql, params)) === 1;
  }

  /** The text an answer is stored as (for a statement that claims the key itself). */
  encode(result: Result): string {
    return this.codec.encode(result);
  }

  private async complete(tx: Executor, participantId: string, key: string, result: Result): Promise<void> {
    const changed = await tx.run(this.completeSql, [this.codec.encode(result), participantId, key]);
    assert(changed === 1, 'the idempotency key was claimed in this transaction');
  }
}

export interface IdempotentAnswer<T> {
  readonly value: T;
  /** True when the value is the stored answer of an earlier request with the same key. */
  readonly replayed: boolean;
}

/** The refusals of the protocol, in the service's catalogue. */
export interface IdempotencyRefusals {
  /** The key was used for another request (another fingerprint). */
  reused(): Error;
  /** The key was used longer ago than the retention (or its answer was dropped): nothing runs. */
  expired(): Error;
}

export interface IdempotencyClaim<Kind extends string> {
  readonly participantId: string;
  readonly key: string;
  readonly fingerprint: string;
  /** The operation; equal fingerprints always name the same one. */
  readonly kind: Kind;
  readonly nowMs: number;
  /** How long an answer replays; left out, answers never expire (but a tombstone is still refused). */
  readonly retentionMs?: number;
}

/** Whether an earlier record may no longer be replayed: a tombstone, or older than the retention. */
export function isExpired(record: IdempotencyRecord<unknown>, nowMs: number, retentionMs?: number): boolean {
  if (record.result === null) return true;
  if (retentionMs === undefined || record.createdAtMs === undefined) return false;
  return record.createdAtMs <= nowMs - retentionMs;
}

/**
 * The protocol inside one transaction: the earlier answer for a replay, a refusal for the same key
 * with another fingerprint (`reused`) or for a key past its retention (`expired`), or `execute`'s
 * answer, stored under the key. Pure over the port: a service's domain calls it with its own
 * transaction and errors. `refusals` may be the `reused` function alone (the first form of this
 * API): an expired key is then refused with it.
 */
export async function replayOrExecute<Result extends { readonly kind: string }, Kind extends Result['kind']>(
  keys: IdempotencyKeys<Result>,
  claim: IdempotencyClaim<Kind>,
  execute: () => Promise<Extract<Result, { kind: Kind }>>,
  refusals: IdempotencyRefusals | (() => Error),
): Promise<IdempotentAnswer<Extract<Result, { kind: Kind }>>> {
  const earlier = await keys.claim(claim.participantId, claim.key, claim.fingerprint, claim.nowMs);
  if (earlier !== null) return replayEarlier(earlier, claim, refusals);
  const result = await execute();
  await keys.complete(claim.participantId, claim.key, result);
  return { value: result, replayed: false };
}

/**
 * What a request gets when its key already has a record: the first answer, or the refusal of a key
 * reused with another request or past its retention. Also for a service that reads the record
 * before it claims the key (the ledger's payments, sql-store.ts `decideAndPost`).
 */
export function replayEarlier<Result extends { readonly kind: string }, Kind extends Result['kind']>(
  earlier: IdempotencyRecord<Result>,
  claim: IdempotencyClaim<Kind>,
  refusals: IdempotencyRefusals | (() => Error),
): IdempotentAnswer<Extract<Result, { kind: Kind }>> {
  const refuse = typeof refusals === 'function' ? { reused: refusals, expired: refusals } : refusals;
  // Expiry first: once the retention has passed the first answer is never sent again, whatever
  // the request, so a key's fate does not depend on when expire() last ran.
  if (isExpired(earlier, claim.nowMs, claim.retentionMs)) throw refuse.expired();
  if (earlier.fingerprint !== claim.fingerprint) throw refuse.reused();
  assert(earlier.result !== null, 'an unexpired record has its answer');
  assert(earlier.result.kind === claim.kind, 'equal fingerprints name the same operation');
  return { value: earlier.result as Extract<Result, { kind: Kind }>, replayed: true };
}
