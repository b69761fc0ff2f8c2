// The sweep without services: one run per combination, the last parameter varying fastest, each
// run's scenario carrying exactly its swept values; rows taken from the reports; the table and the
// JSON keep the parameters' order; bad sweeps are refused as the options themselves would be.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSweep } from '../../src/cli/simulate.ts';
import { Attacks } from '../../src/sim/attacks.ts';
import { fraudSection } from '../../src/sim/fraud-report.ts';
import { buildReport, type SimulationReport } from '../../src/sim/report.ts';
import { defaultScenario, type Scenario } from '../../src/sim/scenario.ts';
import { runSweep, sweepTable } from '../../src/sim/sweep.ts';
import { add, Tally } from '../../src/sim/tally.ts';

/** A report whose figures come from the scenario: payments = seed, renewals = devices. */
async function fakeRun(scenario: Scenario): Promise<SimulationReport> {
  const tally = new Tally();
  for (let index = 0; index < scenario.seed; index++) add(tally.payments.phoneToPhone, 100n);
  tally.renewals.paymentCount = scenario.devices;
  const checked = { checks: [], supplies: [], onDevices: 0n, inFlight: 0n, refunded: 0n };
  return Promise.resolve(buildReport(scenario, tally, fraudSection(new Attacks([]), []), checked, []));
}

test('a sweep runs every combination, the last parameter fastest, each with its own values', async () => {
  const parameters = parseSweep('devices=4,6', parseSweep('seed=1,2,3'));
  const seen: [number, number][] = [];
  const sweep = await runSweep({ ...defaultScenario, days: 2 }, parameters, undefined, async (scenario) => {
    seen.push([scenario.seed, scenario.devices]);
    return fakeRun(scenario);
  });
  assert.deepEqual(seen, [
    [1, 4],
    [1, 6],
    [2, 4],
    [2, 6],
    [3, 4],
    [3, 6],
  ]);
  assert.deepEqual(sweep.parameters, [
    { name: 'seed', values: ['1', '2', '3'] },
    { name: 'devices', values: ['4', '6'] },
  ]);
  assert.equal(JSON.stringify(sweep.runs[3]?.values), '{"seed":"2","devices":"6"}');
  assert.deepEqual(sweep.runs[3]?.row, {
    payments: 2,
    paymentValue: '200',
    renewalsPerDay: '3.00',
    fraudInjected: 0,
    fraudDetected: 0,
    valueAtStake: '0',
    valueLost: '0',
    honestPayeesHit: 0,
    falseAlerts: 0,
    invariantsHold: true,
  });
  assert.equal(sweep.invariantsHold, true);
  const table = sweepTable(sweep).split('\n');
  assert.equal(table.length, 7);
  assert.match(table[0] ?? '', /^seed {2}devices {2}payments {2}renewals\/day/);
  assert.equal(
    table[1],
    '   1        4         1          2.00      0       0  0.00 XTS  0.00 XTS           0             0        hold',
  );
});

test('a rate is swept in parts per thousand, and renewals per day round half up', async () => {
  const parameters = parseSweep('interrupt-rate=0,0.25');
  const sweep = await runSweep({ ...defaultScenario, devices: 5, days: 3 }, parameters, undefined, fakeRun);
  assert.deepEqual(
    sweep.runs.map((run) => [run.report.scenario.interruptRatePerMille, run.row.renewalsPerDay]),
    [
      [0, '1.67'],
      [250, '1.67'],
    ],
  );
});

test('a sweep of an unknown or repeated option, of a bad value or of too many runs is refused', () => {
  const refused = (text: string, previous = parseSweep('seed=1')) => {
    assert.throws(() => parseSweep(text, previous), { code: 'commander.invalidArgument' }, text);
  };
  refused('nothing=1');
  refused('seed=2');
  refused('devices=1');
  refused('card-share=0.5,2');
  refused('days');
  refused('days=', []);
  refused('days=1,2,3,4,5,6,7,8', parseSweep('seed=1,2,3,4,5,6,7,8,9'));
});
