// Two DCPs in this process over real HTTP, with a real ledger and the real directory service (its app
// and SQL store, listening on 127.0.0.1), every DCP and the directory on the engine under test (SQLite
// files or PostgreSQL scratch databases): onboarding, load, offline payments until a limit forces a
// renewal, renewal, unload, online transfers within a DCP and across DCPs, a stale nonce, refusals,
// 50 concurrent renewals of one claim, revocation. After every step, per DCP: ledger pool balance =
// value issued − value retired, and both equal the value the test expects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { unloadRequestDigest } from '../../src/core/request-digests.ts';
import { encodeSigned } from '../../src/core/signed.ts';
import { DcpRefusal, type SettleSubmission } from '../../src/dcp/api/client.ts';
import { poolDifference } from '../../src/dcp/domain/invariant.ts';
import { nonceLifetimeSeconds, secureElementCertificateSeconds } from '../../src/dcp/domain/limits.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import type { Device } from '../../src/device/device.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import { SecureElementRefused } from '../../src/device/se-client.ts';
import { engines } from '../../src/testing/scratch.ts';
import {
  freshKey,
  loadRequest,
  newDevice,
  seIdOf,
  settleRequest,
  startWorld,
  TestClock,
  verifier,
  type TestDcp,
  type Wallet,
  type World,
} from './fixtures.ts';

/** Asserts that `promise` is refused with exactly `code` (and `status` when given). */
async function refusedWith(promise: Promise<unknown>, code: string, status?: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DcpRefusal, String(error));
    assert.equal(error.code, code);
    if (status !== undefined) assert.equal(error.status, status);
    return true;
  });
}

