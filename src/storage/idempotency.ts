// Idempotency keys (DESIGN §7, STYLE §7), the same protocol for every service: a mutation claims
// (participant, key) in its own transaction, runs, and stores its answer under the key before it
// commits; a replay with the same request fingerprint gets the stored answer, one with another
// fingerprint is refused. Because claim, mutation and answer commit together, a refused or crashed
// request leaves no claim behind and may be retried with the same key.
//
// Each service keeps its keys in its own table of this shape (its migration creates it):
//   <table> (participant_id TEXT, idempotency_key TEXT, fingerprint TEXT, result TEXT NULL,
//            created_at_ms BIGINT, PRIMARY KEY (participant_id, idempotency_key))
// `result` is NULL only inside the claiming transaction, so no other reader ever sees it NULL.
import { assert } from '../core/assert.ts';
import type { Executor } from './database.ts';
import { columnText, columnTextOrNull } from './decode.ts';

export interface IdempotencyRecord<Result> {
  readonly fingerprint: string;
  readonly result: Result;
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

  constructor(
    table: string,
    private readonly codec: ResultCodec<Result>,
  ) {
    // The name is spliced into SQL text: only a constant identifier may come here, never input.
    assert(/^[a-z][a-z0-9_]{0,62}$/.test(table), `idempotency table name ${table} is an identifier`);
    this.claimSql =
      `INSERT INTO ${table} (participant_id, idempotency_key, fingerprint, result, created_at_ms) ` +
      'VALUES (?, ?, ?, NULL, ?) ON CONFLICT (participant_id, idempotency_key) DO NOTHING';
    this.readSql = `SELECT fingerprint, result FROM ${table} WHERE participant_id = ? AND idempotency_key = ?`;
    this.completeSql = `UPDATE ${table} SET result = ? WHERE participant_id = ? AND idempotency_key = ?`;
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
    const result = columnTextOrNull(row, 'result');
    assert(result !== null, 'a committed idempotency claim has its answer');
    return { fingerprint: columnText(row, 'fingerprint'), result: this.codec.decode(result) };
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

/**
 * The protocol inside one transaction: the earlier answer for a replay, a refusal (`reused`) for the
 * same key with another fingerprint, or `execute`'s answer, stored under the key. Pure over the
 * port: a service's domain calls it with its own transaction and error.
 */
export async function replayOrExecute<Result extends { readonly kind: string }, Kind extends Result['kind']>(
  keys: IdempotencyKeys<Result>,
  claim: {
    readonly participantId: string;
    readonly key: string;
    readonly fingerprint: string;
    /** The operation; equal fingerprints always name the same one. */
    readonly kind: Kind;
    readonly nowMs: number;
  },
  execute: () => Promise<Extract<Result, { kind: Kind }>>,
  reused: () => Error,
): Promise<IdempotentAnswer<Extract<Result, { kind: Kind }>>> {
  const earlier = await keys.claim(claim.participantId, claim.key, claim.fingerprint, claim.nowMs);
  if (earlier !== null) {
    if (earlier.fingerprint !== claim.fingerprint) throw reused();
    assert(earlier.result.kind === claim.kind, 'equal fingerprints name the same operation');
    return { value: earlier.result as Extract<Result, { kind: Kind }>, replayed: true };
  }
  const result = await execute();
  await keys.complete(claim.participantId, claim.key, result);
  return { value: result, replayed: false };
}
