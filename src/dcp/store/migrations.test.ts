// The DCP's migrations that move data, on both engines. Migration 2 moves the idempotency keys to
// the shared mechanism's table: every key keeps its scope, key and fingerprint, and its result names
// the kind of what it created. Migration 4 (the MDS forwarding) is described below.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../storage/database.ts';
import { migrate } from '../../storage/migrations.ts';
import { openDatabase } from '../../storage/open.ts';
import { createScratchDatabase, engines, type ScratchDatabase } from '../../testing/scratch.ts';
import { dcpMigrations } from './migrations.ts';
import { SqlDcpStore } from './sql-store.ts';

const seId = '00112233445566778899aabbccddeeff';
const renewalId = 'ffeeddccbbaa99887766554433221100';
const refusedLoadId = '0123456789abcdef0123456789abcdef';

for (const engine of engines) {
  describe(`DCP migration 2 on ${engine}`, () => {
    let scratch: ScratchDatabase;
    let db: Database;

    before(async () => {
      scratch = await createScratchDatabase(engine, 'file');
      db = openDatabase(scratch.url);
      await migrate(db, { service: 'dcp', migrations: dcpMigrations.migrations.slice(0, 1) }, 1);
      await db.transaction(async (tx) => {
        await tx.run(
          "INSERT INTO dcp_wallets (id, name, account_id, created_at_ms) VALUES ('wal_1', 'W', 'acc_1', 1)",
        );
        await tx.run(
          'INSERT INTO dcp_devices (se_id, wallet_id, kind, public_key, certificate, state, last_time, created_at_ms) ' +
            "VALUES (?, 'wal_1', 'card', '04', '00', 'active', 0, 1)",
          [seId],
        );
        await tx.run(
          'INSERT INTO dcp_operations (id, kind, se_id, amount, state, answer, created_at_ms, updated_at_ms) ' +
            "VALUES (?, 'renewal', ?, 0, 'done', NULL, 1, 1)",
          [renewalId, seId],
        );
        const keys: readonly (readonly [string, string, string])[] = [
          ['prt_op', 'k1', 'prt_2'],
          ['prt_op', 'k2', 'wal_1'],
          ['prt_op', 'k3', seId],
          [seId, 'k4', renewalId],
          [seId, 'k5', refusedLoadId],
        ];
        for (const [scope, key, result] of keys)
          await tx.run(
            'INSERT INTO dcp_idempotency (scope, idempotency_key, fingerprint, result, created_at_ms) VALUES (?, ?, ?, ?, 1)',
            [scope, key, `print-${key}`, result],
          );
      });
      await migrate(db, dcpMigrations, 2);
    });
    after(async () => {
      await db.close();
      await scratch.drop();
    });

    test('every key keeps its fingerprint and names what it created, by kind', async () => {
      const reader = new SqlDcpStore(db).reader;
      const read = async (scope: string, key: string) => reader.findKey(scope, key);
      assert.deepEqual(await read('prt_op', 'k1'), {
        fingerprint: 'print-k1',
        result: { kind: 'participant', id: 'prt_2' },
        // The claim's time is kept: the key expires a retention after it.
        createdAtMs: 1,
      });
      assert.deepEqual((await read('prt_op', 'k2'))?.result, { kind: 'wallet', id: 'wal_1' });
      assert.deepEqual((await read('prt_op', 'k3'))?.result, { kind: 'personalisation', id: seId });
      assert.deepEqual((await read(seId, 'k4'))?.result, { kind: 'renewal', id: renewalId });
      assert.deepEqual((await read(seId, 'k5'))?.result, { kind: 'load', id: refusedLoadId });
      assert.equal(await read(seId, 'nothing'), null);
    });
  });
}

