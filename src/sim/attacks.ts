// The attackers: phones onboarded like everyone (a wallet, a chip personalised by their DCP), whose
// owners then opened the chip (chip-memory.ts). Each acts once, on a day the seed draws in the first
// half of the scenario, against honest merchants, every payment a real APDU exchange through
// `payOffline`:
//
//   double spender   pays merchant A, rolls its chip back to before that payment (counter moved on),
//                    and pays merchant B, at another DCP when there is one, with the same tokens;
//   cloner           copies its chip into a second one; the original pays A, the clone pays B;
//   counterfeiter    writes a token of a fake issuance into its chip and renews it at its DCP, then
//                    writes another and pays a merchant with everything it holds.
//
// Once the MDS had an attacker's SE revoked, the attacker pays one merchant a day with what it has
// left (spending after revocation): a payee that synced since refuses it, one that did not accepts.
// What each act did is measured on the chips themselves (balances and value in flight, before and
// after), never taken from what the attacker meant to do.
import { toHex } from '../core/bytes.ts';
import { isCbdcError } from '../core/errors.ts';
import type { Device } from '../device/device.ts';
import type { SeededRandom } from '../demo/seeded-random.ts';
import type { AlertKind, MdsAlert } from '../mds/api/types.ts';
import { cloneDevice, copyMemory, forgeToken, rollBack } from './chip-memory.ts';
import { payOffline, type Party } from './offline.ts';
import type { Scenario } from './scenario.ts';
import { Tally } from './tally.ts';
import { idempotencyKey, type Agent, type World } from './world.ts';

export type FraudKind = 'doubleSpend' | 'counterfeit' | 'clone' | 'spendAfterRevocation';
export const fraudKinds = ['doubleSpend', 'counterfeit', 'clone', 'spendAfterRevocation'] as const;

/** The MDS alerts that blame a fraud of each kind on its SE. */
export const alertKindsOf: Readonly<Record<FraudKind, readonly AlertKind[]>> = {
  doubleSpend: ['doubleSpend'],
  counterfeit: ['fakeFunding'],
  clone: ['counterReuse', 'doubleSpend'],
  spendAfterRevocation: ['revokedSigner'],
};

/** The value of each token a counterfeiter writes into its chip, minor units. */
export const counterfeitValue = 10_000n;
/** What a double spender or cloner loads before its act, minor units. */
export const attackerLoad = 20_000n;
/** Bounds of an attacker's payment, minor units (as honest payments). */
const attackAmountMin = 100n;
const attackAmountMax = 4_000n;

export interface Fraud {
  readonly kind: FraudKind;
  readonly attacker: string;
  readonly seId: string;
  readonly day: number;
  /** Honest payees whose SE accepted a payment of this fraud, by name. */
  readonly payeesHit: readonly string[];
  /** Value on the chips or in flight that no DCP issued, created by this fraud (measured). */
  readonly forged: bigint;
  /** Of that, what honest parties accepted: payees' SEs, or a DCP that renewed it. */
  readonly lost: bigint;
  /** The code an honest SE (or the DCP) refused it with, if it was refused. */
  readonly refusal: string | undefined;
  /** The day after which the MDS blamed the SE for it, if it did. */
  detectedDay: number | undefined;
}

interface Attacker {
  readonly agent: Agent;
  readonly kind: Exclude<FraudKind, 'spendAfterRevocation'>;
  readonly seId: string;
  readonly day: number;
  /** The day after which the MDS had its SE revoked. */
  revokedDay: number | undefined;
}

export class Attacks {
  readonly attackers: readonly Attacker[];
  readonly frauds: Fraud[] = [];
  /** The attackers' payments: their value in flight and the settlements they made. */
  readonly tally = new Tally();
  /** Chips the attackers made: the clones. */
  readonly clones: Device[] = [];

  constructor(attackers: readonly Attacker[]) {
    this.attackers = attackers;
  }

  /** Every value the attackers forged, minor units. */
  get forged(): bigint {
    return this.frauds.reduce((total, fraud) => total + fraud.forged, 0n);
  }

  /** True when some attacker acted by `day` and the MDS has not had it revoked yet. */
  awaitingRevocation(day: number): boolean {
    return this.attackers.some((attacker) => attacker.day <= day && attacker.revokedDay === undefined);
  }

  /** The SE ids the attackers compromised. */
  get seIds(): ReadonlySet<string> {
    return new Set(this.attackers.map((attacker) => attacker.seId));
  }
}

