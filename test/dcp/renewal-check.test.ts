// The renewal check and the unload gate (issue 9; docs/dcp.md, "Renewal check and the unload gate";
// docs/mds.md, "Renewal check"), through HTTP on a real ledger, directory, MDS (API and enclave
// processes) and two DCPs, with a thief holding SE keys (test/dcp/thief.ts): value no DCP minted,
// and a token renewed at bank-a and paid offline to a second SE of the thief at bank-b, each tried in
// `sync` and `async` mode; honest traffic around it; the MDS down; and the double-spend policy.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServer } from 'node:http';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { claimFromCbor } from '../../src/core/claim.ts';
import { purposes } from '../../src/core/crypto.ts';
import { principalIdOf } from '../../src/core/ids.ts';
import { renewalVerdictBodyToCbor } from '../../src/core/renewal-verdict.ts';
import { encodeSigned, signBody } from '../../src/core/signed.ts';
import { NodeSigner } from '../../src/crypto/node-crypto.ts';
import { decodeCbor } from '../../src/core/cbor.ts';
import { issuanceFromCbor } from '../../src/core/issuance.ts';
import type { DcpSupply, SettleSubmission } from '../../src/dcp/api/client.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import type { Device } from '../../src/device/device.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import { MdsClient } from '../../src/mds/api/client.ts';
import type { DoubleSpendPolicy } from '../../src/core/renewal-verdict.ts';
import type { RenewalCheckMode } from '../../src/dcp/domain/ports.ts';
import { engines } from '../../src/testing/scratch.ts';
import { call } from '../../src/testing/service-kit.ts';
import {
  freshKey,
  newDevice,
  startWorld,
  verifier,
  type TestDcp,
  type Wallet,
  type World,
} from './fixtures.ts';
import { issued, Thief } from './thief.ts';

interface Bank {
  readonly dcp: TestDcp;
  readonly app: DeviceApp;
  readonly wallet: Wallet;
}

interface Fixture {
  readonly world: World;
  readonly a: Bank;
  readonly b: Bank;
}

async function startFixture(
  engine: (typeof engines)[number],
  renewalCheck: RenewalCheckMode,
  policy: DoubleSpendPolicy,
): Promise<Fixture> {
  const world = await startWorld(engine, {
    dcpNames: ['bank-a', 'bank-b'],
    mds: { renewalCheck, doubleSpendPolicy: policy },
  });
  const bank = async (name: string): Promise<Bank> => {
    const dcp = world.dcp(name);
    const wallet = await dcp.createWallet(`Wallet at ${name}`);
    await world.fund(wallet.accountId, 100_000n);
    return { dcp, app: new DeviceApp({ baseUrl: dcp.server.url, verifier }), wallet };
  };
  return { world, a: await bank('bank-a'), b: await bank('bank-b') };
}

async function honestDevice(
  bank: Bank,
  kind: 'card' | 'phone',
  name: string,
  loaded: bigint,
): Promise<Device> {
  const device = newDevice(kind, name);
  await bank.app.personalise(device.client(), kind, bank.wallet.id, bank.dcp.operatorKey, freshKey());
  if (loaded > 0n) await bank.app.load(device.client(), loaded, freshKey());
  return device;
}

/** The money the thief could reach: its wallet on the ledger, its DCP's pool, its DCP's books. */
async function moneyOf(world: World, bank: Bank): Promise<[bigint, bigint, DcpSupply]> {
  const wallet = await world.ledgerOperator.account(bank.wallet.accountId);
  const pool = await world.ledgerOperator.account(bank.dcp.server.context.poolAccountId);
  return [wallet.balance, pool.balance, await bank.dcp.supply()];
}

/** Posts a settlement to the DCP's app; its status and error code (or its answer). */
async function post(bank: Bank, submission: SettleSubmission) {
  const path = { renewal: '/v1/renewals', unload: '/v1/unloads', transfer: '/v1/transfers' }[submission.kind];
  return call(bank.dcp.server.app, null, 'POST', path, { body: submission.body, key: freshKey() });
}

function refusal(result: Awaited<ReturnType<typeof post>>): {
  status: number;
  code: unknown;
  message: unknown;
} {
  const error = (result.body as { error?: { code?: unknown; message?: unknown } }).error;
  return { status: result.status, code: error?.code, message: error?.message };
}

