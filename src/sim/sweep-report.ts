// The report of `cbdc simulate --sweep NAME=V1,V2,…` (docs/simulator.md, "Sweeps"): the scenario run
// once per combination of the swept values, each run's comparison row beside its whole report. This
// is the wire format the dashboard's "Risk lab" loads: every field is JSON (counts as numbers, money as
// decimal strings of minor units), in a fixed key order, so one sweep gives a byte-identical JSON.
import type { SimulationReport } from './report.ts';

export const sweepReportVersion = 1;

/** One swept option: its name as on the command line without `--` (`double-spenders`), and its values as typed. */
export interface SweptParameter {
  readonly name: string;
  readonly values: readonly string[];
}

/** The figures a sweep compares, one row per run. Money: decimal strings of minor units. */
export interface SweepRow {
  /** Offline payments stored by their payees, all transact types. */
  readonly payments: number;
  readonly paymentValue: string;
  /** Renewals of every kind, per simulated day, as a decimal string with two decimals ("12.40"). */
  readonly renewalsPerDay: string;
  /** Fraudulent acts the attackers attempted, every kind. */
  readonly fraudInjected: number;
  /** Of those, refused offline by an honest SE or blamed on the right SE by the MDS. */
  readonly fraudDetected: number;
  /** The value the MDS's alerts put at stake. */
  readonly valueAtStake: string;
  /** Value honest payees accepted from attackers beyond what the system issued. */
  readonly valueLost: string;
  readonly honestPayeesHit: number;
  /** MDS alerts naming an SE the simulator did not compromise. */
  readonly falseAlerts: number;
  readonly invariantsHold: boolean;
}

export interface SweepRun {
  /** This run's value of each swept parameter, keys in the order of `parameters`. */
  readonly values: Readonly<Record<string, string>>;
  readonly row: SweepRow;
  readonly report: SimulationReport;
}

export interface SweepReport {
  readonly version: number;
  /** In the order given on the command line. */
  readonly parameters: readonly SweptParameter[];
  /**
   * One per combination, the last parameter varying fastest (`--sweep a=1,2 --sweep b=x,y` runs
   * a=1 b=x, a=1 b=y, a=2 b=x, a=2 b=y).
   */
  readonly runs: readonly SweepRun[];
  /** True when every run's invariants held. */
  readonly invariantsHold: boolean;
}
