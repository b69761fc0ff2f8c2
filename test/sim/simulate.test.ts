// `cbdc simulate` as a user runs it, on a small scenario across two DCPs: the same seed and options
// give a byte-identical JSON report and another seed a different one; every invariant holds, and the
// report's figures agree with each other and with what the services answered (the ledger's wallets
// and pools, the DCPs' issued and retired); bad options exit 2 with one line.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { consumerWalletFunds } from '../../src/sim/world.ts';
import { loadAmount } from '../../src/sim/day.ts';
import type { SimulationReport } from '../../src/sim/report.ts';
import { repositoryRoot } from '../../src/testing/service-process.ts';

/** 6 consumers (3 cards), 2 merchants, 2 days, 2 DCPs, with links breaking often. */
const scenario = [
  '--devices',
  '6',
  '--merchants',
  '2',
  '--days',
  '2',
  '--dcps',
  '2',
  '--interrupt-rate',
  '0.3',
  '--retap-rate',
  '0.5',
  '--json',
];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cbdc simulate <args>` outside a terminal (CI set: no progress line). */
async function simulate(args: readonly string[]): Promise<Run> {
  const child = spawn(process.execPath, ['bin/cbdc.mjs', 'simulate', ...args], {
    cwd: repositoryRoot,
    env: { ...process.env, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

let first: Run | undefined;

function firstReport(): SimulationReport {
  assert.ok(first !== undefined, 'the first test ran the scenario');
  return JSON.parse(first.stdout) as SimulationReport;
}

test('the same seed and options give a byte-identical JSON report', async () => {
  first = await simulate(['--seed', '7', ...scenario]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stderr, '');
  assert.equal(first.stdout.split('\n').length, 2, 'one JSON line and its newline');
  const second = await simulate(['--seed', '7', ...scenario]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout);
});

test('another seed gives a different report', async () => {
  const other = await simulate(['--seed', '8', ...scenario]);
  assert.equal(other.code, 0, other.stderr);
  const report = JSON.parse(other.stdout) as SimulationReport;
  assert.equal(report.scenario.seed, 8);
  assert.equal(firstReport().scenario.seed, 7);
  const { scenario: _a, ...figures } = report;
  const { scenario: _b, ...firstFigures } = firstReport();
  assert.notDeepEqual(figures, firstFigures);
});

test('every invariant holds, and the figures agree with what the services answered', () => {
  const report = firstReport();
  assert.deepEqual(
    report.invariants.map((check) => [check.name, check.holds]),
    [
      ['pool = issued − retired at dcp-1', true],
      ['pool = issued − retired at dcp-2', true],
      ['ledger money conserved', true],
      ['on devices + in flight + queued credits = issued − retired + forged', true],
      ['the MDS took in every upload', true],
      ['every MDS alert blames a compromised SE', true],
    ],
  );
  assert.deepEqual(report.daysBroken, []);
  assert.equal(report.invariantsHold, true);
  // All three transact types happened, through real taps, some of them broken.
  for (const direction of ['cardToPhone', 'phoneToCard', 'phoneToPhone'] as const)
    assert.ok(report.payments[direction].count > 0, direction);
  assert.ok(report.taps.interrupted > 0 && report.taps.retapped <= report.taps.interrupted);
  assert.ok(report.taps.interrupted - report.taps.retapped >= report.taps.leftInFlight.count);
  // Loads are whole `loadAmount`s; each transfer's payee renewed to collect it.
  const loads = BigInt(report.loads.value);
  const unloads = BigInt(report.unloads.value);
  assert.equal(loads, BigInt(report.loads.count) * loadAmount);
  assert.equal(report.renewals.creditWaiting, report.transfers.count);
  assert.equal(
    report.renewals.total,
    report.renewals.refusedUntilRenewed +
      report.renewals.paymentCount +
      report.renewals.creditWaiting +
      report.renewals.endOfDay,
  );
  // Every renewal, unload and transfer stored one upload, and the MDS ingested each, raising nothing.
  const ingest = report.invariants.find((check) => check.name === 'the MDS took in every upload');
  const settles = report.renewals.total + report.unloads.count + report.transfers.count;
  assert.deepEqual(ingest?.figures, {
    expected: String(settles),
    ingested: String(settles),
    refused: '0',
    stored: '0',
  });
  assert.equal(report.fraud.falseAlerts, 0);
  assert.deepEqual(report.fraud.frauds, []);
  assert.equal(
    report.unloads.count + report.renewals.endOfDay,
    2 * 2,
    'a merchant unloads or syncs once a day',
  );
  // The ledger, read by the simulator: the bank passed all it was issued to the wallets; loads
  // moved wallets → pools and unloads pools → wallets, and nothing else left or entered them.
  const ledger = report.invariants.find((check) => check.name === 'ledger money conserved');
  const issued = consumerWalletFunds * 6n;
  assert.deepEqual(ledger?.figures, {
    issued: issued.toString(),
    bank: '0',
    wallets: (issued - loads + unloads).toString(),
    pools: (loads - unloads).toString(),
  });
  // The DCPs' books: renewals and transfers retire exactly what they reissue, so across DCPs
  // issued − retired is what was loaded and not unloaded; in flight is what broken taps left.
  const outstanding = report.supply.reduce((total, s) => total + BigInt(s.issued) - BigInt(s.retired), 0n);
  assert.equal(outstanding, loads - unloads);
  assert.deepEqual(report.refusals, {});
  // What broken taps left in flight is still in flight, or was refunded to its payer by the MDS.
  assert.equal(
    BigInt(report.value.inFlight) + BigInt(report.value.refunded),
    BigInt(report.taps.leftInFlight.value),
  );
  // Refunds the DCPs queued wait for their payer's next sync: counted as issued, not on a chip yet.
  const value = report.invariants.find((check) => check.name.startsWith('on devices + in flight'));
  const queued = BigInt(value?.figures['queued'] ?? 'missing');
  assert.equal(BigInt(report.value.onDevices) + BigInt(report.value.inFlight) + queued, outstanding);
});

test('bad options exit 2 with one line', () => {
  for (const args of [
    ['--devices', '1'],
    ['--seed', 'x'],
    ['--card-share', '1.5'],
    ['--interrupt-rate', '0.0001'],
    ['--dcps', '9'],
    ['--double-spenders', '51'],
    ['--cloners', '-1'],
    ['--sweep', 'devices=4,x'],
    ['--sweep', 'seed=1', '--sweep', 'seed=2'],
  ]) {
    const run = spawnSync(process.execPath, ['bin/cbdc.mjs', 'simulate', ...args], {
      cwd: repositoryRoot,
      encoding: 'utf8',
    });
    assert.equal(run.status, 2, args.join(' '));
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^error: /);
  }
});
