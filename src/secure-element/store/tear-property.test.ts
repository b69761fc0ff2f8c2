// Property: whatever sequence of commits, power cuts (torn or not, during a commit or during the
// recovery that follows) and re-opens, the store always shows the model's state before or after the
// interrupted commit, and the model then follows whichever one it shows.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { test } from 'node:test';
import fc from 'fast-check';
import { FaultyMedium, isPowerCut, type FaultPlan, type Tear } from './faults.ts';
import { JournaledStore } from './journaled-store.ts';
import { MemoryMedium, type Medium } from './medium.ts';
import { applyChanges, snapshot, type State } from '../../testing/se-store.ts';

type Changes = ReadonlyMap<string, Uint8Array | null>;

interface Step {
  readonly changes: Changes;
  readonly commitCut: FaultPlan | undefined;
  readonly recoveryCut: FaultPlan | undefined;
}

// Few keys, so that commits often update and delete what earlier ones wrote.
const keyArbitrary = fc.constantFrom(
  'a',
  'purse/balance',
  'token/1',
  'token/2',
  'token/3',
  'log/0001',
  'log/0002',
);
const changesArbitrary = fc
  .array(fc.tuple(keyArbitrary, fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null })), { maxLength: 6 })
  .map((entries): Changes => new Map(entries));
const tearArbitrary: fc.Arbitrary<Tear | undefined> = fc.option(
  fc.oneof(
    fc.record({ kind: fc.constant('prefix' as const), bytes: fc.nat(400) }),
    fc.record({ kind: fc.constant('garbage' as const), seed: fc.integer() }),
  ),
  { nil: undefined },
);
// Up to 9 writes: a commit of 6 changes takes 8, so some cuts land past the end and never happen.
const planArbitrary: fc.Arbitrary<FaultPlan | undefined> = fc.option(
  fc
    .tuple(fc.nat(8), tearArbitrary)
    .map(([cutAtWrite, tear]): FaultPlan => (tear === undefined ? { cutAtWrite } : { cutAtWrite, tear })),
  { nil: undefined },
);
const stepArbitrary: fc.Arbitrary<Step> = fc.record({
  changes: changesArbitrary,
  commitCut: planArbitrary,
  recoveryCut: planArbitrary,
});

function withFaults(medium: Medium, plan: FaultPlan | undefined): Medium {
  return plan === undefined ? medium : new FaultyMedium(medium, plan);
}

/** Runs one step on `medium` and returns the model's state after it. */
function runStep(medium: Medium, model: State, step: Step): State {
  const next = applyChanges(model, step.changes);
  const store = JournaledStore.open(withFaults(medium, step.commitCut));
  try {
    store.commit(step.changes);
    assert.deepEqual(snapshot(store), next);
    return next;
  } catch (error) {
    if (!isPowerCut(error)) throw error;
  }
  try {
    JournaledStore.open(withFaults(medium, step.recoveryCut));
  } catch (error) {
    if (!isPowerCut(error)) throw error;
  }
  const seen = snapshot(JournaledStore.open(medium));
  const isBefore = isDeepStrictEqual(seen, model);
  const isAfter = isDeepStrictEqual(seen, next);
  assert.ok(
    isBefore || isAfter,
    'after a power cut the store must show the state before or after the commit',
  );
  return isAfter ? next : model;
}

void test('random commits, cuts and re-opens always leave the state before or after each commit', () => {
  fc.assert(
    fc.property(fc.array(stepArbitrary, { maxLength: 12 }), (steps) => {
      const medium = new MemoryMedium();
      let model: State = new Map();
      for (const step of steps) {
        model = runStep(medium, model, step);
        assert.deepEqual(snapshot(JournaledStore.open(medium)), model);
        assert.equal(medium.list().length, model.size, 'exactly one block per key, no journal left');
      }
    }),
    { numRuns: 400 },
  );
});
