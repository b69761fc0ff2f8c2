// `cbdc simulate` with every attack kind across two DCPs and the MDS: a double spender, a
// counterfeiter and a cloner among honest consumers and merchants. Every fraud is refused offline by
// an honest SE or blamed by the MDS on the attacker's own SE, no honest SE is blamed, every
// invariant holds, and the same seed replays byte for byte although the MDS works on its own timers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { counterfeitValue } from '../../src/sim/attacks.ts';
import type { SimulationReport } from '../../src/sim/report.ts';
import { repositoryRoot } from '../../src/testing/service-process.ts';

const scenario = [
  '--seed',
  '3',
  '--devices',
  '6',
  '--merchants',
  '4',
  '--days',
  '3',
  '--dcps',
  '2',
  '--interrupt-rate',
  '0',
  '--double-spenders',
  '1',
  '--counterfeiters',
  '1',
  '--cloners',
  '1',
  '--json',
];

async function simulate(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
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

test('every attack kind across two DCPs: each fraud refused offline or blamed on its SE, no false alert, all invariants hold, replayed exactly', async () => {
  const [first, second] = [await simulate(scenario), await simulate(scenario)];
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.stdout, first.stdout, 'the same seed and options give the same report');
  const report = JSON.parse(first.stdout) as SimulationReport;
  assert.deepEqual(
    report.invariants.filter((check) => !check.holds),
    [],
  );
  assert.equal(report.invariantsHold, true);
  const { fraud } = report;
  assert.equal(fraud.falseAlerts, 0);
  // Full verification kept forged value from honest payees, and double-spent value is honoured:
  // every honest unload was paid.
  assert.deepEqual(report.unbacked, {
    renewals: 0,
    unloads: { count: 0, value: '0' },
    transfers: { count: 0, value: '0' },
  });

  // The double spender and the cloner: both payments accepted in good faith, then blamed.
  for (const kind of ['doubleSpend', 'clone'] as const) {
    assert.deepEqual(
      fraud.frauds.filter((line) => line.kind === kind).map((line) => [line.outcome, line.payeesHit.length]),
      [['detected', 2]],
      kind,
    );
    assert.equal(fraud.byKind[kind].detected, 1);
    assert.ok(BigInt(fraud.byKind[kind].valueAtStake) > 0n, `${kind}: the MDS put value at stake`);
    assert.ok(BigInt(fraud.byKind[kind].valueLost) > 0n, `${kind}: the second payee holds forged value`);
  }
  // The counterfeiter: its forged token refused by the honest payee's SE; the one it renewed at
  // its DCP (which renews without asking the MDS) minted, then blamed as fake funding.
  assert.deepEqual(
    fraud.frauds
      .filter((line) => line.kind === 'counterfeit')
      .map((line) => [line.outcome, line.refusal, line.lost]),
    [
      ['refusedOffline', 'issuanceNotFromDcp', '0'],
      ['detected', null, counterfeitValue.toString()],
    ],
  );
  assert.ok(
    fraud.alerts.fakeFunding >= 1 && fraud.alerts.counterReuse === 1 && fraud.alerts.doubleSpend >= 2,
  );
  // No fraud of any kind went unnoticed.
  assert.deepEqual(
    fraud.frauds.filter((line) => line.outcome === 'undetected'),
    [],
  );
  // After revocation, every payment an honest SE refused was refused for the deny list, and every
  // one accepted (by a payee that had not synced since) is blamed as a revoked signer's.
  const afterRevocation = fraud.frauds.filter((line) => line.kind === 'spendAfterRevocation');
  assert.ok(afterRevocation.length > 0, 'the revoked attackers kept paying');
  for (const line of afterRevocation)
    assert.ok(line.refusal === null || line.refusal === 'deniedSecureElement', String(line.refusal));
  assert.ok(fraud.byKind.spendAfterRevocation.refusedOffline > 0, 'some payee had the deny list');
  assert.equal(
    fraud.alerts.revokedSigner > 0,
    fraud.byKind.spendAfterRevocation.detected > 0,
    'a revokedSigner alert exactly when a payment after revocation was accepted',
  );
  // The value check counted what the attackers forged.
  const value = report.invariants.find((check) => check.name.startsWith('on devices'));
  const forged = fraud.frauds.reduce((total, line) => total + BigInt(line.forged), 0n);
  assert.equal(value?.figures['forged'], forged.toString());
});

/** The scenario above with its counterfeiter alone, under one more option; its report. */
async function counterfeiterUnder(option: string, value: string): Promise<SimulationReport> {
  const run = await simulate([
    ...scenario.filter((_, index) => index < 12),
    '--counterfeiters',
    '1',
    option,
    value,
    '--json',
  ]);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as SimulationReport;
}

test("with --renewal-check sync the counterfeiter's forged token is refused at its DCP: nothing lost, still blamed", async () => {
  const report = await counterfeiterUnder('--renewal-check', 'sync');
  assert.equal(report.scenario.renewalCheck, 'sync');
  assert.equal(report.invariantsHold, true);
  assert.deepEqual(
    report.fraud.frauds
      .filter((line) => line.kind === 'counterfeit')
      .map((line) => [line.outcome, line.refusal, line.lost]),
    [
      ['refusedOffline', 'issuanceNotFromDcp', '0'],
      ['refusedOffline', 'renewalCheckRefused', '0'],
    ],
    'async renews it (the test above); sync does not',
  );
  assert.equal(report.fraud.byKind.counterfeit.valueLost, '0');
  assert.ok(report.fraud.alerts.fakeFunding >= 1, 'the MDS blamed the counterfeiter all the same');
  assert.equal(report.fraud.falseAlerts, 0);
});

test("with --verify last-hop the counterfeiter's forged token reaches an honest payee, who cannot unload it", async () => {
  const report = await counterfeiterUnder('--verify', 'last-hop');
  assert.equal(report.scenario.verify, 'last-hop');
  assert.equal(report.invariantsHold, true);
  const counterfeits = report.fraud.frauds.filter((line) => line.kind === 'counterfeit');
  assert.deepEqual(
    counterfeits.map((line) => [line.outcome, line.refusal, line.lost, line.payeesHit.length]),
    [
      ['detected', null, counterfeitValue.toString(), 1],
      ['detected', null, counterfeitValue.toString(), 0],
    ],
    'full verification refuses the first one offline (the first test); last-hop lets it through',
  );
  assert.equal(report.fraud.byKind.counterfeit.honestPayeesHit, 1);
  assert.equal(report.fraud.byKind.counterfeit.valueLost, (2n * counterfeitValue).toString());
  // The payee's unloads wait for the MDS's yes (the unload gate), which never comes.
  assert.ok(report.unbacked.unloads.count > 0, 'the honest payee tried to unload the forged value');
  assert.ok(BigInt(report.unbacked.unloads.value) >= counterfeitValue);
  assert.equal(report.fraud.falseAlerts, 0, 'the payee is not blamed');
});
