// `cbdc migrate <service> --db URL`: applies a service's pending migrations and prints them.
// `serve` migrates at start too; this command lets an operator migrate ahead of a rollout.
import { InvalidArgumentError, type Command } from 'commander';
import { dcpMigrations } from '../dcp/store/migrations.ts';
import { directoryMigrations } from '../directory/store/migrations.ts';
import { ledgerMigrations } from '../ledger/store/migrations.ts';
import { mdsMigrations } from '../mds/store/migrations.ts';
import type { MigrationSet } from '../storage/migrations.ts';
import { migrate } from '../storage/migrations.ts';
import { openDatabase } from '../storage/open.ts';
import { defaultDatabaseUrl } from './options.ts';

/** Every service's migration set, by service name; each service adds its own here. */
export const migrationSets: Readonly<Record<string, MigrationSet>> = {
  ledger: ledgerMigrations,
  dcp: dcpMigrations,
  directory: directoryMigrations,
  mds: mdsMigrations,
};

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations of a service')
    .argument('<service>', `one of: ${Object.keys(migrationSets).join(', ')}`, (service: string) => {
      if (!Object.hasOwn(migrationSets, service))
        throw new InvalidArgumentError(`unknown service ${service}`);
      return service;
    })
    .option('--db <url>', 'postgres://... or sqlite:PATH (default: sqlite:.data/<service>.sqlite)')
    .action(async (service: string, options: { readonly db?: string }) => {
      const set = migrationSets[service]!;
      const db = openDatabase(options.db ?? defaultDatabaseUrl(service));
      try {
        const outcome = await migrate(db, set, Date.now());
        const applied =
          outcome.applied.length === 0 ? 'nothing to apply' : `applied ${outcome.applied.join(', ')}`;
        process.stdout.write(`${service}: ${applied}; schema at version ${outcome.version}\n`);
      } finally {
        await db.close();
      }
    });
}
