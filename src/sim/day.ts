// One simulated day, in a fixed order so a run replays from its seed: consumers low on value load
// from their wallets; consumers pay merchants and each other offline; the attackers act
// (attacks.ts); devices that an SE refused until they sync, and those past a payment count,
// renew; one consumer pays another online; merchants unload the day's takings, and those with too
// little to unload sync all the same (a shop's end of day). Every online step is a real HTTP call through the DCP's clients.
// A device whose DCP is out today (outages.ts) makes no online step: each one it would have made is
// counted as deferred, and its offline payments go on.
import { assert } from '../core/assert.ts';
import { toHex } from '../core/bytes.ts';
import { isCbdcError } from '../core/errors.ts';
import type { SeededRandom } from '../demo/seeded-random.ts';
import { attack, type Attacks } from './attacks.ts';
import { eachConcurrently } from './concurrent.ts';
import { payOffline, renewalRequiredCodes } from './offline.ts';
import type { PoweredChips } from './powered.ts';
import type { Device } from '../device/device.ts';
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
  readonly settleWaits: () => boolean;
  readonly offline: (agent: Agent) => boolean;
  readonly chips: PoweredChips;
}

/**
 * Runs `step` for each agent: one after the other while the run waits for the MDS before each
 * settlement (each then meets the MDS's answer to the settlements before it); otherwise
 * concurrently, since nothing a step meets then depends on the others (see each caller).
 */
