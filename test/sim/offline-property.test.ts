// The simulator's offline payment step over emulated SEs alone (no services): whatever the seed, the
// rates and the amounts, every attempt ends as exactly one of paid, left in flight or refused, and
// the chips' balances plus what the tally holds in flight are what was loaded — value is conserved
// through broken, re-tapped and abandoned taps. Refusals name the side that refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SeededRandom } from '../../src/demo/seeded-random.ts';
import type { Device } from '../../src/device/device.ts';
import { payOffline, type Party } from '../../src/sim/offline.ts';
import { defaultScenario, type Scenario } from '../../src/sim/scenario.ts';
import { Tally } from '../../src/sim/tally.ts';
import { TestPki } from '../../src/testing/test-pki.ts';

const pki = new TestPki();
const loaded = 40_000n;

function party(device: Device): Party {
  pki.load(device, loaded);
  return { device };
}

function balances(parties: readonly Party[]): bigint {
  return parties.reduce((total, each) => total + each.device.client().getData().balance, 0n);
}

test('every attempt is paid, left in flight or refused, and value is conserved', () => {
  let sawInFlight = false;
  let sawRefusal = false;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.integer({ min: 0, max: 1_000 }),
      fc.integer({ min: 0, max: 1_000 }),
      fc.array(fc.tuple(fc.nat(2), fc.nat(1), fc.bigInt({ min: 1n, max: 30_000n })), {
        minLength: 1,
        maxLength: 8,
      }),
      (seed, interruptRatePerMille, retapRatePerMille, attempts) => {
        const scenario: Scenario = { ...defaultScenario, seed, interruptRatePerMille, retapRatePerMille };
        const card = party(pki.newDevice('card', 'card'));
        const phones = [party(pki.newDevice('phone', 'phone-a')), party(pki.newDevice('phone', 'phone-b'))];
        const everyone = [card, ...phones];
        const random = new SeededRandom(seed);
        const tally = new Tally();
        for (const [payerIndex, payeeIndex, amount] of attempts) {
          // A payer of the three, and a payee among the others that is never a second card.
          const payer = everyone[payerIndex]!;
          const payees = payer === card ? phones : everyone.filter((each) => each !== payer);
          payOffline(scenario, random, tally, payer, payees[payeeIndex % payees.length]!, amount);
        }
        const paid = Object.values(tally.payments).reduce((total, each) => total + each.count, 0);
        const refused = [...tally.refusals.values()].reduce((total, count) => total + count, 0);
        assert.equal(paid + tally.leftInFlight.count + refused, attempts.length);
        assert.ok(tally.inFlight >= tally.leftInFlight.value && tally.leftInFlight.value >= 0n);
        assert.equal(balances(everyone) + tally.inFlight, loaded * 3n);
        sawInFlight ||= tally.inFlight > 0n;
        sawRefusal ||= refused > 0;
      },
    ),
    { numRuns: 40, seed: 10 },
  );
  // Guards against passing vacuously: some runs left value in flight, some were refused.
  assert.ok(sawInFlight && sawRefusal);
});

test('a refusal names the side whose SE refused, and moves nothing', () => {
  const card = party(pki.newDevice('card', 'card'));
  const phone = party(pki.newDevice('phone', 'phone'));
  const never: Scenario = { ...defaultScenario, interruptRatePerMille: 0 };
  const tally = new Tally();
  // Above the card's single payment limit (20,000): the payer's PAY refuses.
  const overLimit = payOffline(never, new SeededRandom(1), tally, card, phone, 20_001n);
  assert.deepEqual(overLimit, { code: 'paymentLimitExceeded', refusedBy: card });
  // The card would hold more than its balance limit (50,000): the payee's PAYMENT REQUEST refuses.
  const payeeFull = payOffline(never, new SeededRandom(1), tally, phone, card, 10_001n + loaded);
  assert.deepEqual(payeeFull, { code: 'balanceLimitExceeded', refusedBy: card });
  assert.deepEqual(Object.fromEntries(tally.refusals), { paymentLimitExceeded: 1, balanceLimitExceeded: 1 });
  assert.equal(tally.inFlight, 0n);
  assert.equal(card.device.client().getData().balance, loaded);
  assert.equal(phone.device.client().getData().balance, loaded);
});
