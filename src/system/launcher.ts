// Starts the whole online side on one machine — the core ledger, the directory, the MDS (its API
// process and its enclave process) and one DCP per name —
// each its own `cbdc serve` process on 127.0.0.1 with its own database (a SQLite file under the data
// folder, or its own PostgreSQL database), and wires them together: a deployment PKI, operator keys,
// and each DCP's participants on the ledger and in the directory (DESIGN §9: "one command starts the
// whole system on one machine"). The first start creates the PKI and the keys and keeps them in the
// data folder (state.ts); a restart on the same folder reuses them and registers nothing twice, so
// every service resumes on its data.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { toHex } from '../core/bytes.ts';
import { DirectoryClient } from '../directory/api/client.ts';
import { LedgerClient } from '../ledger/api/client.ts';
import { MdsClient } from '../mds/api/client.ts';
import { createDeploymentPki, loadPrincipal } from '../pki/deployment-pki.ts';
import { serviceDatabases, type ServiceDatabases } from './databases.ts';
import {
  freshSystemState,
  readSystemState,
  writeSystemState,
  type DcpState,
  type MdsState,
  type SystemState,
} from './state.ts';

export { newApiKey } from './state.ts';

/** How long a service may take to print its listening line. */
export const serviceStartMsMax = 20_000;
/** How long a service may take to stop after SIGTERM before it is killed. */
export const serviceStopMsMax = 10_000;

const cbdcBin = resolve(import.meta.dirname, '../../bin/cbdc.mjs');

export interface SystemOptions {
  /**
   * Folder for the PKI, the kept keys (system.json) and every service's SQLite file; created when
   * absent, resumed when it holds an earlier start's.
   */
  readonly dataDirectory: string;
  readonly dcpNames: readonly string[];
  /** pino level for the services' own logs (written to this process's stderr), or silent. */
  readonly logLevel?: string;
  /**
   * `postgres://…/NAME`: each service gets its own database NAME_<service> on that server, created
   * when missing. Left out: a SQLite file per service in the data folder.
   */
  readonly databaseUrl?: string;
  /**
   * The ledger listens on portBase, the directory on portBase + 1, the MDS on portBase + 2, the DCPs
   * on portBase + 10, + 11…
   * Left out or 0: any free ports (tests).
   */
  readonly portBase?: number;
  /** Every DCP's renewal check mode (`cbdc serve dcp --renewal-check`); default async. */
  readonly renewalCheck?: 'async' | 'sync';
  /** The MDS's double-spend policy (`cbdc serve mds --double-spend-policy`); default honour. */
  readonly doubleSpendPolicy?: 'honour' | 'refuse';
  /**
   * How often the MDS settles between DCP pools; default `settlementIntervalMs`. Null: never by
   * itself (the simulator, whose runs must not depend on the wall clock).
   */
  readonly settlementIntervalMs?: number | null;
}

/**
 * Where each service listens relative to `portBase` (docs/ARCHITECTURE.md, "cbdc start"); the
 * monitoring room's page (src/system/dashboard.ts) on portBase + 20.
 */
export const servicePortOffsets = { ledger: 0, directory: 1, mds: 2, firstDcp: 10, dashboard: 20 } as const;
/** How often the MDS runs a settlement between DCP pools (docs/mds.md, "Supply and settlement"). */
export const settlementIntervalMs = 60_000;

export interface RunningDcp {
  readonly name: string;
  readonly url: string;
  readonly operatorKey: string;
  readonly dcpId: string;
}

export interface RunningSystem {
  readonly pkiDirectory: string;
  /** True when this start created the data folder's PKI and keys (a first start). */
  readonly created: boolean;
  readonly ledgerUrl: string;
  readonly ledgerOperatorKey: string;
  readonly directoryUrl: string;
  readonly directoryOperatorKey: string;
  readonly mdsUrl: string;
  readonly mdsOperatorKey: string;
  readonly dcps: ReadonlyMap<string, RunningDcp>;
  stop(): Promise<void>;
}

interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Spawns `cbdc serve <args>` and resolves with its URL once it prints `<name> listening on <url>`. */
function startService(
  name: string,
  args: readonly string[],
  environment: Record<string, string>,
  logLevel: string,
  port: number,
  extraArgs: readonly string[] = [],
): Promise<Service> {
  const command = [cbdcBin, 'serve', ...args, ...extraArgs, '--port', String(port), '--log-level', logLevel];
  const child = spawn(process.execPath, command, {
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolveService, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${serviceStartMsMax} ms`));
    }, serviceStartMsMax);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match === null) {
        if (logLevel !== 'silent') process.stderr.write(`[${name}] ${line}\n`);
        return;
      }
      clearTimeout(timer);
      resolveService({ name, child, url: match[1]! });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before listening (code ${String(code)}, signal ${String(signal)})`));
    });
  });
}

async function stopService(service: Service): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => {
    service.child.once('exit', () => {
      resolveExit();
    });
  });
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), serviceStopMsMax);
  await exited;
  clearTimeout(timer);
}

interface Central {
  readonly ledger: Service;
  readonly directory: Service;
  readonly mds: Service;
  readonly ledgerOperatorKey: string;
  readonly directoryOperatorKey: string;
  readonly mdsOperatorKey: string;
}

/**
 * Registers a DCP's participants on the ledger and in the directory, unless an earlier start did:
 * each registration is idempotent by its kept key, and marked done in the state once answered.
 */
async function registerDcp(
  name: string,
  dcpId: string,
  central: Central,
  kept: DcpState,
  save: (state: DcpState) => void,
): Promise<DcpState & { readonly directoryKey: string }> {
  let state = kept;
  if (!state.ledgerRegistered) {
    const ledger = new LedgerClient({ baseUrl: central.ledger.url, apiKey: central.ledgerOperatorKey });
    await ledger.createParticipant(state.ledgerRegistrationKey, {
      name: `DCP ${name}`,
      role: 'dcp',
      apiKeySha256: sha256Hex(state.ledgerKey),
    });
    state = { ...state, ledgerRegistered: true };
    save(state);
  }
  if (state.directoryKey === null) {
    const directory = new DirectoryClient({
      baseUrl: central.directory.url,
      apiKey: central.directoryOperatorKey,
    });
    const registered = await directory.createParticipant(state.directoryRegistrationKey, {
      name: `DCP ${name}`,
      role: 'dcp',
      dcpId,
    });
    state = { ...state, directoryKey: registered.value.apiKey };
    save(state);
  }
  if (!state.mdsRegistered) {
    const mds = new MdsClient({ baseUrl: central.mds.url, apiKey: central.mdsOperatorKey });
    await mds.createParticipant(state.mdsRegistrationKey, {
      name: `DCP ${name}`,
      role: 'dcp',
      dcpId,
      apiKeySha256: sha256Hex(state.mdsKey),
    });
    state = { ...state, mdsRegistered: true };
    save(state);
  }
  const { directoryKey } = state;
  if (directoryKey === null) throw new Error(`DCP ${name} has no directory key`);
  return { ...state, directoryKey };
}

/**
 * The MDS's participant in the directory (registered once: it asks the directory to revoke the SEs
 * it blames), then its process, which starts its enclave on its own database.
 */
async function startMds(
  pkiDirectory: string,
  ledger: { readonly service: Service; readonly operatorKey: string },
  directory: Service,
  directoryOperatorKey: string,
  kept: MdsState,
  save: (state: MdsState) => void,
  databases: { readonly api: string; readonly enclave: string },
  logLevel: string,
  port: number,
  policies: { readonly doubleSpendPolicy: 'honour' | 'refuse'; readonly settlementIntervalMs: number | null },
): Promise<Service> {
  let state = kept;
  if (state.directoryKey === null) {
    const client = new DirectoryClient({ baseUrl: directory.url, apiKey: directoryOperatorKey });
    const registered = await client.createParticipant(state.directoryRegistrationKey, {
      name: 'MDS',
      role: 'mds',
    });
    state = { ...state, directoryKey: registered.value.apiKey };
    save(state);
  }
  const { directoryKey } = state;
  if (directoryKey === null) throw new Error('the MDS has no directory key');
  // Settlement between DCP pools: a ledger participant of role settlement, registered once (the
  // registration's idempotency key makes a retry after a crash replay the first answer).
  if (!state.ledgerRegistered) {
    await new LedgerClient({ baseUrl: ledger.service.url, apiKey: ledger.operatorKey }).createParticipant(
      state.ledgerRegistrationKey,
      { name: 'MDS settlement', role: 'settlement', apiKeySha256: sha256Hex(state.ledgerKey) },
    );
    state = { ...state, ledgerRegistered: true };
    save(state);
  }
  const { ledgerKey } = state;
  return await startService(
    'mds',
    ['mds', '--db', databases.api, '--enclave-db', databases.enclave, '--pki', pkiDirectory],
    {
      CBDC_MDS_DIRECTORY_KEY: directoryKey,
      CBDC_MDS_OPERATOR_KEY: state.operatorKey,
      CBDC_MDS_LEDGER_KEY: ledgerKey,
    },
    logLevel,
    port,
    [
      '--directory',
      directory.url,
      '--ledger',
      ledger.service.url,
      ...(policies.settlementIntervalMs === null
        ? []
        : ['--settlement-interval-ms', String(policies.settlementIntervalMs)]),
      '--double-spend-policy',
      policies.doubleSpendPolicy,
    ],
  );
}

