// Exhaustive power-cut tests: for representative change sets, cut at every physical write of the
// commit, with and without a torn write, and again at every physical write of the recovery.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { FaultyMedium, isPowerCut, type FaultPlan, type Tear } from './faults.ts';
import { JournaledStore } from './journaled-store.ts';
import type { Medium } from './medium.ts';
import {
  applyChanges,
  fileMediumKind,
  filledBytes,
  memoryMediumKind,
  mediumWith,
  snapshot,
  type MediumKind,
  type State,
} from '../../testing/se-store.ts';

type Changes = ReadonlyMap<string, Uint8Array | null>;

const prior: Changes = new Map([
  ['purse/balance', filledBytes(8, 1)],
  ['counter', filledBytes(4, 2)],
  ['token/a', filledBytes(300, 3)],
  ['token/b', filledBytes(300, 4)],
  ['token/c', filledBytes(300, 5)],
]);

const cases: readonly { name: string; changes: Changes }[] = [
  { name: 'one key', changes: new Map([['purse/balance', filledBytes(8, 6)]]) },
  {
    name: 'five keys mixing inserts, updates and deletes',
    changes: new Map([
      ['token/d', filledBytes(300, 7)],
      ['token/a', null],
      ['counter', filledBytes(4, 8)],
      ['log/0001', filledBytes(120, 9)],
      ['token/b', null],
    ]),
  },
  { name: 'a large value', changes: new Map([['history/0001', filledBytes(256 * 1024, 10)]]) },
];

// Plain cut, a tear that keeps nothing, one that keeps half, one that keeps all but a byte, garbage.
const allTears: readonly (Tear | undefined)[] = [
  undefined,
  { kind: 'prefix', bytes: 0 },
  { kind: 'prefix', bytes: 200 },
  { kind: 'prefix', bytes: Number.MAX_SAFE_INTEGER },
  { kind: 'garbage', seed: 7 },
];

function plan(cutAtWrite: number, tear: Tear | undefined): FaultPlan {
  return tear === undefined ? { cutAtWrite } : { cutAtWrite, tear };
}

function tearName(tear: Tear | undefined): string {
  if (tear === undefined) return 'plain';
  return tear.kind === 'prefix' ? `prefix ${tear.bytes}` : `garbage ${tear.seed}`;
}

function commitWrites(kind: MediumKind, changes: Changes): number {
  const counting = new FaultyMedium(mediumWith(kind, prior));
  JournaledStore.open(counting).commit(changes);
  return counting.writesPerformed;
}

/** A medium holding `prior` whose commit of `changes` lost power at physical write `k`. */
function cutCommit(kind: MediumKind, changes: Changes, k: number, tear: Tear | undefined): Medium {
  const medium = mediumWith(kind, prior);
  const store = JournaledStore.open(new FaultyMedium(medium, plan(k, tear)));
  assert.throws(() => {
    store.commit(changes);
  }, isPowerCut);
  return medium;
}

/** Re-opens twice (recovery must be stable), checks the state and that no journal is left over. */
function assertRecoversTo(medium: Medium, expected: State, why: string): void {
  const store = JournaledStore.open(medium);
  assert.deepEqual(snapshot(store), expected, why);
  assert.deepEqual(snapshot(JournaledStore.open(medium)), expected, `${why}, second re-open`);
  assert.equal(medium.list().length, expected.size, `${why}: exactly one block per key`);
  const next = new Map([['after/recovery', Uint8Array.of(1, 2, 3)]]);
  store.commit(next);
  assert.deepEqual(
    snapshot(JournaledStore.open(medium)),
    applyChanges(expected, next),
    `${why}, next commit`,
  );
}

// On files the whole matrix takes seconds; the tears are made above the medium, so files run the
// plain cut and garbage only, and memory runs them all.
const media = [
  { kind: memoryMediumKind(), tears: allTears },
  { kind: fileMediumKind(), tears: [undefined, { kind: 'garbage', seed: 7 }] as const },
];

for (const { kind, tears } of media) {
  void describe(`power cut at every write of a commit, on ${kind.name}`, () => {
    after(() => {
      kind.dispose();
    });
    const before = applyChanges(new Map(), prior);

    for (const { name, changes } of cases) {
      const afterState = applyChanges(before, changes);

      void test(`${name}: the commit takes one write per change plus two`, () => {
        assert.equal(commitWrites(kind, changes), changes.size + 2);
      });

      void test(`${name}: a cut before the journal is whole gives before, any later cut gives after`, () => {
        const writes = commitWrites(kind, changes);
        for (let k = 0; k < writes; k++) {
          for (const tear of tears) {
            // Write 0 is the journal: until it is whole nothing else is written.
            const expected = k === 0 ? before : afterState;
            assertRecoversTo(cutCommit(kind, changes, k, tear), expected, `cut at ${k}, ${tearName(tear)}`);
          }
        }
      });

      void test(`${name}: a second cut at every write of the recovery still gives before or after`, () => {
        const writes = commitWrites(kind, changes);
        for (let k = 0; k < writes; k++) {
          for (const tear of tears) {
            const expected = k === 0 ? before : afterState;
            const counting = new FaultyMedium(cutCommit(kind, changes, k, tear));
            JournaledStore.open(counting);
            const recoveryWrites = counting.writesPerformed;
            for (let j = 0; j < recoveryWrites; j++) {
              for (const recoveryTear of tears) {
                const why = `cut at ${k} ${tearName(tear)}, recovery cut at ${j} ${tearName(recoveryTear)}`;
                const medium = cutCommit(kind, changes, k, tear);
                assert.throws(
                  () => JournaledStore.open(new FaultyMedium(medium, plan(j, recoveryTear))),
                  isPowerCut,
                );
                assertRecoversTo(medium, expected, why);
              }
            }
          }
        }
      });
    }
  });
}
