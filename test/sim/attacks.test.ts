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
  // After revocation, every payment an honest SE refused was refused for the deny list.
  const afterRevocation = fraud.frauds.filter((line) => line.kind === 'spendAfterRevocation');
  assert.ok(afterRevocation.length > 0, 'the revoked attackers kept paying');
  for (const line of afterRevocation)
    assert.ok(line.refusal === null || line.refusal === 'deniedSecureElement', String(line.refusal));
  assert.ok(fraud.byKind.spendAfterRevocation.refusedOffline > 0, 'some payee had the deny list');
  // The value check counted what the attackers forged.
  const value = report.invariants.find((check) => check.name.startsWith('on devices'));
  const forged = fraud.frauds.reduce((total, line) => total + BigInt(line.forged), 0n);
  assert.equal(value?.figures['forged'], forged.toString());
});
