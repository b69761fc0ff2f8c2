// One simulated day, in a fixed order so a run replays from its seed: consumers low on value load
// from their wallets; consumers pay merchants and each other offline; the attackers act
// (attacks.ts); devices that an SE refused until they sync, and those past a payment count,
// renew; one consumer pays another online; merchants unload the day's takings, and those with too
// little to unload sync all the same (a shop's end of day). Every online step is a real HTTP call through the DCP's clients.
// A device whose DCP is out today (outages.ts) makes no online step: each one it would have made is
// counted as deferred, and its offline payments go on.
import { toHex } from '../core/bytes.ts';
import { isCbdcError } from '../core/errors.ts';
import type { SeededRandom } from '../demo/seeded-random.ts';
import { attack, type Attacks } from './attacks.ts';
import { payOffline, renewalRequiredCodes } from './offline.ts';
import type { Scenario } from './scenario.ts';
import { add, type RenewalReason, type Tally } from './tally.ts';
import { idempotencyKey, operatorOf, type Agent, type World } from './world.ts';

/** Offline payments each consumer tries per day. */
export const consumerPaymentsPerDay = 3;
/** Bounds of one offline payment, minor units; a payer pays at most half its balance. */
export const paymentAmountMin = 100n;
export const paymentAmountMax = 4_000n;
/** A consumer pays a merchant with this chance out of 4, and another consumer otherwise. */
const merchantPaymentsOutOfFour = 3;
/** A device renews once it made this many offline payments since its last sync. */
export const renewAfterPayments = 6;
/** Below this device balance a consumer loads `loadAmount` from its wallet, when the wallet has it. */
export const reloadBelow = 5_000n;
export const loadAmount = 20_000n;
/** A merchant unloads its whole balance once it holds at least this much. */
export const unloadMin = 1_000n;
/** Bounds of the day's online transfer, minor units. */
export const transferAmountMax = 2_000n;

function balanceOf(agent: Agent): bigint {
  return agent.device.client().getData().balance;
}

/** A uniform amount in [min, max], or undefined when `max` < `min`. */
function amountBetween(random: SeededRandom, min: bigint, max: bigint): bigint | undefined {
  if (max < min) return undefined;
  return min + BigInt(random.below(Number(max - min) + 1));
}

