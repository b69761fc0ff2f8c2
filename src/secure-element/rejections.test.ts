// What an honest secure element refuses (DESIGN §3, §5): forged and altered signatures, a wrong
// payee or amount, replays, fake funding, value creation, double spends, stolen tokens, disordered
// histories, over-long chains, denied, expired and forged counterparts, malformed bytes, forged
// receipts, bad issuances and replayed credits. Each refusal is driven through APDUs only, with its
// exact status word and catalogue code, and leaves the secure elements exactly as they were: the same
// GET DATA and the same bytes in every block of their memory.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { p256 } from '@noble/curves/nist.js';
import { purposes } from '../core/crypto.ts';
import { decodeBundle, type Bundle } from '../core/bundle.ts';
import type { Certificate } from '../core/certificate.ts';
import type { Issuance } from '../core/issuance.ts';
import { decodePaymentRequest, decodeReceipt, encodePaymentRequest } from '../core/payment.ts';
import { encodeCbor } from '../core/cbor.ts';
import { isLowS, NodeSigner, secureRandomBytes, signedBytes } from '../crypto/node-crypto.ts';
import { OfflinePayment } from '../device/offline-payment.ts';
import type { Device } from '../device/device.ts';
import { publicData } from '../testing/devices.ts';
import {
  assertRefused,
  assertRefusedWithoutChange,
  assertUnchanged,
  finalTransfer,
  flipBit,
  Forge,
  forgeReceipt,
  highS,
  mutateBundle,
  refusalOf,
  replaceFinalTransfer,
  withSignature,
  withTransferBody,
} from '../testing/forge.ts';
import { TestPki } from '../testing/test-pki.ts';
import { installedIssuancesMax, loadedIssuancesMax, syncCreditsMax } from './records.ts';

const challengeUnknown = { sw: 0x6982, code: 'challengeUnknown' } as const;
const signatureInvalid = { sw: 0x6982, code: 'signatureInvalid' } as const;

/** A payer holding one 10,000 token and an empty payee, both honest phones unless told otherwise. */
function world(options: { payee?: Parameters<TestPki['newDevice']>[2] } = {}) {
  const pki = new TestPki();
  const forge = new Forge(pki);
  const payer = pki.newDevice('phone', 'payer');
  const payee = pki.newDevice('phone', 'payee', options.payee);
  pki.load(payer, 10_000n);
  return { pki, forge, payer, payee };
}

/** Steps 1 and 2 of an honest payment: the payee's request and the payer's bundle. */
function requestAndPay(
  payer: Device,
  payee: Device,
  amount: bigint,
): { request: Uint8Array; bundle: Uint8Array } {
  const request = payee.client().paymentRequest(amount);
  return { request, bundle: payer.client().pay(request, 0) };
}

function seIdOf(device: Device): Uint8Array {
  return publicData(device).seId;
}

function balanceOf(device: Device): bigint {
  return publicData(device).balance;
}

/** The genuine bundle still goes through: the refusals before it were about what was altered. */
function assertAccepted(payee: Device, bundle: Uint8Array, balance: bigint): void {
  payee.client().receive(bundle);
  assert.equal(balanceOf(payee), balance);
}

void describe('RECEIVE refuses a paying transfer whose signature does not verify', () => {
  void test('a flipped bit anywhere in the signature: signatureInvalid 6982', () => {
    const { payer, payee } = world();
    const { bundle } = requestAndPay(payer, payee, 3_000n);
    const transfer = finalTransfer(bundle);
    for (const bit of [0, 7, 255, 256, 511]) {
      const forged = replaceFinalTransfer(bundle, withSignature(transfer, flipBit(transfer.signature, bit)));
      assertRefusedWithoutChange([payee, payer], () => payee.client().receive(forged), signatureInvalid);
    }
    assertAccepted(payee, bundle, 3_000n);
  });

  void test('the same transfer signed by a key other than the certified payer: signatureInvalid 6982', () => {
    const { payer, payee } = world();
    const { bundle } = requestAndPay(payer, payee, 3_000n);
    const transfer = finalTransfer(bundle);
    const forged = replaceFinalTransfer(
      bundle,
      withTransferBody(transfer, transfer.body, NodeSigner.generate()),
    );
    assertRefusedWithoutChange([payee, payer], () => payee.client().receive(forged), signatureInvalid);
    assertAccepted(payee, bundle, 3_000n);
  });

  void test('the high-S twin of a valid signature (same r, s′ = n − s): signatureInvalid 6982', () => {
    const { payer, payee } = world();
    const { bundle } = requestAndPay(payer, payee, 3_000n);
    const transfer = finalTransfer(bundle);
    const twin = highS(transfer.signature);
    assert.ok(!isLowS(twin));
    assert.deepEqual(twin.subarray(0, 32), transfer.signature.subarray(0, 32));
    // Plain ECDSA accepts the twin: only the low-S rule of DESIGN §3 refuses it.
    const payerKey = decodeBundle(bundle).certificates[0]!.body.publicKey;
    const message = signedBytes(purposes.transfer, transfer.bodyBytes);
    assert.ok(p256.verify(twin, message, payerKey, { prehash: true, lowS: false }));
    const forged = replaceFinalTransfer(bundle, withSignature(transfer, twin));
    assertRefusedWithoutChange([payee, payer], () => payee.client().receive(forged), signatureInvalid);
    assertAccepted(payee, bundle, 3_000n);
  });
});

