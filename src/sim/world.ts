// The simulated world on a started system: a bank on the core ledger, and agents — consumers with a
// card or a phone, merchants with a phone — each with a wallet at one DCP (spread over the DCPs in
// turn) and a chip personalised into it by that DCP. Everything here goes through the services' HTTP
// clients; only the order and the roles come from the seed.
import { randomBytes } from 'node:crypto';
import { assert } from '../core/assert.ts';
import { toHex } from '../core/bytes.ts';
import type { SecureElementKind } from '../core/certificate.ts';
import { NodeVerifier } from '../crypto/node-crypto.ts';
import { DcpClient } from '../dcp/api/client.ts';
import { DeviceApp } from '../device/device-app.ts';
import { Device } from '../device/device.ts';
import { LedgerClient } from '../ledger/api/client.ts';
import { keepAliveTransport } from '../node-http/keep-alive-transport.ts';
import { nodePlatform } from '../secure-element/node-platform.ts';
import { MemoryMedium } from '../secure-element/store/medium.ts';
import { newApiKey, type RunningDcp, type RunningSystem } from '../system/launcher.ts';
import type { SeededRandom } from '../demo/seeded-random.ts';
import { eachConcurrently } from './concurrent.ts';
import { PoweredChips } from './powered.ts';
import { cardCountOf, type Scenario } from './scenario.ts';
import { watchMds, type MdsWatch } from './watch.ts';

/** What each consumer's wallet starts with, minor units; merchants start with nothing. */
export const consumerWalletFunds = 200_000n;

const verifier = new NodeVerifier();
const platform = nodePlatform(verifier);

export type Role = 'consumer' | 'merchant' | 'attacker';

export interface Agent {
  /** `consumer-3`, `merchant-1`: stable across runs of one scenario, so reports can name them. */
  readonly name: string;
  readonly role: Role;
  readonly device: Device;
  readonly dcp: RunningDcp;
  readonly app: DeviceApp;
  /** The DCP's operator routes, for the agent's wallet balance. */
  readonly admin: DcpClient;
  readonly walletId: string;
  readonly walletAccountId: string;
}

/** A DCP's supply figures, minor units (its `GET /v1/supply`). */
export interface SupplyFigures {
  readonly dcp: string;
  readonly poolBalance: bigint;
  readonly issued: bigint;
  readonly retired: bigint;
  readonly queued: bigint;
  /** What the MDS's settlement runs moved into the pool (negative: out of it). */
  readonly settled: bigint;
}

export interface World {
  readonly system: RunningSystem;
  /** Every DCP's supply before the world was built: zero, unless the system ran before (--against). */
  readonly suppliesBefore: readonly SupplyFigures[];
  readonly ledger: LedgerClient;
  readonly bankAccountId: string;
  /** What the central bank issued to the bank: the whole of the ledger's money. */
  readonly issuedByCentralBank: bigint;
  readonly consumers: readonly Agent[];
  readonly merchants: readonly Agent[];
  /** Compromised phones, `double-spender-1`, `counterfeiter-1`, `cloner-1` … (attacks.ts). */
  readonly attackers: readonly Agent[];
  readonly mds: MdsWatch;
  /** Which chips stay powered between uses (powered.ts); every step marks the devices it used. */
  readonly chips: PoweredChips;
}

/** Every agent: consumers, merchants, then attackers. */
export function agentsOf(world: World): Agent[] {
  return [...world.consumers, ...world.merchants, ...world.attackers];
}

/** The attackers' names by kind, in the order they are onboarded after the merchants. */
export function attackerNamesOf(scenario: Scenario): string[] {
  const named = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, index) => `${prefix}-${index + 1}`);
  return [
    ...named('double-spender', scenario.doubleSpenders),
    ...named('counterfeiter', scenario.counterfeiters),
    ...named('cloner', scenario.cloners),
  ];
}

/** An idempotency key: random, because it never reaches the report. */
export function idempotencyKey(): string {
  return randomBytes(12).toString('hex');
}

