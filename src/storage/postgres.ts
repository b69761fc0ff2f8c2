// PostgreSQL through node-postgres (a pool of connections).
//
// Isolation for money: READ COMMITTED with explicit row locks (`SELECT ... FOR UPDATE`) taken in
// one global order (the idempotency key first, then accounts sorted by id, then the hold), rather
// than SERIALIZABLE. Every money operation knows up front the few rows it changes, and some rows are
// hot (the issuance account on every issuance, a DCP's pool account on every load and unload).
// Under SERIALIZABLE, concurrent writers to a hot row abort with 40001 and must redo the whole
// transaction, so throughput collapses exactly where traffic concentrates; with ordered row locks
// they simply queue on the row, and the fixed order rules out deadlocks. SQLite gets the same
// guarantees from its single serialised writer. 40001 and 40P01 are still retried a few times, as a
// safety net against a statement added later that breaks the order.
import pg from 'pg';
import type { Database, Executor, Row, SqlValue } from './database.ts';
import { StorageUnavailable } from './database.ts';

export const postgresPoolConnectionsMax = 10;
export const postgresTransactionAttemptsMax = 8;
export const postgresRetryBackoffMs = 3;
export const postgresConnectTimeoutMs = 5_000;
const placeholderCacheEntriesMax = 512;

const int8Oid = 20;

export interface PostgresOptions {
  readonly url: string;
  readonly poolConnectionsMax?: number;
}

export function openPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolConnectionsMax ?? postgresPoolConnectionsMax,
    connectionTimeoutMillis: postgresConnectTimeoutMs,
    // Per pool, not global: 64-bit integers become bigint (the default parser returns strings).
    types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return new PostgresDatabase(pool);
}

function typeParser(oid: number, format: 'text' | 'binary' = 'text'): (text: string) => unknown {
  if (oid === int8Oid && format === 'text') return (text) => BigInt(text);
  const builtIn = pg.types.getTypeParser as (
    oid: number,
    format: 'text' | 'binary',
  ) => (text: string) => unknown;
  return builtIn(oid, format);
}

class PostgresDatabase implements Database {
  readonly engine = 'postgres';
  readonly lockRows = ' FOR UPDATE';

  constructor(private readonly pool: pg.Pool) {}

  all(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return query(this.pool, sql, params).then((result) => result.rows);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return query(this.pool, sql, params).then((result) => result.rowCount ?? 0);
  }

  async transaction<T>(body: (tx: Executor) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(body);
      } catch (error) {
        if (!isRetryable(error) || attempt >= postgresTransactionAttemptsMax) throw error;
        await delay(postgresRetryBackoffMs * attempt * (1 + Math.random()));
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async attempt<T>(body: (tx: Executor) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw unavailable(error);
    }
    const tx: Executor = {
      engine: 'postgres',
      all: (sql, params) => query(client, sql, params ?? []).then((result) => result.rows),
      run: (sql, params) => query(client, sql, params ?? []).then((result) => result.rowCount ?? 0),
    };
    let broken = false;
    try {
      await tx.run('BEGIN ISOLATION LEVEL READ COMMITTED');
      const result = await body(tx);
      await tx.run('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

async function query(client: pg.Pool | pg.PoolClient, sql: string, params: readonly SqlValue[]) {
  try {
    const text = numberedPlaceholders(sql);
    // Only statements with parameters: a text without any (BEGIN, a migration's DDL, perhaps several
    // commands) keeps the simple protocol, which a prepared statement cannot replace.
    const name = params.length === 0 ? undefined : statementName(text);
    const values = params as SqlValue[];
    return await client.query<Row>(name === undefined ? { text, values } : { name, text, values });
  } catch (error) {
    throw unavailable(error);
  }
}

/** Statements prepared by name on each connection (parsed and planned once there, not per call). */
export const postgresNamedStatementsMax = 256;
/** A text's name, or null for a text that stays unnamed. */
const statementNames = new Map<string, string | null>();
const starColumns = /(SELECT|RETURNING)\s+\*|\w\.\*/i;

/**
 * The name of a statement's text, `cbdc_1`, `cbdc_2`...: node-postgres prepares a named statement
 * the first time a connection runs it, then sends only Bind and Execute, and after a few runs the
 * server keeps a generic plan (the payment view's planning cost three times its execution). A name
 * is never given to another text (a connection's prepared statements live as long as it does), so
 * past the bound, which only a caller that builds SQL text dynamically reaches, texts go unnamed.
 */
function statementName(text: string): string | undefined {
  const known = statementNames.get(text);
  if (known !== undefined) return known ?? undefined;
  if (statementNames.size >= postgresNamedStatementsMax) return undefined;
  // A prepared `SELECT *` fails once a migration adds a column to its table (`cached plan must not
  // change result type`); an explicit column list is re-planned by the server after any DDL.
  const name = starColumns.test(text) ? null : `cbdc_${statementNames.size + 1}`;
  statementNames.set(text, name);
  return name ?? undefined;
}

const placeholderCache = new Map<string, string>();

/** Rewrites `?` placeholders to `$1, $2...`, leaving quoted literals alone. */
export function numberedPlaceholders(sql: string): string {
  const cached = placeholderCache.get(sql);
  if (cached !== undefined) return cached;
  let out = '';
  let index = 0;
  let quoted = false;
  for (const char of sql) {
    if (char === "'") quoted = !quoted;
    if (char === '?' && !quoted) out += `$${++index}`;
    else out += char;
  }
  if (placeholderCache.size >= placeholderCacheEntriesMax) placeholderCache.clear();
  placeholderCache.set(sql, out);
  return out;
}

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

/** Connection-level failures become `StorageUnavailable`; everything else is rethrown as is. */
function unavailable(error: unknown): unknown {
  if (error instanceof StorageUnavailable) return error;
  const code = postgresErrorCode(error);
  const lostConnection =
    error instanceof Error &&
    /Connection terminated|timeout exceeded when trying to connect/i.test(error.message);
  if ((code !== undefined && (unavailableCodes.has(code) || code.startsWith('08'))) || lostConnection) {
    return new StorageUnavailable(error instanceof Error ? error.message : String(error), { cause: error });
  }
  return error;
}

function isRetryable(error: unknown): boolean {
  const code = postgresErrorCode(error);
  return code === '40001' || code === '40P01';
}

/** The SQLSTATE of a PostgreSQL error (or a node error code), if it has one. */
export function postgresErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
