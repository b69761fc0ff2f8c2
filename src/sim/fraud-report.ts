// The report's fraud section (docs/simulator.md, "Fraud"): every fraud the attackers committed, and
// per kind how much was injected, refused offline by an honest SE, blamed on the right SE by the
// MDS or not found, with the simulated days to detection, the value at stake (the MDS's alerts), the
// value lost (what honest parties accepted of what was forged) and the honest payees hit.
import { alertKindsOf, fraudKinds, type Attacks, type Fraud, type FraudKind } from './attacks.ts';
import type { AlertKind, MdsAlert } from '../mds/api/types.ts';
import { alertKinds } from '../mds/api/types.ts';

export type FraudOutcome = 'refusedOffline' | 'detected' | 'undetected';

export interface FraudLine {
  readonly kind: FraudKind;
  readonly attacker: string;
  readonly day: number;
  readonly outcome: FraudOutcome;
  /** The honest SE's (or DCP's) refusal code, or null. */
  readonly refusal: string | null;
  /** Days from the fraud to the end of the day after which the MDS blamed its SE, or null. */
  readonly daysToDetection: number | null;
  readonly forged: string;
  readonly lost: string;
  readonly payeesHit: readonly string[];
}

export interface KindFigures {
  readonly injected: number;
  readonly refusedOffline: number;
  readonly detected: number;
  readonly undetected: number;
  /** The longest days to detection among the detected, or null when none was. */
  readonly daysToDetectionMax: number | null;
  /** The values of the MDS alerts of this kind's alert kinds naming this kind's attackers. */
  readonly valueAtStake: string;
  readonly valueLost: string;
  /** Distinct honest payees that accepted a payment of this kind's frauds. */
  readonly honestPayeesHit: number;
}

export interface FraudSection {
  readonly byKind: Readonly<Record<FraudKind, KindFigures>>;
  readonly frauds: readonly FraudLine[];
  /** The MDS's alerts by kind, after the last day. */
  readonly alerts: Readonly<Record<AlertKind, number>>;
  /** Alerts naming an SE the simulator did not compromise. */
  readonly falseAlerts: number;
}

function outcomeOf(fraud: Fraud): FraudOutcome {
  if (fraud.refusal !== undefined) return 'refusedOffline';
  return fraud.detectedDay === undefined ? 'undetected' : 'detected';
}

function line(fraud: Fraud): FraudLine {
  return {
    kind: fraud.kind,
    attacker: fraud.attacker,
    day: fraud.day,
    outcome: outcomeOf(fraud),
    refusal: fraud.refusal ?? null,
    daysToDetection: fraud.detectedDay === undefined ? null : fraud.detectedDay - fraud.day,
    forged: fraud.forged.toString(),
    lost: fraud.lost.toString(),
    payeesHit: fraud.payeesHit,
  };
}

/** The SEs whose alerts count for `kind`: its attackers' (every attacker, after revocation). */
function blamedFor(kind: FraudKind, attacks: Attacks): ReadonlySet<string> {
  return new Set(
    attacks.attackers
      .filter((attacker) => kind === 'spendAfterRevocation' || attacker.kind === kind)
      .map((attacker) => attacker.seId),
  );
}

function kindFigures(
  kind: FraudKind,
  lines: readonly FraudLine[],
  attacks: Attacks,
  alerts: readonly MdsAlert[],
): KindFigures {
  const ofKind = lines.filter((fraud) => fraud.kind === kind);
  const count = (outcome: FraudOutcome) => ofKind.filter((fraud) => fraud.outcome === outcome).length;
  const days = ofKind.flatMap((fraud) => (fraud.daysToDetection === null ? [] : [fraud.daysToDetection]));
  const blamed = blamedFor(kind, attacks);
  const atStake = alerts
    .filter((alert) => blamed.has(alert.seId) && alertKindsOf[kind].includes(alert.kind))
    .reduce((total, alert) => total + alert.value, 0n);
  return {
    injected: ofKind.length,
    refusedOffline: count('refusedOffline'),
    detected: count('detected'),
    undetected: count('undetected'),
    daysToDetectionMax: days.length === 0 ? null : Math.max(...days),
    valueAtStake: atStake.toString(),
    valueLost: ofKind.reduce((total, fraud) => total + BigInt(fraud.lost), 0n).toString(),
    honestPayeesHit: new Set(ofKind.flatMap((fraud) => fraud.payeesHit)).size,
  };
}

export function fraudSection(attacks: Attacks, alerts: readonly MdsAlert[]): FraudSection {
  const lines = attacks.frauds.map(line);
  const compromised = attacks.seIds;
  return {
    byKind: Object.fromEntries(
      fraudKinds.map((kind) => [kind, kindFigures(kind, lines, attacks, alerts)]),
    ) as Record<FraudKind, KindFigures>,
    frauds: lines,
    alerts: Object.fromEntries(
      alertKinds.map((kind) => [kind, alerts.filter((alert) => alert.kind === kind).length]),
    ) as Record<AlertKind, number>,
    falseAlerts: alerts.filter((alert) => !compromised.has(alert.seId)).length,
  };
}
