// DCP outages (issue 10): on a day a DCP is out, its devices stay offline — their loads, renewals,
// unloads and online transfers wait for a later day (counted as deferred), while their offline
// payments go on until a limit refuses them. The DCP's process keeps running: an outage is what its
// devices see (no network to it), which is what the limits are there to bound.
//
// The plan is drawn at the start from a stream of its own (the scenario's seed mixed with
// `outageSeedSalt`), so the same seed gives the same outages, and a rate of 0 leaves every other
// choice of the run exactly as it was without outages.
import { SeededRandom } from '../demo/seeded-random.ts';
import { dcpNamesOf, ratePerMilleScale, type Scenario } from './scenario.ts';

/** Mixed into the seed so the outage stream is not the run's main stream. */
const outageSeedSalt = 0x6f757461;

/** For each day (1-based), the positions of the DCPs that are out (dcp-1 at 0). */
export type OutagePlan = readonly ReadonlySet<number>[];

/** Each DCP is out on each day with the scenario's outage rate, drawn DCP by DCP, day by day. */
export function planOutages(scenario: Scenario): OutagePlan {
  const random = new SeededRandom((scenario.seed ^ outageSeedSalt) >>> 0);
  const plan: ReadonlySet<number>[] = [new Set()];
  for (let day = 1; day <= scenario.days; day++) {
    const out = new Set<number>();
    dcpNamesOf(scenario).forEach((_, position) => {
      if (random.chance(scenario.outageRatePerMille, ratePerMilleScale)) out.add(position);
    });
    plan.push(out);
  }
  return plan;
}

/** DCP-days out over the whole plan. */
export function outageCountOf(plan: OutagePlan): number {
  return plan.reduce((total, out) => total + out.size, 0);
}
