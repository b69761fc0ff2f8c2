// The data layer every service stores through: one small interface over two engines, SQLite
// (embedded default) and PostgreSQL (selected by a `postgres://` URL). Services write SQL in the
// portable subset both engines share, with `?` placeholders; the PostgreSQL adapter rewrites them to
// `$n`. Integers come back as `bigint` on both engines (SQLite: safe integers; PostgreSQL: int8
// parsed to BigInt), so money never passes through a float.

export type Engine = 'sqlite' | 'postgres';

/** A value bound to a placeholder. Money and counters are `bigint`; small numbers may be `number`. */
export type SqlValue = string | number | bigint | null;

/** A result row as the driver returns it; services decode it with `./decode.ts` before use. */
export type Row = Readonly<Record<string, unknown>>;

export interface Executor {
  readonly engine: Engine;
  /** Runs a statement and returns its rows (use `RETURNING` to read what an insert wrote). */
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Runs a statement and returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface Database extends Executor {
  /**
   * Runs `body` in one transaction with the isolation money needs, commits if it resolves and rolls
   * back if it throws. The body must only use `tx` (not the database) and must not wait on anything
   * but `tx`: on SQLite, transactions are serialised and a body that waited on the network would
   * stall every writer.
   *
   * - SQLite: `BEGIN IMMEDIATE` takes the write lock at once, and one queue per database serialises
   *   transactions: every transaction is serialisable by construction. Transactions waiting together
   *   share one commit (group commit, a savepoint each; see `sqlite.ts`): one that throws rolls back
   *   alone, and none resolves before its group committed.
   * - PostgreSQL: READ COMMITTED plus row locks (`lockRows`) taken in a consistent order by the
   *   caller. See `postgres.ts` for why, and for the retry on 40001/40P01 kept as a safety net.
   */
  transaction<T>(body: (tx: Executor) => Promise<T>): Promise<T>;
  /** Appended to a `SELECT` that reads rows the transaction will change: ` FOR UPDATE` or nothing. */
  readonly lockRows: string;
  close(): Promise<void>;
}

/** The database did not answer: connection refused or lost, server shutting down, disk full. */
export class StorageUnavailable extends Error {
  override readonly name = 'StorageUnavailable';
}
