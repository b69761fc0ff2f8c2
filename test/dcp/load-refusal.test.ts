// A load its SE refused goes back to the wallet (issue 8, item 6), through APDUs and HTTP. The DCP's
// count of loads not yet seen installed trusts that a device installs each load before it asks for
// the next nonce; a device that does not (answers kept, installed later) gets loads the card cannot
// hold. The card signs and records a refusal of each (REFUSE LOAD), the DCP returns each one's value
// to the wallet once, and nothing is left in the pool for no one. A real ledger, the real directory
// and a DCP over HTTP, on every engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { purposes } from '../../src/core/crypto.ts';
import type { Issuance } from '../../src/core/issuance.ts';
import { loadRefusalBodyToCbor, type LoadRefusalBody } from '../../src/core/load-refusal.ts';
import { encodeSigned, signBody } from '../../src/core/signed.ts';
import { DcpRefusal, type LoadAnswer, type LoadBody } from '../../src/dcp/api/client.ts';
import { poolDifference } from '../../src/dcp/domain/invariant.ts';
import { loadsOpenMax } from '../../src/dcp/domain/limits.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import type { Device } from '../../src/device/device.ts';
import { SecureElementRefused } from '../../src/device/se-client.ts';
import { decodeIdentity, recordKeys } from '../../src/secure-element/records.ts';
import { JournaledStore } from '../../src/secure-element/store/journaled-store.ts';
import { flipBit } from '../../src/testing/forge.ts';
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

/** As many loads as may be open at once (a sync delivers them all again, settle.ts). */
const loadsCount = loadsOpenMax;
const loadAmount = 10_000n;
/** The card's balance limit (src/core/limits.ts `defaultLimits`). */
const cardBalanceMax = 50_000n;
const funded = 1_000_000n;

/** The card's own key, as a thief who read its memory holds it. */
function stolenSigner(device: Device) {
  const identity = decodeIdentity(JournaledStore.open(device.medium).get(recordKeys.identity)!);
  return device.platform.signer(identity.privateScalar, identity.publicKey);
}

async function refusedWith(promise: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DcpRefusal, String(error));
    assert.deepEqual([error.code, error.status], [code, status]);
    return true;
  });
}

