// An honest payer never debits for a bundle no payee could take (DESIGN §10 invariant 8): PAY refuses,
// writing nothing, when the bundle would be longer than the payee states it accepts or one RECEIVE
// command carries, and when the inputs' histories conflict (a double spend upstream); token selection
// then prefers inputs that avoid the refusal. RECEIVE keeps conflicting branches out in the first
// place. Every refusal is driven through APDUs, with its status word and code, and leaves both secure
// elements byte-identical.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBundle } from '../core/bundle.ts';
import { decodePaymentRequest } from '../core/payment.ts';
import { OfflinePayment } from '../device/offline-payment.ts';
import type { Device } from '../device/device.ts';
import { cloneDevice, publicData } from '../testing/devices.ts';
import {
  assertRefusedWithoutChange,
  Forge,
  type ForgedToken,
  type SecureElementKey,
} from '../testing/forge.ts';
import { TestPki } from '../testing/test-pki.ts';
import { logicalCommandBytesMax } from './apdu/apdu.ts';
import { storeProfiles } from './secure-element.ts';
import { JournaledStore } from './store/journaled-store.ts';
import { decodeState, decodeToken, encodeState, recordKeys } from './records.ts';
import { idFromKey } from './view.ts';

const payeeBundleLimitExceeded = { sw: 0x6985, code: 'payeeBundleLimitExceeded' } as const;
const historyConflictsWithHeld = { sw: 0x6982, code: 'historyConflictsWithHeld' } as const;

function balanceOf(device: Device): bigint {
  return publicData(device).balance;
}

/**
 * A token of `value` whose history is about `bytes` long: a compromised SE (whose value is genuine
 * DCP issuances, so that honest SEs take it) merges small issuances into it, 7 at a hop (a phone
 * takes transfers of up to 8 inputs).
 */
function longHistory(forge: Forge, thief: SecureElementKey, value: bigint, bytes: number): ForgedToken {
  let token = forge.issue(thief.id, [value])[0]!;
  while (forge.bundle(token).length < bytes) {
    const small = Array.from({ length: 7 }, () => forge.issue(thief.id, [1n])[0]!);
    token = forge.transfer(thief, [token, ...small], [{ value: token.value + 7n, owner: thief.id }])[0]!;
  }
  return token;
}

/** `payer` receives `token` (all of its value) from `thief`, through APDUs. */
function receiveFrom(forge: Forge, thief: SecureElementKey, token: ForgedToken, payer: Device): void {
  const request = payer.client().paymentRequest(token.value);
  payer.client().receive(forge.pay(thief, [token], request));
}

/** An honest phone and a thief paying it. */
function world() {
  const pki = new TestPki();
  const forge = new Forge(pki);
  const thief = forge.compromisedSecureElement();
  const payer = pki.newDevice('phone', 'payer');
  return { pki, forge, thief, payer };
}

void describe('PAY refuses, before debiting, a bundle longer than the payee accepts', () => {
  void test('the payment request states the payee bound: its limit, the command bound and its store room', () => {
    const pki = new TestPki();
    const card = pki.newDevice('card', 'card', { limits: { historyBytesMax: 8_000 } });
    const phone = pki.newDevice('phone', 'phone');
    const stated = (device: Device) =>
      decodePaymentRequest(device.client().paymentRequest(1n)).bundleBytesMax;
    assert.equal(stated(card), 8_000);
    assert.equal(stated(phone), logicalCommandBytesMax, 'a phone limit of 64 KiB, one RECEIVE of 16 KiB');
    const tiny = pki.newDevice('card', 'tiny card', { limits: { challengesMax: 8 } });
    const before = stated(tiny);
    // Fill the card's store with tokens until its room is what bounds the bundle.
    const owner = publicData(tiny).seId;
    for (let index = 0; index < 24; index++)
      tiny.client().load(
        pki.dcp.issue(
          'load',
          Array.from({ length: 16 }, () => ({ value: 1n, owner })),
        ),
      );
    const after = stated(tiny);
    assert.ok(after < before && after < 16 * 1024, `${after} bytes once 384 tokens fill 512 blocks`);
  });

  void test('over the payee historyBytesMax: payeeBundleLimitExceeded 6985, nothing debited', () => {
    const { pki, forge, thief, payer } = world();
    receiveFrom(forge, thief, longHistory(forge, thief, 5_000n, 9_000), payer);
    const card = pki.newDevice('card', 'card', { limits: { historyBytesMax: 8_000 } });
    const before = balanceOf(payer);
    const request = card.client().paymentRequest(4_000n);
    assertRefusedWithoutChange([payer, card], () => payer.client().pay(request, 0), payeeBundleLimitExceeded);
    assert.equal(balanceOf(payer), before);
    // A payee that takes it: the same payer pays at once.
    const phone = pki.newDevice('phone', 'phone');
    assert.deepEqual(new OfflinePayment(payer, phone, 4_000n).tap(), { outcome: 'completed' });
  });

  void test('over what one RECEIVE command carries (16 KiB): payeeBundleLimitExceeded 6985, nothing debited', () => {
    const { pki, forge, thief, payer } = world();
    const first = longHistory(forge, thief, 5_000n, 10_000);
    const second = longHistory(forge, thief, 5_000n, 10_000);
    receiveFrom(forge, thief, first, payer);
    receiveFrom(forge, thief, second, payer);
    const payee = pki.newDevice('phone', 'payee', { limits: { historyBytesMax: 64 * 1024 } });
    const before = balanceOf(payer);
    // Neither token alone covers 8,000: both histories together exceed the link's bound.
    const request = payee.client().paymentRequest(8_000n);
    assertRefusedWithoutChange(
      [payer, payee],
      () => payer.client().pay(request, 0),
      payeeBundleLimitExceeded,
    );
    assert.equal(balanceOf(payer), before);
    assert.deepEqual(new OfflinePayment(payer, payee, 5_000n).tap(), { outcome: 'completed' });
  });

  void test('selection prefers a token whose history fits over the one the usual rule picks', () => {
    const { pki, forge, thief, payer } = world();
    const long = longHistory(forge, thief, 5_000n, 9_000);
    receiveFrom(forge, thief, long, payer);
    pki.load(payer, 6_000n);
    const card = pki.newDevice('card', 'card', { limits: { historyBytesMax: 8_000 } });
    // The usual rule picks the smallest covering token, the long one: its bundle would not fit.
    const payment = new OfflinePayment(payer, card, 4_000n);
    assert.deepEqual(payment.tap(), { outcome: 'completed' });
    assert.ok(payment.bundleBytes < 1_000, `${payment.bundleBytes} bytes: the fresh 6,000 was spent`);
    assert.equal(balanceOf(card), 4_000n);
  });
});