void describe('RECEIVE refuses a payment for another amount', () => {
  void test('payment and change altered so that the sum still conserves, old signature: signatureInvalid 6982', () => {
    const { payer, payee } = world();
    const { bundle } = requestAndPay(payer, payee, 3_000n);
    const transfer = finalTransfer(bundle);
    const [payment, change] = transfer.body.outputs;
    assert.equal(payment!.value, 3_000n);
    assert.equal(change!.value, 7_000n);
    const altered = withTransferBody(transfer, {
      ...transfer.body,
      outputs: [
        { ...payment!, value: 4_000n },
        { ...change!, value: 6_000n },
      ],
    });
    const forged = replaceFinalTransfer(bundle, altered);
    assertRefusedWithoutChange([payee, payer], () => payee.client().receive(forged), signatureInvalid);
    assertAccepted(payee, bundle, 3_000n);
  });

  void test('a correctly signed, conserving bundle for another amount (compromised SE): wrongAmount 6A80', () => {
    const { forge, payee } = world();
    const thief = forge.compromisedSecureElement();
    const funds = forge.issue(thief.id, [10_000n]);
    const request = payee.client().paymentRequest(3_000n);
    for (const amount of [2_999n, 3_001n, 10_000n]) {
      const bundle = forge.pay(thief, funds, request, { amount });
      assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), {
        sw: 0x6a80,
        code: 'wrongAmount',
      });
    }
    assertAccepted(payee, forge.pay(thief, funds, request), 3_000n);
  });
});

void describe('RECEIVE refuses a payment to another payee', () => {
  void test('a bundle paying payee A presented to payee B, with a challenge B issued: wrongPayee 6A80', () => {
    const { pki, payer, payee: payeeA } = world();
    const payeeB = pki.newDevice('phone', 'payee B');
    const requestA = decodePaymentRequest(payeeA.client().paymentRequest(3_000n));
    const requestB = decodePaymentRequest(payeeB.client().paymentRequest(3_000n));
    // A relay in the middle answers B's challenge with A's certificate; the honest payer pays A.
    const spliced = encodePaymentRequest({ ...requestB, payeeCertificate: requestA.payeeCertificate });
    const bundle = payer.client().pay(spliced, 0);
    assertRefusedWithoutChange([payeeA, payeeB], () => payeeB.client().receive(bundle), {
      sw: 0x6a80,
      code: 'wrongPayee',
    });
    // And A never issued B's challenge.
    assertRefusedWithoutChange([payeeA, payeeB], () => payeeA.client().receive(bundle), challengeUnknown);
  });

  void test('a transfer naming the payee but paying output 0 to someone else: wrongPayee 6A80', () => {
    const { forge, payee } = world();
    const thief = forge.compromisedSecureElement();
    const accomplice = forge.compromisedSecureElement();
    const funds = forge.issue(thief.id, [3_000n]);
    const request = decodePaymentRequest(payee.client().paymentRequest(3_000n));
    const [payment] = forge.transfer(thief, funds, [{ value: 3_000n, owner: accomplice.id }], {
      payeeId: seIdOf(payee),
      challenge: request.challenge,
    });
    const bundle = forge.bundle(payment!);
    assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), {
      sw: 0x6a80,
      code: 'wrongPayee',
    });
  });
});