for (const engine of engines) {
  describe(`DCP flow on ${engine}, with the real directory`, () => {
    const clock = new TestClock();
    let world: World;
    let bankA: TestDcp;
    let bankB: TestDcp;
    let appA: DeviceApp;
    let appB: DeviceApp;
    let wallet: Wallet;
    let card: Device;
    let phone: Device;
    const expected = { 'bank-a': 0n, 'bank-b': 0n };

    /** Per DCP: nothing in flight, ledger pool = issued − retired (= what the test expects if `exact`). */
    const invariant = async ({ exact = true } = {}) => {
      for (const dcp of [bankA, bankB]) {
        const supply = await dcp.supply();
        const pool = await world.ledgerOperator.account(dcp.server.context.poolAccountId);
        assert.equal(supply.inFlight, 0n, dcp.name);
        assert.equal(pool.balance, supply.poolBalance, dcp.name);
        assert.equal(
          poolDifference({ ...supply, poolBalance: pool.balance }),
          0n,
          `${dcp.name}: pool = issued − retired (${String(supply.issued)} − ${String(supply.retired)})`,
        );
        if (exact) assert.equal(pool.balance, expected[dcp.name as keyof typeof expected], dcp.name);
      }
    };
    const walletBalance = async () => (await world.ledgerOperator.account(wallet.accountId)).balance;

    before(async () => {
      world = await startWorld(engine, {
        dcpNames: ['bank-a', 'bank-b'],
        clock,
        limits: { version: 2, card: { offlinePaymentsMax: 2 } },
        mds: true,
      });
      bankA = world.dcp('bank-a');
      bankB = world.dcp('bank-b');
      appA = new DeviceApp({ baseUrl: bankA.server.url, verifier });
      appB = new DeviceApp({ baseUrl: bankB.server.url, verifier });
      wallet = await bankA.createWallet('Alice');
      await world.fund(wallet.accountId, 1_000_000n);
    });

    after(async () => {
      await world.close();
    });

    test('onboarding personalises a card and a phone and registers them in the directory', async () => {
      card = newDevice('card', 'card');
      phone = newDevice('phone', 'phone');
      const cardId = await appA.personalise(card.client(), 'card', wallet.id, bankA.operatorKey, freshKey());
      const phoneId = await appA.personalise(
        phone.client(),
        'phone',
        wallet.id,
        bankA.operatorKey,
        freshKey(),
      );
      assert.equal(cardId, seIdOf(card));
      assert.equal(phoneId, seIdOf(phone));
      assert.equal(card.client().getData().limitsVersion, 2);
      for (const [seId, kind] of [
        [cardId, 'card'],
        [phoneId, 'phone'],
      ] as const) {
        const record = await world.directoryOperator.secureElement(seId);
        assert.deepEqual(
          [record.dcpId, record.kind, record.status, record.walletId],
          [toHex(bankA.server.context.dcpId), kind, 'active', wallet.id],
        );
      }
      await invariant();
    });

    test('load moves money from the wallet to the pool and issues to the SE; a replay is the same load', async () => {
      const key = freshKey();
      assert.equal(await appA.load(card.client(), 30_000n, key), 30_000n);
      assert.equal(await appA.load(phone.client(), 200_000n, freshKey()), 200_000n);
      expected['bank-a'] = 230_000n;
      await invariant();
      assert.equal(await walletBalance(), 1_000_000n - 230_000n);
    });

    test('a load over the balance limit is refused and changes nothing', async () => {
      await refusedWith(appA.load(card.client(), 30_000n, freshKey()), 'loadBalanceLimitExceeded', 409);
      await invariant();
      assert.equal(await walletBalance(), 770_000n);
    });

    test('a stale nonce is refused with nonceExpired and changes nothing; the key stays free, a replay does not expire', async () => {
      const key = freshKey('stale');
      const loading = await loadRequest(appA, card, 1_000n);
      const renewing = await settleRequest(appA, phone, 'renewal');
      const supplyBefore = await bankA.supply();
      clock.offsetMs = (nonceLifetimeSeconds + 1) * 1000;
      try {
        await refusedWith(appA.client.load(key, loading.body), 'nonceExpired', 403);
        await refusedWith(appA.client.settle(key, renewing), 'nonceExpired', 403);
      } finally {
        // Nothing was stamped while the clock was ahead (both were refused), so nothing goes back.
        clock.offsetMs = 0;
      }
      assert.deepEqual(await bankA.supply(), supplyBefore);
      assert.equal(await walletBalance(), 770_000n);
      assert.equal(card.client().getData().balance, 30_000n);
      phone.endSession();
      assert.equal(phone.client().getData().balance, 200_000n);
      await invariant();
      // A refusal records nothing: the same key with a fresh nonce is a new, accepted load.
      const fresh = await loadRequest(appA, card, 1_000n);
      const answer = await appA.client.load(key, fresh.body);
      assert.equal(card.client().load(answer.issuance), 31_000n);
      expected['bank-a'] += 1_000n;
      // A device retrying after its nonce expired (a DCP down for minutes) still gets its first answer.
      clock.offsetMs = (nonceLifetimeSeconds + 1) * 1000;
      try {
        assert.deepEqual(await appA.client.load(key, fresh.body), answer);
      } finally {
        clock.offsetMs = 0;
      }
      await invariant();
      assert.equal(await walletBalance(), 769_000n);
    });

    test('a device whose certificate has expired is refused even when no deny list names it', async () => {
      const supplyBefore = await bankA.supply();
      clock.offsetMs = (secureElementCertificateSeconds + 60) * 1000;
      try {
        const renewing = await settleRequest(appA, phone, 'renewal');
        await refusedWith(appA.client.settle(freshKey(), renewing), 'deviceCertificateExpired', 403);
      } finally {
        clock.offsetMs = 0;
      }
      phone.endSession();
      assert.equal(phone.client().getData().balance, 200_000n);
      assert.deepEqual(await bankA.supply(), supplyBefore);
      await invariant();
    });

    test('offline payments until the limit forces a renewal (offlinePaymentsLimitExceeded); renewal resets it', async () => {
      for (let index = 0; index < 2; index++)
        assert.deepEqual(new OfflinePayment(card, phone, 1_000n).tap(), { outcome: 'completed' });
      assert.throws(
        () => new OfflinePayment(card, phone, 1_000n).tap(),
        (error: unknown) =>
          error instanceof SecureElementRefused && error.code === 'offlinePaymentsLimitExceeded',
      );
      assert.equal(await appA.renew(card.client(), freshKey()), 29_000n);
      assert.deepEqual(new OfflinePayment(card, phone, 1_000n).tap(), { outcome: 'completed' });
      assert.equal(await appA.renew(phone.client(), freshKey()), 203_000n);
      await invariant();
    });

    test('unload sends part of the value back to the wallet; more than held is refused', async () => {
      await refusedWith(appA.unload(card.client(), 1_000_000n, freshKey()), 'unloadExceedsClaim', 409);
      card.endSession();
      assert.equal(await appA.unload(card.client(), 7_000n, freshKey()), 21_000n);
      expected['bank-a'] -= 7_000n;
      await invariant();
      assert.equal(await walletBalance(), 769_000n + 7_000n);
    });

    test('an online transfer within a DCP retires the payer tokens and credits the payee at its next sync', async () => {
      assert.equal(await appA.transfer(phone.client(), seIdOf(card), 5_000n, freshKey()), 198_000n);
      assert.equal(await appA.renew(card.client(), freshKey()), 26_000n);
      await invariant();
    });

    test('an online transfer across DCPs pays pool to pool on the ledger; the payee gets it at its next sync', async () => {
      const walletB = await bankB.createWallet('Bob');
      const cardB = newDevice('card', 'card-b');
      await appB.personalise(cardB.client(), 'card', walletB.id, bankB.operatorKey, freshKey());
      assert.equal(await appA.transfer(phone.client(), seIdOf(cardB), 4_000n, freshKey()), 194_000n);
      expected['bank-a'] -= 4_000n;
      expected['bank-b'] += 4_000n;
      await invariant();
      assert.equal((await bankB.supply()).queued, 4_000n);
      assert.equal(await appB.renew(cardB.client(), freshKey()), 4_000n);
      assert.equal((await bankB.supply()).queued, 0n);
      await invariant();
    });

    test('a replayed claim, a forged claim and a wrongly signed request are refused; a replay with the key answers the same', async () => {
      const client = card.client();
      const nonce = await appA.nonce(seIdOf(card));
      const { claim, sealedUpload } = client.beginSync(nonce);
      const body = { claim: toHex(encodeSigned(claim)), sealedUpload: toHex(sealedUpload) };
      const forged = {
        ...claim,
        signature: claim.signature.map((byte, index) => (index === 5 ? byte ^ 1 : byte)),
      };
      const post = (submission: SettleSubmission, key = freshKey()) => appA.client.settle(key, submission);
      const renewal = (payload: typeof body): SettleSubmission => ({ kind: 'renewal', body: payload });
      await refusedWith(
        post(renewal({ ...body, claim: toHex(encodeSigned(forged)) })),
        'deviceSignatureInvalid',
      );
      await refusedWith(post(renewal({ ...body, sealedUpload: '00' })), 'uploadDigestMismatch');
      const wrong = phone.client().authenticate(nonce, unloadRequestDigest(verifier, 1n, claim.bodyBytes));
      await refusedWith(
        post({
          kind: 'unload',
          body: { ...body, amount: '1', deviceRequest: toHex(encodeSigned(wrong)) },
        }),
        'deviceSignatureInvalid',
      );
      const answer = await post(renewal(body), 'first');
      await refusedWith(post(renewal(body)), 'nonceAlreadyUsed', 409);
      assert.deepEqual(await post(renewal(body), 'first'), answer);
      clock.offsetMs = (nonceLifetimeSeconds + 1) * 1000;
      try {
        // Its nonce has expired, but a replay answers what the renewal answered.
        assert.deepEqual(await post(renewal(body), 'first'), answer);
      } finally {
        clock.offsetMs = 0;
      }
      await refusedWith(
        post(renewal({ ...body, sealedUpload: '00' }), 'first'),
        'idempotencyKeyReusedWithDifferentRequest',
      );
      appA.complete(client, answer);
      await refusedWith(post(renewal({ claim: 'a0', sealedUpload: '' })), 'requestInvalid');
      await invariant();
    });

    test('50 concurrent renewals of one claim with one key: every answer is the first, one renewal minted', async () => {
      const submission = await settleRequest(appA, phone, 'renewal');
      const claimed = submission.claim.body.tokens.reduce((sum, token) => sum + token.value, 0n);
      const before = await bankA.supply();
      const key = freshKey('same');
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => appA.client.settle(key, submission)),
      );
      for (const answer of answers) assert.deepEqual(answer, answers[0]);
      const first = answers[0]!;
      assert.equal(await bankA.server.context.store.countIssuances(first.operationId), 1);
      const after = await bankA.supply();
      assert.equal(after.minted - before.minted, claimed);
      assert.equal(after.retired - before.retired, claimed);
      assert.equal(appA.complete(phone.client(), first), claimed);
      await invariant();
    });

    test('50 concurrent renewals of one claim with 50 keys: one renewal, 49 nonceAlreadyUsed', async () => {
      const submission = await settleRequest(appA, phone, 'renewal');
      const claimed = submission.claim.body.tokens.reduce((sum, token) => sum + token.value, 0n);
      const before = await bankA.supply();
      const prefix = freshKey('race');
      const outcomes = await Promise.allSettled(
        Array.from({ length: 50 }, (_unused, index) => appA.client.settle(`${prefix}-${index}`, submission)),
      );
      const won = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      assert.equal(won.length, 1);
      const refusals = outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' ? [outcome.reason as DcpRefusal] : [],
      );
      assert.deepEqual(
        refusals.map((refusal) => [refusal.code, refusal.status]),
        Array.from({ length: 49 }, () => ['nonceAlreadyUsed', 409]),
      );
      assert.equal(await bankA.server.context.store.countIssuances(won[0]!.operationId), 1);
      const after = await bankA.supply();
      assert.equal(after.minted - before.minted, claimed);
      assert.equal(after.retired - before.retired, claimed);
      assert.equal(appA.complete(phone.client(), won[0]!), claimed);
      await invariant();
    });

    test('a revoked SE is refused, is on the next deny list, and a synced device refuses its payments', async () => {
      const thief = newDevice('phone', 'thief');
      const thiefId = await appA.personalise(
        thief.client(),
        'phone',
        wallet.id,
        bankA.operatorKey,
        freshKey(),
      );
      await appA.load(thief.client(), 1_000n, freshKey());
      expected['bank-a'] += 1_000n;
      // The DCP caches the deny list and statuses; a cache filled while the clock was ahead must not
      // outlive the clock stepping back (an NTP step): the revocation below is seen at once.
      clock.offsetMs = 60_000;
      await appA.updates(thief.client(), 'phone');
      clock.offsetMs = 0;
      const revoked = await world.directoryOperator.changeStatus(freshKey(), thiefId, {
        status: 'revoked',
        reason: 'stolen',
      });
      await refusedWith(appA.load(thief.client(), 1_000n, freshKey()), 'deviceRevoked', 403);
      await appA.updates(card.client(), 'card');
      assert.equal(card.client().getData().denyListVersion, revoked.value.denyListVersion);
      thief.endSession();
      assert.throws(
        () => new OfflinePayment(thief, card, 100n).tap(),
        (error: unknown) => error instanceof SecureElementRefused && error.code === 'deniedSecureElement',
      );
      await invariant();
    });

    test('after a reconcile pass the pool invariant is on /metrics: a difference of zero', async () => {
      for (const dcp of [bankA, bankB]) {
        const report = await dcp.server.reconcile();
        assert.equal(report.poolDifference, 0n, dcp.name);
        const metrics = await dcp.server.app.inject({ method: 'GET', url: '/metrics' });
        assert.match(metrics.body, /^dcp_pool_difference_minor_units 0$/m, dcp.name);
      }
      await invariant();
    });

    test('every /v1 route describes its answers in the OpenAPI document', async () => {
      const document = (await bankA.server.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
        paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
      }>();
      const undescribed = Object.entries(document.paths)
        .filter(([path]) => path.startsWith('/v1/'))
        .flatMap(([path, methods]) =>
          Object.entries(methods)
            .filter(
              ([, operation]) => !Object.keys(operation.responses ?? {}).some((status) => /^2/.test(status)),
            )
            .map(([method]) => `${method} ${path}`),
        );
      assert.deepEqual(undescribed, []);
      assert.ok(Object.keys(document.paths).filter((path) => path.startsWith('/v1/')).length >= 11);
    });

    test('a DCP that moves to another address and back is found at the address it has now', async () => {
      const directory = bankB.server.context.directory;
      const dcpId = bankB.server.context.dcpId;
      const elsewhere = 'http://127.0.0.1:9/';
      await directory.publishEndpoint(dcpId, elsewhere);
      assert.equal(await directory.dcpEndpoint(dcpId), elsewhere);
      await directory.publishEndpoint(dcpId, bankB.server.url);
      assert.equal(await directory.dcpEndpoint(dcpId), bankB.server.url);
    });

    // Offline value crosses DCPs: bank-b renews tokens bank-a minted, and the MDS's settlement moves
    // their backing from bank-a's pool to bank-b's, so bank-b can pay the unload from its own pool.
    test('an offline payment across DCPs, then an unload of it at the payee DCP, keeps both pools whole', async () => {
      const walletB = await bankB.createWallet('Dave');
      const phoneB = newDevice('phone', 'phone-b');
      await appB.personalise(phoneB.client(), 'phone', walletB.id, bankB.operatorKey, freshKey());
      assert.deepEqual(new OfflinePayment(phone, phoneB, 5_000n).tap(), { outcome: 'completed' });
      assert.equal(await appB.renew(phoneB.client(), freshKey()), 5_000n);
      const mds = world.mds;
      assert.ok(mds !== null);
      const run = await mds.settle();
      assert.equal(run.state, 'completed');
      assert.deepEqual(
        run.transfers.map((transfer) => [transfer.payerDcpId, transfer.payeeDcpId, transfer.amount]),
        [[toHex(bankA.server.context.dcpId), toHex(bankB.server.context.dcpId), 5_000n]],
      );
      expected['bank-a'] -= 5_000n;
      expected['bank-b'] += 5_000n;
      await invariant();
      // After the run, every pool is the value outstanding the MDS attributes to its DCP.
      const supply = await mds.operator.supply();
      for (const dcp of supply.dcps) assert.equal(dcp.poolBalance, dcp.attributedOutstanding, dcp.dcpId);
      assert.equal(await appB.unload(phoneB.client(), 5_000n, freshKey()), 0n);
      assert.equal((await world.ledgerOperator.account(walletB.accountId)).balance, 5_000n);
      expected['bank-b'] -= 5_000n;
      await invariant();
      // A second run finds nothing left to move.
      assert.deepEqual((await mds.settle()).transfers, []);
    });
  });
}
