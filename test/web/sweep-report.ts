// A sweep report as `cbdc simulate --sweep double-spenders=0,2 --json` writes it, typed by
// src/sim/sweep-report.ts so it cannot drift from the simulator's format; each run's whole report is
// left empty, since the Risk lab reads only the rows.
import type { SweepReport, SweepRow } from '../../src/sim/sweep-report.ts';
import type { SimulationReport } from '../../src/sim/report.ts';

const honest: SweepRow = {
  payments: 120,
  paymentValue: '345600',
  renewalsPerDay: '12.40',
  fraudInjected: 0,
  fraudDetected: 0,
  valueAtStake: '0',
  valueLost: '0',
  honestPayeesHit: 0,
  falseAlerts: 0,
  invariantsHold: true,
};

export function sweepReport(): SweepReport {
  const attacked: SweepRow = {
    ...honest,
    payments: 118,
    paymentValue: '340000',
    renewalsPerDay: '12.10',
    fraudInjected: 4,
    fraudDetected: 4,
    valueAtStake: '9000',
    honestPayeesHit: 1,
  };
  const report = {} as SimulationReport;
  return {
    version: 1,
    parameters: [{ name: 'double-spenders', values: ['0', '2'] }],
    runs: [
      { values: { 'double-spenders': '0' }, row: honest, report },
      { values: { 'double-spenders': '2' }, row: attacked, report },
    ],
    invariantsHold: true,
  };
}
