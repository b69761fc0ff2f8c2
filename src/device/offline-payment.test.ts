import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileMedium } from '../secure-element/store/medium.ts';
import { Device } from './device.ts';
import { TestPki } from '../testing/test-pki.ts';
import { publicData } from '../testing/devices.ts';
import { OfflinePayment } from './offline-payment.ts';

interface Party {
  readonly balance: bigint;
  readonly counter: number;
  readonly pendingCount: number;
  readonly paymentsSinceSync: number;
  readonly tokenCount: number;
}

function party(device: Device): Party {
  const { balance, counter, pendingCount, paymentsSinceSync, tokenCount } = publicData(device);
  return { balance, counter, pendingCount, paymentsSinceSync, tokenCount };
}

const cases = [
  { direction: 'cardToPhone', payer: 'card', payee: 'phone' },
  { direction: 'phoneToCard', payer: 'phone', payee: 'card' },
  { direction: 'phoneToPhone', payer: 'phone', payee: 'phone' },
] as const;

for (const { direction, payer: payerKind, payee: payeeKind } of cases) {
  test(`${direction}: moves exactly the amount, one counter each, change kept, nothing pending`, () => {
    const pki = new TestPki();
    const payer = pki.newDevice(payerKind, 'payer');
    const payee = pki.newDevice(payeeKind, 'payee');
    pki.load(payer, 10_000n);
    pki.load(payee, 700n);
    assert.deepEqual(party(payer), {
      balance: 10_000n,
      counter: 0,
      pendingCount: 0,
      paymentsSinceSync: 0,
      tokenCount: 1,
    });

    const payment = new OfflinePayment(payer, payee, 2_345n, 1_767_225_700);
    assert.equal(payment.direction, direction);
    assert.deepEqual(payment.tap(), { outcome: 'completed' });
    assert.equal(payment.step, 'done');
    // Payer: one transfer signed (counter 1), its 10,000 token split into 2,345 paid and 7,655 change.
    assert.deepEqual(party(payer), {
      balance: 7_655n,
      counter: 1,
      pendingCount: 0,
      paymentsSinceSync: 1,
      tokenCount: 1,
    });
    // Payee: one receipt signed (counter 1), the received token beside its own.
    assert.deepEqual(party(payee), {
      balance: 3_045n,
      counter: 1,
      pendingCount: 0,
      paymentsSinceSync: 0,
      tokenCount: 2,
    });
  });
}

test('the payee spends what it received at once, and value stays conserved over a chain of payments', () => {
  const pki = new TestPki();
  const card = pki.newDevice('card', 'card');
  const shop = pki.newDevice('phone', 'shop');
  const friend = pki.newDevice('phone', 'friend');
  pki.load(card, 5_000n);
  for (const [payer, payee, amount] of [
    [card, shop, 1_000n],
    [shop, friend, 600n],
    [friend, card, 250n],
    [card, friend, 4_250n],
    [friend, shop, 4_600n],
  ] as const) {
    assert.deepEqual(new OfflinePayment(payer, payee, amount).tap(), { outcome: 'completed' });
  }
  assert.equal(publicData(card).balance, 0n);
  assert.equal(publicData(friend).balance, 0n);
  assert.equal(publicData(shop).balance, 5_000n);
  // Every token shop holds descends from the one load; the longest chain is card→shop→friend→card→friend→shop.
  assert.equal(publicData(shop).tokenCount, 2);
});

test('a payment that pays the whole balance leaves no change token', () => {
  const pki = new TestPki();
  const payer = pki.newDevice('phone', 'payer');
  const payee = pki.newDevice('card', 'payee');
  pki.load(payer, 1_000n);
  assert.deepEqual(new OfflinePayment(payer, payee, 1_000n).tap(), { outcome: 'completed' });
  assert.deepEqual(party(payer), {
    balance: 0n,
    counter: 1,
    pendingCount: 0,
    paymentsSinceSync: 1,
    tokenCount: 0,
  });
  assert.equal(publicData(payee).balance, 1_000n);
});

test('inputs: the smallest covering token is spent alone, otherwise the largest first', () => {
  const pki = new TestPki();
  const payer = pki.newDevice('phone', 'payer');
  const payee = pki.newDevice('phone', 'payee');
  for (const value of [100n, 500n, 300n]) pki.load(payer, value);
  assert.deepEqual(new OfflinePayment(payer, payee, 250n).tap(), { outcome: 'completed' });
  // 300 covers 250 alone: tokens 100, 500 and the 50 change remain.
  assert.equal(party(payer).tokenCount, 3);
  assert.deepEqual(new OfflinePayment(payer, payee, 600n).tap(), { outcome: 'completed' });
  // No single token covers 600: 500 + 100 are spent exactly, 50 remains.
  assert.deepEqual(party(payer), {
    balance: 50n,
    counter: 2,
    pendingCount: 0,
    paymentsSinceSync: 2,
    tokenCount: 1,
  });
});

test('a phone whose SE keeps its state in files pays, is switched off, and comes back with the same state', () => {
  const directory = mkdtempSync(join(tmpdir(), 'se-'));
  try {
    const pki = new TestPki();
    const template = pki.newDevice('phone', 'phone');
    // Move the personalised chip onto a file medium (durable writes: fsync per physical write).
    const medium = new FileMedium(directory);
    for (const name of template.medium.list()) medium.write(name, template.medium.read(name)!);
    const phone = new Device('phone', 'phone', medium, pki.platform);
    const card = pki.newDevice('card', 'card');
    pki.load(phone, 5_000n);
    assert.deepEqual(new OfflinePayment(phone, card, 1_200n).tap(), { outcome: 'completed' });
    const before = party(phone);
    const restarted = new Device('phone', 'phone', new FileMedium(directory), pki.platform);
    assert.deepEqual(party(restarted), before);
    assert.deepEqual(before, {
      balance: 3_800n,
      counter: 1,
      pendingCount: 0,
      paymentsSinceSync: 1,
      tokenCount: 1,
    });
    assert.deepEqual(new OfflinePayment(restarted, card, 800n).tap(), { outcome: 'completed' });
    assert.equal(party(restarted).balance, 3_000n);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