void describe('RECEIVE credits a bundle once and refuses answers to challenges it does not hold open', () => {
  void test('the same bundle twice returns the same receipt bytes and credits once', () => {
    const { payer, payee } = world();
    const { bundle } = requestAndPay(payer, payee, 3_000n);
    const receipt = payee.client().receive(bundle);
    assert.equal(balanceOf(payee), 3_000n);
    assertUnchanged([payee, payer], () => {
      assert.deepEqual(payee.client().receive(bundle), receipt);
    });
    // A new request for the same amount outstanding does not make the old bundle count for it.
    payee.client().paymentRequest(3_000n);
    assertUnchanged([payee, payer], () => {
      assert.deepEqual(payee.client().receive(bundle), receipt);
    });
    assert.equal(balanceOf(payee), 3_000n);
    assert.equal(publicData(payee).counter, 1);
  });

  void test('a received transfer again with another signature is verified as new: its high-S twin signatureInvalid, a second valid signature challengeUnknown', () => {
    const { forge, payee } = world();
    const thief = forge.compromisedSecureElement();
    const request = payee.client().paymentRequest(3_000n);
    const bundle = forge.pay(thief, forge.issue(thief.id, [3_000n]), request);
    const receipt = payee.client().receive(bundle);
    const transfer = finalTransfer(bundle);
    const twin = replaceFinalTransfer(bundle, withSignature(transfer, highS(transfer.signature)));
    assertRefusedWithoutChange([payee], () => payee.client().receive(twin), signatureInvalid);
    // The compromised payer signs the very same body again: a valid signature, other bytes.
    const resigned = replaceFinalTransfer(bundle, withTransferBody(transfer, transfer.body, thief.signer));
    assert.notDeepEqual(finalTransfer(resigned).signature, transfer.signature);
    assertRefusedWithoutChange([payee], () => payee.client().receive(resigned), challengeUnknown);
    // Only the byte-identical bundle is a replay.
    assertUnchanged([payee], () => {
      assert.deepEqual(payee.client().receive(bundle), receipt);
    });
    assert.equal(balanceOf(payee), 3_000n);
  });

  void test('a second transfer answering a challenge closed by the first: challengeUnknown 6982', () => {
    const { pki, payer, payee } = world();
    const secondPayer = pki.newDevice('card', 'second payer');
    pki.load(secondPayer, 5_000n);
    const request = payee.client().paymentRequest(3_000n);
    const first = payer.client().pay(request, 0);
    const second = secondPayer.client().pay(request, 0);
    payee.client().receive(first);
    assertRefusedWithoutChange([payee, secondPayer], () => payee.client().receive(second), challengeUnknown);
    assert.equal(balanceOf(payee), 3_000n);
  });

  void test('the same bundle presented to another payee holding a request of the same amount: challengeUnknown 6982', () => {
    const { pki, payer, payee } = world();
    const other = pki.newDevice('phone', 'other payee');
    const { bundle } = requestAndPay(payer, payee, 3_000n);
    other.client().paymentRequest(3_000n);
    assertRefusedWithoutChange([other], () => other.client().receive(bundle), challengeUnknown);
  });

  void test('a challenge never issued: challengeUnknown 6982', () => {
    const { forge, payee } = world();
    const thief = forge.compromisedSecureElement();
    const funds = forge.issue(thief.id, [3_000n]);
    payee.client().paymentRequest(3_000n);
    const [payment] = forge.transfer(thief, funds, [{ value: 3_000n, owner: seIdOf(payee) }], {
      challenge: secureRandomBytes(16),
    });
    assertRefusedWithoutChange(
      [payee],
      () => payee.client().receive(forge.bundle(payment!)),
      challengeUnknown,
    );
  });

  void test('a challenge expired by BEGIN SYNC, then erased by COMPLETE SYNC: challengeUnknown 6982', () => {
    const { pki, payer, payee } = world();
    const { bundle } = requestAndPay(payer, payee, 3_000n);
    const { claim } = payee.client().beginSync(secureRandomBytes(16));
    assertRefusedWithoutChange([payee, payer], () => payee.client().receive(bundle), challengeUnknown);
    payee.client().completeSync(
      pki.dcp.issue(
        'renewal',
        [],
        claim.body.tokens.map((t) => t.tokenId),
      ),
      [],
    );
    assertRefusedWithoutChange([payee, payer], () => payee.client().receive(bundle), challengeUnknown);
    assert.equal(balanceOf(payee), 0n);
  });
});

