// SQLite through better-sqlite3 (synchronous, in-process). WAL journal so readers never block the
// writer; `synchronous=NORMAL` by default: in WAL mode a commit survives a crash of the process
// (what the crash test checks) and only a power loss or OS crash can lose the last commits.
// Deployments that must survive power loss open with `?synchronous=full` (one fsync per commit).
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageUnavailable, type Database, type Executor, type Row, type SqlValue } from './database.ts';
import { JobQueue } from './job-queue.ts';

export const sqliteStatementCacheEntriesMax = 512;
export const sqliteWaitingJobsMax = 10_000;
/** Transactions that may share one commit (group commit): bounds how much one crash can roll back. */
export const sqliteGroupTransactionsMax = 64;
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
  private readonly jobs = new JobQueue<Job>(sqliteWaitingJobsMax);
  private readonly direct: Executor;
  private draining = false;
  private drainScheduled = false;
  private closed = false;

  /** The group's transaction control, prepared once (exec would parse each text every time). */
  private readonly control: Readonly<Record<ControlStatement, BetterSqlite3.Statement>>;

  constructor(private readonly connection: BetterSqlite3.Database) {
    this.control = {
      begin: connection.prepare('BEGIN IMMEDIATE'),
      commit: connection.prepare('COMMIT'),
      rollback: connection.prepare('ROLLBACK'),
      savepoint: connection.prepare('SAVEPOINT member'),
      release: connection.prepare('RELEASE member'),
      rollbackToSavepoint: connection.prepare('ROLLBACK TO member'),
    };
    this.direct = {
      engine: 'sqlite',
      all: (sql, params) => Promise.resolve(this.allNow(sql, params ?? [])),
      run: (sql, params) => Promise.resolve(this.runNow(sql, params ?? [])),
    };
  }

  all(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return this.plain(() => this.allNow(sql, params));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.plain(() => this.runNow(sql, params));
  }

  transaction<T>(body: (tx: Executor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = async (tx: Executor) => {
        const value = await body(tx);
        return () => {
          resolve(value);
        };
      };
      this.enqueue({ kind: 'transaction', run, fail: reject });
    });
  }

  close(): Promise<void> {
    return this.plain(() => {
      if (!this.closed) {
        this.closed = true;
        this.connection.close();
      }
    });
  }

  /** A statement outside any transaction: at once when the connection is idle, else in its turn. */
  private plain<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = () => {
        try {
          resolve(work());
        } catch (error) {
          // better-sqlite3 throws only Errors; anything else is wrapped so callers always get one.
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      this.enqueue({ kind: 'plain', run, fail: reject });
    });
  }

  private enqueue(job: Job): void {
    if (!this.jobs.push(job)) {
      job.fail(new StorageUnavailable(`more than ${sqliteWaitingJobsMax} database jobs waiting`));
      return;
    }
    if (this.draining || this.drainScheduled) return;
    if (job.kind === 'plain') {
      void this.drain();
      return;
    }
    // A transaction waits for the end of this turn of the event loop (setImmediate runs after the
    // poll phase), so every request read from the sockets in the same turn joins its group: they
    // then share one COMMIT. Started at once, each would run and commit alone, its body needing only
    // microtasks, before the next request is even parsed.
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let job = this.jobs.peek(); job !== undefined; job = this.jobs.peek()) {
        if (job.kind === 'plain') {
          this.jobs.shift();
          job.run();
        } else {
          await this.runGroup();
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Group commit: the transactions waiting at the head of the queue (and those that join while it
   * runs, up to `sqliteGroupTransactionsMax`) share one BEGIN … COMMIT, each in its own savepoint, so
   * one that throws rolls back alone. Every member is answered only after the group's COMMIT: a
   * crash mid-group loses only transactions nobody was told about. If the engine itself aborts the
   * whole transaction (disk full, I/O error), every member of the group is refused.
   */
  private async runGroup(): Promise<void> {
    const answers: { readonly job: TransactionJob; readonly answer: () => void }[] = [];
    const refusals: { readonly job: TransactionJob; readonly error: unknown }[] = [];
    this.control.begin.run();
    let aborted: unknown;
    for (let job = this.jobs.peek(); job?.kind === 'transaction'; job = this.jobs.peek()) {
      if (answers.length + refusals.length === sqliteGroupTransactionsMax) break;
      this.jobs.shift();
      // The group's first member needs no savepoint: until it is done the transaction is its own,
      // so a refusal rolls the whole transaction back and the group begins again. Most groups of a
      // lightly loaded service have one member: this saves them two statements.
      const alone = answers.length === 0;
      if (!alone) this.control.savepoint.run();
      try {
        answers.push({ job, answer: await job.run(this.direct) });
        if (!alone) this.control.release.run();
      } catch (error) {
        refusals.push({ job, error });
        if (!this.connection.inTransaction) {
          aborted = error;
          break;
        }
        if (alone) {
          this.control.rollback.run();
          this.control.begin.run();
        } else {
          this.control.rollbackToSavepoint.run();
          this.control.release.run();
        }
      }
    }
    const failure = aborted ?? this.commit();
    for (const { job, answer } of answers) {
      if (failure === undefined) answer();
      else job.fail(new StorageUnavailable('the transaction group was rolled back', { cause: failure }));
    }
    for (const { job, error } of refusals) job.fail(error);
  }

  /** Commits the open transaction; returns the error if it could not (then it is rolled back). */
  private commit(): unknown {
    try {
      this.control.commit.run();
      return undefined;
    } catch (error) {
      if (this.connection.inTransaction) this.control.rollback.run();
      return error;
    }
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

interface PlainJob {
  readonly kind: 'plain';
  /** Does the work and settles the caller's promise. */
  readonly run: () => void;
  readonly fail: (error: unknown) => void;
}

interface TransactionJob {
  readonly kind: 'transaction';
  /** Runs the body; resolves with what answers the caller, called once the group has committed. */
  readonly run: (tx: Executor) => Promise<() => void>;
  readonly fail: (error: unknown) => void;
}

type Job = PlainJob | TransactionJob;

type ControlStatement = 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackToSavepoint';
