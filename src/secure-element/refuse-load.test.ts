// REFUSE LOAD through APDUs (issue 8, item 6): a load the SE cannot hold is refused with a signed
// proof, recorded in the same commit, and never installed afterwards by LOAD or COMPLETE SYNC; a
// power cut at any physical write leaves either no refusal or the whole of it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bytesEqual } from '../core/bytes.ts';
import { purposes } from '../core/crypto.ts';
import { coreErrors } from '../core/errors.ts';
import { encodeSigned } from '../core/signed.ts';
import type { Issuance } from '../core/issuance.ts';
import type { Device } from '../device/device.ts';
import { publicData } from '../testing/devices.ts';
import { assertRefusedWithoutChange, snapshotDevice } from '../testing/forge.ts';
import { TestPki } from '../testing/test-pki.ts';
import { FaultyMedium, isPowerCut } from './store/faults.ts';

const balanceMax = 10_000n;

function setup(): { pki: TestPki; card: Device; big: Issuance } {
  const pki = new TestPki();
  const card = pki.newDevice('card', 'card', { limits: { balanceMax } });
  assert.equal(pki.load(card, 8_000n), 8_000n);
  const big = pki.dcp.issue('load', [{ value: 5_000n, owner: publicData(card).seId }]);
  return { pki, card, big };
}

void describe('REFUSE LOAD', () => {
  void test('signs a refusal of a load past the balance limit; LOAD then refuses it for good', () => {
    const { pki, card, big } = setup();
    const data = publicData(card);
    assertRefusedWithoutChange([card], () => card.client().load(big), {
      sw: 0x6985,
      code: 'balanceLimitExceeded',
    });
    const refusal = card.client().refuseLoad(big);
    assert.ok(
      pki.verifier.verify(data.publicKey, purposes.loadRefusal, refusal.bodyBytes, refusal.signature),
    );
    assert.ok(bytesEqual(refusal.body.seId, data.seId));
    assert.ok(bytesEqual(refusal.body.issuanceId, pki.verifier.sha256(big.bodyBytes)));
    assert.equal(refusal.body.reason, coreErrors.balanceLimitExceeded.number);
    assert.equal(refusal.body.balance, 8_000n);
    assert.deepEqual(
      { ...publicData(card), trustedTime: 0 },
      { ...data, trustedTime: 0 },
      'the refusal moves no value and no counter',
    );
    assertRefusedWithoutChange([card], () => card.client().load(big), {
      sw: 0x6985,
      code: 'issuanceRefused',
    });
    // Asked again (a lost answer), it answers the very same bytes and writes nothing.
    const before = snapshotDevice(card);
    assert.deepEqual(encodeSigned(card.client().refuseLoad(big)), encodeSigned(refusal));
    assert.deepEqual(snapshotDevice(card), before);
    // Room freed later changes nothing: the refused issuance stays refused.
    assert.equal(publicData(card).balance, 8_000n);
  });

  void test('refuses to refuse a load it installed or could install, changing nothing', () => {
    const { pki, card } = setup();
    const seId = publicData(card).seId;
    const fits = pki.dcp.issue('load', [{ value: 2_000n, owner: seId }]);
    const refusal = { sw: 0x6985, code: 'issuanceNotRefusable' } as const;
    assertRefusedWithoutChange([card], () => card.client().refuseLoad(fits), refusal);
    assert.equal(card.client().load(fits), balanceMax);
    assertRefusedWithoutChange([card], () => card.client().refuseLoad(fits), refusal);
    const renewal = pki.dcp.issue('renewal', [{ value: 20_000n, owner: seId }]);
    assertRefusedWithoutChange([card], () => card.client().refuseLoad(renewal), {
      sw: 0x6a80,
      code: 'issuanceKindInvalid',
    });
    const forged = { ...pki.dcp.issue('load', [{ value: 20_000n, owner: seId }]), signature: fits.signature };
    assertRefusedWithoutChange([card], () => card.client().refuseLoad(forged), {
      sw: 0x6982,
      code: 'issuanceNotFromDcp',
    });
  });

  void test('COMPLETE SYNC skips a refused issuance among its credits, then the refusal goes as stale', () => {
    const { pki, card, big } = setup();
    card.client().refuseLoad(big);
    const { claim } = card.client().beginSync(new Uint8Array(16).fill(3));
    pki.time += 10;
    const claimed = claim.body.tokens.map((token) => token.tokenId);
    const renewal = pki.dcp.issue('renewal', [{ value: 1_000n, owner: claim.body.seId }], claimed);
    assert.equal(card.client().completeSync(renewal, [big]), 1_000n, 'the refused load is not installed');
    assert.equal(
      card.medium.list().some((name) => name.includes('x/')),
      false,
      'the stale refusal record is erased',
    );
    assertRefusedWithoutChange([card], () => card.client().load(big), { sw: 0x6985, code: 'issuanceStale' });
  });

  void test('a power cut at any write of REFUSE LOAD leaves no refusal or the whole refusal', () => {
    const { card, big } = setup();
    const counting = new FaultyMedium(card.medium);
    card.powerUp(counting);
    card.client().refuseLoad(big);
    const writes = counting.writesPerformed;
    assert.ok(writes > 0);
    for (let cut = 0; cut < writes; cut++) {
      const { card: fresh, big: issuance } = setup();
      const medium = fresh.medium;
      fresh.powerUp(new FaultyMedium(medium, { cutAtWrite: cut, tear: { kind: 'prefix', bytes: 3 } }));
      assert.throws(() => fresh.client().refuseLoad(issuance), isPowerCut);
      fresh.powerUp(medium);
      const loaded = (() => {
        try {
          fresh.client().load(issuance);
          return 'installed';
        } catch (error) {
          return error instanceof Error ? error.message : String(error);
        }
      })();
      // Before: LOAD still refuses it for the balance limit, and REFUSE LOAD signs it now.
      // After: LOAD refuses it as refused. Never installed, never half-recorded.
      assert.match(loaded, /balanceLimitExceeded|issuanceRefused/, `cut at write ${cut}`);
      assert.equal(fresh.client().refuseLoad(issuance).body.balance, 8_000n);
      assertRefusedWithoutChange([fresh], () => fresh.client().load(issuance), {
        sw: 0x6985,
        code: 'issuanceRefused',
      });
      assert.equal(publicData(fresh).balance, 8_000n);
    }
  });
});
