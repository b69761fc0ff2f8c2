// `cbdc simulate --sweep`: the scenario once per combination of swept values (the last parameter
// varying fastest), each run a whole `runSimulation` on services of its own, one after the other, and
// the comparison rows taken from the runs' reports (sweep-report.ts). What a central bank chooses its
// risk parameters with: fraud exposure and renewals against the options it can set.
import { assert } from '../core/assert.ts';
import { formatAmount } from '../demo/format.ts';
import type { SimulationReport } from './report.ts';
import { runSimulation, type Progress } from './run.ts';
import type { NumericField, Scenario } from './scenario.ts';
import { sweepReportVersion, type SweepReport, type SweepRow, type SweptParameter } from './sweep-report.ts';

/** Runs one sweep may make: each starts and stops the whole system. */
export const sweepRunsMax = 64;

/** A swept option: its values as typed, parsed into the scenario field they set. */
export interface SweepParameter extends SweptParameter {
  readonly field: NumericField;
  readonly parsed: readonly number[];
}

/** How many runs a sweep of these parameters makes. */
export function runCountOf(parameters: readonly SweptParameter[]): number {
  return parameters.reduce((total, parameter) => total * parameter.values.length, 1);
}

/** Every combination of value positions, the last parameter varying fastest. */
export function combinations(parameters: readonly SweptParameter[]): number[][] {
  assert(runCountOf(parameters) <= sweepRunsMax, 'the caller bounds the sweep');
  let result: number[][] = [[]];
  for (const parameter of parameters)
    result = result.flatMap((prefix) => parameter.values.map((_, index) => [...prefix, index]));
  return result;
}

/** `total / days` with two decimals, rounded half up, from integers. */
function perDay(total: number, days: number): string {
  const hundredths = Math.floor((total * 100 * 2 + days) / (days * 2));
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
}

export function rowOf(report: SimulationReport): SweepRow {
  const payments = Object.values(report.payments);
  const kinds = Object.values(report.fraud.byKind);
  const sum = (values: readonly string[]) =>
    values.reduce((total, value) => total + BigInt(value), 0n).toString();
  return {
    payments: payments.reduce((total, figure) => total + figure.count, 0),
    paymentValue: sum(payments.map((figure) => figure.value)),
    renewalsPerDay: perDay(report.renewals.total, report.scenario.days),
    fraudInjected: kinds.reduce((total, kind) => total + kind.injected, 0),
    fraudDetected: kinds.reduce((total, kind) => total + kind.refusedOffline + kind.detected, 0),
    valueAtStake: sum(kinds.map((kind) => kind.valueAtStake)),
    valueLost: sum(kinds.map((kind) => kind.valueLost)),
    honestPayeesHit: new Set(report.fraud.frauds.flatMap((fraud) => fraud.payeesHit)).size,
    falseAlerts: report.fraud.falseAlerts,
    invariantsHold: report.invariantsHold,
  };
}

/** Told after each run, with how many there are. */
export type SweepProgress = (runsDone: number, runs: number) => void;

export async function runSweep(
  base: Scenario,
  parameters: readonly SweepParameter[],
  progress: SweepProgress = () => undefined,
  run: (scenario: Scenario, progress?: Progress) => Promise<SimulationReport> = runSimulation,
): Promise<SweepReport> {
  const combos = combinations(parameters);
  const runs: SweepReport['runs'][number][] = [];
  for (const combo of combos) {
    let scenario: Scenario = base;
    const values: Record<string, string> = {};
    parameters.forEach((parameter, position) => {
      const index = combo[position] ?? 0;
      scenario = { ...scenario, [parameter.field]: parameter.parsed[index] ?? 0 };
      values[parameter.name] = parameter.values[index] ?? '';
    });
    const report = await run(scenario);
    runs.push({ values, row: rowOf(report), report });
    progress(runs.length, combos.length);
  }
  return {
    version: sweepReportVersion,
    parameters: parameters.map(({ name, values }) => ({ name, values })),
    runs,
    invariantsHold: runs.every((entry) => entry.row.invariantsHold),
  };
}

/** The comparison table `cbdc simulate --sweep` prints without --json: one line per run. */
export function sweepTable(sweep: SweepReport): string {
  const header = [
    ...sweep.parameters.map((parameter) => parameter.name),
    'payments',
    'renewals/day',
    'fraud',
    'caught',
    'at stake',
    'lost',
    'payees hit',
    'false alerts',
    'invariants',
  ];
  const rows = sweep.runs.map(({ values, row }) => [
    ...sweep.parameters.map((parameter) => values[parameter.name] ?? ''),
    String(row.payments),
    row.renewalsPerDay,
    String(row.fraudInjected),
    String(row.fraudDetected),
    formatAmount(BigInt(row.valueAtStake)),
    formatAmount(BigInt(row.valueLost)),
    String(row.honestPayeesHit),
    String(row.falseAlerts),
    row.invariantsHold ? 'hold' : 'BROKEN',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((cells) => (cells[column] ?? '').length)),
  );
  const format = (cells: readonly string[]) =>
    cells.map((cell, column) => cell.padStart(widths[column] ?? 0)).join('  ');
  return [format(header), ...rows.map(format)].join('\n');
}
