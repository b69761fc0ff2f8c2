// The MDS forwarding's bounds, on both engines: the real store, the real adapter and MDS client, and
// the loopback stand-in for the MDS (src/testing/recording-mds.ts). More uploads than one read
// (`mdsUploadBatchMax`) go oldest first in one pass; more issuances and retirements than one report
// may carry (the MDS's `reportItemsMax`) go in full calls and a last partial one, each item once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NodeVerifier } from '../../src/crypto/node-crypto.ts';
import { HttpMds } from '../../src/dcp/adapters/mds.ts';
import { MdsForwarder } from '../../src/dcp/domain/forwarding.ts';
import { mdsUploadBatchMax } from '../../src/dcp/domain/limits.ts';
import { dcpMigrations } from '../../src/dcp/store/migrations.ts';
import { SqlDcpStore } from '../../src/dcp/store/sql-store.ts';
import { MdsClient } from '../../src/mds/api/client.ts';
import { reportItemsMax } from '../../src/mds/api/types.ts';
import type { Database } from '../../src/storage/database.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { openDatabase } from '../../src/storage/open.ts';
import { RecordingMds } from '../../src/testing/recording-mds.ts';
import { createScratchDatabase, engines, type ScratchDatabase } from '../../src/testing/scratch.ts';

const verifier = new NodeVerifier();
const seId = '0f'.repeat(16);
const uploads = mdsUploadBatchMax + 8;
const items = reportItemsMax + 44;
/** 64 hex digits made from a number, so that the order of creation is also the order of ids. */
const hex64 = (prefix: string, index: number) => `${prefix}${String(index).padStart(8, '0')}`.padEnd(64, '0');

for (const engine of engines) {
  describe(`MDS forwarding batches on ${engine}`, () => {
    const mds = new RecordingMds();
    let scratch: ScratchDatabase;
    let db: Database;
    let store: SqlDcpStore;
    const nowMs = 1_800_000_000_000;

    before(async () => {
      scratch = await createScratchDatabase(engine, 'file');
      db = openDatabase(scratch.url);
      await migrate(db, dcpMigrations, 1);
      store = new SqlDcpStore(db);
      await store.transaction(async (tx) => {
        for (let index = 0; index < uploads; index++) {
          const sealed = `5e${index.toString(16).padStart(4, '0')}`;
          const digest = verifier.sha256(Buffer.from(sealed, 'hex'));
          await tx.insertUpload(
            {
              digest: Buffer.from(digest).toString('hex'),
              seId,
              operationId: `op${index}`,
              claim: 'c1a1',
              sealed,
            },
            // Digests sort at random: the order checked below is the order of creation.
            nowMs - 1_000_000 + index,
          );
        }
        for (let index = 0; index < items; index++) {
          await tx.insertIssuance(
            {
              id: `iss_${String(index).padStart(4, '0')}`,
              requestReference: `ref-${index}`,
              kind: 'renewal',
              seId,
              value: 100n + BigInt(index),
              operationId: `op${index}`,
              signed: `d2${index.toString(16).padStart(4, '0')}`,
              time: 1_000 + index,
              tokens: [],
            },
            nowMs - 1_000_000 + index,
          );
          await tx.retireToken(
            {
              tokenId: hex64('70', index),
              seId,
              value: 100n + BigInt(index),
              operationId: `op${index}`,
              uploadDigest: 'ab'.repeat(32),
            },
            nowMs - 1_000_000 + index,
          );
        }
      });
    });
    after(async () => {
      await db.close();
      await scratch.drop();
      await mds.close();
    });

    test('one pass posts every upload oldest first and reports in calls of at most reportItemsMax', async () => {
      const baseUrl = await mds.listen();
      const forwarder = new MdsForwarder({
        store: store.mdsOutbox,
        mds: new HttpMds(new MdsClient({ baseUrl, apiKey: mds.apiKey })),
        clock: { nowMs: () => nowMs },
        sha256: (bytes) => verifier.sha256(bytes),
      });
      assert.deepEqual(await forwarder.pass(), {
        uploadsForwarded: uploads,
        uploadsRefused: 0,
        uploadsPostponed: 0,
        itemsReported: 2 * items,
        itemsRefused: 0,
        unavailable: false,
      });
      assert.deepEqual(
        mds.uploads.map((upload) => upload.sealed),
        Array.from({ length: uploads }, (_unused, index) => `5e${index.toString(16).padStart(4, '0')}`),
      );
      assert.deepEqual(mds.reportSizes, [
        [reportItemsMax, reportItemsMax],
        [items - reportItemsMax, items - reportItemsMax],
      ]);
      assert.deepEqual(
        mds.issuances,
        Array.from({ length: items }, (_unused, index) => `d2${index.toString(16).padStart(4, '0')}`),
      );
      assert.deepEqual(
        mds.retirements.map((retirement) => [retirement.tokenId, retirement.value, retirement.retiredAtMs]),
        Array.from({ length: items }, (_unused, index) => [
          hex64('70', index),
          String(100 + index),
          nowMs - 1_000_000 + index,
        ]),
      );
      assert.deepEqual(await store.mdsOutbox.figures(), {
        uploads: { pending: 0, refused: 0, unforwardable: 0 },
        issuances: { pending: 0, refused: 0 },
        retirements: { pending: 0, refused: 0, unreportable: 0 },
        credits: { pending: 0, refused: 0 },
      });
      const requests = mds.requests.length;
      assert.deepEqual((await forwarder.pass()).itemsReported, 0);
      assert.equal(mds.requests.length, requests, 'nothing is sent twice');
    });
  });
}
