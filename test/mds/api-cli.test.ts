// `cbdc mds audit verify --db URL` as an operator runs it, on a SQLite file: an intact chain exits 0,
// one changed byte of one entry exits 1 naming that entry, a database without the MDS schema is an
// error; `cbdc migrate mds` creates the schema.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { NodeVerifier } from '../../src/crypto/node-crypto.ts';
import { appendAudit } from '../../src/mds/domain/response.ts';
import { SqlMdsStore } from '../../src/mds/store/sql-store.ts';
import type { Database } from '../../src/storage/database.ts';
import { openDatabase } from '../../src/storage/open.ts';
import { alertIdOf } from '../../src/testing/mds.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../src/testing/scratch.ts';
import { repositoryRoot } from '../../src/testing/service-process.ts';

function cbdc(...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/cbdc.mjs', ...args], {
    cwd: repositoryRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('cbdc mds audit verify', () => {
  let scratch: ScratchDatabase;
  let empty: ScratchDatabase;
  let db: Database;

  before(async () => {
    scratch = await createScratchDatabase('sqlite', 'file');
    empty = await createScratchDatabase('sqlite', 'file');
    const migrated = cbdc('migrate', 'mds', '--db', scratch.url);
    assert.equal(migrated.status, 0, migrated.stderr);
    db = openDatabase(scratch.url);
    const store = new SqlMdsStore(db);
    for (let index = 1; index <= 3; index++) {
      const event = {
        participantId: 'prt_1',
        role: 'analyst',
        action: 'evidenceRead',
        subject: alertIdOf(`cli-${index}`),
      } as const;
      await store.transaction((tx) => appendAudit(tx, new NodeVerifier(), event, 1_000 + index));
    }
  });
  after(async () => {
    await db.close();
    await scratch.drop();
    await empty.drop();
  });

  test('an intact chain exits 0; one changed character of entry 2 exits 1 naming entry 2', async () => {
    const intact = cbdc('mds', 'audit', 'verify', '--db', scratch.url);
    assert.deepEqual([intact.status, intact.stdout], [0, 'audit log: 3 entries, the chain holds\n']);
    await db.run("UPDATE mds_audit SET participant_id = 'prt_2' WHERE sequence = 2");
    const broken = cbdc('mds', 'audit', 'verify', '--db', scratch.url);
    assert.deepEqual([broken.status, broken.stdout], [1, 'audit log: 3 entries, first broken entry: 2\n']);
  });

  test('a database without the MDS schema is an error, not an empty log', () => {
    const run = cbdc('mds', 'audit', 'verify', '--db', empty.url);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /holds no MDS schema/);
  });
});
