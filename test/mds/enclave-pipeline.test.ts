// PostgreSQL only: `ingestAll` pipelines its batches there (service.ts `#ingestPipelined`: the next
// batch is taken, opened and verified while the one ahead merges and commits). The pipeline must
// decide exactly as batches one after the other: the same outcome per upload (a replay split across
// two batches included), the same alerts and graph, and no entry verified twice (the batch ahead's
// entries count as held from memory). A batch that fails takes the batch after it down before it
// writes: both roll back, their uploads stay stored, and ingesting again ends as a clean run.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bytesEqual, type Bytes } from '../../src/core/bytes.ts';
import type { EnclaveCrypto } from '../../src/mds/enclave/open-upload.ts';
import { ingestBatchUploadsMax } from '../../src/mds/enclave/service.ts';
import {
  MdsUploads,
  scratchEnclave,
  type GraphCounts,
  type RelayedUpload,
} from '../../src/testing/mds-uploads.ts';

const uploads = new MdsUploads();

/** The thief's own upload over a DCP-minted token, sealed twice: the second is a replay. */
function replayPair(): RelayedUpload[] {
  const { thief, upload } = uploads.thiefUpload(300n);
  return [uploads.sealUpload(thief, upload, 'first'), uploads.sealUpload(thief, upload, 'again')];
}

// The payers' uploads fill the first batch and the shops' the second, so the second verifies nothing
// the first brought; the replay's two sealings straddle them. Frauds make up the third batch.
// Uploads are taken in the order stored (`receivedAtMs` is the position).
const shops = uploads.shops(14, 3).uploads;
const honest = uploads.honest().uploads;
const [first, again] = replayPair();
const relayed: RelayedUpload[] = [
  ...shops.slice(0, 14),
  ...honest.slice(0, 1),
  ...[first, again].filter((upload) => upload !== undefined),
  ...honest.slice(1),
  ...shops.slice(14),
  ...uploads.doubleSpend().uploads,
  ...uploads.counterReuse().uploads,
  ...uploads.clone().uploads,
  uploads.fakeFunding(5_000n).upload,
  uploads.unknownSigner().upload,
];

interface Outcome {
  readonly statuses: readonly string[];
  readonly alerts: readonly string[];
  readonly graph: GraphCounts;
  readonly verifications: number;
}

/** The fixture's crypto, counting verifications, and failing (a bug, not a refusal) while `fault` is set. */
function faultyCrypto(): { crypto: EnclaveCrypto; verifications: () => number; fault: { on: Bytes | null } } {
  const fault: { on: Bytes | null } = { on: null };
  const counting = uploads.countingCrypto();
  const crypto: EnclaveCrypto = {
    verifier: counting.crypto.verifier,
    open: (aad, sealed) => {
      if (fault.on !== null && bytesEqual(sealed, fault.on)) throw new Error('injected fault');
      return counting.crypto.open(aad, sealed);
    },
  };
  return { crypto, verifications: () => counting.counts.verifications, fault };
}

async function ingest(mode: 'pipelined' | 'batch after batch', failOnce?: RelayedUpload): Promise<Outcome> {
  const { crypto, verifications, fault } = faultyCrypto();
  const enclave = await scratchEnclave(uploads, 'postgres', { crypto });
  try {
    const digests: string[] = [];
    for (const [position, upload] of relayed.entries())
      digests.push((await enclave.service.storeUpload(uploads.request(upload, position))).digest);
    if (failOnce !== undefined) {
      fault.on = failOnce.sealed;
      await assert.rejects(enclave.service.ingestAll(relayed.length), /injected fault/);
      assert.deepEqual(
        (await enclave.service.status()).uploads,
        { stored: relayed.length - ingestBatchUploadsMax, ingested: ingestBatchUploadsMax, refused: 0 },
        'the first batch committed; the failing second and the third after it rolled back',
      );
      fault.on = null;
    }
    if (mode === 'pipelined') await enclave.service.ingestAll(relayed.length);
    else while ((await enclave.service.ingestBatch()).length > 0);
    const statuses: string[] = [];
    for (const digest of digests) {
      const status = await enclave.service.uploadStatus(uploads.dcpId, digest);
      statuses.push(`${status?.state} ${status?.refusal}`);
    }
    const page = await enclave.service.alertsAfter(0, 256);
    const alerts: string[] = [];
    for (const alert of page.alerts) {
      const evidence = (await enclave.service.evidence(alert.id)) ?? [];
      alerts.push(
        [alert.id, alert.kind, alert.seId, alert.value, ...evidence.map((item) => item.entryId)].join(' '),
      );
    }
    return {
      statuses,
      alerts: alerts.sort(),
      graph: await enclave.graphCounts(),
      verifications: verifications(),
    };
  } finally {
    await enclave.close();
  }
}

void describe('the ingest pipeline on PostgreSQL', () => {
  void test('decides as batch after batch: the same outcomes, alerts and graph, nothing verified twice', async () => {
    assert.ok(relayed.length > 2 * ingestBatchUploadsMax, 'three batches at least: two in flight at once');
    const inTurn = await ingest('batch after batch');
    const pipelined = await ingest('pipelined');
    assert.deepEqual(pipelined, inTurn);
    assert.equal(
      inTurn.statuses.filter((status) => status === 'refused uploadReplayed').length,
      1,
      'the replay is refused, though its first sealing was in the batch ahead',
    );
    assert.ok(inTurn.alerts.length >= 5, 'the frauds raise their alerts');
  });

  void test('a batch that fails rolls back with the one after it; ingesting again ends as a clean run', async () => {
    const clean = await ingest('pipelined');
    const failing = relayed[ingestBatchUploadsMax + 3];
    assert.ok(failing !== undefined);
    const recovered = await ingest('pipelined', failing);
    assert.deepEqual(
      { ...recovered, verifications: 0 },
      { ...clean, verifications: 0 },
      'the same end; verifications differ only by the work rolled back',
    );
  });
});
