// The DCP's forwarding to the MDS (docs/dcp.md, "Forwarding to the MDS"), on both engines: a real
// ledger, directory and DCP, devices driven through their APDUs, and a loopback HTTP server standing
// in for the MDS as docs/mds.md describes it (202 once stored, report counts, refusals in the error
// envelope), recording what it received. The real MDS end to end is the system test's.
//
// After a renewal and an unload the MDS holds exactly the claims and sealed bytes the SE produced and
// the issuances and retirements with their exact values; an MDS that is down fails no renewal, loses
// nothing, and gets everything once when it is back; a refusal marks the row, counts it on /metrics
// and is not retried; a refusal of the DCP's own key is retried.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { encodeSigned } from '../../src/core/signed.ts';
import type { SettleAnswer } from '../../src/dcp/api/client.ts';
import { mdsBackoffMsMax } from '../../src/dcp/domain/limits.ts';
import { DeviceApp, type PreparedSettlement } from '../../src/device/device-app.ts';
import type { Device } from '../../src/device/device.ts';
import { RecordingMds } from '../../src/testing/recording-mds.ts';
import { engines } from '../../src/testing/scratch.ts';
import {
  freshKey,
  newDevice,
  seIdOf,
  settleRequest,
  startWorld,
  TestClock,
  verifier,
  type TestDcp,
  type World,
} from './fixtures.ts';

/** The gauge lines of the DCP's /metrics that start with `dcp_mds_`. */
async function mdsGauges(dcp: TestDcp): Promise<Record<string, number>> {
  const metrics = await dcp.server.app.inject({ method: 'GET', url: '/metrics' });
  return Object.fromEntries(
    metrics.body
      .split('\n')
      .filter((line) => line.startsWith('dcp_mds_'))
      .map((line) => {
        const [name, value] = line.split(' ');
        return [name!, Number(value)];
      }),
  );
}

const quietGauges = {
  'dcp_mds_uploads{state="pending"}': 0,
  'dcp_mds_uploads{state="refused"}': 0,
  'dcp_mds_uploads{state="unforwardable"}': 0,
  'dcp_mds_reports{kind="issuance",state="pending"}': 0,
  'dcp_mds_reports{kind="issuance",state="refused"}': 0,
  'dcp_mds_reports{kind="retirement",state="pending"}': 0,
  'dcp_mds_reports{kind="retirement",state="refused"}': 0,
  'dcp_mds_reports{kind="retirement",state="unreportable"}': 0,
  'dcp_mds_reports{kind="credit",state="pending"}': 0,
  'dcp_mds_reports{kind="credit",state="refused"}': 0,
};

const noPass = {
  uploadsForwarded: 0,
  uploadsRefused: 0,
  uploadsPostponed: 0,
  itemsReported: 0,
  itemsRefused: 0,
};

