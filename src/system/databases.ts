// Each service of `cbdc start` owns its database (DESIGN §9: no service reads another's tables):
// a SQLite file per service in the data folder, or, given `postgres://…/NAME`, a database
// NAME_<service> per service on that server, created on the first start and reused afterwards.
import { join } from 'node:path';
import pg from 'pg';

export interface ServiceDatabases {
  /** The `--db` URL of a service (`ledger`, `directory`, `dcp-<name>`, `mds`...). */
  urlOf(service: string): Promise<string>;
}

/** PostgreSQL identifiers are at most 63 bytes; these names are made of [a-z0-9_] only. */
const databaseNamePattern = /^[a-z][a-z0-9_]{0,62}$/;

export function serviceDatabases(dataDirectory: string, databaseUrl: string | undefined): ServiceDatabases {
  if (databaseUrl === undefined)
    return { urlOf: (service) => Promise.resolve(`sqlite:${join(dataDirectory, `${service}.sqlite`)}`) };
  const server = new URL(databaseUrl);
  if (server.protocol !== 'postgres:' && server.protocol !== 'postgresql:')
    throw new Error(`--db must be a postgres:// URL (SQLite is the default): ${databaseUrl}`);
  const base = decodeURIComponent(server.pathname.slice(1)) || 'cbdc';
  return {
    urlOf: async (service) => {
      const name = `${base}_${service}`.toLowerCase().replaceAll('-', '_');
      if (!databaseNamePattern.test(name)) throw new Error(`not a usable database name: ${name}`);
      await createDatabaseIfMissing(server, name);
      const url = new URL(server);
      url.pathname = `/${name}`;
      return url.toString();
    },
  };
}

/** Creates `name` on the server unless it exists, connected to the server's maintenance database. */
async function createDatabaseIfMissing(server: URL, name: string): Promise<void> {
  const maintenance = new URL(server);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    // The name matched databaseNamePattern, so it is safe to splice into the statement.
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}
