// Concurrent loads of one SE (issue 8, item 6): each load is authenticated at the balance the SE
// holds, which does not hold the loads issued to it but not yet installed. The DCP counts those, per
// SE, in each load's commit, so that it never issues value the SE would refuse to install (which would
// stay in the pool, owned by no one). A real ledger, the real directory and a DCP over HTTP, on every
// engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DcpRefusal } from '../../src/dcp/api/client.ts';
import { poolDifference } from '../../src/dcp/domain/invariant.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import type { Device } from '../../src/device/device.ts';
import { engines } from '../../src/testing/scratch.ts';
import {
  freshKey,
  newDevice,
  startWorld,
  verifier,
  type TestDcp,
  type Wallet,
  type World,
} from './fixtures.ts';

const loadsCount = 20;
const loadAmount = 10_000n;
/** The card's balance limit (src/core/limits.ts `defaultLimits`). */
const cardBalanceMax = 50_000n;
const funded = 1_000_000n;

for (const engine of engines) {
  describe(`concurrent loads of one card on ${engine}`, () => {
    let world: World;
    let dcp: TestDcp;
    let app: DeviceApp;
    let wallet: Wallet;
    let card: Device;

    const walletBalance = async () => (await world.ledgerOperator.account(wallet.accountId)).balance;
    const invariant = async () => {
      const supply = await dcp.supply();
      const pool = await world.ledgerOperator.account(dcp.server.context.poolAccountId);
      assert.equal(supply.inFlight, 0n);
      assert.equal(poolDifference({ ...supply, poolBalance: pool.balance }), 0n);
      // Every value issued and not retired is on the card: none sits in the pool for no one.
      assert.equal(supply.outstanding, card.client().getData().balance);
    };

    before(async () => {
      world = await startWorld(engine, { dcpNames: ['bank'] });
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

    test(`${loadsCount} concurrent loads of ${loadAmount} at balance 0: ${cardBalanceMax / loadAmount} are issued, the rest refused with loadUnseenExceedsBalanceLimit and debit nothing`, async () => {
      const requests = [];
      for (let index = 0; index < loadsCount; index++)
        requests.push(await app.prepareLoad(card.client(), loadAmount));
      assert.ok(requests.every((request) => request.balance === '0'));
      const outcomes = await Promise.allSettled(
        requests.map((request) => app.client.load(freshKey('race'), request)),
      );
      const accepted = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      const refused = outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' ? [outcome.reason as unknown] : [],
      );
      assert.equal(accepted.length, Number(cardBalanceMax / loadAmount));
      assert.equal(refused.length, loadsCount - accepted.length);
      for (const refusal of refused) {
        assert.ok(refusal instanceof DcpRefusal, String(refusal));
        assert.deepEqual([refusal.code, refusal.status], ['loadUnseenExceedsBalanceLimit', 409]);
      }
      assert.equal(await walletBalance(), funded - cardBalanceMax);
      // The card installs every load the DCP issued.
      for (const answer of accepted) card.client().load(answer.issuance);
      assert.equal(card.client().getData().balance, cardBalanceMax);
      await invariant();
    });

    test('a load after the installed ones is judged on the balance the SE signs; a claim frees the rest', async () => {
      await assert.rejects(app.load(card.client(), 1n, freshKey()), (error: unknown) => {
        assert.ok(error instanceof DcpRefusal);
        assert.deepEqual([error.code, error.status], ['loadBalanceLimitExceeded', 409]);
        return true;
      });
      assert.equal(await app.unload(card.client(), 20_000n, freshKey()), 30_000n);
      // Loads done before the nonce the SE signs its balance over are in that balance: an honest
      // card loading one load after the other is never held back.
      assert.equal(await app.load(card.client(), 10_000n, freshKey()), 40_000n);
      assert.equal(await app.load(card.client(), 10_000n, freshKey()), 50_000n);
      assert.equal(await walletBalance(), funded - cardBalanceMax + 20_000n - 20_000n);
      await invariant();
    });
  });
}
