// The living demo economy of `cbdc start`: on a first start the tour (economy.ts) onboards its
// holders, then round after round until stopped, holders pay each other offline (some taps broken and
// resumed), renew when their SE asks to sync, and load from their wallets when low; after every round
// each DCP's supply invariant is checked. Its world (the bank's key, the holders' wallets) is kept in
// the data folder (economy.json, through system/kept-json.ts) and every chip's store in a folder per device, so a
// restart goes on with the same holders and balances.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SecureElementKind } from '../core/certificate.ts';
import { poolDifference } from '../dcp/domain/invariant.ts';
import { DcpClient } from '../dcp/api/client.ts';
import { SecureElementRefused } from '../device/se-client.ts';
import { LedgerClient } from '../ledger/api/client.ts';
import { MdsClient } from '../mds/api/client.ts';
import { FileMedium } from '../secure-element/store/medium.ts';
import { readKeptJson, writeKeptJson, type KeptFields } from '../system/kept-json.ts';
import type { RunningSystem } from '../system/launcher.ts';
import {
  holderApp,
  holderDevice,
  key,
  payOffline,
  runTour,
  type DemoWorld,
  type Holder,
  type Log,
} from './economy.ts';
import { formatAmount } from './format.ts';
import { SeededRandom } from './seeded-random.ts';

export const economyFile = 'economy.json';
const economyVersion = 1;

/** Per round: how many offline payments are tried, and the bounds of one, minor units. */
export const roundPaymentsMax = 4;
const paymentAmountMin = 100n;
const paymentAmountMax = 5_000n;
/** A holder syncs (renews) once it made this many offline payments since its last sync. */
const paymentsBeforeSync = 6;
/** Below this device balance a holder loads `loadAmount` from its wallet, if the wallet has it. */
const reloadBelow = 2_000n;
const loadAmount = 10_000n;

export interface LiveEconomyOptions {
  readonly dataDirectory: string;
  readonly log: Log;
  /** Pause between rounds. */
  readonly roundMs: number;
  /** Stop after this many rounds (tests); left out, rounds go on until `signal` aborts. */
  readonly rounds?: number;
  readonly signal: AbortSignal;
  readonly seed: number;
}

interface KeptHolder {
  readonly name: string;
  readonly kind: SecureElementKind;
  readonly dcp: string;
  readonly walletId: string;
  readonly walletAccountId: string;
}

interface KeptEconomy {
  readonly version: number;
  readonly bankKey: string;
  readonly bankAccountId: string;
  readonly holders: readonly KeptHolder[];
  /** The last round played. */
  readonly round: number;
}

/** What a run of rounds did, for its caller (and the test). */
export interface LiveOutcome {
  readonly resumed: boolean;
  readonly rounds: number;
  readonly lastRound: number;
  readonly payments: number;
  readonly renewals: number;
  readonly loads: number;
}

export async function runLiveEconomy(
  system: RunningSystem,
  options: LiveEconomyOptions,
): Promise<LiveOutcome> {
  const devicesDirectory = join(options.dataDirectory, 'devices');
  const media = (name: string) => new FileMedium(join(devicesDirectory, name));
  const kept = readEconomy(options.dataDirectory);
  let world: DemoWorld;
  let round: number;
  if (kept === undefined) {
    // A crash during an earlier tour may have left chips behind: the tour personalises afresh.
    rmSync(devicesDirectory, { recursive: true, force: true });
    world = (
      await runTour(system, options.log, media, (onboarded) => {
        writeEconomy(options.dataDirectory, keptOf(onboarded, 0));
      })
    ).world;
    round = 0;
  } else {
    world = worldOf(system, kept, media);
    round = kept.round;
    options.log(
      `\nresuming the demo economy at round ${round + 1} with ${world.holders.map((h) => h.name).join(', ')}`,
    );
  }
  const totals = { payments: 0, renewals: 0, loads: 0 };
  let played = 0;
  while (!options.signal.aborted && (options.rounds === undefined || played < options.rounds)) {
    round++;
    const done = await playRound(system, world, new SeededRandom(options.seed ^ round));
    played++;
    totals.payments += done.payments;
    totals.renewals += done.renewals;
    totals.loads += done.loads;
    writeEconomy(options.dataDirectory, keptOf(world, round));
    options.log(`round ${round}: ${done.summary}`);
    if (options.rounds !== undefined && played >= options.rounds) break;
    await sleep(options.roundMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
  return { resumed: kept !== undefined, rounds: played, lastRound: round, ...totals };
}

interface RoundDone {
  readonly payments: number;
  readonly renewals: number;
  readonly loads: number;
  readonly summary: string;
}

async function playRound(system: RunningSystem, world: DemoWorld, random: SeededRandom): Promise<RoundDone> {
  const { holders } = world;
  let payments = 0;
  let retaps = 0;
  let refused = 0;
  for (let attempt = 0; attempt < roundPaymentsMax; attempt++) {
    const payer = random.pick(holders);
    const payee = random.pick(holders.filter((holder) => holder !== payer));
    const balance = payer.device.client().getData().balance;
    const most = balance / 2n < paymentAmountMax ? balance / 2n : paymentAmountMax;
    if (most < paymentAmountMin) continue;
    const amount = paymentAmountMin + BigInt(random.below(Number(most - paymentAmountMin) + 1));
    const cut = random.chance(1, 5) ? 200 + random.below(600) : undefined;
    try {
      const line = payOffline(payer, payee, amount, cut);
      payments++;
      if (line.includes('re-tapped')) retaps++;
    } catch (error) {
      // A limit of either chip (renewal required, payee full...): the holders sync below.
      if (!(error instanceof SecureElementRefused)) throw error;
      refused++;
    }
  }
  let renewals = 0;
  let loads = 0;
  for (const holder of holders) {
    const data = holder.device.client().getData();
    if (data.paymentsSinceSync >= paymentsBeforeSync || (refused > 0 && data.paymentsSinceSync > 0)) {
      await holder.app.renew(holder.device.client(), key());
      renewals++;
    }
    if (
      holder.device.client().getData().balance < reloadBelow &&
      (await walletBalance(system, holder)) >= loadAmount
    ) {
      await holder.app.load(holder.device.client(), loadAmount, key());
      loads++;
    }
  }
  const verdicts = await supplyVerdicts(system);
  const monitored = await mdsSummary(system);
  const onDevices = holders.reduce((total, holder) => total + holder.device.client().getData().balance, 0n);
  const summary =
    `${payments} offline payments (${retaps} re-tapped, ${refused} refused by a limit), ` +
    `${renewals} renewals, ${loads} loads; on devices ${formatAmount(onDevices)}; ${verdicts}; ${monitored}`;
  return { payments, renewals, loads, summary };
}

async function walletBalance(system: RunningSystem, holder: Holder): Promise<bigint> {
  const ledger = new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: system.ledgerOperatorKey });
  return (await ledger.account(holder.walletAccountId)).balance;
}

