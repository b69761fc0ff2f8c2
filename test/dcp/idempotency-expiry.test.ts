// The DCP's idempotency keys expire (issue 8, item 10): a key replays its first answer for the
// retention, then any request under it is refused with `idempotencyKeyExpired` and nothing runs
// again; `expire` drops the answer and keeps a tombstone, which is refused the same. The outbox's
// own ledger keys are derived from the operation id, so when the ledger refuses one as expired the
// operation stays open (`dcpLedgerKeyExpired`) and no money moves twice. A real ledger, the real
// directory and a DCP over HTTP, each on a clock the test moves, on every engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isCbdcError } from '../../src/core/errors.ts';
import { DcpClient, DcpRefusal, settlePaths } from '../../src/dcp/api/client.ts';
import type { FaultPoint } from '../../src/dcp/domain/ports.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import type { Device } from '../../src/device/device.ts';
import { engines } from '../../src/testing/scratch.ts';
import {
  TestClock,
  freshKey,
  loadRequest,
  newDevice,
  settleRequest,
  startWorld,
  verifier,
  type TestDcp,
  type Wallet,
  type World,
} from './fixtures.ts';

/** Short retentions, so that the clocks move by a minute, not by days. */
const dcpRetentionMs = 60_000;
const ledgerRetentionMs = 60_000;
const funded = 100_000n;

/** Asserts that `call` is refused with exactly this code and status. */
async function refusedWith(call: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof DcpRefusal, String(error));
    assert.deepEqual([error.code, error.status], [code, status]);
    return true;
  });
}

for (const engine of engines) {
  describe(`DCP idempotency expiry on ${engine}`, () => {
    const dcpClock = new TestClock();
    const ledgerClock = new TestClock();
    let armed: FaultPoint | undefined;
    let world: World;
    let dcp: TestDcp;
    let app: DeviceApp;
    let wallet: Wallet;
    let card: Device;

    const walletBalance = async () => (await world.ledgerOperator.account(wallet.accountId)).balance;

    before(async () => {
      world = await startWorld(engine, {
        dcpNames: ['bank'],
        clock: dcpClock,
        // Reconcile only when the test says so: a timer pass must not finish the interrupted unload
        // before the ledger's key has expired.
        dcpOptions: { idempotencyRetentionMs: dcpRetentionMs, reconcileIntervalMs: 3_600_000 },
        ledgerOptions: { clock: ledgerClock, idempotencyRetentionMs: ledgerRetentionMs },
        faults: {
          bank: (point) => {
            if (point !== armed) return;
            armed = undefined;
            throw new Error(`injected crash at ${point}`);
          },
        },
      });
      dcp = world.dcp('bank');
      app = new DeviceApp({ baseUrl: dcp.server.url, verifier });
      wallet = await dcp.createWallet('Alice');
      await world.fund(wallet.accountId, funded);
      card = newDevice('card', 'card');
      await app.personalise(card.client(), 'card', wallet.id, dcp.operatorKey, freshKey());
    });

    after(async () => {
      await world.close();
    });

    test('a load replays until the retention ends, then is refused with idempotencyKeyExpired, its tombstone too; paid once', async () => {
      const key = freshKey('load');
      const { body } = await loadRequest(app, card, 7_000n);
      const first = await app.client.load(key, body);
      card.client().load(first.issuance);
      dcpClock.offsetMs += dcpRetentionMs - 1_000;
      assert.deepEqual(await app.client.load(key, body), first);
      const supplyBefore = await dcp.supply();
      dcpClock.offsetMs += 1_000;
      await refusedWith(app.client.load(key, body), 'idempotencyKeyExpired', 409);
      // Another request under the expired key is refused the same: expiry comes first.
      const { body: other } = await loadRequest(app, card, 1_000n);
      await refusedWith(app.client.load(key, other), 'idempotencyKeyExpired', 409);

      const context = dcp.server.context;
      const scope = body.seId;
      assert.equal((await context.store.reader.findKey(scope, key))?.result?.kind, 'load');
      const dropped = await context.idempotency.expire(context.store);
      assert.ok(dropped >= 3, `the wallet's, the personalisation's and the load's answers (${dropped})`);
      assert.equal(await context.idempotency.expire(context.store), 0);
      const tombstone = await context.store.reader.findKey(scope, key);
      assert.deepEqual([tombstone?.result, tombstone?.fingerprint], [null, '']);
      await refusedWith(app.client.load(key, body), 'idempotencyKeyExpired', 409);

      assert.equal(await walletBalance(), funded - 7_000n);
      assert.equal(card.client().getData().balance, 7_000n);
      assert.deepEqual(await dcp.supply(), supplyBefore);
    });

    test('an unload replays, then is refused once expired; the wallet is paid once', async () => {
      const key = freshKey('unload');
      const prepared = await settleRequest(app, card, 'unload', { amount: 2_000n });
      const first = await app.client.settle(key, prepared);
      assert.equal(app.complete(card.client(), first), 5_000n);
      assert.deepEqual(await app.client.settle(key, prepared), first);
      dcpClock.offsetMs += dcpRetentionMs;
      await refusedWith(app.client.settle(key, prepared), 'idempotencyKeyExpired', 409);
      await dcp.server.context.idempotency.expire(dcp.server.context.store);
      await refusedWith(app.client.settle(key, prepared), 'idempotencyKeyExpired', 409);
      assert.equal(await walletBalance(), funded - 7_000n + 2_000n);
    });

    test('an unload whose ledger key expired before the DCP recorded the payment stays open (dcpLedgerKeyExpired), never paid twice', async () => {
      const key = freshKey('unload');
      const prepared = await settleRequest(app, card, 'unload', { amount: 1_500n });
      // The DCP is interrupted after the ledger paid the wallet and before it recorded the payment.
      armed = 'unload.afterPayment';
      const once = new DcpClient({ baseUrl: dcp.server.url, attemptsMax: 1 });
      await assert.rejects(once.settle(key, prepared), (error: unknown) => {
        // The client's own code for the 500 of the interrupted request (one attempt only).
        assert.ok(isCbdcError(error) && error.code === 'dcpUnavailable', String(error));
        return true;
      });
      assert.equal(armed, undefined, 'the fault point was reached');
      const paid = funded - 7_000n + 2_000n + 1_500n;
      assert.equal(await walletBalance(), paid);

      ledgerClock.offsetMs += ledgerRetentionMs;
      const report = await dcp.server.reconcile();
      assert.deepEqual([report.driven, report.failed], [0, 1]);
      // The device's retry replays the DCP's answer: the operation, whose ledger call is refused.
      // (Read raw: the client takes any 503 for the DCP not answering.)
      const retry = await fetch(`${dcp.server.url}${settlePaths.unload}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(prepared.body),
      });
      const envelope = (await retry.json()) as { readonly error: { readonly code: string } };
      assert.deepEqual([retry.status, envelope.error.code], [503, 'dcpLedgerKeyExpired']);
      assert.equal(await walletBalance(), paid);
      const supply = await dcp.supply();
      assert.equal(supply.inFlight, 1_500n);
    });
  });
}
