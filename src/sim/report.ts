// The simulation report (docs/simulator.md, field by field): what the simulator did and every
// invariant checked, in a fixed key order with money as decimal strings of minor units, so the same
// scenario gives a byte-identical JSON. No ids, times or URLs: they differ between runs.
import { formatAmount } from '../demo/format.ts';
import type { FraudSection } from './fraud-report.ts';
import type { Checked } from './invariants.ts';
import type { Scenario } from './scenario.ts';
import type { CountAndValue, Tally } from './tally.ts';

export const reportVersion = 4;

type Figure = { readonly count: number; readonly value: string };

export interface SimulationReport {
  readonly version: number;
  readonly scenario: Scenario;
  readonly payments: {
    readonly cardToPhone: Figure;
    readonly phoneToCard: Figure;
    readonly phoneToPhone: Figure;
  };
  readonly taps: { readonly interrupted: number; readonly retapped: number; readonly leftInFlight: Figure };
  readonly refusals: Readonly<Record<string, number>>;
  readonly loads: Figure;
  readonly renewals: {
    readonly total: number;
    readonly refusedUntilRenewed: number;
    readonly paymentCount: number;
    readonly creditWaiting: number;
    readonly endOfDay: number;
  };
  readonly unloads: Figure;
  readonly transfers: Figure;
  /** Honest devices' renewals, unloads and transfers refused for want of backing (tally.ts). */
  readonly unbacked: { readonly renewals: number; readonly unloads: Figure; readonly transfers: Figure };
  /** DCP-days out, and the online steps their devices deferred. */
  readonly outages: { readonly count: number; readonly deferred: number };
  /** In flight: debited by broken taps and neither received nor refunded yet. */
  readonly value: { readonly onDevices: string; readonly inFlight: string; readonly refunded: string };
  readonly fraud: FraudSection;
  readonly supply: readonly {
    readonly dcp: string;
    readonly pool: string;
    readonly issued: string;
    readonly retired: string;
  }[];
  readonly invariants: readonly {
    readonly name: string;
    readonly holds: boolean;
    readonly figures: Readonly<Record<string, string>>;
  }[];
  /** Days (1-based) after which some invariant did not hold; empty when every check held. */
  readonly daysBroken: readonly number[];
  readonly invariantsHold: boolean;
}

function figure(counted: CountAndValue): Figure {
  return { count: counted.count, value: counted.value.toString() };
}

function strings(figures: Readonly<Record<string, bigint>>): Record<string, string> {
  return Object.fromEntries(Object.entries(figures).map(([name, value]) => [name, value.toString()]));
}

export function buildReport(
  scenario: Scenario,
  tally: Tally,
  fraud: FraudSection,
  checked: Checked,
  daysBroken: readonly number[],
): SimulationReport {
  const { renewals } = tally;
  const refusals = [...tally.refusals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    version: reportVersion,
    scenario,
    payments: {
      cardToPhone: figure(tally.payments.cardToPhone),
      phoneToCard: figure(tally.payments.phoneToCard),
      phoneToPhone: figure(tally.payments.phoneToPhone),
    },
    taps: {
      interrupted: tally.interruptedTaps,
      retapped: tally.retapped,
      leftInFlight: figure(tally.leftInFlight),
    },
    refusals: Object.fromEntries(refusals),
    loads: figure(tally.loads),
    renewals: {
      total:
        renewals.refusedUntilRenewed + renewals.paymentCount + renewals.creditWaiting + renewals.endOfDay,
      ...renewals,
    },
    unloads: figure(tally.unloads),
    transfers: figure(tally.transfers),
    unbacked: {
      renewals: tally.unbacked.renewals,
      unloads: figure(tally.unbacked.unloads),
      transfers: figure(tally.unbacked.transfers),
    },
    outages: { count: tally.outages, deferred: tally.deferred },
    value: {
      onDevices: checked.onDevices.toString(),
      inFlight: checked.inFlight.toString(),
      refunded: checked.refunded.toString(),
    },
    fraud,
    supply: checked.supplies.map((supply) => ({
      dcp: supply.dcp,
      pool: supply.poolBalance.toString(),
      issued: supply.issued.toString(),
      retired: supply.retired.toString(),
    })),
    invariants: checked.checks.map((check) => ({
      name: check.name,
      holds: check.holds,
      figures: strings(check.figures),
    })),
    daysBroken,
    invariantsHold: daysBroken.length === 0 && checked.checks.every((check) => check.holds),
  };
}

/** The report as one line of JSON: every object built above has a fixed key order. */
export function reportJson(report: SimulationReport): string {
  return JSON.stringify(report);
}

function line(label: string, counted: Figure): string {
  return `  ${label.padEnd(22)} ${String(counted.count).padStart(6)}  ${formatAmount(BigInt(counted.value)).padStart(16)}`;
}

function fraudLines(fraud: FraudSection): string[] {
  const kinds = Object.entries(fraud.byKind).filter(([, figures]) => figures.injected > 0);
  if (kinds.length === 0) return ['  fraud: none injected'];
  return [
    ...kinds.map(
      ([kind, figures]) =>
        `  fraud ${kind}: injected ${figures.injected}, refused offline ${figures.refusedOffline}, ` +
        `detected ${figures.detected}, undetected ${figures.undetected}, ` +
        `days to detection ≤ ${figures.daysToDetectionMax ?? '–'}, at stake ${formatAmount(BigInt(figures.valueAtStake))}, ` +
        `lost ${formatAmount(BigInt(figures.valueLost))}, honest payees hit ${figures.honestPayeesHit}`,
    ),
    `  false alerts ${fraud.falseAlerts}`,
  ];
}

/** The human summary `cbdc simulate` prints without --json. */
export function reportSummary(report: SimulationReport): string {
  const { scenario } = report;
  const lines = [
    `seed ${scenario.seed}: ${scenario.devices} consumers, ${scenario.merchants} merchants, ` +
      `${scenario.dcps} DCPs, ${scenario.days} days`,
    line('card → phone', report.payments.cardToPhone),
    line('phone → card', report.payments.phoneToCard),
    line('phone → phone', report.payments.phoneToPhone),
    line('left in flight', report.taps.leftInFlight),
    `  taps broken ${report.taps.interrupted}, re-tapped ${report.taps.retapped}`,
    `  refused: ${
      Object.entries(report.refusals)
        .map(([code, count]) => `${code} ${count}`)
        .join(', ') || 'none'
    }`,
    line('loads', report.loads),
    line('unloads', report.unloads),
    line('online transfers', report.transfers),
    line('unloads unbacked', report.unbacked.unloads),
    line('transfers unbacked', report.unbacked.transfers),
    `  renewals unbacked ${report.unbacked.renewals}`,
    `  DCP outages ${report.outages.count} (DCP-days), online steps deferred ${report.outages.deferred}`,
    `  renewals ${report.renewals.total} (refused until renewed ${report.renewals.refusedUntilRenewed}, ` +
      `payment count ${report.renewals.paymentCount}, credit waiting ${report.renewals.creditWaiting}, ` +
      `end of day ${report.renewals.endOfDay})`,
    `  on devices ${formatAmount(BigInt(report.value.onDevices))}, in flight ${formatAmount(BigInt(report.value.inFlight))}, refunded ${formatAmount(BigInt(report.value.refunded))}`,
    ...fraudLines(report.fraud),
    ...report.invariants.map((check) => `  ${check.holds ? 'holds ' : 'BROKEN'} ${check.name}`),
  ];
  return lines.join('\n');
}