for (const engine of engines) {
  describe(`DCP forwarding to the MDS on ${engine}`, () => {
    const clock = new TestClock();
    const mds = new RecordingMds();
    let world: World;
    let dcp: TestDcp;
    let app: DeviceApp;
    let card: Device;

    /** A settlement posted and completed on the SE; what the SE made, what the DCP answered and when. */
    const settle = async (kind: 'renewal' | 'unload', amount?: bigint) => {
      const prepared: PreparedSettlement = await settleRequest(
        app,
        card,
        kind,
        amount === undefined ? {} : { amount },
      );
      const fromMs = clock.nowMs();
      const answer: SettleAnswer = await app.client.settle(freshKey(), prepared);
      const toMs = clock.nowMs();
      app.complete(card.client(), answer);
      const claim = prepared.claim.body;
      return {
        prepared,
        answer,
        fromMs,
        toMs,
        digest: toHex(claim.uploadDigest),
        tokens: claim.tokens.map((token) => ({ tokenId: toHex(token.tokenId), value: token.value })),
      };
    };
    const pass = async () => {
      const report = await dcp.server.forwardToMds();
      assert.ok(report !== null, 'the DCP has an MDS');
      return report;
    };
    /** Past every backoff: the next pass tries again whatever failed before. */
    const laterThanBackoff = () => {
      clock.offsetMs += mdsBackoffMsMax + 1_000;
    };

    before(async () => {
      const mdsUrl = await mds.listen();
      world = await startWorld(engine, {
        dcpNames: ['bank-a'],
        clock,
        // The task's timer never fires in the test: each pass is driven by hand.
        dcpOptions: { mdsUrl, mdsKey: mds.apiKey, mdsForwardIntervalMs: 3_600_000 },
      });
      dcp = world.dcp('bank-a');
      app = new DeviceApp({ baseUrl: dcp.server.url, verifier });
      const wallet = await dcp.createWallet('Alice');
      await world.fund(wallet.accountId, 100_000n);
      card = newDevice('card', 'card');
      await app.personalise(card.client(), 'card', wallet.id, dcp.operatorKey, freshKey());
    });
    after(async () => {
      await world.close();
      await mds.close();
    });

    test('after a load, a renewal and an unload the MDS holds exactly what the SE sealed and what the DCP did', async () => {
      const loaded = await app.client.load(freshKey(), await app.prepareLoad(card.client(), 30_000n));
      card.client().load(loaded.issuance);
      const renewal = await settle('renewal');
      const unload = await settle('unload', 7_000n);
      assert.deepEqual(await mdsGauges(dcp), {
        ...quietGauges,
        'dcp_mds_uploads{state="pending"}': 2,
        'dcp_mds_reports{kind="issuance",state="pending"}': 3,
        'dcp_mds_reports{kind="retirement",state="pending"}': 2,
      });
      assert.equal(mds.requests.length, 0, 'no operation waited on the MDS');

      assert.deepEqual(await pass(), {
        ...noPass,
        uploadsForwarded: 2,
        itemsReported: 5,
        unavailable: false,
      });
      assert.deepEqual(mds.uploads, [
        {
          digest: renewal.digest,
          claim: renewal.prepared.body.claim,
          sealed: renewal.prepared.body.sealedUpload,
        },
        {
          digest: unload.digest,
          claim: unload.prepared.body.claim,
          sealed: unload.prepared.body.sealedUpload,
        },
      ]);
      assert.equal(renewal.prepared.body.claim, toHex(encodeSigned(renewal.prepared.claim)));
      const signed = [loaded.issuance, renewal.answer.renewal, unload.answer.renewal].map((issuance) =>
        toHex(encodeSigned(issuance)),
      );
      assert.deepEqual([...mds.issuances].sort(), [...signed].sort());
      // The load's token retired by the renewal, the renewal's by the unload, each with its upload.
      assert.deepEqual(
        renewal.tokens.map((token) => token.value),
        [30_000n],
      );
      assert.deepEqual(
        unload.tokens.map((token) => token.value),
        [30_000n],
      );
      const seId = seIdOf(card);
      assert.deepEqual(
        mds.retirements.map(({ retiredAtMs: _at, ...rest }) => rest),
        [
          { tokenId: renewal.tokens[0]!.tokenId, value: '30000', seId, uploadDigest: renewal.digest },
          { tokenId: unload.tokens[0]!.tokenId, value: '30000', seId, uploadDigest: unload.digest },
        ],
      );
      for (const [retirement, settled] of [
        [mds.retirements[0]!, renewal],
        [mds.retirements[1]!, unload],
      ] as const) {
        assert.ok(retirement.retiredAtMs >= settled.fromMs && retirement.retiredAtMs <= settled.toMs);
      }
      assert.deepEqual(
        mds.requests.map((request) => [request.path, request.status]),
        [
          ['/v1/uploads', 202],
          ['/v1/uploads', 202],
          ['/v1/reports', 200],
        ],
      );
      assert.deepEqual(await mdsGauges(dcp), quietGauges);

      laterThanBackoff();
      assert.deepEqual(await pass(), { ...noPass, unavailable: false });
      assert.equal(mds.requests.length, 3, 'what was acknowledged is not sent again');
    });

    test('the MDS down fails no renewal and loses nothing; back, it gets everything once', async () => {
      mds.down = true;
      const requestsBefore = mds.requests.length;
      const renewal = await settle('renewal');
      assert.deepEqual(await pass(), { ...noPass, uploadsPostponed: 1, unavailable: true });
      // The client's two attempts at the upload, then at the report: two failures, the pass stops.
      assert.deepEqual(
        mds.requests.slice(requestsBefore).map((request) => [request.path, request.status]),
        [
          ['/v1/uploads', 503],
          ['/v1/uploads', 503],
          ['/v1/reports', 503],
          ['/v1/reports', 503],
        ],
      );
      assert.deepEqual(await pass(), { ...noPass, unavailable: true });
      assert.equal(mds.requests.length, requestsBefore + 4, 'the next pass waits its backoff');
      assert.deepEqual(await mdsGauges(dcp), {
        ...quietGauges,
        'dcp_mds_uploads{state="pending"}': 1,
        'dcp_mds_reports{kind="issuance",state="pending"}': 1,
        'dcp_mds_reports{kind="retirement",state="pending"}': 1,
      });

      mds.down = false;
      laterThanBackoff();
      assert.deepEqual(await pass(), {
        ...noPass,
        uploadsForwarded: 1,
        itemsReported: 2,
        unavailable: false,
      });
      assert.deepEqual(mds.uploads.at(-1), {
        digest: renewal.digest,
        claim: renewal.prepared.body.claim,
        sealed: renewal.prepared.body.sealedUpload,
      });
      assert.equal(mds.issuances.at(-1), toHex(encodeSigned(renewal.answer.renewal)));
      assert.equal(mds.retirements.at(-1)?.tokenId, renewal.tokens[0]!.tokenId);
      laterThanBackoff();
      const requestsAfter = mds.requests.length;
      assert.deepEqual(await pass(), { ...noPass, unavailable: false });
      assert.equal(mds.requests.length, requestsAfter, 'delivered once');
      assert.deepEqual(await mdsGauges(dcp), quietGauges);
    });

    test('a refusal of the content marks the row and counts it; it is not retried', async () => {
      const prepared = await settleRequest(app, card, 'renewal');
      mds.refusedUploads.add(toHex(prepared.claim.body.uploadDigest));
      const answer = await app.client.settle(freshKey(), prepared);
      app.complete(card.client(), answer);
      const refusedIssuance = toHex(encodeSigned(answer.renewal));
      mds.refusedIssuances.add(refusedIssuance);
      const requestsBefore = mds.requests.length;
      // The report of two items is refused, then each half alone: the issuance refused, the retirement taken.
      assert.deepEqual(await pass(), {
        ...noPass,
        uploadsRefused: 1,
        itemsReported: 1,
        itemsRefused: 1,
        unavailable: false,
      });
      assert.deepEqual(
        mds.requests.slice(requestsBefore).map((request) => [request.path, request.status]),
        [
          ['/v1/uploads', 409],
          ['/v1/reports', 409],
          ['/v1/reports', 409],
          ['/v1/reports', 200],
        ],
      );
      assert.equal(mds.retirements.at(-1)?.tokenId, toHex(prepared.claim.body.tokens[0]!.tokenId));
      assert.ok(!mds.issuances.includes(refusedIssuance));
      assert.deepEqual(await mdsGauges(dcp), {
        ...quietGauges,
        'dcp_mds_uploads{state="refused"}': 1,
        'dcp_mds_reports{kind="issuance",state="refused"}': 1,
      });
      laterThanBackoff();
      const requestsAfter = mds.requests.length;
      assert.deepEqual(await pass(), { ...noPass, unavailable: false });
      assert.equal(mds.requests.length, requestsAfter, 'a refused row is not sent again');
    });

    test("a refusal of the DCP's own key keeps the upload pending and is retried", async () => {
      mds.apiKey = 'another-key';
      const renewal = await settle('renewal');
      assert.deepEqual(await pass(), { ...noPass, uploadsPostponed: 1, unavailable: true });
      assert.deepEqual(
        mds.requests.slice(-2).map((request) => [request.path, request.status]),
        [
          ['/v1/uploads', 401],
          ['/v1/reports', 401],
        ],
      );
      assert.equal((await mdsGauges(dcp))['dcp_mds_uploads{state="pending"}'], 1);
      mds.apiKey = 'mds-key-of-the-dcp';
      laterThanBackoff();
      assert.deepEqual(await pass(), {
        ...noPass,
        uploadsForwarded: 1,
        itemsReported: 2,
        unavailable: false,
      });
      assert.equal(mds.uploads.at(-1)?.digest, renewal.digest);
      assert.deepEqual(await mdsGauges(dcp), {
        ...quietGauges,
        'dcp_mds_uploads{state="refused"}': 1,
        'dcp_mds_reports{kind="issuance",state="refused"}': 1,
      });
    });

    test('an upload the MDS keeps failing on waits its own backoff and holds back none behind it', async () => {
      const stuck = await settleRequest(app, card, 'renewal');
      const stuckDigest = toHex(stuck.claim.body.uploadDigest);
      mds.failingUploads.add(stuckDigest);
      app.complete(card.client(), await app.client.settle(freshKey(), stuck));
      const next = await settle('renewal');
      laterThanBackoff();
      assert.deepEqual(await pass(), {
        ...noPass,
        uploadsForwarded: 1,
        uploadsPostponed: 1,
        itemsReported: 4,
        unavailable: false,
      });
      assert.equal(mds.uploads.at(-1)?.digest, next.digest);
      const [row] = await dcp.server.context.store.mdsOutbox.dueUploads(Number.MAX_SAFE_INTEGER, 10);
      assert.deepEqual([row?.digest, row?.attempts], [stuckDigest, 1]);
      assert.deepEqual(await dcp.server.context.store.mdsOutbox.dueUploads(clock.nowMs(), 10), []);
      mds.failingUploads.delete(stuckDigest);
      laterThanBackoff();
      assert.deepEqual(await pass(), { ...noPass, uploadsForwarded: 1, unavailable: false });
      assert.equal(mds.uploads.at(-1)?.digest, stuckDigest);
      assert.equal(mds.uploads.filter((upload) => upload.digest === stuckDigest).length, 1);
    });
  });
}