void describe('RECEIVE refuses a history that does not end in DCP issuances or breaks a rule', () => {
  void test('a history funded by an issuance signed by a key the root never certified: issuanceNotFromDcp 6982', () => {
    const { forge, payee } = world();
    const thief = forge.compromisedSecureElement();
    for (const fake of [forge.fakeDcp(), forge.fakeDcp(forge.pki.dcp.id)]) {
      const funds = forge.issue(thief.id, [5_000n], fake);
      const request = payee.client().paymentRequest(3_000n);
      const bundle = forge.pay(thief, funds, request);
      assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), {
        sw: 0x6982,
        code: 'issuanceNotFromDcp',
      });
    }
    // The same compromised SE spending genuine DCP value is accepted: offline, only the rules tell.
    const request = payee.client().paymentRequest(3_000n);
    assertAccepted(payee, forge.pay(thief, forge.issue(thief.id, [5_000n]), request), 3_000n);
  });

  void test('a transfer whose outputs exceed its inputs: transferNotConserving 6A80', () => {
    const { forge, payee } = world();
    const thief = forge.compromisedSecureElement();
    const request = payee.client().paymentRequest(3_000n);
    // In the paying transfer itself: 1,000 in, 3,000 paid.
    const direct = forge.pay(thief, forge.issue(thief.id, [1_000n]), request, { change: 0n });
    // Or earlier in the history: 1,000 in, 5,000 out to itself, then an honest-looking payment.
    const inflated = forge.transfer(thief, forge.issue(thief.id, [1_000n]), [
      { value: 5_000n, owner: thief.id },
    ]);
    const laundered = forge.pay(thief, inflated, request);
    for (const bundle of [direct, laundered]) {
      assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), {
        sw: 0x6a80,
        code: 'transferNotConserving',
      });
    }
  });

  void test('one token spent by two transfers of the same history: historyDoubleSpend 6982', () => {
    const { forge, payee } = world();
    const thief = forge.compromisedSecureElement();
    const [token] = forge.issue(thief.id, [1_000n]);
    const [branchA] = forge.transfer(thief, [token!], [{ value: 1_000n, owner: thief.id }]);
    const [branchB] = forge.transfer(thief, [token!], [{ value: 1_000n, owner: thief.id }]);
    const request = payee.client().paymentRequest(2_000n);
    const bundle = forge.pay(thief, [branchA!, branchB!], request);
    assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), {
      sw: 0x6982,
      code: 'historyDoubleSpend',
    });
  });

  void test('a chain of transfers longer than the payee generationMax: generationLimitExceeded 6985', () => {
    const { forge, payee } = world({ payee: { limits: { generationMax: 3 } } });
    const thief = forge.compromisedSecureElement();
    const relay = (hops: number) => {
      let tokens = forge.issue(thief.id, [1_000n]);
      for (let hop = 0; hop < hops; hop++)
        tokens = forge.transfer(thief, tokens, [{ value: 1_000n, owner: thief.id }]);
      return tokens;
    };
    const request = payee.client().paymentRequest(1_000n);
    // Three self-transfers then the payment: generation 4.
    assertRefusedWithoutChange([payee], () => payee.client().receive(forge.pay(thief, relay(3), request)), {
      sw: 0x6985,
      code: 'generationLimitExceeded',
    });
    // Two then the payment: generation 3, exactly the limit.
    assertAccepted(payee, forge.pay(thief, relay(2), request), 1_000n);
  });
  void test('a compromised SE spending a token another SE owns (seen in an intercepted bundle): tokenNotOwned 6A80', () => {
    const { pki, forge, payer, payee } = world();
    const victimPayee = pki.newDevice('card', 'victim payee');
    const { bundle } = requestAndPay(payer, victimPayee, 3_000n);
    const [payment, change] = forge.intercept(bundle);
    const thief = forge.compromisedSecureElement();
    for (const [token, amount] of [
      [payment!, 3_000n],
      [change!, 7_000n],
    ] as const) {
      const stolen = forge.pay(thief, [token], payee.client().paymentRequest(amount));
      assertRefusedWithoutChange([payee, payer, victimPayee], () => payee.client().receive(stolen), {
        sw: 0x6a80,
        code: 'tokenNotOwned',
      });
    }
  });

  void test('a history out of order, padded or repeating an entry: historyIncomplete / historyNotOrdered 6A80', () => {
    const { forge, payer, payee } = world();
    const { bundle } = requestAndPay(payer, payee, 3_000n);
    const unrelated = forge.issue(forge.compromisedSecureElement().id, [1_000n])[0]!.history[0]!;
    const cases: [string, (bundle: Bundle) => Bundle, string][] = [
      [
        'issuance after the transfer spending it',
        (b) => ({ ...b, entries: [...b.entries].reverse() }),
        'historyIncomplete',
      ],
      ['the paying transfer alone', (b) => ({ ...b, entries: b.entries.slice(-1) }), 'historyIncomplete'],
      [
        'an issuance the payment does not descend from',
        (b) => ({ ...b, entries: [unrelated, ...b.entries] }),
        'historyNotOrdered',
      ],
      ['an entry twice', (b) => ({ ...b, entries: [b.entries[0]!, ...b.entries] }), 'historyNotOrdered'],
      [
        'a certificate twice',
        (b) => ({ ...b, certificates: [...b.certificates, ...b.certificates] }),
        'historyNotOrdered',
      ],
    ];
    for (const [what, change, code] of cases) {
      const altered = mutateBundle(bundle, change);
      assertUnchanged([payee, payer], () => {
        assert.deepEqual(
          { what, answer: refusalOf(() => payee.client().receive(altered)) },
          { what, answer: { sw: 0x6a80, code } },
        );
      });
    }
    assertAccepted(payee, bundle, 3_000n);
  });
});

