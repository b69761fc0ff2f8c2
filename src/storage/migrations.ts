// Schema migrations, one ordered set per service, through one mechanism for every service and both
// engines. The ledger brings `ledgerMigrations`; the DCP, directory and MDS bring their own sets,
// each recorded under its service name in the shared `schema_migrations` table. A migration's
// statements may depend on the engine (the few places where the two SQL dialects differ).
//
// A run applies every pending migration of a set in one transaction, so a crash leaves the schema
// before or after the run, never between (both engines have transactional DDL). Concurrent runs
// (several instances starting together) queue on a lock: SQLite's write lock, or a PostgreSQL
// transaction-scoped advisory lock.
import { AssertionFailed } from '../core/assert.ts';
import type { Database, Engine, Executor } from './database.ts';
import { columnSafeInteger, columnText } from './decode.ts';

export interface Migration {
  /** 1, 2, 3... in order, never renumbered or edited once released. */
  readonly version: number;
  readonly name: string;
  readonly statements: (engine: Engine) => readonly string[];
}

export interface MigrationSet {
  /** The owning service, e.g. `ledger`; at most 64 characters. */
  readonly service: string;
  readonly migrations: readonly Migration[];
}

export interface MigrationOutcome {
  readonly service: string;
  readonly applied: readonly string[];
  readonly version: number;
}

const migrationLockKey = 0x43424443; // "CBDC"

export async function migrate(db: Database, set: MigrationSet, nowMs: number): Promise<MigrationOutcome> {
  checkSet(set);
  return db.transaction(async (tx) => {
    if (tx.engine === 'postgres') await tx.all('SELECT pg_advisory_xact_lock(?)', [migrationLockKey]);
    await tx.run(
      'CREATE TABLE IF NOT EXISTS schema_migrations (service TEXT NOT NULL, version BIGINT NOT NULL, ' +
        'name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL, PRIMARY KEY (service, version))',
    );
    const done = await appliedMigrations(tx, set.service);
    const applied: string[] = [];
    for (const migration of set.migrations) {
      const recorded = done.get(migration.version);
      if (recorded !== undefined) {
        if (recorded !== migration.name) {
          throw new AssertionFailed(
            `${set.service} migration ${migration.version} is recorded as ${recorded} but the code names it ${migration.name}`,
          );
        }
        continue;
      }
      for (const statement of migration.statements(tx.engine)) await tx.run(statement);
      await tx.run(
        'INSERT INTO schema_migrations (service, version, name, applied_at_ms) VALUES (?, ?, ?, ?)',
        [set.service, migration.version, migration.name, nowMs],
      );
      applied.push(`${migration.version} ${migration.name}`);
    }
    const known = new Set(set.migrations.map((migration) => migration.version));
    const unknown = [...done.keys()].filter((version) => !known.has(version));
    if (unknown.length > 0) {
      throw new AssertionFailed(
        `the ${set.service} schema has migrations ${unknown.join(', ')} this code does not know: run a newer version`,
      );
    }
    return { service: set.service, applied, version: set.migrations.at(-1)?.version ?? 0 };
  });
}

/** The migrations recorded for a service, by version (empty if none ran yet). */
export async function appliedMigrations(executor: Executor, service: string): Promise<Map<number, string>> {
  const rows = await executor.all(
    'SELECT version, name FROM schema_migrations WHERE service = ? ORDER BY version',
    [service],
  );
  return new Map(rows.map((row) => [columnSafeInteger(row, 'version'), columnText(row, 'name')]));
}

function checkSet(set: MigrationSet): void {
  if (!/^[a-z][a-z0-9-]{0,63}$/.test(set.service))
    throw new AssertionFailed(`bad service name ${set.service}`);
  set.migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new AssertionFailed(`${set.service} migration ${migration.name} must have version ${index + 1}`);
    }
  });
}