/**
 * Refused before any money moved: by the check, which blames the claimer, or — once the MDS's
 * response has had the directory revoke that SE (it races the request) — as revoked.
 */
function refusedBlamed(refused: ReturnType<typeof refusal>, what: string): void {
  assert.equal(refused.status, 403, what);
  if (refused.code === 'deviceRevoked') return;
  assert.equal(refused.code, 'renewalCheckRefused', what);
  assert.match(String(refused.message), /renewalClaimerBlamed \(policy refuse\)/, what);
}

/**
 * Has `bank` report its issuances and retirements now (its forwarding runs every second): a claim
 * at another DCP over value it minted is judged on its reports (renewalIssuanceUnreported before).
 */
async function reported(bank: Bank): Promise<void> {
  const report = await bank.dcp.server.forwardToMds();
  assert.equal(report?.unavailable, false);
}

/**
 * The thief's double spend across DCPs: its SE at bank-a renews a loaded token (bank-a retires it),
 * and the same token, paid offline beforehand to its second SE at bank-b, is claimed there.
 */
async function retiredThenPaid(fixture: Fixture) {
  const spender = await Thief.at(fixture.a.dcp, fixture.a.wallet.id, fixture.a.app.client);
  const payee = await Thief.at(fixture.b.dcp, fixture.b.wallet.id, fixture.b.app.client);
  const token = await spender.load(4_000n);
  const paid = spender.pay(token, payee.seId);
  const renewed = await post(fixture.a, await spender.settlement('renewal', [token]));
  assert.equal(renewed.status, 201, JSON.stringify(renewed.body));
  await reported(fixture.a);
  const claim = await payee.settlement('renewal', [paid], { payers: [spender.certificate] });
  return { spender, payee, paid, claim };
}

