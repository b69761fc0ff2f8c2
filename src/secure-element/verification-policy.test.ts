// RECEIVE's verification policy (limits.verification, validate-bundle.ts rule 6) and the SE's memory
// of verified certificates, through APDUs: under lastHop a forged ancestor signature is accepted
// (the MDS finds it after the fact) and under full it is refused with its exact code; the paying
// transfer and every structural rule are checked under both; and a remembered certificate is still
// refused once expired at the payee's trusted time or once its SE is on the deny list.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OfflinePayment } from '../device/offline-payment.ts';
import type { Device } from '../device/device.ts';
import { publicData } from '../testing/devices.ts';
import {
  assertRefusedWithoutChange,
  flipBit,
  Forge,
  mutateBundle,
  withSignature,
  type ForgedToken,
  type SecureElementKey,
} from '../testing/forge.ts';
import { TestPki } from '../testing/test-pki.ts';
import type { Bytes } from '../core/bytes.ts';
import type { HistoryEntry } from '../core/bundle.ts';

const issuanceNotFromDcp = { sw: 0x6982, code: 'issuanceNotFromDcp' } as const;
const signatureInvalid = { sw: 0x6982, code: 'signatureInvalid' } as const;

function balanceOf(device: Device): bigint {
  return publicData(device).balance;
}

/** A payee phone under `verification`, and a forge with two compromised SEs holding genuine certificates. */
function world(verification: 'full' | 'lastHop') {
  const pki = new TestPki();
  const forge = new Forge(pki);
  const payee = pki.newDevice('phone', 'payee', { limits: { verification } });
  return {
    pki,
    forge,
    payee,
    first: forge.compromisedSecureElement(),
    second: forge.compromisedSecureElement(),
  };
}

/** `first` → `second` (the ancestor transfer), then `second` pays the payee's fresh request. */
function twoHops(
  forge: Forge,
  first: SecureElementKey,
  second: SecureElementKey,
  funding: ForgedToken,
  payee: Device,
): Bytes {
  const [relayed] = forge.transfer(first, [funding], [{ value: funding.value, owner: second.id }]);
  return forge.pay(second, [relayed!], payee.client().paymentRequest(funding.value));
}

/** The bundle with the signature of its entry `index` changed in one bit. */
function withForgedEntry(bundle: Bytes, index: number): Bytes {
  return mutateBundle(bundle, (decoded) => ({
    certificates: decoded.certificates,
    entries: decoded.entries.map((entry, at): HistoryEntry => {
      if (at !== index) return entry;
      return entry.kind === 'issuance'
        ? { kind: 'issuance', signed: withSignature(entry.signed, flipBit(entry.signed.signature, 9)) }
        : { kind: 'transfer', signed: withSignature(entry.signed, flipBit(entry.signed.signature, 9)) };
    }),
  }));
}

void describe('the verification policy: full against lastHop', () => {
  for (const [index, name, fullRefusal] of [
    [0, 'issuance', issuanceNotFromDcp],
    [1, 'ancestor transfer', signatureInvalid],
  ] as const) {
    void test(`a forged ${name} signature: refused ${fullRefusal.code} under full, accepted under lastHop`, () => {
      for (const verification of ['full', 'lastHop'] as const) {
        const { forge, payee, first, second } = world(verification);
        const [funding] = forge.issue(first.id, [1_000n]);
        const bundle = withForgedEntry(twoHops(forge, first, second, funding!, payee), index);
        if (verification === 'full') {
          assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), fullRefusal);
          assert.equal(balanceOf(payee), 0n);
        } else {
          payee.client().receive(bundle);
          assert.equal(balanceOf(payee), 1_000n);
        }
      }
    });
  }

  void test('lastHop still verifies the paying transfer: its forged signature is signatureInvalid 6982', () => {
    const { forge, payee, first, second } = world('lastHop');
    const [funding] = forge.issue(first.id, [1_000n]);
    const bundle = withForgedEntry(twoHops(forge, first, second, funding!, payee), 2);
    assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), signatureInvalid);
  });

  void test('lastHop still checks the structure: an ancestor creating value is transferNotConserving 6A80', () => {
    const { forge, payee, first, second } = world('lastHop');
    const [funding] = forge.issue(first.id, [1_000n]);
    const [inflated] = forge.transfer(first, [funding!], [{ value: 5_000n, owner: second.id }]);
    const bundle = forge.pay(second, [inflated!], payee.client().paymentRequest(5_000n));
    assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), {
      sw: 0x6a80,
      code: 'transferNotConserving',
    });
  });

  void test('entries stored under lastHop are verified again once the limits say full', () => {
    const { pki, forge, payee, first, second } = world('lastHop');
    // One forged issuance with two outputs: the first reaches the payee under lastHop.
    const fake = forge.fakeDcp(pki.dcp.certificate.body.subjectId);
    const [one, two] = forge.issue(first.id, [1_000n, 1_000n], fake);
    payee.client().receive(twoHops(forge, first, second, one!, payee));
    payee.client().updateLimits(pki.dcp.limits('phone', 2));
    // The second output's history starts with the same, now held, issuance: held is not verified.
    const bundle = twoHops(forge, first, second, two!, payee);
    assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), issuanceNotFromDcp);
    assert.equal(balanceOf(payee), 1_000n);
  });
});

void describe('a remembered certificate is refused when it no longer passes', () => {
  function pays(payer: Device, payee: Device, amount: bigint): void {
    assert.deepEqual(new OfflinePayment(payer, payee, amount).tap(), { outcome: 'completed' });
  }

  void test('RECEIVE: the payer certificate expired at the payee trusted time since it was remembered', () => {
    const pki = new TestPki();
    const payer = pki.newDevice('card', 'payer', { validUntil: pki.time + 3_600 });
    const payee = pki.newDevice('phone', 'payee');
    pki.load(payer, 10_000n);
    pays(payer, payee, 1_000n);
    pki.time += 7_200;
    payee.client().updateLimits(pki.dcp.limits('phone', 2));
    const bundle = payer.client().pay(payee.client().paymentRequest(1_000n), 0);
    assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), {
      sw: 0x6982,
      code: 'certificateExpired',
    });
  });

  void test('RECEIVE and PAY: an SE remembered before it was put on the deny list', () => {
    const pki = new TestPki();
    const payer = pki.newDevice('phone', 'payer');
    const payee = pki.newDevice('phone', 'payee');
    pki.load(payer, 10_000n);
    pki.load(payee, 10_000n);
    pays(payer, payee, 1_000n);
    pays(payee, payer, 1_000n);
    const denied = pki.denyList([publicData(payer).seId]);
    payee.client().updateDenyList(denied);
    const bundle = payer.client().pay(payee.client().paymentRequest(1_000n), 0);
    const deniedSecureElement = { sw: 0x6982, code: 'deniedSecureElement' } as const;
    assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), deniedSecureElement);
    // The payee, which remembers the payer's certificate from the payment it made, will not pay it.
    const request = payer.client().paymentRequest(1_000n);
    assertRefusedWithoutChange([payee, payer], () => payee.client().pay(request, 0), deniedSecureElement);
    // The payer's refused bundle stays in flight on its pending log (recovery's case), nothing credited.
    assert.deepEqual([balanceOf(payer), balanceOf(payee)], [9_000n, 10_000n]);
  });
});