async function eachAgent(
  run: DayRun,
  agents: readonly Agent[],
  step: (agent: Agent) => Promise<void>,
): Promise<void> {
  if (!run.settleWaits()) {
    await eachConcurrently(agents, step);
    return;
  }
  for (const agent of agents) await step(agent);
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
async function settle(
  run: DayRun,
  devices: readonly Device[],
  step: () => Promise<unknown>,
): Promise<boolean> {
  await run.beforeSettle();
  try {
    await run.chips.during(devices, step);
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
  const renewed = await settle(run, [agent.device], () =>
    agent.app.renew(agent.device.client(), idempotencyKey()),
  );
  if (renewed) run.tally.renewals[reason]++;
  else run.tally.unbacked.renewals++;
}

/** The consumers as payees: each one's position, and the phones among them, for `payeeFor`. */
interface Payees {
  readonly consumers: readonly Agent[];
  readonly positions: ReadonlyMap<Agent, number>;
  readonly phones: readonly Agent[];
}

function payeesOf(world: World): Payees {
  return {
    consumers: world.consumers,
    positions: new Map(world.consumers.map((consumer, position) => [consumer, position])),
    phones: world.consumers.filter((consumer) => consumer.device.kind === 'phone'),
  };
}

/**
 * Whom a consumer pays: mostly a merchant; never another card when it holds a card. The other
 * consumers a payer may pay are every consumer but itself (a phone) or every phone (a card), in
 * the consumers' order: picked by position, without building the list for each payment.
 */
function payeeFor(world: World, payees: Payees, random: SeededRandom, payer: Agent): Agent {
  const position = payees.positions.get(payer) ?? -1;
  const byPhone = payer.device.kind === 'phone';
  const others = byPhone ? payees.consumers.length - (position < 0 ? 0 : 1) : payees.phones.length;
  if (others === 0 || random.chance(merchantPaymentsOutOfFour, 4)) return random.pick(world.merchants);
  const drawn = random.below(others);
  const payee = byPhone
    ? payees.consumers[position >= 0 && drawn >= position ? drawn + 1 : drawn]
    : payees.phones[drawn];
  assert(payee !== undefined, 'a drawn position holds a consumer');
  return payee;
}

async function payments(scenario: Scenario, world: World, random: SeededRandom, run: DayRun): Promise<void> {
  const payees = payeesOf(world);
  for (let round = 0; round < consumerPaymentsPerDay; round++) {
    for (const payer of world.consumers) {
      const payee = payeeFor(world, payees, random, payer);
      const amount = amountBetween(
        random,
        paymentAmountMin,
        smaller(balanceOf(payer) / 2n, paymentAmountMax),
      );
      if (amount === undefined) continue;
      const refusal = payOffline(scenario, random, run.tally, payer, payee, amount);
      run.chips.used(payer.device, payee.device);
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
  const sent = await settle(run, [payer.device, payee.device], () =>
    payer.app.transfer(payer.device.client(), payeeSeId, amount, idempotencyKey()),
  );
  add(sent ? run.tally.transfers : run.tally.unbacked.transfers, amount);
  if (!sent) return;
  await renew(payee, run, 'creditWaiting');
}

/**
 * Devices past the payment count renew (concurrently unless the run waits for the MDS: a renewal
 * meets its own device's tokens and credits, and limits and a deny list the same for all).
 */
async function renewals(world: World, run: DayRun): Promise<void> {
  const due = [...world.consumers, ...world.merchants].filter((agent) => {
    world.chips.used(agent.device);
    return agent.device.client().getData().paymentsSinceSync >= renewAfterPayments;
  });
  await eachAgent(run, due, (agent) => renew(agent, run, 'paymentCount'));
}

/**
 * Consumers low on value load from their wallets, concurrently: a load draws on the consumer's own
 * wallet into its own chip, and adds to the pool, which nothing reads before the payments.
 */
async function loads(world: World, run: DayRun): Promise<void> {
  const load = async (consumer: Agent) => {
    if (balanceOf(consumer) >= reloadBelow) return;
    if ((await consumer.admin.wallet(consumer.walletId)).available < loadAmount) return;
    if (deferred(run, consumer)) return;
    await consumer.app.load(consumer.device.client(), loadAmount, idempotencyKey());
    add(run.tally.loads, loadAmount);
  };
  await eachConcurrently(world.consumers, (consumer) =>
    run.chips.during([consumer.device], () => load(consumer)),
  );
}

/** One merchant unloads what it holds, within its DCP's pool (see `transfer`). */
async function unload(merchant: Agent, run: DayRun): Promise<void> {
  if (deferred(run, merchant)) return;
  run.chips.used(merchant.device);
  const amount = smaller(balanceOf(merchant), await poolOf(merchant));
  if (amount < unloadMin) {
    await renew(merchant, run, 'endOfDay');
    return;
  }
  const unloaded = await settle(run, [merchant.device], () =>
    merchant.app.unload(merchant.device.client(), amount, idempotencyKey()),
  );
  add(unloaded ? run.tally.unloads : run.tally.unbacked.unloads, amount);
}

/**
 * Each merchant unloads: those of one DCP in their order (each unload draws on the pool the one
 * before left), the DCPs side by side unless the run waits for the MDS.
 */
async function unloads(world: World, run: DayRun): Promise<void> {
  const dcps = [...new Set(world.merchants.map((merchant) => merchant.dcp))];
  const inTurn = async (dcp: Agent['dcp']) => {
    for (const merchant of world.merchants) if (merchant.dcp === dcp) await unload(merchant, run);
  };
  if (run.settleWaits()) for (const merchant of world.merchants) await unload(merchant, run);
  else await eachConcurrently(dcps, inTurn);
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
    /** Whether `beforeSettle` waits for the MDS now; while it does not, settlements run concurrently. */
    readonly settleWaits: () => boolean;
    /** The positions (in the system's DCP order) of the DCPs out today (outages.ts). */
    readonly dcpsOut: ReadonlySet<number>;
  },
): Promise<void> {
  const out = new Set([...world.system.dcps.values()].filter((_, position) => context.dcpsOut.has(position)));
  const offline = (agent: Agent) => out.has(agent.dcp);
  const run: DayRun = {
    tally,
    beforeSettle: context.beforeSettle,
    settleWaits: context.settleWaits,
    offline,
    chips: world.chips,
  };
  tally.outages += out.size;
  await loads(world, run);
  await payments(scenario, world, random, run);
  await attack({ scenario, world, random, attacks: context.attacks, day: context.day });
  await renewals(world, run);
  await transfer(world, random, run);
  await unloads(world, run);
}
