// SQLite through better-sqlite3 (synchronous, in-process). WAL journal so readers never block the
// writer; `synchronous=NORMAL` by default: in WAL mode a commit survives a crash of the process
// (what the crash test checks) and only a power loss or OS crash can lose the last commits.
// Deployments that must survive power loss open with `?synchronous=full` (one fsync per commit).
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database, Executor, Row, SqlValue } from './database.ts';
import { SerialQueue } from './serial-queue.ts';

export const sqliteStatementCacheEntriesMax = 512;
export const sqliteWaitingJobsMax = 10_000;
export const sqliteBusyTimeoutMs = 5_000;
export const sqliteCheckpointPages = 10_000;

export type SqliteSynchronous = 'normal' | 'full';

export interface SqliteOptions {
  /** A file path, or `:memory:`. */
  readonly path: string;
  readonly synchronous?: SqliteSynchronous;
}

export function openSqlite(options: SqliteOptions): Database {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const connection = new BetterSqlite3(options.path);
  connection.defaultSafeIntegers(true);
  if (options.path !== ':memory:') connection.pragma('journal_mode = WAL');
  // A checkpoint fsyncs; every 10,000 pages (≈ 40 MB of WAL) instead of SQLite's 1,000 doubled
  // ledger throughput here (each payment writes several pages: accounts, entries, indexes).
  connection.pragma(`wal_autocheckpoint = ${sqliteCheckpointPages}`);
  connection.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  connection.pragma('foreign_keys = ON');
  connection.pragma(`busy_timeout = ${sqliteBusyTimeoutMs}`);
  return new SqliteDatabase(connection);
}

class SqliteDatabase implements Database {
  readonly engine = 'sqlite';
  readonly lockRows = '';
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly queue = new SerialQueue(sqliteWaitingJobsMax);
  private readonly direct: Executor;
  private closed = false;

  constructor(private readonly connection: BetterSqlite3.Database) {
    this.direct = {
      engine: 'sqlite',
      all: (sql, params) => Promise.resolve(this.allNow(sql, params ?? [])),
      run: (sql, params) => Promise.resolve(this.runNow(sql, params ?? [])),
    };
  }

  all(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return this.queue.run(() => Promise.resolve(this.allNow(sql, params)));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.queue.run(() => Promise.resolve(this.runNow(sql, params)));
  }

  transaction<T>(body: (tx: Executor) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      this.connection.exec('BEGIN IMMEDIATE');
      try {
        const result = await body(this.direct);
        this.connection.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.connection.inTransaction) this.connection.exec('ROLLBACK');
        throw error;
      }
    });
  }

  close(): Promise<void> {
    return this.queue.run(() => {
      if (!this.closed) {
        this.closed = true;
        this.connection.close();
      }
      return Promise.resolve();
    });
  }

  private statement(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.connection.prepare(sql);
      // Statements are a fixed set written in code; the bound only guards against a caller that
      // builds SQL text dynamically.
      if (this.statements.size >= sqliteStatementCacheEntriesMax) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private allNow(sql: string, params: readonly SqlValue[]): Row[] {
    const statement = this.statement(sql);
    if (!statement.reader) {
      statement.run(...params);
      return [];
    }
    return statement.all(...params) as Row[];
  }

  private runNow(sql: string, params: readonly SqlValue[]): number {
    return this.statement(sql).run(...params).changes;
  }
}
