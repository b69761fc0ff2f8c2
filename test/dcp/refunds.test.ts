// The DCP's refund pass (src/dcp/domain/refunds.ts, docs/dcp.md "Refunds") on both engines, with
// the MDS's refund orders scripted: an order retires the undelivered token and queues a refund
// credit in one commit (pool invariant kept: retired + X, issued + X, the pool unchanged), the SE's
// next renewal delivers the refund, and an order seen again writes nothing. An order this DCP cannot
// execute is refused and stays at the MDS, with nothing written.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mdsError } from '../../src/mds/api/errors.ts';
import type { MdsRefundsPort, RefundOrder } from '../../src/dcp/domain/ports.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import type { Device } from '../../src/device/device.ts';
import { engines } from '../../src/testing/scratch.ts';
import { freshKey, newDevice, seIdOf, startWorld, type TestDcp, type World } from './fixtures.ts';
import { NodeVerifier } from '../../src/crypto/node-crypto.ts';

const verifier = new NodeVerifier();

/** The MDS's refund orders as a script: what is open, what was acknowledged, and an outage switch. */
class ScriptedRefunds implements MdsRefundsPort {
  open: RefundOrder[] = [];
  readonly acknowledged: string[] = [];
  down = false;
  /** Acknowledgements fail while set (the DCP executed, the MDS was not told). */
  acknowledgementsDown = false;

  refunds(limit: number): Promise<readonly RefundOrder[]> {
    if (this.down) return Promise.reject(mdsError('mdsUnavailable', 'scripted outage'));
    return Promise.resolve(this.open.slice(0, limit));
  }

  refundExecuted(decisionId: string): Promise<void> {
    if (this.acknowledgementsDown) return Promise.reject(mdsError('mdsUnavailable', 'scripted outage'));
    this.acknowledged.push(decisionId);
    this.open = this.open.filter((order) => order.decisionId !== decisionId);
    return Promise.resolve();
  }
}

const hex64 = (digit: string) => digit.repeat(64);

for (const engine of engines) {
  void describe(`DCP refunds on ${engine}`, () => {
    const mds = new ScriptedRefunds();
    let world: World;
    let dcp: TestDcp;
    let app: DeviceApp;
    let phone: Device;

    before(async () => {
      world = await startWorld(engine, { dcpNames: ['bank-a'], dcpOptions: { mdsRefunds: mds } });
      dcp = world.dcp('bank-a');
      app = new DeviceApp({ baseUrl: dcp.server.url, verifier });
      const wallet = await dcp.createWallet('Alice');
      await world.fund(wallet.accountId, 100_000n);
      phone = newDevice('phone', 'phone');
      await app.personalise(phone.client(), 'phone', wallet.id, dcp.operatorKey, freshKey());
      await app.load(phone.client(), 10_000n, freshKey());
    });
    after(async () => {
      await world.close();
    });

    test('an order retires the token and queues the refund in one commit; the renewal delivers it', async () => {
      const before = await dcp.supply();
      const order: RefundOrder = {
        decisionId: hex64('d'),
        seId: seIdOf(phone),
        value: 1_234n,
        tokenId: hex64('7'),
        uploadDigest: hex64('a'),
      };
      mds.open = [order];
      mds.acknowledgementsDown = true;
      assert.deepEqual(await dcp.server.executeRefunds(), {
        executed: 1,
        replayed: 0,
        refused: 0,
        unavailable: true,
      });
      const executed = await dcp.supply();
      assert.equal(executed.retired, before.retired + 1_234n);
      assert.equal(executed.queued, before.queued + 1_234n);
      assert.equal(executed.poolBalance, before.poolBalance, 'no ledger movement');
      assert.equal(executed.outstanding, before.outstanding, 'retire X + mint X');
      assert.equal(executed.poolBalance, executed.outstanding, 'the pool invariant holds');

      // The MDS was not told: the next pass finds the order done, writes nothing and tells it.
      mds.acknowledgementsDown = false;
      assert.deepEqual(await dcp.server.executeRefunds(), {
        executed: 0,
        replayed: 1,
        refused: 0,
        unavailable: false,
      });
      assert.deepEqual(mds.acknowledged, [order.decisionId]);
      assert.deepEqual(await dcp.supply(), executed);

      const balance = phone.client().getData().balance;
      assert.equal(
        await app.renew(phone.client(), freshKey()),
        balance + 1_234n,
        'the refund reaches the SE',
      );
      const renewed = await dcp.supply();
      assert.equal(renewed.queued, before.queued, 'the queued refund was minted');
      assert.equal(renewed.poolBalance, renewed.outstanding);
      assert.deepEqual(await dcp.server.executeRefunds(), {
        executed: 0,
        replayed: 0,
        refused: 0,
        unavailable: false,
      });
    });

    test('an order for an unknown SE, or over a token retired here, is refused and writes nothing', async () => {
      const before = await dcp.supply();
      const strangerOrder: RefundOrder = {
        decisionId: hex64('e'),
        seId: 'ab'.repeat(16),
        value: 500n,
        tokenId: hex64('8'),
        uploadDigest: hex64('b'),
      };
      // A token this DCP retired already (written here by hand): a refund over it contradicts the DCP.
      const retiredOrder: RefundOrder = {
        decisionId: hex64('f'),
        seId: seIdOf(phone),
        value: 500n,
        tokenId: hex64('9'),
        uploadDigest: hex64('c'),
      };
      await dcp.server.context.store.transaction(async (tx) => {
        await tx.retireToken(
          {
            tokenId: hex64('9'),
            seId: seIdOf(phone),
            value: 500n,
            operationId: 'op-test',
            uploadDigest: hex64('c'),
          },
          1,
        );
      });
      const retired = await dcp.supply();
      assert.equal(retired.retired, before.retired + 500n);
      mds.open = [strangerOrder, retiredOrder];
      assert.deepEqual(await dcp.server.executeRefunds(), {
        executed: 0,
        replayed: 0,
        refused: 2,
        unavailable: false,
      });
      assert.deepEqual(await dcp.supply(), retired, 'nothing written');
      assert.deepEqual(
        mds.open.map((order) => order.decisionId),
        [strangerOrder.decisionId, retiredOrder.decisionId],
        'both stay open at the MDS',
      );
      mds.open = [];
      mds.down = true;
      assert.deepEqual(await dcp.server.executeRefunds(), {
        executed: 0,
        replayed: 0,
        refused: 0,
        unavailable: true,
      });
      mds.down = false;
    });
  });
}