// Migration 4 (the MDS forwarding): a sealed upload from before has no claim, which the DCP kept
// nowhere else, so it is kept as unforwardable and counted, never dropped; every issuance and retired
// token waits to be reported, a retired token naming its operation's upload. Migration 9 then reports
// a credit still queued, while one minted before goes only as its issuance's link.
for (const engine of engines) {
  describe(`DCP migration 4 on ${engine}`, () => {
    let scratch: ScratchDatabase;
    let db: Database;
    const digest = 'ab'.repeat(32);
    const tokenId = 'cd'.repeat(32);
    const orphanTokenId = 'ef'.repeat(32);

    before(async () => {
      scratch = await createScratchDatabase(engine, 'file');
      db = openDatabase(scratch.url);
      await migrate(db, { service: 'dcp', migrations: dcpMigrations.migrations.slice(0, 3) }, 1);
      await db.transaction(async (tx) => {
        await tx.run(
          'INSERT INTO dcp_issuances (id, request_reference, kind, se_id, value, operation_id, signed, created_at_ms) ' +
            "VALUES ('iss_1', 'ref-1', 'renewal', ?, 500, ?, 'd284', 5)",
          [seId, renewalId],
        );
        await tx.run(
          'INSERT INTO dcp_retired_tokens (token_id, se_id, value, operation_id, created_at_ms) VALUES (?, ?, 500, ?, 5)',
          [tokenId, seId, renewalId],
        );
        // Retired by an operation whose sealed upload repeated an earlier one's (none stored for it).
        await tx.run(
          'INSERT INTO dcp_retired_tokens (token_id, se_id, value, operation_id, created_at_ms) VALUES (?, ?, 700, ?, 6)',
          [orphanTokenId, seId, refusedLoadId],
        );
        await tx.run(
          'INSERT INTO dcp_uploads (digest, se_id, operation_id, sealed, state, created_at_ms) ' +
            "VALUES (?, ?, ?, '00ff', 'pending', 5)",
          [digest, seId, renewalId],
        );
        await tx.run(
          'INSERT INTO dcp_credits (id, se_id, kind, value, state, issuance_id, created_at_ms) VALUES ' +
            "('xfer:op1', ?, 'credit', 300, 'queued', NULL, 7), ('pay:p1', ?, 'credit', 200, 'minted', 'iss_1', 4)",
          [seId, seId],
        );
      });
      await migrate(db, dcpMigrations, 2);
    });
    after(async () => {
      await db.close();
      await scratch.drop();
    });

    test('an upload without a claim is unforwardable and counted; issuances, retirements and queued credits wait for their report', async () => {
      const outbox = new SqlDcpStore(db).mdsOutbox;
      assert.deepEqual(await outbox.figures(), {
        uploads: { pending: 0, refused: 0, unforwardable: 1 },
        issuances: { pending: 1, refused: 0 },
        retirements: { pending: 1, refused: 0, unreportable: 1 },
        credits: { pending: 1, refused: 0 },
      });
      assert.deepEqual(await outbox.dueUploads(Number.MAX_SAFE_INTEGER, 10), []);
      assert.deepEqual(await outbox.unreported(10), {
        issuances: [{ id: 'iss_1', signed: 'd284', credits: ['pay:p1'] }],
        retirements: [{ tokenId, value: 500n, seId, uploadDigest: digest, retiredAtMs: 5 }],
        credits: [{ creditId: 'xfer:op1', seId, kind: 'credit', value: 300n, queuedAtMs: 7 }],
      });
      const [row] = await db.all('SELECT sealed, state, claim FROM dcp_uploads WHERE digest = ?', [digest]);
      assert.deepEqual({ ...row }, { sealed: '00ff', state: 'unforwardable', claim: null });
    });

    test('a pending upload must have its claim (the table refuses one without)', async () => {
      await assert.rejects(
        db.run(
          'INSERT INTO dcp_uploads (digest, se_id, operation_id, claim, sealed, state, refusal, attempts, ' +
            "next_attempt_at_ms, forwarded_at_ms, created_at_ms) VALUES (?, ?, ?, NULL, '00', 'pending', NULL, 0, 1, NULL, 1)",
          ['11'.repeat(32), seId, renewalId],
        ),
      );
    });
  });
}
