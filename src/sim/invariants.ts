// The invariants of docs/design.md §10 that hold without the MDS, each checked against the services'
// own answers (DCP supply, ledger balances) and the chips' own balances — never against the
// simulator's counts, which would only check the simulator against itself.
import type { Tally } from './tally.ts';
import { operatorOf, type World } from './world.ts';

export interface InvariantCheck {
  readonly name: string;
  readonly holds: boolean;
  /** The figures compared, minor units, so a failure shows by how much. */
  readonly figures: Readonly<Record<string, bigint>>;
}

export interface SupplyFigures {
  readonly dcp: string;
  readonly poolBalance: bigint;
  readonly issued: bigint;
  readonly retired: bigint;
  readonly queued: bigint;
}

export interface Checked {
  readonly checks: readonly InvariantCheck[];
  readonly supplies: readonly SupplyFigures[];
  readonly onDevices: bigint;
}

async function supplies(world: World): Promise<SupplyFigures[]> {
  const figures: SupplyFigures[] = [];
  for (const dcp of world.system.dcps.values()) {
    const supply = await operatorOf(dcp).supply();
    figures.push({ dcp: dcp.name, ...supply });
  }
  return figures;
}

/** Invariant 4, per DCP: its pool on the ledger = what it issued − what it retired. */
function poolChecks(figures: readonly SupplyFigures[]): InvariantCheck[] {
  return figures.map((supply) => ({
    name: `pool = issued − retired at ${supply.dcp}`,
    holds: supply.poolBalance === supply.issued - supply.retired,
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
  for (const agent of [...world.consumers, ...world.merchants])
    wallets += (await world.ledger.account(agent.walletAccountId)).balance;
  const pools = figures.reduce((total, supply) => total + supply.poolBalance, 0n);
  return {
    name: 'ledger money conserved',
    holds: bank + wallets + pools === world.issuedByCentralBank,
    figures: { issued: world.issuedByCentralBank, bank, wallets, pools },
  };
}

/**
 * Invariant 5 across DCPs: value on the chips + value in flight + credits queued for a chip's next
 * sync = issued − retired, summed over the DCPs (offline value crosses DCPs, so no single DCP's books
 * match its own devices until settlement between DCPs exists).
 */
function valueCheck(figures: readonly SupplyFigures[], onDevices: bigint, inFlight: bigint): InvariantCheck {
  const outstanding = figures.reduce((total, supply) => total + supply.issued - supply.retired, 0n);
  const queued = figures.reduce((total, supply) => total + supply.queued, 0n);
  return {
    name: 'on devices + in flight + queued credits = issued − retired',
    holds: onDevices + inFlight + queued === outstanding,
    figures: { onDevices, inFlight, queued, issuedMinusRetired: outstanding },
  };
}

export async function checkInvariants(world: World, tally: Tally): Promise<Checked> {
  const figures = await supplies(world);
  const onDevices = [...world.consumers, ...world.merchants].reduce(
    (total, agent) => total + agent.device.client().getData().balance,
    0n,
  );
  const checks = [
    ...poolChecks(figures),
    await ledgerCheck(world, figures),
    valueCheck(figures, onDevices, tally.inFlight),
  ];
  return { checks, supplies: figures, onDevices };
}
