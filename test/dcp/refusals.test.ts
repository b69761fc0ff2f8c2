// Refusals of the ledger and the directory, as a DCP's callers see them (issue 8, item 7): each is a
// documented DCP code and status, never a 500, and leaves nothing behind — no device row retried
// forever, no wallet linked to an account the DCP cannot use. Two DCPs in this process over real
// HTTP, with a real ledger and the real directory service, on every engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { DcpRefusal } from '../../src/dcp/api/client.ts';
import { poolDifference } from '../../src/dcp/domain/invariant.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import { principalIdOf } from '../../src/core/ids.ts';
import { engines } from '../../src/testing/scratch.ts';
import {
  adminClient,
  freshKey,
  newDevice,
  seIdOf,
  startWorld,
  verifier,
  type TestDcp,
  type Wallet,
  type World,
} from './fixtures.ts';

async function refusedWith(promise: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DcpRefusal, String(error));
    assert.deepEqual([error.code, error.status], [code, status], error.message);
    return true;
  });
}

for (const engine of engines) {
  describe(`refusals of the ledger and the directory on ${engine}`, () => {
    let world: World;
    let bankA: TestDcp;
    let bankB: TestDcp;
    let walletA: Wallet;
    let walletB: Wallet;

    /** Per DCP: nothing in flight and pool = issued − retired. */
    const invariant = async () => {
      for (const dcp of [bankA, bankB]) {
        const supply = await dcp.supply();
        const pool = await world.ledgerOperator.account(dcp.server.context.poolAccountId);
        assert.equal(supply.inFlight, 0n, dcp.name);
        assert.equal(poolDifference({ ...supply, poolBalance: pool.balance }), 0n, dcp.name);
      }
    };
    const balanceOf = async (accountId: string) => (await world.ledgerOperator.account(accountId)).balance;

    before(async () => {
      world = await startWorld(engine, { dcpNames: ['bank-a', 'bank-b'] });
      bankA = world.dcp('bank-a');
      bankB = world.dcp('bank-b');
      walletA = await bankA.createWallet('Alice at A');
      walletB = await bankB.createWallet('Alice at B');
      await world.fund(walletA.accountId, 100_000n);
    });

    after(async () => {
      await world.close();
    });

    test('personalising at DCP B a public key DCP A certified is publicKeyAlreadyRegistered (409); B keeps no device row, a retry answers the same', async () => {
      const appA = new DeviceApp({ baseUrl: bankA.server.url, verifier });
      const card = newDevice('card', 'card');
      const seId = await appA.personalise(card.client(), 'card', walletA.id, bankA.operatorKey, freshKey());
      const publicKey = toHex(card.client().getData().publicKey);
      assert.equal(toHex(principalIdOf(verifier, card.client().getData().publicKey)), seId);
      const atB = adminClient(bankB.server.url, bankB.operatorKey);
      const key = freshKey('steal');
      await refusedWith(
        atB.personalise(key, walletB.id, { kind: 'card', publicKey }),
        'publicKeyAlreadyRegistered',
        409,
      );
      assert.equal(await bankB.server.context.store.reader.findDevice(seId), null);
      assert.deepEqual(await bankB.server.context.store.registeringDevices(10), []);
      // The same request again meets the same refusal, and a reconcile pass has nothing to retry.
      await refusedWith(
        atB.personalise(key, walletB.id, { kind: 'card', publicKey }),
        'publicKeyAlreadyRegistered',
        409,
      );
      const report = await bankB.server.reconcile();
      assert.deepEqual([report.registered, report.failed, report.poolDifference], [0, 0, 0n]);
      assert.equal(await bankB.server.context.store.reader.findDevice(seId), null);
      // A load at B for that SE finds no device; the directory still has A's record, unchanged.
      await refusedWith(atB.nonce(seId), 'deviceNotFound', 404);
      const record = await world.directoryOperator.secureElement(seIdOf(card));
      assert.deepEqual(
        [record.dcpId, record.walletId, record.status],
        [toHex(bankA.server.context.dcpId), walletA.id, 'active'],
      );
      await invariant();
    });

    test("a wallet linked to another participant's ledger account is walletAccountNotOwned (403) and not kept", async () => {
      const atB = adminClient(bankB.server.url, bankB.operatorKey);
      const key = freshKey('wallet');
      const request = { name: 'Mallory', accountId: walletA.accountId };
      await refusedWith(atB.createWallet(key, request), 'walletAccountNotOwned', 403);
      await refusedWith(atB.createWallet(key, request), 'walletAccountNotOwned', 403);
      assert.equal(await balanceOf(walletA.accountId), 100_000n);
      await invariant();
    });

    test('a wallet linked to a missing ledger account is walletAccountNotFound (404); to the pool, walletAccountNotWallet (400)', async () => {
      const atB = adminClient(bankB.server.url, bankB.operatorKey);
      await refusedWith(
        atB.createWallet(freshKey(), { name: 'Nobody', accountId: 'acc_missing' }),
        'walletAccountNotFound',
        404,
      );
      await refusedWith(
        atB.createWallet(freshKey(), { name: 'Pool', accountId: bankB.server.context.poolAccountId }),
        'walletAccountNotWallet',
        400,
      );
      await invariant();
    });

    test("a wallet linked to a wallet account of the DCP's own participant is accepted and read", async () => {
      const account = await world.ledgerOperator.createAccount(freshKey(), {
        kind: 'wallet',
        ownerId: bankB.server.context.ledgerParticipantId,
      });
      const atB = adminClient(bankB.server.url, bankB.operatorKey);
      const wallet = await atB.createWallet(freshKey(), { name: 'Bob', accountId: account.value.id });
      assert.equal(wallet.accountId, account.value.id);
      assert.equal((await atB.wallet(wallet.id)).balance, 0n);
    });

    test("reading a wallet kept before the check, whose account the ledger does not show, is the account's code, not a 500", async () => {
      const context = bankB.server.context;
      for (const [accountId, code, status] of [
        ['acc_missing', 'walletAccountNotFound', 404],
        [walletA.accountId, 'walletAccountNotOwned', 403],
      ] as const) {
        const id = context.newId('wal');
        await context.store.transaction((tx) =>
          tx.insertWallet({ id, name: 'legacy', accountId, createdAtMs: Date.now() }),
        );
        await refusedWith(adminClient(bankB.server.url, bankB.operatorKey).wallet(id), code, status);
      }
      assert.equal(await balanceOf(walletA.accountId), 100_000n);
      await invariant();
    });
  });
}
