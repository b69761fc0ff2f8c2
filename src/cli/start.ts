// `cbdc start`: the README's main job. Starts the ledger, the directory, the MDS and the DCPs as real HTTP
// services on 127.0.0.1 (each its own process and database: SQLite files under --data, or PostgreSQL
// databases with --db), prints their URLs, and runs the living demo economy through them until
// SIGINT or SIGTERM, then stops everything cleanly. The first start creates the PKI and the API keys
// and keeps them in the data folder; a restart on the same folder resumes the services' data and the
// economy where it stopped.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { runLiveEconomy } from '../demo/live.ts';
import { removeAddresses, writeAddresses } from '../system/connect.ts';
import { dashboardKeys, dashboardKeysFile, startDashboard } from '../system/dashboard.ts';
import {
  startSystem,
  servicePortOffsets,
  type RunningSystem,
  type SystemOptions,
} from '../system/launcher.ts';
import { systemStateFile } from '../system/state.ts';
import {
  parseLimitsOption,
  parseLogLevel,
  parsePort,
  type CliLogLevel,
  type LimitsOption,
} from './options.ts';

interface StartOptions {
  readonly data: string;
  readonly db?: string;
  readonly portBase: number;
  readonly dcps: readonly string[];
  readonly roundMs: number;
  readonly rounds?: number;
  readonly seed: number;
  readonly logLevel: CliLogLevel;
  readonly renewalCheck: 'async' | 'sync';
  readonly doubleSpendPolicy: 'honour' | 'refuse';
  readonly limits?: LimitsOption;
  readonly economy: boolean;
}

function parseCount(text: string): number {
  if (!/^[0-9]{1,9}$/.test(text)) throw new InvalidArgumentError('expected a whole number');
  return Number(text);
}

function parseNames(text: string): string[] {
  const names = text.split(',');
  if (names.some((name) => !/^[a-z0-9-]{1,32}$/.test(name)) || new Set(names).size !== names.length)
    throw new InvalidArgumentError('expected distinct names of a-z, 0-9 and -, comma-separated');
  return names;
}

const renewalCheckOption = new Option(
  '--renewal-check <mode>',
  "every DCP's renewal check (cbdc serve dcp --renewal-check)",
)
  .choices(['async', 'sync'])
  .default('async');
const doubleSpendPolicyOption = new Option(
  '--double-spend-policy <policy>',
  "the MDS's policy for honest payees of double spends (cbdc serve mds --double-spend-policy)",
)
  .choices(['honour', 'refuse'])
  .default('honour');

/** Where everything answers, and where the keys to sign in with are. */
function printAddresses(system: RunningSystem, data: string, dashboardUrl: string): void {
  console.log(system.created ? `created ${data}/ (PKI, keys)` : `resumed ${data}/`);
  console.log(`ledger     ${system.ledgerUrl}`);
  console.log(`directory  ${system.directoryUrl}`);
  console.log(`mds        ${system.mdsUrl}`);
  for (const dcp of system.dcps.values()) console.log(`dcp ${dcp.name.padEnd(7)}${dcp.url}`);
  console.log(`dashboard  ${dashboardUrl}`);
  console.log(
    `  sign in with a key of ${data}/${systemStateFile} (operators) or ${data}/${dashboardKeysFile} (analyst, economist, auditor)`,
  );
}

function systemOptionsOf(options: StartOptions): SystemOptions {
  return {
    dataDirectory: options.data,
    dcpNames: options.dcps,
    logLevel: options.logLevel,
    portBase: options.portBase,
    renewalCheck: options.renewalCheck,
    doubleSpendPolicy: options.doubleSpendPolicy,
    ...(options.db === undefined ? {} : { databaseUrl: options.db }),
    ...(options.limits === undefined ? {} : { limitsFile: options.limits.path }),
  };
}

/** The demo economy until stopped, or with --no-economy only the wait for the signal. */
async function runEconomy(system: RunningSystem, options: StartOptions, signal: AbortSignal): Promise<void> {
  if (!options.economy) {
    console.log('services only, no demo economy; Ctrl-C stops everything');
    if (signal.aborted) return;
    await new Promise((resolveStop) => {
      signal.addEventListener('abort', resolveStop, { once: true });
    });
    return;
  }
  console.log('demo economy running; Ctrl-C stops everything');
  await runLiveEconomy(system, {
    dataDirectory: options.data,
    log: (line) => {
      console.log(line);
    },
    roundMs: options.roundMs,
    signal,
    seed: options.seed,
    ...(options.rounds === undefined ? {} : { rounds: options.rounds }),
  });
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the whole system on this machine with a living demo economy, until stopped')
    .option('--data <dir>', 'data folder: PKI, kept keys, SQLite files, device stores', 'data')
    .option('--db <url>', 'postgres://host/NAME: one database NAME_<service> per service (default SQLite)')
    .option(
      '--port-base <port>',
      `ledger on it, directory +${servicePortOffsets.directory}, MDS +${servicePortOffsets.mds}, DCPs +${servicePortOffsets.firstDcp}... (0: any free ports)`,
      parsePort,
      4100,
    )
    .option('--dcps <names>', 'DCP names, comma-separated (a first start fixes them)', parseNames, [
      'bank-a',
      'bank-b',
    ])
    .option('--round-ms <ms>', 'pause between rounds of the demo economy', parseCount, 2_000)
    .option('--rounds <n>', 'stop after this many rounds (default: until SIGINT or SIGTERM)', parseCount)
    .option('--seed <n>', "seed of the demo economy's choices", parseCount, 1)
    .addOption(renewalCheckOption)
    .addOption(doubleSpendPolicyOption)
    .option(
      '--limits <file>',
      'the limits every DCP pushes, per device kind (docs/dcp.md)',
      parseLimitsOption,
    )
    .option('--log-level <level>', "the services' pino level, or silent", parseLogLevel, 'silent')
    .option('--no-economy', 'run the services alone, for cbdc simulate --against (docs/simulator.md)')
    .action(async (options: StartOptions) => {
      // The first signal ends the economy after its round and stops every service; later ones are
      // ignored (not the default exit), so a second Ctrl-C cannot leave services running.
      const stop = new AbortController();
      const onSignal = () => {
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const system = await startSystem(systemOptionsOf(options));
      let dashboard: Awaited<ReturnType<typeof startDashboard>> | undefined;
      try {
        await dashboardKeys(system, options.data);
        const dashboardPort = options.portBase === 0 ? 0 : options.portBase + servicePortOffsets.dashboard;
        dashboard = await startDashboard(system, options.data, dashboardPort);
        printAddresses(system, options.data, dashboard.url);
        writeAddresses(options.data, system);
        await runEconomy(system, options, stop.signal);
      } finally {
        removeAddresses(options.data);
        await dashboard?.close();
        await system.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      console.log('all services stopped cleanly');
    });
}
