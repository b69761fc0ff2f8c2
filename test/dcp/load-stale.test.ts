// A sync never leaves a load stale (issue 8): COMPLETE SYNC sets the SE's last sync time to its
// renewal's, and LOAD refuses every issuance stamped no later. A load the DCP answered to one client
// while another client synced the card would then stay in the pool on an issuance no SE takes. The
// sync delivers every load still open again (settle.ts `openLoadsToDeliver`), COMPLETE SYNC installs
// it or skips it when it is installed already, and the late LOAD is a no-op. A real ledger, the real
// directory and a DCP over HTTP, on every engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { encodeSigned } from '../../src/core/signed.ts';
import { DcpRefusal } from '../../src/dcp/api/client.ts';
import { poolDifference } from '../../src/dcp/domain/invariant.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import type { Device } from '../../src/device/device.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import { SecureElementRefused } from '../../src/device/se-client.ts';
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

const funded = 100_000n;
const loaded = 10_000n;

for (const engine of engines) {
  describe(`a sync delivers the loads still open on ${engine}`, () => {
    let world: World;
    let dcp: TestDcp;
    /** The client that loads, and another (a second reader or app) that syncs the same card. */
    let loader: DeviceApp;
    let syncer: DeviceApp;
    let wallet: Wallet;
    let phone: Device;
    /** Every device of the DCP, for its books. */
    const devices: Device[] = [];

    const walletBalance = async () => (await world.ledgerOperator.account(wallet.accountId)).balance;
    const balanceOf = (device: Device) => device.client().getData().balance;
    /** Every value issued and not retired is on a device; the pool holds exactly that. */
    const books = async () => {
      const supply = await dcp.supply();
      const pool = await world.ledgerOperator.account(dcp.server.context.poolAccountId);
      assert.equal(supply.inFlight, 0n);
      assert.equal(poolDifference({ ...supply, poolBalance: pool.balance }), 0n);
      const held = devices.reduce((sum, device) => sum + balanceOf(device), 0n);
      assert.equal(supply.outstanding, held);
      return { wallet: await walletBalance(), held };
    };
    const newCard = async (name: string) => {
      const card = newDevice('card', name);
      await loader.personalise(card.client(), 'card', wallet.id, dcp.operatorKey, freshKey());
      devices.push(card);
      return card;
    };

    before(async () => {
      world = await startWorld(engine, { dcpNames: ['bank'] });
      dcp = world.dcp('bank');
      loader = new DeviceApp({ baseUrl: dcp.server.url, verifier });
      syncer = new DeviceApp({ baseUrl: dcp.server.url, verifier });
      wallet = await dcp.createWallet('Alice');
      await world.fund(wallet.accountId, funded);
      phone = newDevice('phone', 'phone');
      await loader.personalise(phone.client(), 'phone', wallet.id, dcp.operatorKey, freshKey());
      devices.push(phone);
    });

    after(async () => {
      await world.close();
    });

    test('a load answered, then the card synced by another client: the sync installs it, the late LOAD is a no-op', async () => {
      const card = await newCard('late');
      const start = await books();
      const answer = await loader.client.load(
        freshKey('load'),
        await loader.prepareLoad(card.client(), loaded),
      );
      assert.equal(await syncer.renew(card.client(), freshKey()), loaded, 'the sync delivered the load');
      assert.equal(card.client().load(answer.issuance), loaded, 'installed once: LOAD answers the balance');
      assert.deepEqual(await books(), {
        wallet: start.wallet - loaded,
        held: start.held + loaded,
      });
      // The next sync holds the load's value as claimed tokens and delivers nothing again.
      assert.equal(await syncer.renew(card.client(), freshKey()), loaded);
      assert.deepEqual(await books(), {
        wallet: start.wallet - loaded,
        held: start.held + loaded,
      });
    });

    test('a load installed and paid away offline before the sync is delivered again and skipped: paid once', async () => {
      const card = await newCard('spent');
      const start = await books();
      assert.equal(await loader.load(card.client(), loaded, freshKey('load')), loaded);
      assert.deepEqual(new OfflinePayment(card, phone, loaded).tap(), { outcome: 'completed' });
      const nonce = await syncer.nonce(toHex(card.client().getData().seId));
      const { claim, sealedUpload } = card.client().beginSync(nonce);
      const answer = await syncer.client.settle(freshKey(), {
        kind: 'renewal',
        body: { claim: toHex(encodeSigned(claim)), sealedUpload: toHex(sealedUpload) },
      });
      assert.equal(answer.loads.length, 1, 'the load token was spent, not claimed: it goes again');
      assert.equal(syncer.complete(card.client(), answer), 0n, 'COMPLETE SYNC skipped the installed load');
      // The loaded value is on the phone now, and only there.
      assert.equal(balanceOf(phone), loaded);
      assert.deepEqual(await books(), { wallet: start.wallet - loaded, held: start.held + loaded });
    });

    test('a load delivered again that the card can no longer hold is refused by COMPLETE SYNC and returned to the wallet', async () => {
      const card = await newCard('full');
      await loader.load(phone.client(), 20_000n, freshKey('load'));
      const start = await books();
      const answer = await loader.client.load(
        freshKey('load'),
        await loader.prepareLoad(card.client(), 40_000n),
      );
      // Paid offline after the load was answered: with it the card would pass its 50,000 limit.
      assert.deepEqual(new OfflinePayment(phone, card, 20_000n).tap(), { outcome: 'completed' });
      assert.equal(await syncer.renew(card.client(), freshKey()), 20_000n, 'the load is not installed');
      assert.throws(
        () => card.client().load(answer.issuance),
        (error: unknown) => error instanceof SecureElementRefused && error.code === 'issuanceRefused',
      );
      assert.deepEqual(await books(), { wallet: start.wallet, held: start.held }, 'its 40,000 went back');
    });

    test('a claim older than one settled since is claimStale and changes nothing', async () => {
      const card = await newCard('stale');
      const oldNonce = await syncer.nonce(toHex(card.client().getData().seId));
      const old = card.client().beginSync(oldNonce);
      // Another client syncs twice: the card's last sync is now newer than the old claim shows.
      await syncer.renew(card.client(), freshKey());
      await syncer.renew(card.client(), freshKey());
      const before = await books();
      await assert.rejects(
        syncer.client.settle(freshKey(), {
          kind: 'renewal',
          body: { claim: toHex(encodeSigned(old.claim)), sealedUpload: toHex(old.sealedUpload) },
        }),
        (error: unknown) => {
          assert.ok(error instanceof DcpRefusal, String(error));
          assert.deepEqual([error.code, error.status], ['claimStale', 409]);
          return true;
        },
      );
      assert.deepEqual(await books(), before);
    });
  });
}
