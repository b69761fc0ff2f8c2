// The demo economy on the whole online side: a central bank issues money to a bank; two DCPs
// (bank-a, bank-b) onboard a card and phones into wallets funded from that bank; devices load, pay
// each other offline through APDUs (across DCPs, with one tap broken and resumed), renew, unload and
// transfer online; after every step each DCP's pool on the ledger equals what it issued minus what it
// retired.
import { randomBytes } from 'node:crypto';
import { toHex } from '../core/bytes.ts';
import { NodeVerifier } from '../crypto/node-crypto.ts';
import { DcpClient } from '../dcp/api/client.ts';
import { poolDifference } from '../dcp/domain/invariant.ts';
import { DeviceApp } from '../device/device-app.ts';
import { Device } from '../device/device.ts';
import { OfflinePayment } from '../device/offline-payment.ts';
import { LedgerClient } from '../ledger/api/client.ts';
import { nodePlatform } from '../secure-element/node-platform.ts';
import { MemoryMedium, type Medium } from '../secure-element/store/medium.ts';
import { newApiKey, type RunningDcp, type RunningSystem } from '../system/launcher.ts';
import { formatAmount } from './format.ts';
import type { SecureElementKind } from '../core/certificate.ts';
import { keepAliveTransport } from '../node-http/keep-alive-transport.ts';

const verifier = new NodeVerifier();
const platform = nodePlatform(verifier);

export function key(): string {
  return randomBytes(12).toString('hex');
}

export interface Holder {
  readonly name: string;
  readonly device: Device;
  readonly dcp: RunningDcp;
  readonly app: DeviceApp;
  readonly walletId: string;
  readonly walletAccountId: string;
}

/** The demo bank on the core ledger: its client (with its key) and its account. */
export interface DemoBank {
  readonly key: string;
  readonly client: LedgerClient;
  readonly accountId: string;
}

/** Where each device keeps its chip's store: in memory, or a folder per device (`cbdc start`). */
export type DeviceMedia = (holderName: string) => Medium;

/** What the tour leaves behind: the bank and the holders, for the live economy to go on with. */
export interface DemoWorld {
  readonly bank: DemoBank;
  readonly holders: readonly Holder[];
}

export function holderDevice(name: string, kind: SecureElementKind, medium: Medium): Device {
  return new Device(kind, `${name}'s ${kind}`, medium, platform);
}

export function holderApp(dcp: RunningDcp): DeviceApp {
  return new DeviceApp({ baseUrl: dcp.url, verifier, transport: keepAliveTransport });
}

/** The DCP's administrative routes, as its operator. */
export function admin(dcp: RunningDcp): DcpClient {
  return new DcpClient({ baseUrl: dcp.url, apiKey: dcp.operatorKey });
}

/** A person: a wallet at `dcp` funded from the bank, and a device personalised into it. */
export async function onboard(
  system: RunningSystem,
  bank: DemoBank,
  media: DeviceMedia,
  name: string,
  kind: SecureElementKind,
  dcpName: string,
  funds: bigint,
): Promise<Holder> {
  const dcp = system.dcps.get(dcpName)!;
  const wallet = await admin(dcp).createWallet(key(), { name });
  if (funds > 0n) {
    await bank.client.pay(key(), {
      payerAccountId: bank.accountId,
      payeeAccountId: wallet.accountId,
      amount: funds,
    });
  }
  const device = holderDevice(name, kind, media(name));
  const app = holderApp(dcp);
  await app.personalise(device.client(), kind, wallet.id, dcp.operatorKey, key());
  return { name, device, dcp, app, walletId: wallet.id, walletAccountId: wallet.accountId };
}

export function payOffline(payer: Holder, payee: Holder, amount: bigint, cutAfterBytes?: number): string {
  const payment = new OfflinePayment(payer.device, payee.device, amount);
  let outcome = payment.tap(cutAfterBytes === undefined ? {} : { cutAfterBytes });
  let note = '';
  while (outcome.outcome === 'interrupted') {
    note = ` (tap broken during ${outcome.step} after ${String(cutAfterBytes)} bytes, re-tapped)`;
    outcome = payment.tap();
  }
  return `${payer.name} pays ${payee.name} ${formatAmount(amount)} offline, ${payment.direction}${note}`;
}

/** What the economy ends with, for the test that runs it. */
export interface EconomySummary {
  /** By holder name: the device balance and the wallet account balance, minor units. */
  readonly holders: ReadonlyMap<string, { readonly device: bigint; readonly wallet: bigint }>;
  /** By DCP name: its pool balance on the ledger, and issued − retired by its own books. */
  readonly pools: ReadonlyMap<string, { readonly pool: bigint; readonly issuedMinusRetired: bigint }>;
}

export type Log = (line: string) => void;

