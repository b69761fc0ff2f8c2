// The MDS API process's store and audit chain on both engines: migrations, the alert mirror keeps
// its statuses and order, and the hash-chained audit log verifies, and names the exact entry when
// any column of any row, the head, or the tail is changed in the database.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NodeVerifier } from '../../src/crypto/node-crypto.ts';
import type { EnclaveAlert } from '../../src/mds/channel/protocol.ts';
import { emptyHead, genesisHash } from '../../src/mds/domain/audit.ts';
import { AlertResponse, appendAudit } from '../../src/mds/domain/response.ts';
import { verifyMdsAudit } from '../../src/mds/domain/service.ts';
import { mdsMigrations } from '../../src/mds/store/migrations.ts';
import { SqlMdsStore } from '../../src/mds/store/sql-store.ts';
import type { Database } from '../../src/storage/database.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { openDatabase } from '../../src/storage/open.ts';
import { alertIdOf, EnclaveDouble } from '../../src/testing/mds.ts';
import { createScratchDatabase, engines, type ScratchDatabase } from '../../src/testing/scratch.ts';

const hasher = new NodeVerifier();
const alert = (id: string, sequence: number, value = 100n): EnclaveAlert => ({
  id,
  kind: 'doubleSpend',
  seId: 'ab'.repeat(16),
  value,
  raisedAtMs: 1_000,
  evidenceCount: 2,
  sequence,
});
/** Every column of an audit row and a changed value of its type. */
const tamperings: readonly (readonly [column: string, value: string])[] = [
  ['at_ms', '999'],
  ['participant_id', "'prt_forged'"],
  ['role', "'operator'"],
  ['action', "'alertConfirmed'"],
  ['subject', "'cd'"],
  ['prev_hash', `'${'11'.repeat(32)}'`],
  ['hash', `'${'22'.repeat(32)}'`],
];

