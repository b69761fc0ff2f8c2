// Queued credits and the MDS's supply (docs/mds.md, "Supply and settlement"), on both engines, with a
// real MDS beside two DCPs: a credit queued and not minted yet is in its DCP's pool, so the MDS must
// count it too, or after a settlement run the pool and the value outstanding attributed to the DCP
// would differ by it. Alice (bank-a) transfers 1,000 online to Bob (queued at bank-a) and 2,000 to
// Carol (bank-b: paid pool to pool, queued at bank-b), then pays Dave (bank-a) 300 offline and the
// tap is cut before Dave stores it: the MDS decides the refund and bank-a queues it. A settlement
// run while all three are queued leaves every pool equal to its attributed outstanding, exactly;
// after the payees and Alice sync (the credits minted, their issuances reported) it still does,
// and nothing is counted twice.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import type { Device } from '../../src/device/device.ts';
import type { SupplyReport } from '../../src/mds/api/types.ts';
import { payWithCut } from '../../src/testing/cut-payments.ts';
import { eventually } from '../../src/testing/eventually.ts';
import { engines } from '../../src/testing/scratch.ts';
import { NodeVerifier } from '../../src/crypto/node-crypto.ts';
import { freshKey, newDevice, seIdOf, startWorld, type TestDcp, type World } from './fixtures.ts';

const verifier = new NodeVerifier();

for (const engine of engines) {
  void describe(`queued credits in the MDS's supply on ${engine}`, () => {
    let world: World;
    let bankA: TestDcp;
    let bankB: TestDcp;
    let appA: DeviceApp;
    let appB: DeviceApp;
    let alice: Device;
    let bob: Device;
    let carol: Device;
    let dave: Device;

    /** Per DCP (bank-a, bank-b): [pool, attributed outstanding, queued], as the MDS reports them. */
    const figures = (supply: SupplyReport) =>
      [bankA, bankB].map((dcp) => {
        const found = supply.dcps.find((item) => item.dcpId === toHex(dcp.server.context.dcpId));
        return [found?.poolBalance, found?.attributedOutstanding, found?.queued];
      });
    /**
     * The MDS's supply once it shows the figures `expected`: the DCPs report on their own timers,
     * and their reports and the uploads they forward reach the MDS apart, so the MDS may count the
     * issuances reported before it has ingested the uploads whose tokens they back.
     */
    const supplyShowing = (expected: readonly (readonly bigint[])[]) =>
      eventually('the MDS has every report and upload', async () => {
        const supply = await world.mds!.operator.supply();
        const shown = figures(supply);
        const equal = shown.every((dcp, index) => dcp.every((value, at) => value === expected[index]?.[at]));
        return equal ? supply : undefined;
      });

    before(async () => {
      world = await startWorld(engine, { dcpNames: ['bank-a', 'bank-b'], mds: { renewalCheck: 'async' } });
      bankA = world.dcp('bank-a');
      bankB = world.dcp('bank-b');
      appA = new DeviceApp({ baseUrl: bankA.server.url, verifier });
      appB = new DeviceApp({ baseUrl: bankB.server.url, verifier });
      const walletA = await bankA.createWallet('Alice');
      await world.fund(walletA.accountId, 100_000n);
      alice = newDevice('phone', 'alice');
      bob = newDevice('phone', 'bob');
      carol = newDevice('phone', 'carol');
      dave = newDevice('phone', 'dave');
      await appA.personalise(alice.client(), 'phone', walletA.id, bankA.operatorKey, freshKey());
      await appA.personalise(bob.client(), 'phone', walletA.id, bankA.operatorKey, freshKey());
      await appA.personalise(dave.client(), 'phone', walletA.id, bankA.operatorKey, freshKey());
      const walletB = await bankB.createWallet('Carol');
      await appB.personalise(carol.client(), 'phone', walletB.id, bankB.operatorKey, freshKey());
      await appA.load(alice.client(), 10_000n, freshKey());
    });
    after(async () => {
      await world.close();
    });

    test('a settlement while a refund and two transfer credits are queued leaves every pool at its attributed outstanding', async () => {
      assert.equal(await appA.transfer(alice.client(), seIdOf(bob), 1_000n, freshKey()), 9_000n);
      assert.equal(await appA.transfer(alice.client(), seIdOf(carol), 2_000n, freshKey()), 7_000n);
      payWithCut(alice, dave, 300n, 'undelivered');
      // Dave's sync reports the challenge expired, Alice's the payment pending: the MDS refunds it.
      // (Any sync of Alice's from now on would mint the refund: the test waits for her last one.)
      assert.equal(await appA.renew(dave.client(), freshKey()), 0n);
      assert.equal(await appA.renew(alice.client(), freshKey()), 6_700n);
      await eventually('the refund queued at bank-a', async () =>
        (await bankA.supply()).queued === 1_300n ? true : undefined,
      );
      assert.deepEqual(
        [(await bankA.supply()).queued, (await bankB.supply()).queued],
        [1_300n, 2_000n],
        'nothing minted yet',
      );
      const expected = [
        [8_000n, 8_000n, 1_300n],
        [2_000n, 2_000n, 2_000n],
      ];
      await supplyShowing(expected);
      // Every token retired is bank-a's own: the run has nothing to move, and still each pool holds
      // its queued credits, which the MDS now counts as issued.
      const run = await world.mds!.settle();
      assert.deepEqual(run.transfers, []);
      assert.deepEqual(figures(await world.mds!.operator.supply()), expected);
    });

    test('once the payees and the payer sync, the issuances count instead of the credits, never both', async () => {
      assert.equal(await appA.renew(bob.client(), freshKey()), 1_000n);
      assert.equal(await appB.renew(carol.client(), freshKey()), 2_000n);
      assert.equal(await appA.renew(alice.client(), freshKey()), 7_000n, 'the refund of 300');
      assert.deepEqual([(await bankA.supply()).queued, (await bankB.supply()).queued], [0n, 0n]);
      const expected = [
        [8_000n, 8_000n, 0n],
        [2_000n, 2_000n, 0n],
      ];
      const supply = await supplyShowing(expected);
      assert.deepEqual(figures(supply), expected);
      const run = await world.mds!.settle();
      assert.deepEqual(run.transfers, []);
      const settled = await world.mds!.operator.supply();
      assert.deepEqual(figures(settled), expected);
      assert.equal(settled.total.outstanding, 10_000n, 'issued − retired over both DCPs: the load');
      for (const dcp of [bankA, bankB]) {
        const own = await dcp.supply();
        assert.equal(own.poolBalance, own.outstanding, `${dcp.name}: pool = issued − retired`);
      }
    });
  });
}