/** Prints every holder and every DCP's supply; throws if a pool differs from issued − retired. */
export async function report(
  system: RunningSystem,
  ledger: LedgerClient,
  holders: readonly Holder[],
  step: string,
  log: Log,
): Promise<EconomySummary> {
  const summary = {
    holders: new Map<string, { device: bigint; wallet: bigint }>(),
    pools: new Map<string, { pool: bigint; issuedMinusRetired: bigint }>(),
  };
  log(`\n${step}`);
  for (const holder of holders) {
    const data = holder.device.client().getData();
    const wallet = (await ledger.account(holder.walletAccountId)).balance;
    summary.holders.set(holder.name, { device: data.balance, wallet });
    log(
      `  ${holder.name.padEnd(6)} ${holder.device.kind.padEnd(5)} @${holder.dcp.name}` +
        `  device ${formatAmount(data.balance).padStart(14)}  wallet ${formatAmount(wallet).padStart(14)}` +
        `  offline payments since sync ${data.paymentsSinceSync}`,
    );
  }
  for (const dcp of system.dcps.values()) {
    const supply = await admin(dcp).supply();
    const pool = supply.poolBalance;
    summary.pools.set(dcp.name, { pool, issuedMinusRetired: supply.issued - supply.retired });
    // The DCP's own pure check (src/dcp/domain/invariant.ts): zero when pool = issued − retired.
    const difference = poolDifference(supply);
    const verdict = difference === 0n ? 'holds' : `BROKEN by ${formatAmount(difference)}`;
    log(
      `  ${dcp.name}: pool on the ledger ${formatAmount(pool)} = issued ${formatAmount(supply.issued)}` +
        ` − retired ${formatAmount(supply.retired)}: ${verdict}`,
    );
    if (difference !== 0n) throw new Error(`supply invariant broken at ${dcp.name}`);
  }
  return summary;
}

/** The demo bank: an intermediary participant and its account, which the central bank issues to. */
export async function createBank(system: RunningSystem, operator: LedgerClient): Promise<DemoBank> {
  const bankKey = newApiKey();
  const bankParticipant = await operator.createParticipant(key(), {
    name: 'Demo Bank',
    role: 'intermediary',
    apiKeySha256: toHex(verifier.sha256(new TextEncoder().encode(bankKey))),
  });
  const bankAccount = await operator.createAccount(key(), {
    kind: 'intermediary',
    ownerId: bankParticipant.value.id,
  });
  await operator.issue(key(), { accountId: bankAccount.value.id, amount: 10_000_000n });
  const bank: DemoBank = {
    key: bankKey,
    client: new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: bankKey }),
    accountId: bankAccount.value.id,
  };
  return bank;
}

/** Runs the demo economy against a started system, logging each step; returns the final figures. */
export async function runEconomy(system: RunningSystem, log: Log = console.log): Promise<EconomySummary> {
  return (await runTour(system, log, () => new MemoryMedium())).summary;
}

/**
 * The tour: onboarding, loads, offline payments across DCPs (one tap broken and resumed), a renewal,
 * an unload and an online transfer, with a report after every step. Returns the final figures and
 * the world it made, on the media given.
 */
export async function runTour(
  system: RunningSystem,
  log: Log,
  media: DeviceMedia,
  onboarded: (world: DemoWorld) => void = () => undefined,
): Promise<{ readonly summary: EconomySummary; readonly world: DemoWorld }> {
  const operator = new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: system.ledgerOperatorKey });
  const bank = await createBank(system, operator);
  log(`central bank issued ${formatAmount(10_000_000n)} to Demo Bank on the core ledger`);

  // Alice and Bob bank with the first DCP, the shop with the last: with two or more DCPs, value
  // crosses DCPs offline and online.
  const dcpNames = [...system.dcps.keys()];
  const home = dcpNames[0];
  const shops = dcpNames.at(-1);
  if (home === undefined || shops === undefined) throw new Error('the demo needs at least one DCP');
  const alice = await onboard(system, bank, media, 'Alice', 'card', home, 100_000n);
  const bob = await onboard(system, bank, media, 'Bob', 'phone', home, 200_000n);
  const shop = await onboard(system, bank, media, 'Shop', 'phone', shops, 0n);
  const holders = [alice, bob, shop];
  onboarded({ bank, holders });
  await report(
    system,
    operator,
    holders,
    'onboarded: wallets funded, devices personalised by their DCP',
    log,
  );

  await alice.app.load(alice.device.client(), 20_000n, key());
  await bob.app.load(bob.device.client(), 50_000n, key());
  await report(
    system,
    operator,
    holders,
    'loaded: wallet → DCP pool on the ledger, an issuance into each SE',
    log,
  );

  log('');
  log(payOffline(alice, shop, 1_250n));
  log(payOffline(bob, alice, 3_000n));
  log(payOffline(bob, shop, 4_599n));
  log(payOffline(shop, bob, 1_000n, 700));
  log(payOffline(alice, bob, 500n));
  await report(system, operator, holders, 'offline: no server saw these payments', log);

  await shop.app.renew(shop.device.client(), key());
  const renewed = 'Shop renewed: its tokens and histories retired, one fresh token issued';
  await report(system, operator, holders, renewed, log);

  await bob.app.unload(bob.device.client(), 10_000n, key());
  await report(system, operator, holders, 'Bob unloaded 100.00 XTS back to his wallet', log);

  await bob.app.transfer(bob.device.client(), toHex(shop.device.client().getData().seId), 2_000n, key());
  await shop.app.renew(shop.device.client(), key());
  const transferred = `Bob (${home}) paid Shop (${shops}) 20.00 XTS online; Shop received it at its next sync`;
  const summary = await report(system, operator, holders, transferred, log);
  return { summary, world: { bank, holders } };
}
