// The report's own rules, without starting services: a check that failed (on any day) makes the run
// fail; money is written as decimal strings of minor units; rates parse exactly from their digits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRate } from '../../src/cli/simulate.ts';
import type { Checked } from '../../src/sim/invariants.ts';
import { buildReport, reportJson, reportSummary } from '../../src/sim/report.ts';
import { defaultScenario } from '../../src/sim/scenario.ts';
import { add, Tally } from '../../src/sim/tally.ts';
import { Attacks } from '../../src/sim/attacks.ts';
import { fraudSection } from '../../src/sim/fraud-report.ts';

const noFraud = fraudSection(new Attacks([]), []);

function checked(holds: boolean): Checked {
  return {
    checks: [{ name: 'ledger money conserved', holds, figures: { issued: 1_000n, bank: 999n } }],
    supplies: [{ dcp: 'dcp-1', poolBalance: 700n, issued: 900n, retired: 200n, queued: 0n, settled: 0n }],
    onDevices: 650n,
    inFlight: 50n,
    refunded: 0n,
  };
}

function tally(): Tally {
  const counted = new Tally();
  add(counted.payments.cardToPhone, 1_250n);
  add(counted.payments.cardToPhone, 50n);
  add(counted.leftInFlight, 50n);
  counted.inFlight = 50n;
  counted.refused('paymentLimitExceeded');
  counted.refused('balanceLimitExceeded');
  counted.refused('paymentLimitExceeded');
  return counted;
}

test('a report in which every check held on every day holds; one broken check or day fails it', () => {
  assert.equal(buildReport(defaultScenario, tally(), noFraud, checked(true), []).invariantsHold, true);
  assert.equal(buildReport(defaultScenario, tally(), noFraud, checked(false), []).invariantsHold, false);
  const brokenEarlier = buildReport(defaultScenario, tally(), noFraud, checked(true), [2]);
  assert.equal(brokenEarlier.invariantsHold, false);
  assert.deepEqual(brokenEarlier.daysBroken, [2]);
  assert.match(
    reportSummary(buildReport(defaultScenario, tally(), noFraud, checked(false), [1])),
    /BROKEN ledger/,
  );
});

test('the JSON report writes money as minor-unit strings and refusal codes in order', () => {
  const report = JSON.parse(
    reportJson(buildReport(defaultScenario, tally(), noFraud, checked(true), [])),
  ) as Record<string, unknown>;
  assert.deepEqual(report['payments'], {
    cardToPhone: { count: 2, value: '1300' },
    phoneToCard: { count: 0, value: '0' },
    phoneToPhone: { count: 0, value: '0' },
  });
  assert.equal(JSON.stringify(report['refusals']), '{"balanceLimitExceeded":1,"paymentLimitExceeded":2}');
  assert.deepEqual(report['value'], { onDevices: '650', inFlight: '50', refunded: '0' });
  assert.deepEqual(report['supply'], [{ dcp: 'dcp-1', pool: '700', issued: '900', retired: '200' }]);
});

test('rates parse from their digits into parts per thousand, and nothing else parses', () => {
  const rates: [string, number][] = [
    ['0', 0],
    ['0.3', 300],
    ['0.05', 50],
    ['0.125', 125],
    ['1', 1_000],
    ['1.000', 1_000],
  ];
  for (const [text, perMille] of rates) assert.equal(parseRate(text), perMille, text);
  for (const text of ['', '.5', '0.1234', '1.5', '2', '-0.1', '0,5', '1e-1', ' 0.5'])
    assert.throws(() => parseRate(text), { code: 'commander.invalidArgument' }, text);
});