void test('a bundle carrying a certificate of an SE that signed no transfer in it: bundleCertificateUnused 6A80', () => {
  const { pki, forge, payer, payee } = world();
  const { bundle } = requestAndPay(payer, payee, 3_000n);
  // A relaying terminal appends genuine certificates: they would fill a card's store, a few per payment.
  const bystander = publicData(pki.newDevice('card', 'bystander')).certificate!;
  const extras = [bystander, forge.compromisedSecureElement().certificate, publicData(payee).certificate!];
  for (const extra of extras) {
    for (const place of ['first', 'last'] as const) {
      const padded = mutateBundle(bundle, (b) => ({
        ...b,
        certificates: place === 'first' ? [extra, ...b.certificates] : [...b.certificates, extra],
      }));
      assertRefusedWithoutChange([payee, payer], () => payee.client().receive(padded), {
        sw: 0x6a80,
        code: 'bundleCertificateUnused',
      });
    }
  }
  assertAccepted(payee, bundle, 3_000n);
});

void describe('the deny list', () => {
  void test('RECEIVE from a denied payer: deniedSecureElement 6982', () => {
    const { pki, payer, payee } = world();
    const request = payee.client().paymentRequest(3_000n);
    payee.client().updateDenyList(pki.denyList([seIdOf(payer)]));
    const bundle = payer.client().pay(request, 0);
    assertRefusedWithoutChange([payee, payer], () => payee.client().receive(bundle), {
      sw: 0x6982,
      code: 'deniedSecureElement',
    });
    // A newer list without the payer lifts the refusal.
    payee.client().updateDenyList(pki.denyList([]));
    assertAccepted(payee, bundle, 3_000n);
  });

  void test('PAY to a denied payee: deniedSecureElement 6982, nothing debited', () => {
    const { pki, payer, payee } = world();
    payer.client().updateDenyList(pki.denyList([seIdOf(payee)]));
    const request = payee.client().paymentRequest(3_000n);
    assertRefusedWithoutChange([payer, payee], () => payer.client().pay(request, 0), {
      sw: 0x6982,
      code: 'deniedSecureElement',
    });
    assert.equal(balanceOf(payer), 10_000n);
  });
});

void describe('certificates', () => {
  void test('a payer certificate expired at the payee trusted time: certificateExpired 6982', () => {
    const pki = new TestPki();
    const payer = pki.newDevice('card', 'payer', { validUntil: pki.time + 3_600 });
    const payee = pki.newDevice('phone', 'payee');
    pki.load(payer, 10_000n);
    pki.time += 7_200;
    payee.client().updateLimits(pki.dcp.limits('phone', 2));
    assert.equal(publicData(payee).trustedTime, pki.time);
    const { bundle } = requestAndPay(payer, payee, 3_000n);
    assertRefusedWithoutChange([payee, payer], () => payee.client().receive(bundle), {
      sw: 0x6982,
      code: 'certificateExpired',
    });
  });

  void test('the same card is accepted while the payee has seen no time past its expiry', () => {
    const pki = new TestPki();
    const payer = pki.newDevice('card', 'payer', { validUntil: pki.time + 3_600 });
    const payee = pki.newDevice('phone', 'payee');
    pki.load(payer, 10_000n);
    // The wall clock moved past the expiry, but a secure element judges by the newest signed time it saw.
    pki.time += 7_200;
    assert.deepEqual(new OfflinePayment(payer, payee, 3_000n).tap(), { outcome: 'completed' });
    assert.equal(balanceOf(payee), 3_000n);
  });

  void test('an SE certificate signed by an uncertified "DCP", or missing: certificateChainInvalid 6982', () => {
    const { forge, payee } = world();
    const refusal = { sw: 0x6982, code: 'certificateChainInvalid' } as const;
    for (const fake of [forge.fakeDcp(), forge.fakeDcp(forge.pki.dcp.id)]) {
      const thief = forge.compromisedSecureElement('phone', { issuer: fake });
      const request = payee.client().paymentRequest(3_000n);
      const bundle = forge.pay(thief, forge.issue(thief.id, [3_000n]), request);
      assertRefusedWithoutChange([payee], () => payee.client().receive(bundle), refusal);
    }
    const thief = forge.compromisedSecureElement();
    const request = payee.client().paymentRequest(3_000n);
    const bundle = forge.pay(thief, forge.issue(thief.id, [3_000n]), request);
    const withoutCertificate = mutateBundle(bundle, (decoded) => ({ ...decoded, certificates: [] }));
    assertRefusedWithoutChange([payee], () => payee.client().receive(withoutCertificate), refusal);
  });
  void test('PAY to a payee certificate that is forged, expired or of another role: refused 6982, nothing debited', () => {
    const pki = new TestPki();
    const forge = new Forge(pki);
    const payer = pki.newDevice('phone', 'payer');
    const payee = pki.newDevice('card', 'payee', { validUntil: pki.time + 3_600 });
    pki.load(payer, 10_000n);
    const request = decodePaymentRequest(payee.client().paymentRequest(3_000n));
    const asking = (payeeCertificate: Certificate) => encodePaymentRequest({ ...request, payeeCertificate });
    const fakeDcp = forge.fakeDcp();
    const forgedPayee = forge.compromisedSecureElement('card', { issuer: fakeDcp }).certificate;
    const cases: [string, Uint8Array, string][] = [
      ['certified by an uncertified DCP', asking(forgedPayee), 'certificateChainInvalid'],
      ['the directory certificate', asking(pki.directory), 'certificateWrongRole'],
      ['the DCP issuer certificate', asking(pki.dcp.certificate), 'certificateWrongRole'],
    ];
    for (const [what, bytes, code] of cases) {
      assertUnchanged([payer, payee], () => {
        assert.deepEqual(
          { what, answer: refusalOf(() => payer.client().pay(bytes, 0)) },
          { what, answer: { sw: 0x6982, code } },
        );
      });
    }
    // The genuine request, once the payer has seen a DCP-signed time past the payee's expiry.
    const genuine = encodePaymentRequest(request);
    pki.time += 7_200;
    payer.client().updateLimits(pki.dcp.limits('phone', 2));
    assertRefusedWithoutChange([payer, payee], () => payer.client().pay(genuine, 0), {
      sw: 0x6982,
      code: 'certificateExpired',
    });
    assert.equal(balanceOf(payer), 10_000n);
  });
});

