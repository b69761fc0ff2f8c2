// DCP outages (src/sim/outages.ts): the plan is a function of the seed and the rate alone, drawn on a
// stream of its own; a run with outages replays byte for byte, reports its DCP-days out and the online
// steps they deferred, and every invariant still holds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { outageCountOf, planOutages } from '../../src/sim/outages.ts';
import type { SimulationReport } from '../../src/sim/report.ts';
import { defaultScenario } from '../../src/sim/scenario.ts';
import { repositoryRoot } from '../../src/testing/service-process.ts';

const small = { ...defaultScenario, devices: 4, merchants: 1, days: 2 };

test('the outage plan depends on the seed and the rate alone, one set of DCPs out per day', () => {
  const plan = (seed: number, outageRatePerMille: number) =>
    planOutages({ ...small, seed, outageRatePerMille }).map((out) => [...out]);
  assert.deepEqual(plan(1, 500), [[], [1], [0]]);
  assert.deepEqual(plan(1, 500), plan(1, 500));
  assert.deepEqual(plan(2, 500), [[], [0], [0]]);
  assert.deepEqual(plan(1, 0), [[], [], []]);
  assert.deepEqual(plan(1, 1_000), [[], [0, 1], [0, 1]]);
  assert.equal(outageCountOf(planOutages({ ...small, outageRatePerMille: 1_000 })), 4);
});

function simulate(args: readonly string[]): { readonly code: number | null; readonly stdout: string } {
  const common = ['--devices', '4', '--merchants', '1', '--days', '2', '--json'];
  const run = spawnSync(process.execPath, ['bin/cbdc.mjs', 'simulate', ...common, ...args], {
    cwd: repositoryRoot,
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  assert.equal(run.status, 0, run.stderr);
  return { code: run.status, stdout: run.stdout };
}

test('a run with outages replays byte for byte, counts what they deferred, and keeps every invariant', () => {
  const first = simulate(['--outage-rate', '0.5']);
  assert.equal(simulate(['--outage-rate', '0.5']).stdout, first.stdout);
  const report = JSON.parse(first.stdout) as SimulationReport;
  // Seed 1: dcp-2 is out on day 1, dcp-1 (the merchant's) on day 2.
  assert.deepEqual(report.outages, { count: 2, deferred: 6 });
  assert.equal(report.scenario.outageRatePerMille, 500);
  assert.equal(report.invariantsHold, true);
  const without = JSON.parse(simulate([]).stdout) as SimulationReport;
  assert.deepEqual(without.outages, { count: 0, deferred: 0 });
  // The merchant, out on day 2, unloads only once; without outages, on both days.
  assert.deepEqual([report.unloads.count, without.unloads.count], [1, 2]);
});
