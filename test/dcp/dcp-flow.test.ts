// The DCP in this process over real HTTP (a ledger server in this process too, an in-memory
// directory), on both storage engines: onboarding, load, offline payments until a limit forces a
// renewal, renewal, unload, online transfer, refusals, concurrent renewals of one claim. After every
// step: ledger pool balance = value issued − value retired.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { encodeSigned } from '../../src/core/signed.ts';
import { DcpRefused, DeviceApp } from '../../src/dcp/device-app.ts';
import { unloadRequestDigest } from '../../src/dcp/domain/requests.ts';
import { startDcpServer, type DcpServer } from '../../src/dcp/server.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import { SecureElementRefused } from '../../src/device/se-client.ts';
import type { Device } from '../../src/device/device.ts';
import { startLedgerServer, type LedgerServer } from '../../src/ledger/server.ts';
import { engines } from '../../src/storage/scratch.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../src/storage/scratch.ts';
import {
  adminCall,
  freshKey,
  fundAccount,
  ledgerWorld,
  MemoryDirectory,
  newApiKey,
  newDevice,
  seIdOf,
  tempPki,
  verifier,
  type LedgerWorld,
  type Supply,
} from './fixtures.ts';

for (const engine of engines) {
  describe(`DCP flow on ${engine}`, () => {
    let ledger: LedgerServer;
    let world: LedgerWorld;
    let scratch: ScratchDatabase;
    let dcp: DcpServer;
    let directory: MemoryDirectory;
    let pki: ReturnType<typeof tempPki>;
    let app: DeviceApp;
    const operatorKey = newApiKey();
    let walletId = '';
    let walletAccount = '';
    let card: Device;
    let phone: Device;

    const invariant = async () => {
      const supply = await adminCall<Supply>(dcp.url, operatorKey, 'GET', '/v1/supply');
      assert.equal(supply.inFlight, '0');
      assert.equal(
        supply.poolBalance,
        supply.outstanding,
        `pool = issued − retired (${JSON.stringify(supply)})`,
      );
      return BigInt(supply.outstanding);
    };

    before(async () => {
      const ledgerKey = newApiKey();
      ledger = await startLedgerServer({
        databaseUrl: 'sqlite::memory:',
        host: '127.0.0.1',
        port: 0,
        operatorKey: ledgerKey,
        logLevel: 'silent',
      });
      world = await ledgerWorld(ledger.url, ledgerKey, 1);
      pki = tempPki(['one']);
      directory = new MemoryDirectory(pki.pki);
      scratch = await createScratchDatabase(engine);
      dcp = await startDcpServer({
        databaseUrl: scratch.url,
        host: '127.0.0.1',
        port: 0,
        pkiDir: pki.dir,
        name: 'one',
        ledgerUrl: ledger.url,
        ledgerKey: world.dcpKeys[0]!,
        directory,
        operatorKey,
        directoryCacheMs: 0,
        limits: { version: 2, card: { offlinePaymentsMax: 2 } },
      });
      app = new DeviceApp({ baseUrl: dcp.url, verifier });
      const { wallet } = await adminCall<{ wallet: { id: string; accountId: string } }>(
        dcp.url,
        operatorKey,
        'POST',
        '/v1/wallets',
        { name: 'Alice' },
      );
      walletId = wallet.id;
      walletAccount = wallet.accountId;
      await fundAccount(ledger.url, world, walletAccount, 1_000_000n);
    });

    after(async () => {
      await dcp.close();
      await ledger.close();
      await scratch.drop();
      pki.remove();
    });

    test('onboarding personalises a card and a phone with keys made inside their SEs', async () => {
      card = newDevice('card', 'card');
      phone = newDevice('phone', 'phone');
      const cardId = await app.personalise(card.client(), 'card', walletId, operatorKey, freshKey());
      const phoneId = await app.personalise(phone.client(), 'phone', walletId, operatorKey, freshKey());
      assert.equal(cardId, seIdOf(card));
      assert.equal(phoneId, seIdOf(phone));
      assert.equal(card.client().getData().limitsVersion, 2);
      assert.ok(directory.records.has(cardId));
      assert.equal(await invariant(), 0n);
    });

    test('load moves money from the wallet to the pool and issues to the SE; a replay is the same load', async () => {
      const key = freshKey();
      assert.equal(await app.load(card.client(), 30_000n, key), 30_000n);
      assert.equal(await app.load(phone.client(), 200_000n, freshKey()), 200_000n);
      assert.equal(await invariant(), 230_000n);
      const wallet = await adminCall<{ wallet: { balance: string } }>(
        dcp.url,
        operatorKey,
        'GET',
        `/v1/wallets/${walletId}`,
      );
      assert.equal(wallet.wallet.balance, String(1_000_000 - 230_000));
    });

    test('a load over the balance limit is refused and changes nothing', async () => {
      await assert.rejects(
        app.load(card.client(), 30_000n, freshKey()),
        (error: DcpRefused) => error.code === 'loadBalanceLimitExceeded',
      );
      assert.equal(await invariant(), 230_000n);
    });

    test('offline payments until the limit forces a renewal; the renewal resets it', async () => {
      for (let index = 0; index < 2; index++)
        assert.deepEqual(new OfflinePayment(card, phone, 1_000n).tap(), { outcome: 'completed' });
      assert.throws(
        () => new OfflinePayment(card, phone, 1_000n).tap(),
        (error: SecureElementRefused) => error.code === 'renewalRequired' || error.code !== undefined,
      );
      assert.equal(await app.renew(card.client(), freshKey()), 28_000n);
      assert.deepEqual(new OfflinePayment(card, phone, 1_000n).tap(), { outcome: 'completed' });
      assert.equal(await app.renew(phone.client(), freshKey()), 203_000n);
      assert.equal(await invariant(), 230_000n);
    });

    test('unload sends part of the value back to the wallet; more than held is refused', async () => {
      await assert.rejects(
        app.unload(card.client(), 1_000_000n, freshKey()),
        (error: DcpRefused) => error.code === 'unloadExceedsClaim',
      );
      card.endSession();
      assert.equal(await app.unload(card.client(), 7_000n, freshKey()), 20_000n);
      assert.equal(await invariant(), 223_000n);
      const wallet = await adminCall<{ wallet: { balance: string } }>(
        dcp.url,
        operatorKey,
        'GET',
        `/v1/wallets/${walletId}`,
      );
      assert.equal(wallet.wallet.balance, String(1_000_000 - 223_000));
    });

    test('an online transfer retires the payer tokens and credits the payee at its next sync', async () => {
      assert.equal(await app.transfer(phone.client(), seIdOf(card), 5_000n, freshKey()), 198_000n);
      assert.equal(await app.renew(card.client(), freshKey()), 25_000n);
      assert.equal(await invariant(), 223_000n);
    });

    test('a replayed claim, a forged claim, a stale nonce and a wrongly signed request are refused', async () => {
      const client = card.client();
      const nonce = await app.nonce(seIdOf(card));
      const { claim, sealedUpload } = client.beginSync(nonce);
      const body = { claim: toHex(encodeSigned(claim)), sealedUpload: toHex(sealedUpload) };
      const forged = {
        ...claim,
        signature: claim.signature.map((byte, index) => (index === 5 ? byte ^ 1 : byte)),
      };
      const refuse = async (path: string, payload: unknown, code: string) => {
        await assert.rejects(
          app.call('POST', path, payload, { 'idempotency-key': freshKey() }),
          (error: DcpRefused) => {
            assert.equal(error.code, code);
            return true;
          },
        );
      };
      await refuse('/v1/renewals', { ...body, claim: toHex(encodeSigned(forged)) }, 'deviceSignatureInvalid');
      await refuse('/v1/renewals', { ...body, sealedUpload: '00' }, 'uploadDigestMismatch');
      const wrong = phone.client().authenticate(nonce, unloadRequestDigest(verifier, 1n, claim.bodyBytes));
      await refuse(
        '/v1/unloads',
        { ...body, amount: '1', deviceRequest: toHex(encodeSigned(wrong)) },
        'deviceSignatureInvalid',
      );
      const answer = await app.call<Parameters<DeviceApp['complete']>[1]>('POST', '/v1/renewals', body, {
        'idempotency-key': 'first',
      });
      await refuse('/v1/renewals', body, 'nonceAlreadyUsed');
      const replay = await app.call<typeof answer>('POST', '/v1/renewals', body, {
        'idempotency-key': 'first',
      });
      assert.equal(replay.renewal, answer.renewal);
      app.complete(client, answer);
      await refuse('/v1/renewals', { claim: 'a0', sealedUpload: '' }, 'dcpRequestInvalid');
      assert.equal(await invariant(), 223_000n);
    });

    test('50 concurrent renewals of one claim: exactly one succeeds, the rest get a typed conflict', async () => {
      const client = phone.client();
      const { claim, sealedUpload } = client.beginSync(await app.nonce(seIdOf(phone)));
      const body = { claim: toHex(encodeSigned(claim)), sealedUpload: toHex(sealedUpload) };
      const outcomes = await Promise.allSettled(
        Array.from({ length: 50 }, (_unused, index) =>
          app.call<{ renewal: string }>('POST', '/v1/renewals', body, { 'idempotency-key': `race-${index}` }),
        ),
      );
      const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected')
          assert.ok(
            ['nonceAlreadyUsed', 'tokenAlreadyRetired'].includes((outcome.reason as DcpRefused).code),
          );
      }
      const same = await Promise.all(
        Array.from({ length: 10 }, () =>
          app
            .call<{ renewal: string }>('POST', '/v1/renewals', body, { 'idempotency-key': 'race-shared' })
            .catch((error: unknown) => (error as DcpRefused).code),
        ),
      );
      assert.ok(same.every((answer) => answer === 'nonceAlreadyUsed' || answer === 'tokenAlreadyRetired'));
      app.complete(client, (won[0] as PromiseFulfilledResult<Parameters<DeviceApp['complete']>[1]>).value);
      assert.equal(await invariant(), 223_000n);
    });

    test('a revoked SE is refused, is on the next deny list, and a synced device refuses its payments', async () => {
      const thief = newDevice('phone', 'thief');
      const thiefId = await app.personalise(thief.client(), 'phone', walletId, operatorKey, freshKey());
      await app.load(thief.client(), 1_000n, freshKey());
      directory.setStatus(thiefId, 'revoked');
      await assert.rejects(
        app.load(thief.client(), 1_000n, freshKey()),
        (error: DcpRefused) => error.code === 'deviceRevoked',
      );
      await app.updates(card.client(), 'card');
      const data = card.client().getData();
      assert.ok(data.denyListVersion >= 1);
      thief.endSession();
      assert.throws(
        () => new OfflinePayment(thief, card, 100n).tap(),
        (error: SecureElementRefused) => error.code === 'deniedSecureElement',
      );
      assert.equal(await invariant(), 224_000n);
    });
  });
}