void describe('RECEIVE refuses malformed bundle bytes', () => {
  const wrongData = (code: string) => ({ sw: 0x6a80, code });

  void test('truncated, non-shortest, trailing and mis-shaped bytes: the exact decoding code, 6A80', () => {
    const { forge, payer, payee } = world();
    const { bundle } = requestAndPay(payer, payee, 3_000n);
    assert.deepEqual([...bundle.subarray(0, 2)], [0x83, 0x01]); // [version 1, certificates, entries]
    const cases: [string, Uint8Array, string][] = [
      ['last byte cut', bundle.subarray(0, bundle.length - 1), 'cborMalformed'],
      ['cut in half', bundle.subarray(0, bundle.length >> 1), 'cborMalformed'],
      [
        'version as a two-byte integer',
        Uint8Array.from([0x83, 0x18, 0x01, ...bundle.subarray(2)]),
        'cborNotCanonical',
      ],
      ['one byte after the item', Uint8Array.from([...bundle, 0x00]), 'cborTrailingBytes'],
      ['a second item after the item', Uint8Array.from([...bundle, ...bundle]), 'cborTrailingBytes'],
      ['version 2', Uint8Array.from([0x83, 0x02, ...bundle.subarray(2)]), 'fieldInvalid'],
      ['four fields', Uint8Array.from([0x84, ...bundle.subarray(1), 0x00]), 'fieldInvalid'],
      ['a negative integer', Uint8Array.from([0x83, 0x20, ...bundle.subarray(2)]), 'cborUnsupported'],
    ];
    for (const [what, bytes, code] of cases) {
      assertUnchanged([payee, payer], () => {
        assert.deepEqual(
          { what, answer: refusalOf(() => payee.client().receive(bytes)) },
          { what, answer: wrongData(code) },
        );
      });
    }
    // A transfer body that its signer encoded with a non-shortest integer: ids would be malleable.
    const thief = forge.compromisedSecureElement();
    const request = payee.client().paymentRequest(3_000n);
    const nonCanonical = forge.pay(thief, forge.issue(thief.id, [3_000n]), request, {
      rewriteBody: (canonical) => Uint8Array.from([canonical[0]!, 0x18, ...canonical.subarray(1)]),
    });
    assertRefusedWithoutChange(
      [payee],
      () => payee.client().receive(nonCanonical),
      wrongData('cborNotCanonical'),
    );
    // A well-formed bundle with nothing to pay.
    const empty = encodeCbor([1, [], []]);
    assertRefusedWithoutChange([payee], () => payee.client().receive(empty), wrongData('historyIncomplete'));
    assertAccepted(payee, bundle, 3_000n);
  });
});

