// `cbdc mds audit verify --db URL`: checks the MDS audit log's hash chain straight from the API
// process's database (docs/mds.md, "Audit"), without the service running. Prints the verdict; exits
// 0 when the chain holds and 1 when an entry is broken, naming the first.
import type { Command } from 'commander';
import { NodeVerifier } from '../crypto/node-crypto.ts';
import { verifyMdsAudit } from '../mds/domain/service.ts';
import { mdsMigrations } from '../mds/store/migrations.ts';
import { SqlMdsStore } from '../mds/store/sql-store.ts';
import { appliedMigrations } from '../storage/migrations.ts';
import { openDatabase } from '../storage/open.ts';
import { defaultDatabaseUrl } from './options.ts';

export function registerMds(program: Command): void {
  const mds = program.command('mds').description('Monitoring and Detection System tools');
  const audit = mds.command('audit').description('the hash-chained audit log');
  audit
    .command('verify')
    .description('check the chain and name the first broken entry')
    .option('--db <url>', "the MDS API process's database", defaultDatabaseUrl('mds'))
    .action(async (options: { readonly db: string }) => {
      const db = openDatabase(options.db);
      try {
        // Read only: a database the MDS never migrated is an error here, not a schema to create.
        const applied = await appliedMigrations(db, mdsMigrations.service).catch(() => new Map());
        if (applied.size === 0) throw new Error(`${options.db} holds no MDS schema`);
        const verdict = await verifyMdsAudit(new SqlMdsStore(db), new NodeVerifier());
        if (verdict.firstBroken === null) {
          process.stdout.write(`audit log: ${verdict.entries} entries, the chain holds\n`);
        } else {
          process.stdout.write(
            `audit log: ${verdict.entries} entries, first broken entry: ${verdict.firstBroken}\n`,
          );
          process.exitCode = 1;
        }
      } finally {
        await db.close();
      }
    });
}
