// PostgreSQL only: the enclave's schema is its role's alone — the API process's role is refused on it
// (permission denied) while the enclave process, connected under its own role, migrates and ingests —
// and two ingest workers on separate connection pools take the same queue without conflict, each
// upload ingested once, with the same alerts as one worker.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { toHex } from '../../src/core/bytes.ts';
import { startEnclave } from '../../src/mds/channel/enclave-client.ts';
import { EnclaveService } from '../../src/mds/enclave/service.ts';
import { enclaveMigrations } from '../../src/mds/enclave/migrations.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { openDatabase } from '../../src/storage/open.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../src/testing/scratch.ts';
import { MdsUploads } from '../../src/testing/mds-uploads.ts';

async function asSuperuser(url: string, statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

function urlAs(url: string, role: string): string {
  const parsed = new URL(url);
  parsed.username = role;
  return parsed.toString();
}

void describe('the enclave on PostgreSQL', () => {
  let scratch: ScratchDatabase;
  const suffix = randomBytes(4).toString('hex');
  const enclaveRole = `cbdc_enclave_${suffix}`;
  const apiRole = `cbdc_api_${suffix}`;
  before(async () => {
    scratch = await createScratchDatabase('postgres');
    const database = new URL(scratch.url).pathname.slice(1);
    // Names made here from hex digits only, so they are safe to splice into the statements.
    await asSuperuser(scratch.url, [
      `CREATE ROLE ${enclaveRole} LOGIN`,
      `CREATE ROLE ${apiRole} LOGIN`,
      `GRANT CREATE ON DATABASE ${database} TO ${enclaveRole}`,
      `GRANT USAGE, CREATE ON SCHEMA public TO ${enclaveRole}`,
    ]);
  });
  after(async () => {
    await scratch.drop();
    await asSuperuser(scratch.url.replace(/\/[^/]+$/, '/postgres'), [
      `DROP ROLE IF EXISTS ${enclaveRole}`,
      `DROP ROLE IF EXISTS ${apiRole}`,
    ]);
  });

  void test("the enclave process owns mds_enclave under its role; the API's role gets permission denied", async () => {
    const uploads = new MdsUploads();
    const folder = mkdtempSync(join(tmpdir(), 'cbdc-enclave-'));
    uploads.writePkiDirectory(folder);
    const enclave = await startEnclave({
      databaseUrl: urlAs(scratch.url, enclaveRole),
      pkiDirectory: folder,
      pollMs: 20,
    });
    try {
      const { uploads: relayed, thief } = uploads.doubleSpend();
      for (const upload of relayed) await enclave.storeUpload(uploads.request(upload));
      let alerts = (await enclave.alertsAfter(0, 10)).alerts;
      for (let attempt = 0; attempt < 200 && alerts.length === 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        alerts = (await enclave.alertsAfter(0, 10)).alerts;
      }
      assert.deepEqual(
        alerts.map((alert) => [alert.kind, alert.seId]),
        [['doubleSpend', toHex(thief.id)]],
      );
    } finally {
      await enclave.close();
      rmSync(folder, { recursive: true, force: true });
    }
    const client = new pg.Client({ connectionString: urlAs(scratch.url, apiRole) });
    await client.connect();
    try {
      const owner = await client.query<{ owner: string }>(
        "SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'mds_enclave'",
      );
      assert.deepEqual(owner.rows, [{ owner: enclaveRole }]);
      for (const table of ['uploads', 'entries', 'spends', 'counters', 'holdings', 'evidence', 'alerts']) {
        await assert.rejects(client.query(`SELECT COUNT(*) FROM mds_enclave.${table}`), (error: unknown) => {
          assert.ok(error instanceof Error && 'code' in error);
          assert.equal(error.code, '42501');
          assert.equal(error.message, 'permission denied for schema mds_enclave');
          return true;
        });
      }
    } finally {
      await client.end();
    }
  });

  void test('two ingest workers on two pools: every upload ingested once, the same six alerts', async () => {
    const uploads = new MdsUploads();
    const relayed = [
      ...uploads.honest().uploads,
      ...uploads.doubleSpend().uploads,
      ...uploads.counterReuse().uploads,
      ...uploads.clone().uploads,
      uploads.fakeFunding(5_000n).upload,
      uploads.unknownSigner().upload,
    ];
    const scratchTwo = await createScratchDatabase('postgres');
    const pools = [openDatabase(scratchTwo.url), openDatabase(scratchTwo.url)];
    try {
      await migrate(pools[0]!, enclaveMigrations, 0);
      const services = pools.map(
        (database) =>
          new EnclaveService({
            database,
            crypto: uploads.crypto,
            anchors: uploads.anchors,
            directory: uploads.pki.directory,
            clock: { nowMs: () => 7 },
          }),
      );
      for (const upload of relayed) await services[0]!.storeUpload(uploads.request(upload));
      const taken = await Promise.all(
        services.map(async (service) => {
          let count = 0;
          while ((await service.ingestNext()) !== undefined) count++;
          return count;
        }),
      );
      assert.equal(taken[0]! + taken[1]!, relayed.length, 'each upload taken by exactly one worker');
      const status = await services[1]!.status();
      assert.deepEqual(status.uploads, { stored: 0, ingested: relayed.length, refused: 0 });
      assert.deepEqual(status.alerts, {
        doubleSpend: 2,
        fakeFunding: 1,
        counterReuse: 2,
        unknownSigner: 1,
        revokedSigner: 0,
      });
      const page = await services[0]!.alertsAfter(0, 256);
      assert.deepEqual(
        page.alerts.map((alert) => alert.sequence),
        [1, 2, 3, 4, 5, 6],
        'one sequence per raise, none lost or shared',
      );
    } finally {
      for (const pool of pools) await pool.close();
      await scratchTwo.drop();
    }
  });
});