for (const engine of engines) {
  describe(`MDS API store on ${engine}`, () => {
    let scratch: ScratchDatabase;
    let db: Database;
    let store: SqlMdsStore;

    before(async () => {
      scratch = await createScratchDatabase(engine);
      db = openDatabase(scratch.url);
      await migrate(db, mdsMigrations, 0);
      store = new SqlMdsStore(db);
    });
    after(async () => {
      await db.close();
      await scratch.drop();
    });

    const append = (subject: string, atMs: number) =>
      store.transaction((tx) =>
        appendAudit(
          tx,
          hasher,
          { participantId: 'prt_1', role: 'analyst', action: 'evidenceRead', subject },
          atMs,
        ),
      );

    test('the mirror inserts open alerts in order of first copy and updates figures, never the status', async () => {
      await store.transaction(async (tx) => {
        assert.equal(await tx.lockAlertCursor(), 0);
        assert.equal(await tx.mirrorAlert(alert('aa', 1)), 'inserted');
        assert.equal(await tx.mirrorAlert(alert('bb', 2)), 'inserted');
        await tx.setAlertStatus('aa', 'confirmed', null);
        assert.equal(await tx.mirrorAlert(alert('aa', 3, 250n)), 'updated');
        await tx.setAlertCursor(3);
      });
      assert.equal(await store.alertCursor(), 3);
      const [first, second] = await store.alerts({ afterPosition: 0, limit: 10 });
      assert.deepEqual(
        [
          first?.id,
          first?.position,
          first?.status,
          first?.value,
          second?.id,
          second?.position,
          second?.status,
        ],
        ['aa', 1, 'confirmed', 250n, 'bb', 2, 'open'],
      );
      assert.deepEqual(
        (await store.alerts({ afterPosition: 1, limit: 10, status: 'open' })).map((row) => row.id),
        ['bb'],
      );
      assert.deepEqual(
        (await store.revocationsPending(10)).map((row) => row.id),
        ['aa'],
      );
      const counts = await store.alertCounts();
      assert.deepEqual(counts.byKind.doubleSpend, { open: 1, confirmed: 1, revoked: 0 });
      assert.deepEqual(counts.byKind.fakeFunding, { open: 0, confirmed: 0, revoked: 0 });
      assert.equal(counts.revocationsPending, 1);
    });

    test('an empty audit log verifies; appended entries chain from the zero hash', async () => {
      assert.deepEqual(await store.auditHead(), emptyHead);
      assert.deepEqual(await verifyMdsAudit(store, hasher), { entries: 0, firstBroken: null });
      for (let index = 1; index <= 5; index++) await append(`alert-${index}`, 10_000 + index);
      const entries = await store.auditEntries(0, 10);
      assert.deepEqual(
        entries.map((entry) => entry.sequence),
        [1, 2, 3, 4, 5],
      );
      assert.equal(entries[0]?.prevHash, genesisHash);
      assert.equal(entries[1]?.prevHash, entries[0]?.hash);
      assert.deepEqual(await store.auditHead(), { sequence: 5, hash: entries[4]?.hash });
      assert.deepEqual(await verifyMdsAudit(store, hasher), { entries: 5, firstBroken: null });
    });

    for (const [column, value] of tamperings) {
      for (const sequence of [1, 3, 5]) {
        test(`changing ${column} of entry ${sequence} is found at entry ${sequence}`, async () => {
          const [original] = await db.all(`SELECT ${column} AS value FROM mds_audit WHERE sequence = ?`, [
            sequence,
          ]);
          await db.run(`UPDATE mds_audit SET ${column} = ${value} WHERE sequence = ?`, [sequence]);
          const verdict = await verifyMdsAudit(store, hasher);
          await db.run(`UPDATE mds_audit SET ${column} = ? WHERE sequence = ?`, [
            original?.['value'] as string | bigint,
            sequence,
          ]);
          assert.deepEqual(verdict, { entries: 5, firstBroken: sequence });
          assert.deepEqual(await verifyMdsAudit(store, hasher), { entries: 5, firstBroken: null });
        });
      }
    }

    test('a removed entry is found at its sequence, a removed tail and a changed head at the head', async () => {
      const saved = await store.auditEntries(0, 10);
      await db.run('DELETE FROM mds_audit WHERE sequence = 2');
      assert.deepEqual(await verifyMdsAudit(store, hasher), { entries: 4, firstBroken: 2 });
      await db.run('DELETE FROM mds_audit WHERE sequence >= 4');
      await db.run('UPDATE mds_audit SET sequence = 2 WHERE sequence = 3');
      assert.deepEqual(await verifyMdsAudit(store, hasher), { entries: 2, firstBroken: 2 });
      await db.run('DELETE FROM mds_audit WHERE sequence >= 2');
      // Entry 1 alone, the head still at 5: the tail from 2 on is missing.
      assert.deepEqual(await verifyMdsAudit(store, hasher), { entries: 1, firstBroken: 2 });
      await db.run('DELETE FROM mds_audit');
      for (const entry of saved) {
        await db.run(
          'INSERT INTO mds_audit (sequence, at_ms, participant_id, role, action, subject, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          [
            entry.sequence,
            entry.atMs,
            entry.participantId,
            entry.role,
            entry.action,
            entry.subject,
            entry.prevHash,
            entry.hash,
          ],
        );
      }
      assert.deepEqual(await verifyMdsAudit(store, hasher), { entries: 5, firstBroken: null });
      await db.run(`UPDATE mds_audit_head SET hash = '${'33'.repeat(32)}' WHERE id = 1`);
      assert.deepEqual(await verifyMdsAudit(store, hasher), { entries: 5, firstBroken: 5 });
      await db.run('UPDATE mds_audit_head SET hash = ? WHERE id = 1', [saved[4]?.hash ?? '']);
      assert.deepEqual(await verifyMdsAudit(store, hasher), { entries: 5, firstBroken: null });
    });
  });
}

for (const engine of engines) {
  describe(`MDS alert mirror, two instances at once, on ${engine}`, () => {
    test('two API instances copying the same alerts concurrently copy each once, positions without gaps', async () => {
      const scratch = await createScratchDatabase(engine);
      const db = openDatabase(scratch.url);
      try {
        await migrate(db, mdsMigrations, 0);
        const enclave = new EnclaveDouble();
        for (let index = 0; index < 300; index++)
          enclave.raise({
            id: alertIdOf(`concurrent-${index}`),
            kind: 'fakeFunding',
            seId: 'ab'.repeat(16),
            value: 5n,
            raisedAtMs: 1,
            evidenceCount: 1,
          });
        const instance = () =>
          new AlertResponse({
            store: new SqlMdsStore(db),
            enclave,
            revocations: { revoke: () => Promise.reject(new Error('not asked: the policy is manual')) },
            hasher,
            clock: { nowMs: () => 0 },
            policy: {
              doubleSpend: 'manual',
              counterReuse: 'manual',
              fakeFunding: 'manual',
              unknownSigner: 'manual',
              revokedSigner: 'manual',
            },
          });
        const [first, second] = [instance(), instance()];
        await Promise.all([first.mirror(), second.mirror(), first.mirror()]);
        const rows = await db.all(
          'SELECT COUNT(*) AS n, MIN(position) AS low, MAX(position) AS high FROM mds_alerts',
        );
        assert.deepEqual([rows[0]?.['n'], rows[0]?.['low'], rows[0]?.['high']].map(Number), [300, 1, 300]);
        assert.equal(await new SqlMdsStore(db).alertCursor(), 300);
      } finally {
        await db.close();
        await scratch.drop();
      }
    });
  });
}
