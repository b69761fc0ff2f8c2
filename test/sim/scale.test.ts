// The simulator's parts that scale with the world, without starting services: the draw of who holds
// a card stays exactly the draw it was defined as (a pick among the positions not drawn yet), and
// concurrent steps answer in their items' order, with a bound on how many run at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/demo/seeded-random.ts';
import { eachConcurrently } from '../../src/sim/concurrent.ts';
import { defaultScenario } from '../../src/sim/scenario.ts';
import { consumerKinds } from '../../src/sim/world.ts';

/** The definition: each card drawn by a pick from the positions without one, filtered afresh. */
function kindsByFiltering(devices: number, cards: number, random: SeededRandom): string[] {
  const positions = Array.from({ length: devices }, (_, index) => index);
  const drawn = new Set<number>();
  while (drawn.size < cards) drawn.add(random.pick(positions.filter((position) => !drawn.has(position))));
  return positions.map((position) => (drawn.has(position) ? 'card' : 'phone'));
}

test('cards are drawn at the positions the filtering definition draws, and the stream moves alike', () => {
  for (const [devices, cardSharePerMille, seed] of [
    [1, 1000, 1],
    [7, 500, 2],
    [100, 500, 3],
    [257, 900, 4],
    [1000, 300, 5],
    [64, 1000, 6],
  ] as const) {
    const expected = new SeededRandom(seed);
    const actual = new SeededRandom(seed);
    const scenario = { ...defaultScenario, devices, cardSharePerMille };
    const cards = Math.floor((devices * cardSharePerMille + 500) / 1000);
    assert.deepEqual(consumerKinds(scenario, actual), kindsByFiltering(devices, cards, expected));
    assert.equal(actual.below(1_000_000), expected.below(1_000_000));
  }
});

test('concurrent steps answer in order, at most the bound at once, and the first failure is thrown', async () => {
  let running = 0;
  let most = 0;
  const items = Array.from({ length: 50 }, (_, index) => index);
  const results = await eachConcurrently(
    items,
    async (item) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, (item * 7) % 5));
      running--;
      return item * 2;
    },
    4,
  );
  assert.deepEqual(
    results,
    items.map((item) => item * 2),
  );
  assert.equal(most, 4);
  let started = 0;
  await assert.rejects(
    eachConcurrently(
      items,
      async (item) => {
        started++;
        await Promise.resolve();
        if (item === 3) throw new RangeError('step 3 failed');
        return item;
      },
      2,
    ),
    new RangeError('step 3 failed'),
  );
  assert.equal(started, 5);
});
