// The DCP server runs the MDS forwarding on its own (the maintenance task every
// `mdsForwardIntervalMs`), with no test driving a pass: a renewal's upload and reports reach the
// MDS stand-in by themselves. One engine: the scheduling does not depend on it (the passes are
// tested on both, in mds-forwarding.test.ts).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import { RecordingMds } from '../../src/testing/recording-mds.ts';
import { freshKey, newDevice, settleRequest, startWorld, verifier, type World } from './fixtures.ts';

/** How long the task may take to deliver: many intervals, on two busy cores. */
const deliveryMsMax = 10_000;

describe('the DCP forwards to the MDS on its own timer', () => {
  const mds = new RecordingMds();
  let world: World;

  before(async () => {
    const mdsUrl = await mds.listen();
    world = await startWorld('sqlite', {
      dcpNames: ['bank-a'],
      dcpOptions: { mdsUrl, mdsKey: mds.apiKey, mdsForwardIntervalMs: 50 },
    });
  });
  after(async () => {
    await world.close();
    await mds.close();
  });

  test('a renewal reaches the MDS with no pass driven by the test', async () => {
    const dcp = world.dcp('bank-a');
    assert.notEqual(await dcp.server.forwardToMds(), null);
    const app = new DeviceApp({ baseUrl: dcp.server.url, verifier });
    const wallet = await dcp.createWallet('Alice');
    await world.fund(wallet.accountId, 10_000n);
    const card = newDevice('card', 'card');
    await app.personalise(card.client(), 'card', wallet.id, dcp.operatorKey, freshKey());
    await app.load(card.client(), 1_000n, freshKey());
    const prepared = await settleRequest(app, card, 'renewal');
    app.complete(card.client(), await app.client.settle(freshKey(), prepared));
    const digest = toHex(prepared.claim.body.uploadDigest);
    const outbox = dcp.server.context.store.mdsOutbox;
    const delivered = async () => {
      const figures = await outbox.figures();
      return figures.uploads.pending + figures.issuances.pending + figures.retirements.pending === 0;
    };
    for (let waited = 0; waited < deliveryMsMax && !(await delivered()); waited += 50) await sleep(50);
    assert.deepEqual(
      mds.uploads.map((upload) => [upload.digest, upload.claim, upload.sealed]),
      [[digest, prepared.body.claim, prepared.body.sealedUpload]],
    );
    assert.equal(mds.issuances.length, 2, 'the load and the renewal');
    assert.equal(mds.retirements.length, 1);
    assert.deepEqual(await outbox.figures(), {
      uploads: { pending: 0, refused: 0, unforwardable: 0 },
      issuances: { pending: 0, refused: 0 },
      retirements: { pending: 0, refused: 0, unreportable: 0 },
      credits: { pending: 0, refused: 0 },
    });
  });
});