/** A DCP's participants (registered once), then its process. */
async function startDcp(
  name: string,
  pkiDirectory: string,
  central: Central,
  kept: DcpState,
  save: (state: DcpState) => void,
  database: string,
  logLevel: string,
  port: number,
  renewalCheck: 'async' | 'sync',
): Promise<{ readonly service: Service; readonly dcp: RunningDcp }> {
  const dcpId = toHex(loadPrincipal(pkiDirectory, `dcp-${name}.json`).certificate.body.subjectId);
  const keys = await registerDcp(name, dcpId, central, kept, save);
  const service = await startService(
    `dcp-${name}`,
    [
      'dcp',
      '--db',
      database,
      '--ledger',
      central.ledger.url,
      '--directory',
      central.directory.url,
      '--pki',
      pkiDirectory,
      '--name',
      name,
      '--mds',
      central.mds.url,
      '--renewal-check',
      renewalCheck,
    ],
    {
      CBDC_DCP_LEDGER_KEY: keys.ledgerKey,
      CBDC_DCP_DIRECTORY_KEY: keys.directoryKey,
      CBDC_DCP_OPERATOR_KEY: keys.operatorKey,
      CBDC_DCP_MDS_KEY: keys.mdsKey,
    },
    logLevel,
    port,
  );
  // The MDS settles to and from the DCP's pool: the account the DCP opened at start (a replay of its key).
  const dcpLedger = new LedgerClient({ baseUrl: central.ledger.url, apiKey: keys.ledgerKey });
  const pool = await dcpLedger.createAccount('dcp-pool', {
    kind: 'dcpPool',
    ownerId: (await dcpLedger.whoAmI()).id,
  });
  await new MdsClient({ baseUrl: central.mds.url, apiKey: central.mdsOperatorKey }).setSettlementPool(
    dcpId,
    pool.value.id,
  );
  return { service, dcp: { name, url: service.url, operatorKey: keys.operatorKey, dcpId } };
}

/** The kept state of the data folder, or a fresh one with a new PKI on a first start. */
function openDataFolder(
  options: SystemOptions,
  pkiDirectory: string,
): { readonly state: SystemState; readonly created: boolean } {
  const kept = readSystemState(options.dataDirectory);
  if (kept !== undefined) {
    const same =
      kept.dcpNames.length === options.dcpNames.length &&
      kept.dcpNames.every((name, index) => options.dcpNames[index] === name);
    if (!same)
      throw new Error(
        `${options.dataDirectory} holds DCPs ${kept.dcpNames.join(', ')}: start it with those, or use another folder`,
      );
    return { state: kept, created: false };
  }
  if (existsSync(join(pkiDirectory, 'trust.json')))
    throw new Error(
      `${pkiDirectory} exists without ${options.dataDirectory}/system.json: use a fresh data folder`,
    );
  createDeploymentPki(pkiDirectory, options.dcpNames, Math.floor(Date.now() / 1000));
  const state = freshSystemState(options.dcpNames);
  writeSystemState(options.dataDirectory, state);
  return { state, created: true };
}