function smaller(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/**
 * What a day's steps share: the counts, the wait the run asks for before each settlement, and which
 * agents' DCPs are out today (outages.ts).
 */
interface DayRun {
  readonly tally: Tally;
  readonly beforeSettle: () => Promise<void>;
  readonly offline: (agent: Agent) => boolean;
}

/** True, counting the operation as deferred, when one of the agents' DCPs is out today. */
function deferred(run: DayRun, ...agents: readonly Agent[]): boolean {
  if (!agents.some(run.offline)) return false;
  run.tally.deferred++;
  return true;
}

/**
 * Runs one renewal, unload or online transfer; false when its DCP refused it because the MDS did not
 * confirm the value's backing (design.md §7: the renewal check, the unload gate) — an honest device
 * holding value forged upstream, which it accepted under `--verify last-hop`. The check stored the
 * device's upload at the MDS all the same, so it counts as a settlement either way.
 */
async function settle(run: DayRun, step: () => Promise<unknown>): Promise<boolean> {
  await run.beforeSettle();
  try {
    await step();
    return true;
  } catch (error) {
    if (!isCbdcError(error) || error.code !== 'renewalCheckRefused') throw error;
    return false;
  } finally {
    run.tally.settles++;
  }
}

async function renew(agent: Agent, run: DayRun, reason: RenewalReason): Promise<void> {
  if (deferred(run, agent)) return;
  const renewed = await settle(run, () => agent.app.renew(agent.device.client(), idempotencyKey()));
  if (renewed) run.tally.renewals[reason]++;
  else run.tally.unbacked.renewals++;
}

/** Whom a consumer pays: mostly a merchant; never another card when it holds a card. */
function payeeFor(world: World, random: SeededRandom, payer: Agent): Agent {
  const others = world.consumers.filter(
    (consumer) => consumer !== payer && (payer.device.kind === 'phone' || consumer.device.kind === 'phone'),
  );
  const toMerchant = others.length === 0 || random.chance(merchantPaymentsOutOfFour, 4);
  return random.pick(toMerchant ? world.merchants : others);
}

async function payments(scenario: Scenario, world: World, random: SeededRandom, run: DayRun): Promise<void> {
  for (let round = 0; round < consumerPaymentsPerDay; round++) {
    for (const payer of world.consumers) {
      const payee = payeeFor(world, random, payer);
      const amount = amountBetween(
        random,
        paymentAmountMin,
        smaller(balanceOf(payer) / 2n, paymentAmountMax),
      );
      if (amount === undefined) continue;
      const refusal = payOffline(scenario, random, run.tally, payer, payee, amount);
      if (refusal !== undefined && renewalRequiredCodes.has(refusal.code))
        await renew(refusal.refusedBy, run, 'refusedUntilRenewed');
    }
  }
}

/** The DCP's pool on the ledger: what an unload or a transfer out of it can draw on. */
async function poolOf(agent: Agent): Promise<bigint> {
  return (await operatorOf(agent.dcp).supply()).poolBalance;
}

/**
 * One phone consumer pays another consumer online; the payee renews at once to collect the credit.
 * The amount stays within the payer's DCP pool: the simulator runs no settlement between DCPs
 * (docs/simulator.md), so a pool may hold less than its devices' value, and the ledger would refuse
 * the rest.
 */
async function transfer(world: World, random: SeededRandom, run: DayRun): Promise<void> {
  const phones = world.consumers.filter((consumer) => consumer.device.kind === 'phone');
  if (phones.length === 0 || world.consumers.length < 2) return;
  const payer = random.pick(phones);
  const payee = random.pick(world.consumers.filter((consumer) => consumer !== payer));
  const most = smaller(smaller(balanceOf(payer) / 2n, transferAmountMax), await poolOf(payer));
  const amount = amountBetween(random, paymentAmountMin, most);
  if (amount === undefined || deferred(run, payer, payee)) return;
  const payeeSeId = toHex(payee.device.client().getData().seId);
  const sent = await settle(run, () =>
    payer.app.transfer(payer.device.client(), payeeSeId, amount, idempotencyKey()),
  );
  add(sent ? run.tally.transfers : run.tally.unbacked.transfers, amount);
  if (!sent) return;
  await renew(payee, run, 'creditWaiting');
}

async function renewals(world: World, run: DayRun): Promise<void> {
  for (const agent of [...world.consumers, ...world.merchants])
    if (agent.device.client().getData().paymentsSinceSync >= renewAfterPayments)
      await renew(agent, run, 'paymentCount');
}

async function loads(world: World, run: DayRun): Promise<void> {
  for (const consumer of world.consumers) {
    if (balanceOf(consumer) >= reloadBelow) continue;
    if ((await consumer.admin.wallet(consumer.walletId)).available < loadAmount) continue;
    if (deferred(run, consumer)) continue;
    await consumer.app.load(consumer.device.client(), loadAmount, idempotencyKey());
    add(run.tally.loads, loadAmount);
  }
}

/** Each merchant unloads what it holds, within its DCP's pool (see `transfer`). */
async function unloads(world: World, run: DayRun): Promise<void> {
  for (const merchant of world.merchants) {
    if (deferred(run, merchant)) continue;
    const amount = smaller(balanceOf(merchant), await poolOf(merchant));
    if (amount < unloadMin) {
      await renew(merchant, run, 'endOfDay');
      continue;
    }
    const unloaded = await settle(run, () =>
      merchant.app.unload(merchant.device.client(), amount, idempotencyKey()),
    );
    add(unloaded ? run.tally.unloads : run.tally.unbacked.unloads, amount);
  }
}

export async function playDay(
  scenario: Scenario,
  world: World,
  random: SeededRandom,
  tally: Tally,
  context: {
    readonly attacks: Attacks;
    readonly day: number;
    /** Called before every renewal, unload and transfer (run.ts: the MDS catching up, while it matters). */
    readonly beforeSettle: () => Promise<void>;
    /** The positions (in the system's DCP order) of the DCPs out today (outages.ts). */
    readonly dcpsOut: ReadonlySet<number>;
  },
): Promise<void> {
  const out = new Set([...world.system.dcps.values()].filter((_, position) => context.dcpsOut.has(position)));
  const offline = (agent: Agent) => out.has(agent.dcp);
  const run: DayRun = { tally, beforeSettle: context.beforeSettle, offline };
  tally.outages += out.size;
  await loads(world, run);
  await payments(scenario, world, random, run);
  await attack({ scenario, world, random, attacks: context.attacks, day: context.day });
  await renewals(world, run);
  await transfer(world, random, run);
  await unloads(world, run);
}
