// The invariants of docs/design.md §10 that hold without the MDS, each checked against the services'
// own answers (DCP supply, ledger balances) and the chips' own balances — never against the
// simulator's counts, which would only check the simulator against itself.
import type { MdsAlert, MdsStatus } from '../mds/api/types.ts';
import type { Attacks } from './attacks.ts';
import type { Tally } from './tally.ts';
import { agentsOf, supplies, type SupplyFigures, type World } from './world.ts';

export type { SupplyFigures } from './world.ts';

export interface InvariantCheck {
  readonly name: string;
  readonly holds: boolean;
  /** The figures compared, minor units, so a failure shows by how much. */
  readonly figures: Readonly<Record<string, bigint>>;
}

export interface Checked {
  readonly checks: readonly InvariantCheck[];
  readonly supplies: readonly SupplyFigures[];
  readonly onDevices: bigint;
  /** Value payers' SEs paid out (honest taps' and attackers') that no payee stored, less refunds. */
  readonly inFlight: bigint;
  /** The refunds of value in flight the DCPs executed (the MDS's recoveries): out of flight. */
  readonly refunded: bigint;
}

/** Each DCP's figures less those it had before the run (none on services started for it). */
function sinceStart(world: World, figures: readonly SupplyFigures[]): SupplyFigures[] {
  return figures.map((supply) => {
    const before = world.suppliesBefore.find((earlier) => earlier.dcp === supply.dcp);
    if (before === undefined) return supply;
    return {
      dcp: supply.dcp,
      poolBalance: supply.poolBalance - before.poolBalance,
      issued: supply.issued - before.issued,
      retired: supply.retired - before.retired,
      queued: supply.queued - before.queued,
      settled: supply.settled - before.settled,
    };
  });
}

/**
 * Invariant 4, per DCP: its pool on the ledger = what it issued − what it retired (+ what settlement
 * runs moved into it: none in a run's own system, which never settles).
 */
function poolChecks(figures: readonly SupplyFigures[]): InvariantCheck[] {
  return figures.map((supply) => ({
    name: `pool = issued − retired at ${supply.dcp}`,
    holds: supply.poolBalance === supply.issued - supply.retired + supply.settled,
    figures: { pool: supply.poolBalance, issued: supply.issued, retired: supply.retired },
  }));
}

/**
 * Ledger money is conserved: everything the central bank issued is on the ledger's accounts the
 * simulation knows — the bank's, every agent's wallet and every DCP's pool — and nowhere else.
 */
async function ledgerCheck(world: World, figures: readonly SupplyFigures[]): Promise<InvariantCheck> {
  const bank = (await world.ledger.account(world.bankAccountId)).balance;
  let wallets = 0n;
  for (const agent of agentsOf(world)) wallets += (await world.ledger.account(agent.walletAccountId)).balance;
  // Only what the run moved into the pools: value there before it belongs to others' accounts.
  const pools = sinceStart(world, figures).reduce((total, supply) => total + supply.poolBalance, 0n);
  return {
    name: 'ledger money conserved',
    holds: bank + wallets + pools === world.issuedByCentralBank,
    figures: { issued: world.issuedByCentralBank, bank, wallets, pools },
  };
}

/**
 * Invariant 5 across DCPs: value on the chips + value in flight (not yet refunded) + credits queued for a chip's next
 * sync = issued − retired + what the attackers forged, summed over the DCPs (offline value crosses
 * DCPs, so no single DCP's books match its own devices until settlement between DCPs exists). The
 * forged value is measured on the attackers' and their payees' chips as each act happened
 * (attacks.ts); without attackers it is 0 and this is invariant 5 as stated.
 */
function valueCheck(
  figures: readonly SupplyFigures[],
  onDevices: bigint,
  inFlight: bigint,
  forged: bigint,
): InvariantCheck {
  const outstanding = figures.reduce((total, supply) => total + supply.issued - supply.retired, 0n);
  const queued = figures.reduce((total, supply) => total + supply.queued, 0n);
  return {
    name: 'on devices + in flight + queued credits = issued − retired + forged',
    holds: onDevices + inFlight + queued === outstanding + forged,
    figures: { onDevices, inFlight, queued, issuedMinusRetired: outstanding, forged },
  };
}

/**
 * The MDS caught up: every upload the DCPs stored for it was opened, none is waiting. An upload the
 * MDS refused (a recorded refusal, docs/mds.md) is counted in the figures, not a failure of this
 * check: it is the MDS's verdict on the upload, reported as such.
 */
function ingestCheck(status: MdsStatus, before: number, expected: number): InvariantCheck {
  const { stored, ingested, refused } = status.uploads;
  // Counted from the run's start: with --against, what the MDS took in before is not the run's.
  const taken = ingested + refused - before;
  return {
    name: 'the MDS took in every upload',
    holds: stored === 0 && taken === expected,
    figures: {
      expected: BigInt(expected),
      ingested: BigInt(ingested),
      refused: BigInt(refused),
      stored: BigInt(stored),
    },
  };
}

/** No false alert: every SE the MDS blamed is one the simulator compromised. */
function blameCheck(alerts: readonly MdsAlert[], attacks: Attacks): InvariantCheck {
  const compromised = attacks.seIds;
  const falseAlerts = alerts.filter((alert) => !compromised.has(alert.seId)).length;
  return {
    name: 'every MDS alert blames a compromised SE',
    holds: falseAlerts === 0,
    figures: { alerts: BigInt(alerts.length), falseAlerts: BigInt(falseAlerts) },
  };
}

export interface Observed {
  readonly tally: Tally;
  readonly attacks: Attacks;
  readonly alerts: readonly MdsAlert[];
}

export async function checkInvariants(world: World, observed: Observed): Promise<Checked> {
  const { tally, attacks, alerts } = observed;
  const figures = await supplies(world.system.dcps.values());
  const onDevices = [...agentsOf(world).map((agent) => agent.device), ...attacks.clones].reduce(
    (total, device) => total + device.client().getData().balance,
    0n,
  );
  // A refund executed took its payment out of flight: retired, and credited back to the payer.
  const inFlight = tally.inFlight + attacks.tally.inFlight - world.mds.refunded;
  const status = await world.mds.operator.status();
  const checks = [
    ...poolChecks(figures),
    await ledgerCheck(world, figures),
    valueCheck(sinceStart(world, figures), onDevices, inFlight, attacks.forged),
    ingestCheck(status, world.mds.before.uploads, tally.settles + attacks.tally.settles),
    blameCheck(alerts, attacks),
  ];
  return { checks, supplies: figures, onDevices, inFlight, refunded: world.mds.refunded };
}
