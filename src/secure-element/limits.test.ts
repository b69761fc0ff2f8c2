// The offline limits (DESIGN §6) through APDUs: each limit, once reached, refuses with its exact
// status word and code and changes nothing on either secure element (GET DATA and every byte of
// memory); where the condition can be lifted (a sync, newer limits, a receipt, more funds), the very
// same command then succeeds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { secureRandomBytes } from '../crypto/node-crypto.ts';
import { OfflinePayment } from '../device/offline-payment.ts';
import type { Device } from '../device/device.ts';
import type { Limits } from '../core/limits.ts';
import { publicData } from '../testing/devices.ts';
import { assertRefusedWithoutChange } from '../testing/forge.ts';
import { TestPki } from '../testing/test-pki.ts';
import { pendingPaymentsMax } from './commands/pay.ts';

function balanceOf(device: Device): bigint {
  return publicData(device).balance;
}

/** A complete, acknowledged payment. */
function payNow(payer: Device, payee: Device, amount: bigint): void {
  assert.deepEqual(new OfflinePayment(payer, payee, amount).tap(), { outcome: 'completed' });
}

/**
 * BEGIN SYNC then COMPLETE SYNC with a renewal of everything claimed into one token (DESIGN §7).
 * The test clock then moves on, so that later loads postdate the renewal.
 */
function sync(pki: TestPki, device: Device): bigint {
  const client = device.client();
  const { claim } = client.beginSync(secureRandomBytes(16));
  const value = claim.body.tokens.reduce((sum, token) => sum + token.value, 0n);
  const outputs = value === 0n ? [] : [{ value, owner: claim.body.seId }];
  const renewal = pki.dcp.issue(
    'renewal',
    outputs,
    claim.body.tokens.map((token) => token.tokenId),
  );
  const balance = client.completeSync(renewal, []);
  pki.time += 60;
  return balance;
}

function phone(pki: TestPki, name: string, limits: Partial<Limits> = {}): Device {
  return pki.newDevice('phone', name, { limits });
}

void describe('balanceMax: balanceLimitExceeded 6985', () => {
  const refusal = { sw: 0x6985, code: 'balanceLimitExceeded' } as const;

  void test('LOAD past the balance limit, then up to it exactly', () => {
    const pki = new TestPki();
    const card = pki.newDevice('card', 'card', { limits: { balanceMax: 10_000n } });
    assert.equal(pki.load(card, 8_000n), 8_000n);
    assertRefusedWithoutChange([card], () => pki.load(card, 2_001n), refusal);
    assert.equal(pki.load(card, 2_000n), 10_000n);
    assertRefusedWithoutChange([card], () => pki.load(card, 1n), refusal);
  });

  void test('PAYMENT REQUEST counts the balance and every outstanding request', () => {
    const pki = new TestPki();
    const payee = phone(pki, 'payee', { balanceMax: 10_000n });
    pki.load(payee, 8_000n);
    assertRefusedWithoutChange([payee], () => payee.client().paymentRequest(2_001n), refusal);
    payee.client().paymentRequest(1_500n);
    assertRefusedWithoutChange([payee], () => payee.client().paymentRequest(501n), refusal);
    payee.client().paymentRequest(500n);
    assert.equal(balanceOf(payee), 8_000n);
  });

  void test('RECEIVE when a load filled the payee after its request; accepted once it paid some out', () => {
    const pki = new TestPki();
    const payer = phone(pki, 'payer');
    const payee = phone(pki, 'payee', { balanceMax: 10_000n });
    const third = phone(pki, 'third');
    pki.load(payer, 5_000n);
    pki.load(payee, 8_000n);
    const request = payee.client().paymentRequest(2_000n);
    const bundle = payer.client().pay(request, 0);
    // LOAD checks the balance only: the request's promise is broken.
    assert.equal(pki.load(payee, 1_000n), 9_000n);
    assertRefusedWithoutChange([payee, payer], () => payee.client().receive(bundle), refusal);
    payNow(payee, third, 1_000n);
    payee.client().receive(bundle);
    assert.deepEqual([balanceOf(payer), balanceOf(payee), balanceOf(third)], [3_000n, 10_000n, 1_000n]);
  });
});