void describe('ACKNOWLEDGE', () => {
  function paid() {
    const w = world();
    const { bundle } = requestAndPay(w.payer, w.payee, 3_000n);
    const receipt = w.payee.client().receive(bundle);
    assert.equal(publicData(w.payer).pendingCount, 1);
    return { ...w, receipt };
  }

  void test('a forged receipt: signatureInvalid 6982, the payment stays pending', () => {
    const { payer, receipt } = paid();
    const genuine = decodeReceipt(receipt);
    const forgedReceipts = [
      forgeReceipt(NodeSigner.generate(), genuine.body),
      encodeCbor([genuine.bodyBytes, flipBit(genuine.signature, 42)]),
      encodeCbor([genuine.bodyBytes, highS(genuine.signature)]),
    ];
    for (const forged of forgedReceipts) {
      assertRefusedWithoutChange(
        [payer],
        () => {
          payer.client().acknowledge(forged);
        },
        signatureInvalid,
      );
    }
    assert.equal(publicData(payer).pendingCount, 1);
  });

  void test('a receipt signed by a secure element other than the payee: wrongPayee 6A80', () => {
    const { forge, payer, receipt } = paid();
    const other = forge.compromisedSecureElement();
    const forged = forgeReceipt(other.signer, { ...decodeReceipt(receipt).body, payeeId: other.id });
    assertRefusedWithoutChange(
      [payer],
      () => {
        payer.client().acknowledge(forged);
      },
      { sw: 0x6a80, code: 'wrongPayee' },
    );
  });

  void test('a receipt for a transfer this SE never signed: transferUnknown 6A88', () => {
    const { payer, payee, receipt } = paid();
    const body = { ...decodeReceipt(receipt).body, transferId: secureRandomBytes(32) };
    const forged = forgeReceipt(NodeSigner.generate(), body);
    assertRefusedWithoutChange(
      [payer, payee],
      () => {
        payer.client().acknowledge(forged);
      },
      { sw: 0x6a88, code: 'transferUnknown' },
    );
  });

  void test('the valid receipt acknowledges once; repeating it succeeds and changes nothing', () => {
    const { payer, receipt } = paid();
    payer.client().acknowledge(receipt);
    assert.equal(publicData(payer).pendingCount, 0);
    assertUnchanged([payer], () => {
      payer.client().acknowledge(receipt);
    });
    assert.deepEqual(
      { balance: balanceOf(payer), pendingCount: publicData(payer).pendingCount },
      { balance: 7_000n, pendingCount: 0 },
    );
  });
});

void describe('LOAD', () => {
  void test('an issuance not signed by this SE own DCP: issuanceNotFromDcp 6982', () => {
    const pki = new TestPki(2);
    const forge = new Forge(pki);
    const device = pki.newDevice('card', 'card');
    const owner = seIdOf(device);
    const issuances = [
      forge.fakeDcp().issue('load', [{ value: 1_000n, owner }]),
      forge.fakeDcp(pki.dcp.id).issue('load', [{ value: 1_000n, owner }]),
      // Certified by the root, but not the DCP that personalised this card.
      pki.dcps[1]!.issue('load', [{ value: 1_000n, owner }]),
    ];
    for (const issuance of issuances) {
      assertRefusedWithoutChange([device], () => device.client().load(issuance), {
        sw: 0x6982,
        code: 'issuanceNotFromDcp',
      });
    }
    assert.equal(balanceOf(device), 0n);
  });

  void test('an issuance paying another SE, even in part: issuanceNotForThisSecureElement 6A80', () => {
    const pki = new TestPki();
    const device = pki.newDevice('card', 'card');
    const other = pki.newDevice('card', 'other');
    const issuances = [
      pki.dcp.issue('load', [{ value: 1_000n, owner: seIdOf(other) }]),
      pki.dcp.issue('load', [
        { value: 1_000n, owner: seIdOf(device) },
        { value: 1_000n, owner: seIdOf(other) },
      ]),
    ];
    for (const issuance of issuances) {
      assertRefusedWithoutChange([device, other], () => device.client().load(issuance), {
        sw: 0x6a80,
        code: 'issuanceNotForThisSecureElement',
      });
    }
  });

  void test('a renewal presented to LOAD: issuanceKindInvalid 6A80', () => {
    const pki = new TestPki();
    const device = pki.newDevice('phone', 'phone');
    const renewal = pki.dcp.issue('renewal', [{ value: 1_000n, owner: seIdOf(device) }], []);
    assertRefusedWithoutChange([device], () => device.client().load(renewal), {
      sw: 0x6a80,
      code: 'issuanceKindInvalid',
    });
  });

  void test('the same issuance twice returns the same balance and credits once', () => {
    const pki = new TestPki();
    const device = pki.newDevice('phone', 'phone');
    const issuance = pki.dcp.issue('load', [{ value: 1_234n, owner: seIdOf(device) }]);
    assert.equal(device.client().load(issuance), 1_234n);
    assertUnchanged([device], () => {
      assert.equal(device.client().load(issuance), 1_234n);
    });
    assert.deepEqual(
      { balance: balanceOf(device), tokenCount: publicData(device).tokenCount },
      { balance: 1_234n, tokenCount: 1 },
    );
  });
});