for (const engine of engines) {
  describe(`renewal check, sync mode, policy refuse, on ${engine}`, () => {
    let fixture: Fixture;
    before(async () => {
      fixture = await startFixture(engine, 'sync', 'refuse');
    });
    after(async () => {
      await fixture.world.close();
    });

    test('honest renewals, an unload and offline value renewed at another DCP pass the check', async () => {
      const { a, b } = fixture;
      const phone = await honestDevice(a, 'phone', 'alice', 10_000n);
      const card = await honestDevice(b, 'card', 'bob', 0n);
      assert.deepEqual(new OfflinePayment(phone, card, 3_000n).tap(), { outcome: 'completed' });
      await reported(a);
      assert.equal(await a.app.renew(phone.client(), freshKey()), 7_000n);
      assert.equal(await b.app.renew(card.client(), freshKey()), 3_000n);
      assert.equal(await a.app.unload(phone.client(), 2_000n, freshKey()), 5_000n);
      assert.equal(await a.app.renew(phone.client(), freshKey()), 5_000n);
    });

    test('an unload or renewal of value no DCP minted is refused; wallet, pool and books unchanged', async () => {
      const { world, a } = fixture;
      const thief = await Thief.at(a.dcp, a.wallet.id, a.app.client);
      const invented = thief.invent(5_000n);
      const before = await moneyOf(world, a);
      for (const kind of ['unload', 'renewal'] as const) {
        // Ingest (before the judgement) raised fakeFunding against the thief: the claimer is blamed
        // (and, once the MDS's response has revoked it, a second request meets deviceRevoked).
        refusedBlamed(refusal(await post(a, await thief.settlement(kind, [invented]))), kind);
      }
      // Paid on to a second SE of the thief, nobody blames the claimer: the ancestry itself fails.
      const accomplice = await Thief.at(a.dcp, a.wallet.id, a.app.client);
      // (A fresh invention: the first one was claimed above, and a claimed token paid on is a double spend.)
      const passed = thief.pay(thief.invent(2_000n), accomplice.seId);
      const submission = await accomplice.settlement('unload', [passed], { payers: [thief.certificate] });
      const unbacked = refusal(await post(a, submission));
      assert.deepEqual([unbacked.status, unbacked.code], [403, 'renewalCheckRefused']);
      assert.match(String(unbacked.message), /renewalTokenNotBacked \(policy refuse\)/);
      assert.deepEqual(await moneyOf(world, a), before);
    });

    test('a claim at bank-b over a token bank-a retired is refused (policy refuse)', async () => {
      const { world, b } = fixture;
      const { claim } = await retiredThenPaid(fixture);
      const before = await moneyOf(world, b);
      const refused = refusal(await post(b, claim));
      assert.deepEqual([refused.status, refused.code], [403, 'renewalCheckRefused']);
      assert.match(String(refused.message), /renewalDoubleSpent \(policy refuse\)/);
      assert.deepEqual(await moneyOf(world, b), before);
    });

    test('with the MDS down a renewal is refused renewalCheckUnavailable (503) and nothing changes', async () => {
      const { world, a } = fixture;
      const phone = await honestDevice(a, 'phone', 'carol', 6_000n);
      const submission = await a.app.prepareSettlement(phone.client(), { kind: 'renewal' });
      await world.mds?.stop();
      const before = await moneyOf(world, a);
      const refused = refusal(await post(a, submission));
      assert.deepEqual([refused.status, refused.code], [503, 'renewalCheckUnavailable']);
      assert.deepEqual(await moneyOf(world, a), before);
    });
  });

  describe(`unload gate, async mode, policy refuse, on ${engine}`, () => {
    let fixture: Fixture;
    before(async () => {
      fixture = await startFixture(engine, 'async', 'refuse');
    });
    after(async () => {
      await fixture.world.close();
    });

    test('invented value may renew at once, but neither it nor its renewal is cashed out', async () => {
      const { world, a } = fixture;
      const thief = await Thief.at(a.dcp, a.wallet.id, a.app.client);
      // Async: a renewal of invented value mints at once (bounded by the limits), unchecked...
      const renewed = await post(a, await thief.settlement('renewal', [thief.invent(5_000n)]));
      assert.equal(renewed.status, 201, JSON.stringify(renewed.body));
      const token = issued(decodeIssuance((renewed.body as { renewal: string }).renewal));
      const [wallet, pool] = await moneyOf(world, a);
      // ...but no unload of invented value is paid: neither directly, nor of the renewal, which
      // rests on what it retired (the renewal's upload is forwarded and ingested by the check).
      const direct = refusal(await post(a, await thief.settlement('unload', [thief.invent(4_000n)])));
      refusedBlamed(direct, 'invented value');
      const unload = refusal(await post(a, await thief.settlement('unload', [token])));
      refusedBlamed(unload, 'the renewal');
      const [walletAfter, poolAfter] = await moneyOf(world, a);
      assert.deepEqual([walletAfter, poolAfter], [wallet, pool], 'no money left the pool');
    });

    test('a claim at bank-b over a token bank-a retired renews, but the gate stops its unload', async () => {
      const { world, b } = fixture;
      const { payee, claim } = await retiredThenPaid(fixture);
      const renewed = await post(b, claim);
      assert.equal(renewed.status, 201, JSON.stringify(renewed.body));
      const token = issued(decodeIssuance((renewed.body as { renewal: string }).renewal));
      const [wallet, pool] = await moneyOf(world, b);
      const unload = refusal(await post(b, await payee.settlement('unload', [token])));
      assert.deepEqual([unload.status, unload.code], [403, 'renewalCheckRefused']);
      assert.match(String(unload.message), /renewalDoubleSpent \(policy refuse\)/);
      const [walletAfter, poolAfter] = await moneyOf(world, b);
      assert.deepEqual([walletAfter, poolAfter], [wallet, pool]);
    });

    test('an unload of value the DCP loaded to that same SE needs no MDS', async () => {
      const { world, a } = fixture;
      const card = await honestDevice(a, 'card', 'dora', 8_000n);
      await world.mds?.stop();
      assert.equal(await a.app.unload(card.client(), 3_000n, freshKey()), 5_000n);
    });
  });

  describe(`double-spend policy honour, sync mode, on ${engine}`, () => {
    let fixture: Fixture;
    before(async () => {
      fixture = await startFixture(engine, 'sync', 'honour');
    });
    after(async () => {
      await fixture.world.close();
    });

    test('the payee of a token bank-a retired is renewed at bank-b; the signed answer says honoured', async () => {
      const { world, b } = fixture;
      const { claim } = await retiredThenPaid(fixture);
      const mds = world.mds;
      assert.ok(mds !== null);
      const asBankB = new MdsClient({ baseUrl: mds.server.url, apiKey: mds.dcpKeys.get('bank-b') ?? '' });
      const verdict = await asBankB.checkRenewal({
        claim: hexBytes(claim.body.claim),
        sealed: hexBytes(claim.body.sealedUpload),
      });
      assert.deepEqual(
        [verdict.body.backed, verdict.body.reason, verdict.body.policy],
        [true, 'doubleSpendHonoured', 'honour'],
      );
      const renewed = await post(b, claim);
      assert.equal(renewed.status, 201, JSON.stringify(renewed.body));
    });

    test('value paid offline from bank-a devices and renewed at bank-b is unloadable there on the yes', async () => {
      const { a, b } = fixture;
      await honestDevice(b, 'phone', 'shop-float', 5_000n);
      const phone = await honestDevice(a, 'phone', 'erin', 4_000n);
      const card = await honestDevice(b, 'card', 'frank', 0n);
      assert.deepEqual(new OfflinePayment(phone, card, 2_500n).tap(), { outcome: 'completed' });
      await reported(a);
      assert.equal(await b.app.renew(card.client(), freshKey()), 2_500n);
      assert.equal(await b.app.unload(card.client(), 1_000n, freshKey()), 1_500n);
    });
  });
}

