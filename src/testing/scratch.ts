// Scratch databases for tests and benchmarks: a fresh SQLite (in memory or a temporary file) or a
// uniquely named PostgreSQL database created on the local server and dropped afterwards.
// `CBDC_TEST_POSTGRES_URL` points at the server's maintenance database (default: user `root`, then
// `postgres`, on 127.0.0.1:5432).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Engine } from '../storage/database.ts';

export const engines: readonly Engine[] = ['sqlite', 'postgres'];

export interface ScratchDatabase {
  readonly engine: Engine;
  /** A URL for `openDatabase` (or `cbdc serve ... --db`). */
  readonly url: string;
  drop(): Promise<void>;
}

const maintenanceUrls = process.env['CBDC_TEST_POSTGRES_URL']
  ? [process.env['CBDC_TEST_POSTGRES_URL']]
  : ['postgres://root@127.0.0.1:5432/postgres', 'postgres://postgres@127.0.0.1:5432/postgres'];

/** `file` gives SQLite a file in a temporary folder (needed to share it between processes). */
export async function createScratchDatabase(
  engine: Engine,
  sqlite: 'memory' | 'file' = 'memory',
): Promise<ScratchDatabase> {
  if (engine === 'sqlite') {
    if (sqlite === 'memory') return { engine, url: 'sqlite::memory:', drop: () => Promise.resolve() };
    const folder = mkdtempSync(join(tmpdir(), 'cbdc-test-'));
    return {
      engine,
      url: `sqlite:${join(folder, 'test.sqlite')}`,
      drop: () => {
        rmSync(folder, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  }
  const name = `cbdc_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  const maintenanceUrl = await reachableMaintenanceUrl();
  // The name is made here from hex digits only, so it is safe to splice into the statement.
  await withClient(maintenanceUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(maintenanceUrl);
  url.pathname = `/${name}`;
  return {
    engine,
    url: url.toString(),
    drop: async () => {
      await withClient(maintenanceUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    },
  };
}

let reachable: string | undefined;

/** The local server's maintenance database URL (its user included), as a reachable one was found. */
export async function reachableMaintenanceUrl(): Promise<string> {
  if (reachable !== undefined) return reachable;
  let last: unknown;
  for (const url of maintenanceUrls) {
    try {
      await withClient(url, (client) => client.query('SELECT 1'));
      reachable = url;
      return url;
    } catch (error) {
      last = error;
    }
  }
  throw new Error(`no PostgreSQL server for tests at ${maintenanceUrls.join(' or ')}`, { cause: last });
}

async function withClient<T>(url: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}