/**
 * What an SE holds after receiving two branches that spend one token, as firmware without the
 * RECEIVE check left it: `device` receives the first branch, a copy of it the second, whose token,
 * entries and certificates are then written into `device`'s store with the balance they add.
 */
function holdBothBranches(device: Device, receiveFirst: () => void, receiveSecond: (copy: Device) => void) {
  const copy = cloneDevice(device);
  receiveFirst();
  receiveSecond(copy);
  const target = JournaledStore.open(device.medium, storeProfiles[device.kind]);
  const donor = JournaledStore.open(copy.medium, storeProfiles[copy.kind]);
  const changes = new Map<string, Uint8Array | null>();
  let added = 0n;
  for (const key of donor.keys()) {
    if (!/^[tec]\//.test(key) || target.has(key)) continue;
    changes.set(key, donor.get(key)!);
    if (key.startsWith('t/')) added += decodeToken(idFromKey(key), donor.get(key)!).value;
  }
  const state = decodeState(target.get(recordKeys.state)!);
  changes.set(recordKeys.state, encodeState({ ...state, balance: state.balance + added }));
  target.commit(changes);
  device.powerUp();
}

void describe('conflicting histories: a double spend upstream never strands an honest user', () => {
  void test('RECEIVE of a branch spending a token a held history spends: historyConflictsWithHeld 6982, nothing stored', () => {
    const { pki, forge, thief } = world();
    const honest = pki.newDevice('phone', 'honest');
    const relay = pki.newDevice('phone', 'relay');
    const [token] = forge.issue(thief.id, [1_000n]);
    honest.client().receive(forge.pay(thief, [token!], honest.client().paymentRequest(1_000n)));
    // The same token again, to another honest SE, which passes it on: the conflict arrives one hop later.
    relay.client().receive(forge.pay(thief, [token!], relay.client().paymentRequest(1_000n)));
    const request = honest.client().paymentRequest(1_000n);
    const bundle = relay.client().pay(request, 0);
    assertRefusedWithoutChange([honest], () => honest.client().receive(bundle), historyConflictsWithHeld);
    // Directly from the thief, too.
    const direct = forge.pay(thief, [token!], honest.client().paymentRequest(1_000n));
    assertRefusedWithoutChange([honest], () => honest.client().receive(direct), historyConflictsWithHeld);
    assert.equal(balanceOf(honest), 1_000n);
  });

  void test('PAY never signs a merge of conflicting histories: historyConflictsWithHeld 6982; each branch alone still pays', () => {
    const { pki, forge, thief } = world();
    const honest = pki.newDevice('phone', 'honest');
    const payee = pki.newDevice('phone', 'payee');
    const [token] = forge.issue(thief.id, [1_000n]);
    holdBothBranches(
      honest,
      () => honest.client().receive(forge.pay(thief, [token!], honest.client().paymentRequest(1_000n))),
      (copy) => copy.client().receive(forge.pay(thief, [token!], copy.client().paymentRequest(1_000n))),
    );
    assert.deepEqual(
      { balance: balanceOf(honest), tokens: publicData(honest).tokenCount },
      { balance: 2_000n, tokens: 2 },
    );
    const request = payee.client().paymentRequest(2_000n);
    assertRefusedWithoutChange(
      [honest, payee],
      () => honest.client().pay(request, 0),
      historyConflictsWithHeld,
    );
    const bundle = honest.client().pay(payee.client().paymentRequest(1_000n), 0);
    assert.equal(decodeBundle(bundle).entries.at(-1)!.kind, 'transfer');
    payee.client().receive(bundle);
    assert.deepEqual([balanceOf(honest), balanceOf(payee)], [1_000n, 1_000n]);
  });
});
