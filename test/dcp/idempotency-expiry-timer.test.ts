// The DCP process expires idempotency answers by itself (issue 8, item 10): its maintenance task
// turns an answer past the retention into a tombstone without anyone calling `expire`, and the
// tombstone is refused over HTTP. A real ledger, the real directory and a DCP, on every engine.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { DcpRefusal } from '../../src/dcp/api/client.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import { engines } from '../../src/testing/scratch.ts';
import { TestClock, freshKey, loadRequest, newDevice, startWorld, verifier, type World } from './fixtures.ts';

const retentionMs = 60_000;
const expiryIntervalMs = 20;
/** How long the test waits for the task's first run after the clock moved. */
const waitMs = 5_000;

for (const engine of engines) {
  describe(`DCP idempotency expiry task on ${engine}`, () => {
    const clock = new TestClock();
    let world: World;

    before(async () => {
      world = await startWorld(engine, {
        dcpNames: ['bank'],
        clock,
        dcpOptions: { idempotencyRetentionMs: retentionMs, idempotencyExpiryIntervalMs: expiryIntervalMs },
      });
    });

    after(async () => {
      await world.close();
    });

    test('an answer past the retention becomes a tombstone on its own, refused with idempotencyKeyExpired', async () => {
      const dcp = world.dcp('bank');
      const app = new DeviceApp({ baseUrl: dcp.server.url, verifier });
      const wallet = await dcp.createWallet('Alice');
      await world.fund(wallet.accountId, 10_000n);
      const card = newDevice('card', 'card');
      await app.personalise(card.client(), 'card', wallet.id, dcp.operatorKey, freshKey());
      const key = freshKey('load');
      const { body } = await loadRequest(app, card, 3_000n);
      card.client().load((await app.client.load(key, body)).issuance);

      const reader = dcp.server.context.store.reader;
      await sleep(expiryIntervalMs * 5);
      assert.equal((await reader.findKey(body.seId, key))?.result?.kind, 'load', 'kept within the retention');
      clock.offsetMs += retentionMs;
      const deadline = Date.now() + waitMs;
      while ((await reader.findKey(body.seId, key))?.result != null && Date.now() < deadline)
        await sleep(expiryIntervalMs);
      assert.equal((await reader.findKey(body.seId, key))?.result, null, 'a tombstone');
      await assert.rejects(app.client.load(key, body), (error: unknown) => {
        assert.ok(error instanceof DcpRefusal);
        assert.deepEqual([error.code, error.status], ['idempotencyKeyExpired', 409]);
        return true;
      });
      assert.equal((await world.ledgerOperator.account(wallet.accountId)).balance, 7_000n);
      assert.equal(card.client().getData().balance, 3_000n);
    });
  });
}