void test('paymentMax on PAY: paymentLimitExceeded 6985; the same request goes through under newer limits', () => {
  const pki = new TestPki();
  const payer = phone(pki, 'payer', { paymentMax: 5_000n });
  const payee = phone(pki, 'payee');
  pki.load(payer, 20_000n);
  const request = payee.client().paymentRequest(5_001n);
  assertRefusedWithoutChange([payer, payee], () => payer.client().pay(request, 0), {
    sw: 0x6985,
    code: 'paymentLimitExceeded',
  });
  payNow(payer, payee, 5_000n);
  payer.client().updateLimits(pki.dcp.limits('phone', 2, { paymentMax: 6_000n }));
  payee.client().receive(payer.client().pay(request, 0));
  assert.deepEqual([balanceOf(payer), balanceOf(payee)], [9_999n, 10_001n]);
});

void test('offlinePaymentsMax on PAY: offlinePaymentsLimitExceeded 6985 until a sync', () => {
  const pki = new TestPki();
  const payer = pki.newDevice('card', 'payer', { limits: { offlinePaymentsMax: 2 } });
  const payee = phone(pki, 'payee');
  pki.load(payer, 10_000n);
  payNow(payer, payee, 1_000n);
  payNow(payer, payee, 1_000n);
  assert.equal(publicData(payer).paymentsSinceSync, 2);
  const request = payee.client().paymentRequest(1_000n);
  assertRefusedWithoutChange([payer, payee], () => payer.client().pay(request, 0), {
    sw: 0x6985,
    code: 'offlinePaymentsLimitExceeded',
  });
  assert.equal(sync(pki, payer), 8_000n);
  assert.equal(publicData(payer).paymentsSinceSync, 0);
  payee.client().receive(payer.client().pay(request, 0));
  assert.deepEqual([balanceOf(payer), balanceOf(payee)], [7_000n, 3_000n]);
});

void test('generationMax on PAY: a token relayed through SEs up to the limit cannot hop again until renewed', () => {
  const pki = new TestPki();
  const limits = { generationMax: 3 };
  const relays = ['a', 'b', 'c', 'd'].map((name) => phone(pki, name, limits));
  const [a, b, c, d] = relays as [Device, Device, Device, Device];
  const e = phone(pki, 'e');
  pki.load(a, 1_000n);
  payNow(a, b, 1_000n); // generation 1
  payNow(b, c, 1_000n); // generation 2
  payNow(c, d, 1_000n); // generation 3: the limit, still received
  const request = e.client().paymentRequest(1_000n);
  assertRefusedWithoutChange([d, e], () => d.client().pay(request, 0), {
    sw: 0x6985,
    code: 'generationLimitExceeded',
  });
  assert.equal(sync(pki, d), 1_000n); // the renewal is generation 0
  e.client().receive(d.client().pay(request, 0));
  assert.deepEqual(relays.map(balanceOf).concat(balanceOf(e)), [0n, 0n, 0n, 0n, 1_000n]);
});

void describe('historyBytesMax: historyBytesLimitExceeded 6985', () => {
  const refusal = { sw: 0x6985, code: 'historyBytesLimitExceeded' } as const;

  void test('PAY of a token whose history grew past the limit, until a renewal resets it', () => {
    const pki = new TestPki();
    const first = phone(pki, 'first');
    const middle = phone(pki, 'middle');
    const last = phone(pki, 'last');
    pki.load(first, 1_000n);
    const received = first.client().pay(middle.client().paymentRequest(1_000n), 0);
    middle.client().receive(received);
    // Room for one hop's bundle and a little more, not for a second hop's.
    middle.client().updateLimits(pki.dcp.limits('phone', 2, { historyBytesMax: received.length + 100 }));
    const request = last.client().paymentRequest(1_000n);
    assertRefusedWithoutChange([middle, last], () => middle.client().pay(request, 0), refusal);
    sync(pki, middle);
    const bundle = middle.client().pay(request, 0);
    assert.ok(bundle.length <= received.length + 100, `${bundle.length} bytes after renewal`);
    last.client().receive(bundle);
    assert.equal(balanceOf(last), 1_000n);
  });

  void test('RECEIVE of a bundle one byte longer than the limit, accepted at exactly the limit', () => {
    const pki = new TestPki();
    const payer = phone(pki, 'payer');
    const payee = phone(pki, 'payee');
    pki.load(payer, 1_000n);
    const bundle = payer.client().pay(payee.client().paymentRequest(1_000n), 0);
    payee.client().updateLimits(pki.dcp.limits('phone', 2, { historyBytesMax: bundle.length - 1 }));
    assertRefusedWithoutChange([payee, payer], () => payee.client().receive(bundle), refusal);
    payee.client().updateLimits(pki.dcp.limits('phone', 3, { historyBytesMax: bundle.length }));
    payee.client().receive(bundle);
    assert.equal(balanceOf(payee), 1_000n);
  });
});