/** Each DCP's clients, one of each per DCP and shared by its agents (they hold no device's state). */
const clientsOfDcp = new WeakMap<RunningDcp, { readonly operator: DcpClient; readonly app: DeviceApp }>();

function clientsOf(dcp: RunningDcp): { readonly operator: DcpClient; readonly app: DeviceApp } {
  let clients = clientsOfDcp.get(dcp);
  if (clients === undefined) {
    const options = { baseUrl: dcp.url, transport: keepAliveTransport };
    clients = {
      operator: new DcpClient({ ...options, apiKey: dcp.operatorKey }),
      app: new DeviceApp({ ...options, verifier }),
    };
    clientsOfDcp.set(dcp, clients);
  }
  return clients;
}

export function operatorOf(dcp: RunningDcp): DcpClient {
  return clientsOf(dcp).operator;
}

export async function supplies(dcps: Iterable<RunningDcp>): Promise<SupplyFigures[]> {
  const figures: SupplyFigures[] = [];
  for (const dcp of dcps) {
    const { poolBalance, issued, retired, queued, settled } = await operatorOf(dcp).supply();
    figures.push({ dcp: dcp.name, poolBalance, issued, retired, queued, settled });
  }
  return figures;
}

async function createBank(
  system: RunningSystem,
  ledger: LedgerClient,
  amount: bigint,
): Promise<{ readonly client: LedgerClient; readonly accountId: string }> {
  const key = newApiKey();
  const participant = await ledger.createParticipant(idempotencyKey(), {
    name: 'Simulated Bank',
    role: 'intermediary',
    apiKeySha256: toHex(verifier.sha256(new TextEncoder().encode(key))),
  });
  const account = await ledger.createAccount(idempotencyKey(), {
    kind: 'intermediary',
    ownerId: participant.value.id,
  });
  await ledger.issue(idempotencyKey(), { accountId: account.value.id, amount });
  return {
    client: new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: key, transport: keepAliveTransport }),
    accountId: account.value.id,
  };
}

interface Onboarding {
  readonly name: string;
  readonly role: Role;
  readonly kind: SecureElementKind;
  readonly dcp: RunningDcp;
  readonly funds: bigint;
}

/** A wallet at the agent's DCP, funded from the bank, and a chip personalised into it. */
async function onboard(
  bank: { readonly client: LedgerClient; readonly accountId: string },
  who: Onboarding,
  chips: PoweredChips,
): Promise<Agent> {
  const admin = operatorOf(who.dcp);
  const wallet = await admin.createWallet(idempotencyKey(), { name: who.name });
  if (who.funds > 0n)
    await bank.client.pay(idempotencyKey(), {
      payerAccountId: bank.accountId,
      payeeAccountId: wallet.accountId,
      amount: who.funds,
    });
  const device = new Device(who.kind, `${who.name}'s ${who.kind}`, new MemoryMedium(), platform);
  const app = clientsOf(who.dcp).app;
  await chips.during([device], () =>
    app.personalise(device.client(), who.kind, wallet.id, who.dcp.operatorKey, idempotencyKey()),
  );
  return {
    name: who.name,
    role: who.role,
    device,
    dcp: who.dcp,
    app,
    admin,
    walletId: wallet.id,
    walletAccountId: wallet.accountId,
  };
}

/**
 * Which consumers hold cards: exactly the scenario's card count, at positions the seed draws (without
 * replacement: each draw picks among the positions not drawn yet, in ascending order), so every run
 * of a scenario has the same mix of devices.
 */
export function consumerKinds(scenario: Scenario, random: SeededRandom): SecureElementKind[] {
  const remaining = new RemainingPositions(scenario.devices);
  const cards = new Set<number>();
  while (cards.size < cardCountOf(scenario)) cards.add(remaining.take(random.below(remaining.size)));
  return Array.from({ length: scenario.devices }, (_, position) => (cards.has(position) ? 'card' : 'phone'));
}