function kindOfName(name: string): Attacker['kind'] {
  if (name.startsWith('double-spender-')) return 'doubleSpend';
  if (name.startsWith('counterfeiter-')) return 'counterfeit';
  return 'clone';
}

/** Each attacker's day: drawn in the first half of the scenario, so what follows it is seen too. */
export function planAttacks(scenario: Scenario, world: World, random: SeededRandom): Attacks {
  const firstHalf = Math.ceil(scenario.days / 2);
  return new Attacks(
    world.attackers.map((agent) => ({
      agent,
      kind: kindOfName(agent.name),
      seId: toHex(agent.device.client().getData().seId),
      day: 1 + random.below(firstHalf),
      revokedDay: undefined,
    })),
  );
}

function balanceOf(party: Party): bigint {
  return party.device.client().getData().balance;
}

/** What the devices hold plus what the attackers have in flight: the measure of what an act forged. */
function held(attacks: Attacks, devices: readonly Party[]): bigint {
  return devices.reduce((total, party) => total + balanceOf(party), attacks.tally.inFlight);
}

/** Merchant A at random, and B at another DCP when there is one, else another merchant, else A. */
function twoPayees(world: World, random: SeededRandom): [Agent, Agent] {
  const first = random.pick(world.merchants);
  const elsewhere = world.merchants.filter((merchant) => merchant.dcp !== first.dcp);
  const others = world.merchants.filter((merchant) => merchant !== first);
  const second = elsewhere.length > 0 ? elsewhere : others.length > 0 ? others : [first];
  return [first, random.pick(second)];
}

function amountFor(random: SeededRandom, balance: bigint): bigint | undefined {
  const most = balance / 2n < attackAmountMax ? balance / 2n : attackAmountMax;
  if (most < attackAmountMin) return undefined;
  return attackAmountMin + BigInt(random.below(Number(most - attackAmountMin) + 1));
}

/** Attackers' taps never break: a link cut is the honest economy's fault, not the attack's. */
function unbroken(scenario: Scenario): Scenario {
  return { ...scenario, interruptRatePerMille: 0 };
}

interface Paid {
  readonly payeesHit: readonly string[];
  readonly credited: bigint;
  readonly refusal: string | undefined;
}

/** Pays each (payer, payee) in turn, recording who accepted and the first refusal. */
function payAll(
  scenario: Scenario,
  random: SeededRandom,
  attacks: Attacks,
  payments: readonly { readonly payer: Party; readonly payee: Agent; readonly amount: bigint }[],
): Paid {
  const payeesHit: string[] = [];
  let credited = 0n;
  let refused: string | undefined;
  for (const { payer, payee, amount } of payments) {
    const before = balanceOf(payee);
    const refusal = payOffline(unbroken(scenario), random, attacks.tally, payer, payee, amount);
    // Only an honest SE's refusal counts: the attacker's own chip refusing stops nothing it meant.
    if (refusal !== undefined && refusal.refusedBy === payee) refused ??= refusal.code;
    const gained = balanceOf(payee) - before;
    if (gained > 0n && !payeesHit.includes(payee.name)) payeesHit.push(payee.name);
    credited += gained;
  }
  return { payeesHit, credited, refusal: refused };
}

async function loaded(agent: Agent): Promise<void> {
  if (balanceOf(agent) < attackerLoad) {
    await agent.app.load(agent.device.client(), attackerLoad, idempotencyKey());
  }
}

function record(attacks: Attacks, attacker: Attacker, day: number, paid: Paid, forged: bigint): void {
  attacks.frauds.push({
    kind: attacker.kind,
    attacker: attacker.agent.name,
    seId: attacker.seId,
    day,
    payeesHit: paid.payeesHit,
    forged,
    lost: paid.credited < forged ? paid.credited : forged,
    refusal: paid.refusal,
    detectedDay: undefined,
  });
}

async function doubleSpend(context: ActContext, attacker: Attacker): Promise<void> {
  const { scenario, world, random, attacks } = context;
  const agent = attacker.agent;
  await loaded(agent);
  const [first, second] = twoPayees(world, random);
  const amount = amountFor(random, balanceOf(agent));
  if (amount === undefined) return;
  const devices = [agent, first, second];
  const before = held(attacks, devices);
  const snapshot = copyMemory(agent.device.medium);
  const counter = agent.device.client().getData().counter;
  const paid = payAll(scenario, random, attacks, [{ payer: agent, payee: first, amount }]);
  rollBack(agent.device, snapshot, counter + 1);
  const again = payAll(scenario, random, attacks, [{ payer: agent, payee: second, amount }]);
  const forged = held(attacks, devices) - before;
  const both: Paid = {
    payeesHit: [...new Set([...paid.payeesHit, ...again.payeesHit])],
    credited: paid.credited + again.credited,
    refusal: paid.refusal ?? again.refusal,
  };
  record(attacks, attacker, context.day, both, forged);
}