void describe('inputsMax: inputsLimitExceeded 6985', () => {
  const refusal = { sw: 0x6985, code: 'inputsLimitExceeded' } as const;

  /** A phone holding `count` tokens of `value` from one issuance. */
  function holdingSmallTokens(
    pki: TestPki,
    name: string,
    limits: Partial<Limits>,
    count: number,
    value: bigint,
  ) {
    const device = phone(pki, name, limits);
    const owner = publicData(device).seId;
    device.client().load(
      pki.dcp.issue(
        'load',
        Array.from({ length: count }, () => ({ value, owner })),
      ),
    );
    assert.deepEqual(
      { balance: balanceOf(device), tokenCount: publicData(device).tokenCount },
      { balance: value * BigInt(count), tokenCount: count },
    );
    return device;
  }

  void test('PAY needing more small tokens than a transfer may carry, until a renewal merges them', () => {
    const pki = new TestPki();
    const payer = holdingSmallTokens(pki, 'payer', { inputsMax: 2 }, 5, 100n);
    const payee = phone(pki, 'payee');
    const request = payee.client().paymentRequest(300n);
    assertRefusedWithoutChange([payer, payee], () => payer.client().pay(request, 0), refusal);
    payNow(payer, payee, 200n); // two inputs: allowed
    assert.equal(sync(pki, payer), 300n);
    assert.equal(publicData(payer).tokenCount, 1);
    payee.client().receive(payer.client().pay(request, 0));
    assert.deepEqual([balanceOf(payer), balanceOf(payee)], [0n, 500n]);
  });

  void test('RECEIVE of a transfer with more inputs than the payee allows, accepted under newer limits', () => {
    const pki = new TestPki();
    const payer = holdingSmallTokens(pki, 'payer', { inputsMax: 3 }, 3, 100n);
    const payee = phone(pki, 'payee', { inputsMax: 2 });
    const bundle = payer.client().pay(payee.client().paymentRequest(300n), 0);
    assertRefusedWithoutChange([payee, payer], () => payee.client().receive(bundle), refusal);
    payee.client().updateLimits(pki.dcp.limits('phone', 2, { inputsMax: 3 }));
    payee.client().receive(bundle);
    assert.equal(balanceOf(payee), 300n);
  });
});

void test('challengesMax on PAYMENT REQUEST: challengesLimitExceeded 6A84 until one is answered', () => {
  const pki = new TestPki();
  const payer = phone(pki, 'payer');
  const payee = pki.newDevice('card', 'payee', { limits: { challengesMax: 2 } });
  pki.load(payer, 1_000n);
  const first = payee.client().paymentRequest(100n);
  payee.client().paymentRequest(200n);
  assertRefusedWithoutChange([payee], () => payee.client().paymentRequest(300n), {
    sw: 0x6a84,
    code: 'challengesLimitExceeded',
  });
  payee.client().receive(payer.client().pay(first, 0));
  payee.client().paymentRequest(300n);
  assertRefusedWithoutChange([payee], () => payee.client().paymentRequest(400n), {
    sw: 0x6a84,
    code: 'challengesLimitExceeded',
  });
});