/**
 * The positions 0 … count − 1 not taken yet, in ascending order, as a Fenwick tree of counts: the
 * `rank`-th of them is found and taken in log(count) steps, where filtering a list would cost
 * count steps per draw.
 */
class RemainingPositions {
  readonly #tree: Int32Array;
  readonly #top: number;
  size: number;

  constructor(count: number) {
    this.#tree = new Int32Array(count + 1);
    for (let index = 1; index <= count; index++) {
      this.#tree[index] = (this.#tree[index] ?? 0) + 1;
      const parent = index + (index & -index);
      if (parent <= count) this.#tree[parent] = (this.#tree[parent] ?? 0) + (this.#tree[index] ?? 0);
    }
    let top = 1;
    while (top * 2 <= count) top *= 2;
    this.#top = top;
    this.size = count;
  }

  /** Takes the remaining position of 0-based `rank` and answers it. */
  take(rank: number): number {
    let position = 0;
    let left = rank;
    for (let step = this.#top; step > 0; step >>= 1) {
      const next = position + step;
      const count = this.#tree[next] ?? 0;
      if (next < this.#tree.length && count <= left) {
        position = next;
        left -= count;
      }
    }
    for (let index = position + 1; index < this.#tree.length; index += index & -index)
      this.#tree[index] = (this.#tree[index] ?? 0) - 1;
    this.size--;
    return position;
  }
}

/** Every agent to onboard, in order: the consumers, the merchants, then the attackers. */
function onboardings(scenario: Scenario, random: SeededRandom, dcps: readonly RunningDcp[]): Onboarding[] {
  const dcpAt = (index: number): RunningDcp => {
    const dcp = dcps[index % dcps.length];
    assert(dcp !== undefined, 'the system runs at least one DCP');
    return dcp;
  };
  return [
    ...consumerKinds(scenario, random).map((kind, index): Onboarding => {
      const name = `consumer-${index + 1}`;
      return { name, role: 'consumer', kind, dcp: dcpAt(index), funds: consumerWalletFunds };
    }),
    ...Array.from({ length: scenario.merchants }, (_, index): Onboarding => {
      const name = `merchant-${index + 1}`;
      return { name, role: 'merchant', kind: 'phone', dcp: dcpAt(index), funds: 0n };
    }),
    ...attackerNamesOf(scenario).map((name, index): Onboarding => ({
      name,
      role: 'attacker',
      kind: 'phone',
      dcp: dcpAt(index),
      funds: consumerWalletFunds,
    })),
  ];
}

/** Creates the bank, then every consumer and merchant in a fixed order. */
export async function buildWorld(
  system: RunningSystem,
  scenario: Scenario,
  random: SeededRandom,
): Promise<World> {
  const ledger = new LedgerClient({
    baseUrl: system.ledgerUrl,
    apiKey: system.ledgerOperatorKey,
    transport: keepAliveTransport,
  });
  const suppliesBefore = await supplies(system.dcps.values());
  const attackerNames = attackerNamesOf(scenario);
  const issuedByCentralBank = consumerWalletFunds * BigInt(scenario.devices + attackerNames.length);
  const bank = await createBank(system, ledger, issuedByCentralBank);
  const chips = new PoweredChips();
  // Onboarded concurrently: each agent's steps touch its own wallet and chip only (the bank's
  // payments are the ledger's to order), and the agents keep the order of their names.
  const everyone = onboardings(scenario, random, [...system.dcps.values()]);
  const agents = await eachConcurrently(everyone, (who) => onboard(bank, who, chips));
  const consumers = agents.filter((agent) => agent.role === 'consumer');
  const merchants = agents.filter((agent) => agent.role === 'merchant');
  const attackers = agents.filter((agent) => agent.role === 'attacker');
  const mds = await watchMds(system, idempotencyKey);
  return {
    system,
    suppliesBefore,
    ledger,
    bankAccountId: bank.accountId,
    issuedByCentralBank,
    consumers,
    merchants,
    attackers,
    mds,
    chips,
  };
}