/** What starting the services shares: where things go, and the kept state with its saving. */
interface Launch {
  readonly pkiDirectory: string;
  readonly logLevel: string;
  readonly renewalCheck: 'async' | 'sync';
  readonly doubleSpendPolicy: 'honour' | 'refuse';
  readonly settlementIntervalMs: number | null;
  readonly databases: ServiceDatabases;
  readonly port: (offset: number) => number;
  /** Every service started, in start order (stopped in reverse). */
  readonly services: Service[];
  state(): SystemState;
  save(change: (state: SystemState) => SystemState): void;
}

/** The ledger, the directory and the MDS, each registered in `launch.services` once started. */
async function startCentral(launch: Launch): Promise<Central> {
  const { ledgerOperatorKey, directoryOperatorKey } = launch.state();
  const ledger = await startService(
    'ledger',
    ['ledger', '--db', await launch.databases.urlOf('ledger')],
    { CBDC_LEDGER_OPERATOR_KEY: ledgerOperatorKey },
    launch.logLevel,
    launch.port(servicePortOffsets.ledger),
  );
  launch.services.push(ledger);
  const directory = await startService(
    'directory',
    ['directory', '--db', await launch.databases.urlOf('directory'), '--pki', launch.pkiDirectory],
    { CBDC_DIRECTORY_OPERATOR_KEY: directoryOperatorKey },
    launch.logLevel,
    launch.port(servicePortOffsets.directory),
  );
  launch.services.push(directory);
  const mds = await startMds(
    launch.pkiDirectory,
    { service: ledger, operatorKey: ledgerOperatorKey },
    directory,
    directoryOperatorKey,
    launch.state().mds,
    (kept) => {
      launch.save((state) => ({ ...state, mds: kept }));
    },
    { api: await launch.databases.urlOf('mds'), enclave: await launch.databases.urlOf('mds-enclave') },
    launch.logLevel,
    launch.port(servicePortOffsets.mds),
    { doubleSpendPolicy: launch.doubleSpendPolicy, settlementIntervalMs: launch.settlementIntervalMs },
  );
  launch.services.push(mds);
  const mdsOperatorKey = launch.state().mds.operatorKey;
  return { ledger, directory, mds, ledgerOperatorKey, directoryOperatorKey, mdsOperatorKey };
}

export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  mkdirSync(options.dataDirectory, { recursive: true });
  const pkiDirectory = join(options.dataDirectory, 'pki');
  const opened = openDataFolder(options, pkiDirectory);
  let state = opened.state;
  const portBase = options.portBase ?? 0;
  const launch: Launch = {
    pkiDirectory,
    logLevel: options.logLevel ?? 'silent',
    renewalCheck: options.renewalCheck ?? 'async',
    doubleSpendPolicy: options.doubleSpendPolicy ?? 'honour',
    settlementIntervalMs:
      options.settlementIntervalMs === undefined ? settlementIntervalMs : options.settlementIntervalMs,
    databases: serviceDatabases(options.dataDirectory, options.databaseUrl),
    port: (offset) => (portBase === 0 ? 0 : portBase + offset),
    services: [],
    state: () => state,
    save: (change) => {
      state = change(state);
      writeSystemState(options.dataDirectory, state);
    },
  };
  const stop = async () => {
    await Promise.all([...launch.services].reverse().map(stopService));
  };
  try {
    const central = await startCentral(launch);
    const dcps = new Map<string, RunningDcp>();
    for (const [index, name] of options.dcpNames.entries()) {
      const kept = state.dcps[name];
      if (kept === undefined) throw new Error(`system.json has no DCP ${name}`);
      const started = await startDcp(
        name,
        pkiDirectory,
        central,
        kept,
        (dcp) => {
          launch.save((current) => ({ ...current, dcps: { ...current.dcps, [name]: dcp } }));
        },
        await launch.databases.urlOf(`dcp-${name}`),
        launch.logLevel,
        launch.port(servicePortOffsets.firstDcp + index),
        launch.renewalCheck,
      );
      launch.services.push(started.service);
      dcps.set(name, started.dcp);
    }
    return {
      pkiDirectory,
      created: opened.created,
      ledgerUrl: central.ledger.url,
      ledgerOperatorKey: central.ledgerOperatorKey,
      directoryUrl: central.directory.url,
      directoryOperatorKey: central.directoryOperatorKey,
      mdsUrl: central.mds.url,
      mdsOperatorKey: central.mdsOperatorKey,
      dcps,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