void describe('insufficientFunds 6985', () => {
  const refusal = { sw: 0x6985, code: 'insufficientFunds' } as const;

  void test('PAY of more than the payer holds, accepted after a load', () => {
    const pki = new TestPki();
    const payer = pki.newDevice('card', 'payer');
    const payee = phone(pki, 'payee');
    pki.load(payer, 1_000n);
    const request = payee.client().paymentRequest(1_001n);
    assertRefusedWithoutChange([payer, payee], () => payer.client().pay(request, 0), refusal);
    pki.load(payer, 1n);
    payee.client().receive(payer.client().pay(request, 0));
    assert.deepEqual([balanceOf(payer), balanceOf(payee)], [0n, 1_001n]);
  });

  void test('PAY while every token is locked by an open sync, accepted after COMPLETE SYNC', () => {
    const pki = new TestPki();
    const payer = phone(pki, 'payer');
    const payee = phone(pki, 'payee');
    pki.load(payer, 1_000n);
    const client = payer.client();
    const { claim } = client.beginSync(secureRandomBytes(16));
    const request = payee.client().paymentRequest(400n);
    assertRefusedWithoutChange([payer, payee], () => client.pay(request, 0), refusal);
    const tokenIds = claim.body.tokens.map((token) => token.tokenId);
    client.completeSync(pki.dcp.issue('renewal', [{ value: 1_000n, owner: claim.body.seId }], tokenIds), []);
    payee.client().receive(client.pay(request, 0));
    assert.deepEqual([balanceOf(payer), balanceOf(payee)], [600n, 400n]);
  });
});

void test('the pending log: pendingLogFull 6A84 after 16 unacknowledged payments, until a receipt', () => {
  assert.equal(pendingPaymentsMax, 16);
  const pki = new TestPki();
  const payer = phone(pki, 'payer');
  const payee = phone(pki, 'payee', { challengesMax: 20 });
  // Seventeen tokens of 10, so that each payment spends one whole token and no history grows.
  const owner = publicData(payer).seId;
  payer.client().load(
    pki.dcp.issue(
      'load',
      Array.from({ length: 16 }, () => ({ value: 10n, owner })),
    ),
  );
  pki.load(payer, 10n);
  const bundles: Uint8Array[] = [];
  for (let index = 0; index < pendingPaymentsMax; index++) {
    bundles.push(payer.client().pay(payee.client().paymentRequest(10n), 0));
  }
  assert.deepEqual(
    { pendingCount: publicData(payer).pendingCount, balance: balanceOf(payer) },
    { pendingCount: 16, balance: 10n },
  );
  const request = payee.client().paymentRequest(10n);
  assertRefusedWithoutChange([payer, payee], () => payer.client().pay(request, 0), {
    sw: 0x6a84,
    code: 'pendingLogFull',
  });
  payer.client().acknowledge(payee.client().receive(bundles[0]!));
  assert.equal(publicData(payer).pendingCount, 15);
  payee.client().receive(payer.client().pay(request, 0));
  assert.deepEqual(
    { payer: balanceOf(payer), payee: balanceOf(payee), pending: publicData(payer).pendingCount },
    { payer: 0n, payee: 20n, pending: 16 },
  );
});

void describe('stale updates: the installed version or an older one is refused with 6985', () => {
  void test('limits: limitsVersionStale', () => {
    const pki = new TestPki();
    const device = pki.newDevice('card', 'card');
    const refusal = { sw: 0x6985, code: 'limitsVersionStale' } as const;
    assertRefusedWithoutChange(
      [device],
      () => {
        device.client().updateLimits(pki.dcp.limits('card', 1, { balanceMax: 1n }));
      },
      refusal,
    );
    const newer = pki.dcp.limits('card', 2);
    device.client().updateLimits(newer);
    assert.equal(publicData(device).limitsVersion, 2);
    for (const stale of [newer, pki.dcp.limits('card', 1)]) {
      assertRefusedWithoutChange(
        [device],
        () => {
          device.client().updateLimits(stale);
        },
        refusal,
      );
    }
  });

  void test('deny list: denyListVersionStale', () => {
    const pki = new TestPki();
    const device = pki.newDevice('phone', 'phone');
    const refusal = { sw: 0x6985, code: 'denyListVersionStale' } as const;
    const installed = pki.denyList([], 0);
    assertRefusedWithoutChange(
      [device],
      () => {
        device.client().updateDenyList(installed);
      },
      refusal,
    );
    const newer = pki.denyList([secureRandomBytes(16)], 5);
    device.client().updateDenyList(newer);
    assert.equal(publicData(device).denyListVersion, 5);
    for (const stale of [newer, pki.denyList([], 4)]) {
      assertRefusedWithoutChange(
        [device],
        () => {
          device.client().updateDenyList(stale);
        },
        refusal,
      );
    }
  });
});