void describe('COMPLETE SYNC installs a credit once', () => {
  /** A whole sync renewing every claimed token; checks first that the balance is what the tokens hold. */
  function syncWith(pki: TestPki, device: Device, credits: readonly Issuance[]): bigint {
    const before = publicData(device).balance;
    const { claim } = device.client().beginSync(secureRandomBytes(16));
    const held = claim.body.tokens.reduce((sum, token) => sum + token.value, 0n);
    assert.equal(held, before, 'the balance is the sum of the tokens held');
    const outputs = held === 0n ? [] : [{ value: held, owner: claim.body.seId }];
    const tokenIds = claim.body.tokens.map((token) => token.tokenId);
    const balance = device.client().completeSync(pki.dcp.issue('renewal', outputs, tokenIds), credits);
    pki.time += 60;
    return balance;
  }

  void test('a credit listed twice, or delivered again by a later sync, pays once', () => {
    const pki = new TestPki();
    const device = pki.newDevice('phone', 'phone');
    pki.load(device, 1_000n);
    const credit = pki.dcp.issue('credit', [{ value: 500n, owner: seIdOf(device) }]);
    assert.equal(syncWith(pki, device, [credit, credit]), 1_500n);
    assert.equal(syncWith(pki, device, [credit]), 1_500n);
    assert.equal(syncWith(pki, device, []), 1_500n);
  });

  void test('a credit LOADed, then delivered by two syncs, pays once', () => {
    const pki = new TestPki();
    const device = pki.newDevice('phone', 'phone');
    const credit = pki.dcp.issue('credit', [{ value: 300n, owner: seIdOf(device) }]);
    assert.equal(device.client().load(credit), 300n);
    assert.equal(syncWith(pki, device, [credit]), 300n);
    assert.equal(syncWith(pki, device, [credit]), 300n);
    assertRefusedWithoutChange([device], () => device.client().load(credit), {
      sw: 0x6985,
      code: 'issuanceStale',
    });
    assert.equal(syncWith(pki, device, []), 300n);
  });
});

void describe('every issuance installed is recorded: installing it again is a no-op', () => {
  void test('a credit stamped after the renewal, installed by COMPLETE SYNC, then LOADed: the same balance, nothing written', () => {
    const pki = new TestPki();
    const device = pki.newDevice('phone', 'phone');
    pki.load(device, 1_000n);
    const seId = seIdOf(device);
    const { claim } = device.client().beginSync(secureRandomBytes(16));
    const tokenIds = claim.body.tokens.map((token) => token.tokenId);
    const renewal = pki.dcp.issue('renewal', [{ value: 1_000n, owner: seId }], tokenIds);
    const late = pki.dcp.issue('credit', [{ value: 500n, owner: seId }], [], pki.time + 10);
    assert.equal(device.client().completeSync(renewal, [late]), 1_500n);
    assertUnchanged([device], () => {
      assert.equal(device.client().load(late), 1_500n);
    });
    assert.deepEqual(
      { balance: balanceOf(device), tokenCount: publicData(device).tokenCount },
      { balance: 1_500n, tokenCount: 2 },
    );
    // The next sync reports it and delivers it again: skipped; past that sync it is stale.
    pki.time += 60;
    const next = device.client().beginSync(secureRandomBytes(16)).claim;
    const renewNext = pki.dcp.issue(
      'renewal',
      [{ value: 1_500n, owner: seId }],
      next.body.tokens.map((token) => token.tokenId),
    );
    assert.equal(device.client().completeSync(renewNext, [late]), 1_500n);
    assertRefusedWithoutChange([device], () => device.client().load(late), {
      sw: 0x6985,
      code: 'issuanceStale',
    });
    assert.equal(balanceOf(device), 1_500n);
  });

  void test(`the record is bounded: LOAD past ${loadedIssuancesMax} issuances since the last sync is issuanceRecordFull 6A84 until a sync`, () => {
    const pki = new TestPki();
    const device = pki.newDevice('phone', 'phone');
    for (let index = 0; index < loadedIssuancesMax; index++) pki.load(device, 1n);
    const seId = seIdOf(device);
    const one = pki.dcp.issue('load', [{ value: 1n, owner: seId }]);
    assertRefusedWithoutChange([device], () => device.client().load(one), {
      sw: 0x6a84,
      code: 'issuanceRecordFull',
    });
    const { claim } = device.client().beginSync(secureRandomBytes(16));
    const renewal = pki.dcp.issue(
      'renewal',
      [{ value: BigInt(loadedIssuancesMax), owner: seId }],
      claim.body.tokens.map((token) => token.tokenId),
    );
    device.client().completeSync(renewal, []);
    pki.time += 60;
    assert.equal(pki.load(device, 1n), BigInt(loadedIssuancesMax) + 1n);
    assert.ok(loadedIssuancesMax + syncCreditsMax <= installedIssuancesMax);
  });
});

void test('assertRefused itself fails when the command succeeds or is refused differently', () => {
  const { payer, payee } = world();
  assert.throws(() => {
    assertRefused(() => payee.client().paymentRequest(1n), { sw: 0x6985, code: 'balanceLimitExceeded' });
  }, assert.AssertionError);
  assert.throws(() => {
    assertRefused(() => payer.client().pay(payee.client().paymentRequest(20_000n), 0), {
      sw: 0x6985,
      code: 'paymentLimitExceeded',
    });
  }, assert.AssertionError);
});