for (const engine of engines) {
  describe(`a load its card refused goes back to the wallet on ${engine}`, () => {
    let world: World;
    let dcp: TestDcp;
    let app: DeviceApp;
    let wallet: Wallet;
    let card: Device;
    const answers: { readonly key: string; readonly body: LoadBody; readonly answer: LoadAnswer }[] = [];
    const refused: Issuance[] = [];

    const walletBalance = async () => (await world.ledgerOperator.account(wallet.accountId)).balance;
    const cardBalance = () => card.client().getData().balance;
    const books = async () => ({
      wallet: await walletBalance(),
      card: cardBalance(),
      supply: await dcp.supply(),
    });
    const invariant = async () => {
      const supply = await dcp.supply();
      const pool = await world.ledgerOperator.account(dcp.server.context.poolAccountId);
      assert.equal(supply.inFlight, 0n);
      assert.equal(poolDifference({ ...supply, poolBalance: pool.balance }), 0n);
      // Every value issued and not retired is on the card: none sits in the pool for no one.
      assert.equal(supply.outstanding, cardBalance());
      assert.equal((await walletBalance()) + cardBalance(), funded, 'wallet + card = what the wallet had');
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

    test(`${loadsCount} loads of ${loadAmount} answered one after the other and installed together: ${cardBalanceMax / loadAmount} installed, the rest refused by the card and returned`, async () => {
      for (let index = 0; index < loadsCount; index++) {
        const key = freshKey('load');
        const body = await app.prepareLoad(card.client(), loadAmount);
        answers.push({ key, body, answer: await app.client.load(key, body) });
      }
      assert.equal(
        await walletBalance(),
        funded - loadAmount * BigInt(loadsCount),
        'the DCP issued them all',
      );
      // One more would be more than the card's next sync can deliver: refused, the wallet untouched.
      const extra = await app.prepareLoad(card.client(), loadAmount);
      await refusedWith(app.client.load(freshKey('load'), extra), 'loadsOpenLimitReached', 409);
      assert.equal(await walletBalance(), funded - loadAmount * BigInt(loadsCount));
      const outcomes = await Promise.all(
        answers.map(({ answer }) => app.install(card.client(), answer.issuance)),
      );
      const returned = outcomes.flatMap((outcome) =>
        outcome.returned === undefined ? [] : [outcome.returned],
      );
      assert.equal(outcomes.length - returned.length, Number(cardBalanceMax / loadAmount));
      assert.deepEqual(
        returned.map((each) => each.amount),
        Array<bigint>(loadsCount - Number(cardBalanceMax / loadAmount)).fill(loadAmount),
      );
      answers.forEach(({ answer }, index) => {
        if (outcomes[index]!.returned !== undefined) refused.push(answer.issuance);
      });
      assert.equal(cardBalance(), cardBalanceMax);
      assert.equal(await walletBalance(), funded - cardBalanceMax);
      await invariant();
    });

    test('a refused issuance never installs and is never delivered again', async () => {
      const before = await books();
      for (const issuance of refused) {
        assert.throws(
          () => card.client().load(issuance),
          (error: unknown) => error instanceof SecureElementRefused && error.code === 'issuanceRefused',
        );
      }
      // The load's own replay (same key, same body: a lost answer) no longer answers its issuance.
      for (const { key, body, answer } of answers) {
        if (refused.includes(answer.issuance))
          await refusedWith(app.client.load(key, body), 'loadRefused', 409);
        else assert.deepEqual(await app.client.load(key, body), answer);
      }
      assert.deepEqual(await books(), before);
    });

    test('a replayed refusal returns nothing more; forged or unknown ones are refused and change nothing', async () => {
      const issuance = refused[0]!;
      const refusal = card.client().refuseLoad(issuance);
      const hex = toHex(encodeSigned(refusal));
      const before = await books();
      const first = await app.client.returnRefusedLoad({ refusal: hex });
      assert.deepEqual(await app.client.returnRefusedLoad({ refusal: hex }), first);
      assert.equal(first.amount, loadAmount);
      assert.equal(first.issuanceId, toHex(verifier.sha256(issuance.bodyBytes)));
      assert.deepEqual(await books(), before, 'returned once, when the card refused it');

      const forgedSignature = toHex(encodeSigned({ ...refusal, signature: flipBit(refusal.signature, 9) }));
      await refusedWith(
        app.client.returnRefusedLoad({ refusal: forgedSignature }),
        'deviceSignatureInvalid',
        403,
      );
      const other = newDevice('card', 'other');
      other.client().initialise();
      const byAnother = signBody(
        stolenSigner(other),
        purposes.loadRefusal,
        refusal.body,
        loadRefusalBodyToCbor,
      );
      await refusedWith(
        app.client.returnRefusedLoad({ refusal: toHex(encodeSigned(byAnother)) }),
        'deviceSignatureInvalid',
        403,
      );
      const thief = stolenSigner(card);
      const forge = (body: LoadRefusalBody) =>
        toHex(encodeSigned(signBody(thief, purposes.loadRefusal, body, loadRefusalBodyToCbor)));
      const unknown = forge({ ...refusal.body, issuanceId: verifier.sha256(new Uint8Array([1])) });
      await refusedWith(app.client.returnRefusedLoad({ refusal: unknown }), 'refusedIssuanceUnknown', 404);
      await refusedWith(app.client.returnRefusedLoad({ refusal: 'zz' }), 'requestInvalid', 400);
      await refusedWith(app.client.returnRefusedLoad({ refusal: '8201' }), 'requestInvalid', 400);
      assert.deepEqual(await books(), before);
      await invariant();
    });

    test("the card's claim retires what it installed: a refusal of an installed load, signed with the stolen key, returns nothing", async () => {
      assert.equal(await app.renew(card.client(), freshKey()), cardBalanceMax, 'the refused loads stay out');
      const before = await books();
      const installed = answers.find(({ answer }) => !refused.includes(answer.issuance))!.answer.issuance;
      const body: LoadRefusalBody = {
        seId: card.client().getData().seId,
        issuanceId: verifier.sha256(installed.bodyBytes),
        reason: 0x0504,
        balance: cardBalanceMax,
      };
      const forged = toHex(
        encodeSigned(signBody(stolenSigner(card), purposes.loadRefusal, body, loadRefusalBodyToCbor)),
      );
      await refusedWith(app.client.returnRefusedLoad({ refusal: forged }), 'refusedIssuanceClaimed', 409);
      assert.deepEqual(await books(), before);
      await invariant();
    });
  });
}
