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
import { nodePlatform } from '../secure-element/node-platform.ts';
import { MemoryMedium } from '../secure-element/store/medium.ts';
import { newApiKey, type RunningDcp, type RunningSystem } from '../system/launcher.ts';
import type { SeededRandom } from '../demo/seeded-random.ts';
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

export function operatorOf(dcp: RunningDcp): DcpClient {
  return new DcpClient({ baseUrl: dcp.url, apiKey: dcp.operatorKey });
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
    client: new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: key }),
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
  const app = new DeviceApp({ baseUrl: who.dcp.url, verifier });
  await app.personalise(device.client(), who.kind, wallet.id, who.dcp.operatorKey, idempotencyKey());
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
 * replacement), so every run of a scenario has the same mix of devices.
 */
function consumerKinds(scenario: Scenario, random: SeededRandom): SecureElementKind[] {
  const positions = Array.from({ length: scenario.devices }, (_, index) => index);
  const cards = new Set<number>();
  while (cards.size < cardCountOf(scenario))
    cards.add(random.pick(positions.filter((position) => !cards.has(position))));
  return positions.map((position) => (cards.has(position) ? 'card' : 'phone'));
}

/** Creates the bank, then every consumer and merchant in a fixed order. */
export async function buildWorld(
  system: RunningSystem,
  scenario: Scenario,
  random: SeededRandom,
): Promise<World> {
  const ledger = new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: system.ledgerOperatorKey });
  const suppliesBefore = await supplies(system.dcps.values());
  const attackerNames = attackerNamesOf(scenario);
  const issuedByCentralBank = consumerWalletFunds * BigInt(scenario.devices + attackerNames.length);
  const bank = await createBank(system, ledger, issuedByCentralBank);
  const dcps = [...system.dcps.values()];
  const dcpAt = (index: number): RunningDcp => {
    const dcp = dcps[index % dcps.length];
    assert(dcp !== undefined, 'the system runs at least one DCP');
    return dcp;
  };
  const consumers: Agent[] = [];
  for (const [index, kind] of consumerKinds(scenario, random).entries()) {
    const name = `consumer-${index + 1}`;
    const dcp = dcpAt(index);
    consumers.push(await onboard(bank, { name, role: 'consumer', kind, dcp, funds: consumerWalletFunds }));
  }
  const merchants: Agent[] = [];
  for (let index = 0; index < scenario.merchants; index++) {
    const name = `merchant-${index + 1}`;
    const dcp = dcpAt(index);
    merchants.push(await onboard(bank, { name, role: 'merchant', kind: 'phone', dcp, funds: 0n }));
  }
  const attackers: Agent[] = [];
  for (const [index, name] of attackerNames.entries()) {
    const dcp = dcpAt(index);
    attackers.push(
      await onboard(bank, { name, role: 'attacker', kind: 'phone', dcp, funds: consumerWalletFunds }),
    );
  }
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
  };
}
