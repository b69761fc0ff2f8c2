// k-suppression of the indicators (docs/mds.md, "Indicators"): a cell over k − 1 distinct SEs is
// suppressed, never zero, and over k it is shown; buckets are by ingest time; payments fall in the
// bucket of the sync that reported them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketIndicators, type IndicatorFacts } from './indicators.ts';

const k = 10;
const syncs = (count: number, atMs: number) =>
  Array.from({ length: count }, (_, index) => ({
    seId: `se-${index}`,
    counter: 3,
    atMs,
    balance: 500n,
    kind: index % 2 === 0 ? ('card' as const) : ('phone' as const),
  }));
const payments = (count: number, atMs: number) =>
  Array.from({ length: count }, (_, index) => ({ payerId: `se-${index}`, atMs, value: 100n, generation: 1 }));

test('a bucket over k − 1 SEs is suppressed, over k it is shown, and k is the bound', () => {
  const facts: IndicatorFacts = {
    syncs: [...syncs(k - 1, 1_500), ...syncs(k, 2_500)],
    payments: [...payments(k - 1, 1_500), ...payments(k, 2_500)],
    alerts: [],
  };
  const [first, second] = bucketIndicators(facts, {
    fromMs: 1_000,
    toMs: 3_000,
    bucketMs: 1_000,
    secureElementsMin: k,
  });
  assert.ok(first !== undefined && second !== undefined);
  assert.deepEqual(first.payments, {
    count: { suppressed: true },
    value: { suppressed: true },
    average: { suppressed: true },
  });
  assert.deepEqual(first.offlineValueOutstanding, { suppressed: true });
  assert.deepEqual(second.payments, {
    count: { suppressed: false, value: 10n },
    value: { suppressed: false, value: 1_000n },
    average: { suppressed: false, value: 100n },
  });
  // Ten SEs hold 500 each at the second bucket's end (the first nine synced again in it).
  assert.deepEqual(second.offlineValueOutstanding, { suppressed: false, value: 5_000n });
  assert.deepEqual(second.velocityPpm, { suppressed: false, value: 200_000n });
  // Five cards and five phones synced: each kind is under k, so both are suppressed.
  assert.deepEqual(second.devices, { card: { suppressed: true }, phone: { suppressed: true } });
  assert.deepEqual(second.balances[0], { upTo: 1_000n, count: { suppressed: false, value: 10n } });
  assert.deepEqual(second.balances[1], { upTo: 10_000n, count: { suppressed: true } });
  // Nine SEs synced before: nine intervals of 1,000 ms, under k.
  assert.deepEqual(second.renewalIntervalsMs[0], { upTo: 3_600_000n, count: { suppressed: true } });
  assert.deepEqual(second.recovery, { refunds: { suppressed: true }, value: { suppressed: true } });
  const shown = bucketIndicators(facts, {
    fromMs: 1_000,
    toMs: 2_000,
    bucketMs: 1_000,
    secureElementsMin: k - 1,
  });
  assert.deepEqual(shown[0]?.payments.count, { suppressed: false, value: 9n });
});

test('a range that is empty, reversed, uneven or too long is refused', () => {
  const facts: IndicatorFacts = { syncs: [], payments: [], alerts: [] };
  for (const range of [
    { fromMs: 5, toMs: 5, bucketMs: 1 },
    { fromMs: 5, toMs: 1, bucketMs: 1 },
    { fromMs: 0, toMs: 10, bucketMs: 3 },
    { fromMs: 0, toMs: 169, bucketMs: 1 },
  ])
    assert.throws(() => bucketIndicators(facts, { ...range, secureElementsMin: k }), {
      code: 'indicatorsRangeInvalid',
    });
});
