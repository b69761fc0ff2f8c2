// `cbdc simulate`'s engine: starts the whole online side (`startSystem`: ledger, directory and the
// scenario's DCPs as real processes on loopback) in a data folder of its own, builds the seeded world
// and plays its days one after the other, checking every invariant after each day, then stops the
// services and removes the folder. Every choice is drawn from the seed in one fixed order; only the
// online steps that draw nothing run concurrently (day.ts says which), so a run is a function of its
// scenario.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRandom } from '../demo/seeded-random.ts';
import { connectSystem } from '../system/connect.ts';
import { startSystem } from '../system/launcher.ts';
import { observe, planAttacks, type Attacks } from './attacks.ts';
import { playDay } from './day.ts';
import { fraudSection } from './fraud-report.ts';
import { checkInvariants } from './invariants.ts';
import { planOutages } from './outages.ts';
import { buildReport, type SimulationReport } from './report.ts';
import { dcpNamesOf, type Scenario } from './scenario.ts';
import { Tally } from './tally.ts';
import { settledAlerts } from './watch.ts';
import { buildWorld } from './world.ts';

/** Settlements made so far, honest and the attackers': each stored one upload for the MDS. */
function settlesOf(tally: Tally, attacks: Attacks): number {
  return tally.settles + attacks.tally.settles;
}

/** Told after the world is built (day 0) and after each day. */
export type Progress = (daysDone: number, days: number) => void;

/** Where the services keep their data and what they are started with; not part of the scenario. */
export interface Engine {
  /**
   * `postgres://…/NAME`: each service on its own database NAME_<service> of that server, which must
   * be new (they are kept afterwards, for inspection). Left out: SQLite files in a temporary folder.
   */
  readonly databaseUrl?: string;
  /** A limits file every DCP pushes (`cbdc serve dcp --limits`); left out, the default limits. */
  readonly limitsFile?: string;
  /**
   * The data folder of a running `cbdc start` (src/system/connect.ts): the run drives its services
   * instead of starting its own, and leaves them running.
   */
  readonly against?: string;
}

export async function runSimulation(
  scenario: Scenario,
  progress: Progress = () => undefined,
  engine: Engine = {},
): Promise<SimulationReport> {
  const dataDirectory = mkdtempSync(join(tmpdir(), 'cbdc-simulate-'));
  try {
    const system =
      engine.against !== undefined
        ? connectSystem(engine.against)
        : await startSystem({
            dataDirectory,
            dcpNames: dcpNamesOf(scenario),
            renewalCheck: scenario.renewalCheck,
            verify: scenario.verify,
            // No settlement on the wall clock: a run's report depends on its seed and options alone.
            settlementIntervalMs: null,
            ...(engine.databaseUrl === undefined ? {} : { databaseUrl: engine.databaseUrl }),
            ...(engine.limitsFile === undefined ? {} : { limitsFile: engine.limitsFile }),
          });
    try {
      const random = new SeededRandom(scenario.seed);
      const world = await buildWorld(system, scenario, random);
      const tally = new Tally();
      const attacks = planAttacks(scenario, world, random);
      const outages = planOutages(scenario);
      const daysBroken: number[] = [];
      progress(0, scenario.days);
      let alerts = await settledAlerts(world.mds, 0);
      let checked = await checkInvariants(world, { tally, attacks, alerts });
      for (let day = 1; day <= scenario.days; day++) {
        // While an attacker's fraud may be found, the MDS's answer (a revocation, so a deny list)
        // reaches devices at their syncs: the MDS catches up before each, so every run is the same.
        // So does a refund of value in flight, which reaches its payer at a sync.
        const settleWaits = () =>
          attacks.awaitingRevocation(day) || tally.inFlight + attacks.tally.inFlight > world.mds.refunded;
        const beforeSettle = async () => {
          if (settleWaits()) alerts = await settledAlerts(world.mds, settlesOf(tally, attacks));
        };
        const dcpsOut = outages[day] ?? new Set<number>();
        await playDay(scenario, world, random, tally, { attacks, day, beforeSettle, settleWaits, dcpsOut });
        // The MDS caught up with the day before anything is read, so every run reads the same.
        alerts = await settledAlerts(world.mds, settlesOf(tally, attacks));
        observe(attacks, alerts, day);
        checked = await checkInvariants(world, { tally, attacks, alerts });
        if (!checked.checks.every((check) => check.holds)) daysBroken.push(day);
        progress(day, scenario.days);
      }
      return buildReport(scenario, tally, fraudSection(attacks, alerts), checked, daysBroken);
    } finally {
      await system.stop();
    }
  } finally {
    rmSync(dataDirectory, { recursive: true, force: true });
  }
}