async function clone(context: ActContext, attacker: Attacker): Promise<void> {
  const { scenario, world, random, attacks } = context;
  const agent = attacker.agent;
  await loaded(agent);
  const [first, second] = twoPayees(world, random);
  const amount = amountFor(random, balanceOf(agent));
  if (amount === undefined) return;
  const before = held(attacks, [agent, first, second]);
  const copy = { device: cloneDevice(agent.device, `${agent.name}'s clone`) };
  attacks.clones.push(copy.device);
  const paid = payAll(scenario, random, attacks, [
    { payer: agent, payee: first, amount },
    { payer: copy, payee: second, amount },
  ]);
  record(attacks, attacker, context.day, paid, held(attacks, [agent, copy, first, second]) - before);
}

/**
 * Pays a merchant with a forged token (an honest payee's SE checks the issuance and refuses), then
 * renews another at its DCP, which — renewing without asking the MDS — mints its value.
 */
async function counterfeit(context: ActContext, attacker: Attacker): Promise<void> {
  const { scenario, world, random, attacks } = context;
  const agent = attacker.agent;
  const payee = random.pick(world.merchants);
  const before = held(attacks, [agent, payee]);
  forgeToken(agent.device, counterfeitValue);
  const paid = payAll(scenario, random, attacks, [{ payer: agent, payee, amount: counterfeitValue }]);
  record(attacks, attacker, context.day, paid, held(attacks, [agent, payee]) - before);
  forgeToken(agent.device, counterfeitValue);
  let refusal: string | undefined;
  try {
    await agent.app.renew(agent.device.client(), idempotencyKey());
    attacks.tally.settles++;
  } catch (error) {
    if (!isCbdcError(error)) throw error;
    refusal = error.code;
  }
  const renewed = refusal === undefined ? counterfeitValue : 0n;
  record(attacks, attacker, context.day, { payeesHit: [], credited: renewed, refusal }, counterfeitValue);
}

function spendAfterRevocation(context: ActContext, attacker: Attacker): void {
  const { scenario, world, random, attacks } = context;
  const agent = attacker.agent;
  const amount = amountFor(random, balanceOf(agent));
  if (amount === undefined) return;
  const payee = random.pick(world.merchants);
  const paid = payAll(scenario, random, attacks, [{ payer: agent, payee, amount }]);
  attacks.frauds.push({
    kind: 'spendAfterRevocation',
    attacker: agent.name,
    seId: attacker.seId,
    day: context.day,
    payeesHit: paid.payeesHit,
    forged: 0n,
    lost: 0n,
    refusal: paid.refusal,
    detectedDay: undefined,
  });
}

interface ActContext {
  readonly scenario: Scenario;
  readonly world: World;
  readonly random: SeededRandom;
  readonly attacks: Attacks;
  readonly day: number;
}

const acts: Readonly<Record<Attacker['kind'], (context: ActContext, attacker: Attacker) => Promise<void>>> = {
  doubleSpend,
  clone,
  counterfeit,
};

/** The day's attacks, attackers in their onboarding order. */
export async function attack(context: ActContext): Promise<void> {
  for (const attacker of context.attacks.attackers) {
    if (attacker.day === context.day) await acts[attacker.kind](context, attacker);
    else if (attacker.revokedDay !== undefined && context.day > attacker.revokedDay)
      spendAfterRevocation(context, attacker);
  }
}

/**
 * After a day, with the MDS settled: each fraud not refused offline is detected once an alert of
 * its kind blames its SE; an attacker is revoked once such an alert about it was answered.
 */
export function observe(attacks: Attacks, alerts: readonly MdsAlert[], day: number): void {
  const blames = (seId: string, kind: FraudKind) =>
    alerts.some((alert) => alert.seId === seId && alertKindsOf[kind].includes(alert.kind));
  for (const fraud of attacks.frauds)
    if (fraud.refusal === undefined && fraud.detectedDay === undefined && blames(fraud.seId, fraud.kind))
      fraud.detectedDay = day;
  for (const attacker of attacks.attackers)
    if (
      attacker.revokedDay === undefined &&
      alerts.some((alert) => alert.seId === attacker.seId && alert.status === 'revoked')
    )
      attacker.revokedDay = day;
}