function hexBytes(hex: string) {
  const bytes = fromHex(hex);
  assert.ok(bytes !== undefined);
  return bytes;
}

function decodeIssuance(hex: string) {
  return issuanceFromCbor(decodeCbor(hexBytes(hex)));
}

/**
 * An "MDS" that answers every renewal check with a well-formed yes, bound to the claim and the DCP,
 * but signed by a key of its own: what an attacker between the DCP and the MDS could send.
 */
async function forgingMds(dcpId: Uint8Array): Promise<{ url: string; close(): Promise<void> }> {
  const forger = NodeSigner.generate();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url !== '/v1/renewal-checks') {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { code: 'routeNotFound', number: 0xf01, message: 'no' } }));
        return;
      }
      const posted = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { claim: string };
      const claim = claimFromCbor(decodeCbor(hexBytes(posted.claim)));
      const verdict = signBody(
        forger,
        purposes.renewalVerdict,
        {
          mdsId: principalIdOf(verifier, forger.publicKey),
          dcpId,
          claimDigest: verifier.sha256(claim.bodyBytes),
          uploadDigest: claim.body.uploadDigest,
          backed: true,
          reason: 'backed',
          policy: 'honour',
          checkedAtMs: 1,
        },
        renewalVerdictBodyToCbor,
      );
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ verdict: toHex(encodeSigned(verdict)) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}

for (const engine of engines)
  describe(`a forged MDS answer, on ${engine}`, () => {
    test('a verdict not signed by the MDS key of trust.json is refused; nothing is retired', async () => {
      // The world makes its own PKI: the forger learns the DCP's id from it.
      let forger: Awaited<ReturnType<typeof forgingMds>> | undefined;
      const world = await startWorld(engine, {
        dcpNames: ['bank-a'],
        dcpOptionsFor: async (id) => {
          forger = await forgingMds(id);
          return { mdsUrl: forger.url, mdsKey: 'k'.repeat(40), renewalCheck: 'sync' };
        },
      });
      try {
        const dcp = world.dcp('bank-a');
        const wallet = await dcp.createWallet('Mallory');
        await world.fund(wallet.accountId, 10_000n);
        const bank = { dcp, app: new DeviceApp({ baseUrl: dcp.server.url, verifier }), wallet };
        const thief = await Thief.at(dcp, wallet.id, bank.app.client);
        const before = await moneyOf(world, bank);
        const refused = refusal(await post(bank, await thief.settlement('unload', [thief.invent(3_000n)])));
        assert.deepEqual([refused.status, refused.code], [503, 'renewalCheckAnswerInvalid']);
        assert.match(String(refused.message), /not signed by the MDS key/);
        assert.deepEqual(await moneyOf(world, bank), before);
      } finally {
        await world.close();
        await forger?.close();
      }
    });
  });
