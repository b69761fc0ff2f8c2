// The Risk lab's decoder of `cbdc simulate --sweep … --json` files: what src/sim writes, it reads
// (the types are compared below, so a field renamed in one fails to compile), and a file that is not
// a sweep report is refused naming the first field that fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SweepReport, SweepRow } from '../../src/sim/sweep-report.ts';
import { decodeSweep, SweepInvalid, type SweepRowView } from '../../src/web/sweep-decode.ts';

/** Each row field as the page holds it: money as bigint, the rest as sim writes it. */
type Money = 'paymentValue' | 'valueAtStake' | 'valueLost';
type RowAsPageHoldsIt = Omit<SweepRow, Money> & Record<Money, bigint>;
const sameFields: [RowAsPageHoldsIt, SweepRowView] extends [SweepRowView, RowAsPageHoldsIt] ? true : never =
  true;

const row: SweepRow = {
  payments: 120,
  paymentValue: '345600',
  renewalsPerDay: '12.40',
  fraudInjected: 3,
  fraudDetected: 3,
  valueAtStake: '9000',
  valueLost: '0',
  honestPayeesHit: 1,
  falseAlerts: 0,
  invariantsHold: true,
};

function sweep(rows: readonly SweepRow[]): Omit<SweepReport, 'runs'> & { runs: unknown[] } {
  return {
    version: 1,
    parameters: [{ name: 'double-spenders', values: rows.map((_, index) => String(index)) }],
    runs: rows.map((item, index) => ({
      values: { 'double-spenders': String(index) },
      row: item,
      report: {},
    })),
    invariantsHold: rows.every((item) => item.invariantsHold),
  };
}

test('a sweep report decodes to its parameters, each run’s values and its row, money as bigint', () => {
  assert.equal(sameFields, true);
  const decoded = decodeSweep(
    JSON.stringify(sweep([row, { ...row, valueLost: '500', invariantsHold: false }])),
  );
  assert.deepEqual(decoded.parameters, [{ name: 'double-spenders', values: ['0', '1'] }]);
  assert.deepEqual(
    decoded.runs.map((run) => [run.values['double-spenders'], run.row.valueLost, run.row.invariantsHold]),
    [
      ['0', 0n, true],
      ['1', 500n, false],
    ],
  );
  assert.deepEqual(decoded.runs[0]?.row, {
    ...row,
    paymentValue: 345_600n,
    valueAtStake: 9_000n,
    valueLost: 0n,
  });
  assert.equal(decoded.invariantsHold, false);
});

test('what is not a sweep report is refused, naming the field', () => {
  const cases: readonly [string, string][] = [
    ['{', 'not JSON'],
    ['[]', 'sweep is not an object'],
    [JSON.stringify({ ...sweep([row]), version: 2 }), 'version is not 1'],
    [JSON.stringify(sweep([{ ...row, valueLost: '-5' }])), 'runs[0].row.valueLost is not minor units'],
    [JSON.stringify(sweep([{ ...row, valueLost: '1.5' }])), 'runs[0].row.valueLost is not minor units'],
    [JSON.stringify(sweep([{ ...row, payments: 1.5 }])), 'runs[0].row.payments is not a count'],
    [
      JSON.stringify(sweep([{ ...row, renewalsPerDay: '12.4' }])),
      'runs[0].row.renewalsPerDay is not a decimal with two places',
    ],
    [
      JSON.stringify({ ...sweep([row]), runs: [{ values: {}, row }] }),
      'runs[0].values.double-spenders is not a string',
    ],
  ];
  for (const [json, message] of cases) {
    assert.throws(
      () => decodeSweep(json),
      (error: unknown) => error instanceof SweepInvalid && error.message === message,
      message,
    );
  }
});