/** What the MDS has seen: uploads by state and alerts (an honest economy raises none). */
async function mdsSummary(system: RunningSystem): Promise<string> {
  const status = await new MdsClient({ baseUrl: system.mdsUrl, apiKey: system.mdsOperatorKey }).status();
  const alerts = Object.values(status.alerts).reduce(
    (total, byStatus) => total + Object.values(byStatus).reduce((sum, count) => sum + count, 0),
    0,
  );
  const { stored, ingested, refused } = status.uploads;
  return `MDS uploads ${ingested} ingested, ${stored} waiting, ${refused} refused; alerts ${alerts}`;
}

/** Every DCP's pool on the ledger against issued − retired; throws when one differs. */
async function supplyVerdicts(system: RunningSystem): Promise<string> {
  const verdicts: string[] = [];
  for (const dcp of system.dcps.values()) {
    const supply = await new DcpClient({ baseUrl: dcp.url, apiKey: dcp.operatorKey }).supply();
    const difference = poolDifference(supply);
    if (difference !== 0n)
      throw new Error(`supply invariant broken at ${dcp.name} by ${formatAmount(difference)}`);
    verdicts.push(`${dcp.name} pool ${formatAmount(supply.poolBalance)} = issued − retired`);
  }
  return verdicts.join(', ');
}

function keptOf(world: DemoWorld, round: number): KeptEconomy {
  return {
    version: economyVersion,
    bankKey: world.bank.key,
    bankAccountId: world.bank.accountId,
    holders: world.holders.map((holder) => ({
      name: holder.name,
      kind: holder.device.kind,
      dcp: holder.dcp.name,
      walletId: holder.walletId,
      walletAccountId: holder.walletAccountId,
    })),
    round,
  };
}

function worldOf(system: RunningSystem, kept: KeptEconomy, media: (name: string) => FileMedium): DemoWorld {
  const holders = kept.holders.map((holder): Holder => {
    const dcp = system.dcps.get(holder.dcp);
    if (dcp === undefined)
      throw new Error(`${economyFile}: holder ${holder.name} is at unknown DCP ${holder.dcp}`);
    return {
      name: holder.name,
      device: holderDevice(holder.name, holder.kind, media(holder.name)),
      dcp,
      app: holderApp(dcp),
      walletId: holder.walletId,
      walletAccountId: holder.walletAccountId,
    };
  });
  const client = new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: kept.bankKey });
  return { bank: { key: kept.bankKey, client, accountId: kept.bankAccountId }, holders };
}

function writeEconomy(dataDirectory: string, economy: KeptEconomy): void {
  writeKeptJson(join(dataDirectory, economyFile), economy);
}

function readEconomy(dataDirectory: string): KeptEconomy | undefined {
  const fields = readKeptJson(join(dataDirectory, economyFile), economyVersion);
  return fields === undefined ? undefined : decodeEconomy(fields);
}

function decodeEconomy(fields: KeptFields): KeptEconomy {
  const { record } = fields;
  const holders = record['holders'];
  if (!Array.isArray(holders) || holders.length < 2) return fields.fail('holders must list at least two');
  const round = record['round'];
  if (typeof round !== 'number' || !Number.isSafeInteger(round) || round < 0)
    return fields.fail('round must be a non-negative integer');
  return {
    version: economyVersion,
    bankKey: fields.text(record['bankKey'], 'bankKey'),
    bankAccountId: fields.text(record['bankAccountId'], 'bankAccountId'),
    holders: holders.map((item: unknown, index): KeptHolder => {
      const holder = fields.object(item, `holders[${index}]`);
      const text = (field: string) => fields.text(holder[field], `holders[${index}].${field}`);
      const kind = holder['kind'];
      if (kind !== 'card' && kind !== 'phone')
        return fields.fail(`holders[${index}].kind must be card or phone`);
      return {
        name: text('name'),
        kind,
        dcp: text('dcp'),
        walletId: text('walletId'),
        walletAccountId: text('walletAccountId'),
      };
    }),
    round,
  };
}
