// Starts the whole online side on one machine — the core ledger, the directory and one DCP per name —
// each its own `cbdc serve` process on 127.0.0.1 with its own SQLite file under one data folder, and
// wires them together: a deployment PKI, operator keys, and each DCP's participants on the ledger
// and in the directory (DESIGN §9: "one command starts the whole system on one machine").
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { toHex } from '../core/bytes.ts';
import { DirectoryClient } from '../directory/api/client.ts';
import { LedgerClient } from '../ledger/api/client.ts';
import { createDeploymentPki, type CreatedPki } from '../pki/deployment-pki.ts';

/** How long a service may take to print its listening line. */
export const serviceStartMsMax = 20_000;
/** How long a service may take to stop after SIGTERM before it is killed. */
export const serviceStopMsMax = 10_000;

const cbdcBin = resolve(import.meta.dirname, '../../bin/cbdc.mjs');

export interface SystemOptions {
  /** Folder for the PKI and every service's SQLite file; created when absent. */
  readonly dataDirectory: string;
  readonly dcpNames: readonly string[];
  /** pino level for the services' own logs (written to this process's stderr), or silent. */
  readonly logLevel?: string;
}

export interface RunningDcp {
  readonly name: string;
  readonly url: string;
  readonly operatorKey: string;
  readonly dcpId: string;
}

export interface RunningSystem {
  readonly pki: CreatedPki;
  readonly pkiDirectory: string;
  readonly ledgerUrl: string;
  readonly ledgerOperatorKey: string;
  readonly directoryUrl: string;
  readonly directoryOperatorKey: string;
  readonly dcps: ReadonlyMap<string, RunningDcp>;
  stop(): Promise<void>;
}

interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
}

export function newApiKey(): string {
  return randomBytes(24).toString('base64url');
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
): Promise<Service> {
  const child = spawn(process.execPath, [cbdcBin, 'serve', ...args, '--port', '0', '--log-level', logLevel], {
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

/** A DCP's participants on the ledger and in the directory, then its process. */
async function startDcp(
  name: string,
  pki: CreatedPki,
  pkiDirectory: string,
  central: {
    readonly ledger: Service;
    readonly directory: Service;
    readonly ledgerOperatorKey: string;
    readonly directoryOperatorKey: string;
  },
  database: string,
  logLevel: string,
): Promise<{ readonly service: Service; readonly dcp: RunningDcp }> {
  const certificate = pki.dcps.get(name)?.certificate;
  if (certificate === undefined) throw new Error(`the PKI has no DCP ${name}`);
  const dcpId = toHex(certificate.body.subjectId);
  const ledgerKey = newApiKey();
  const ledger = new LedgerClient({ baseUrl: central.ledger.url, apiKey: central.ledgerOperatorKey });
  await ledger.createParticipant(newApiKey().slice(0, 32), {
    name: `DCP ${name}`,
    role: 'dcp',
    apiKeySha256: sha256Hex(ledgerKey),
  });
  const directory = new DirectoryClient({
    baseUrl: central.directory.url,
    apiKey: central.directoryOperatorKey,
  });
  const registered = await directory.createParticipant(newApiKey().slice(0, 32), {
    name: `DCP ${name}`,
    role: 'dcp',
    dcpId,
  });
  const operatorKey = newApiKey();
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
    ],
    {
      CBDC_DCP_LEDGER_KEY: ledgerKey,
      CBDC_DCP_DIRECTORY_KEY: registered.value.apiKey,
      CBDC_DCP_OPERATOR_KEY: operatorKey,
    },
    logLevel,
  );
  return { service, dcp: { name, url: service.url, operatorKey, dcpId } };
}

export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const logLevel = options.logLevel ?? 'silent';
  mkdirSync(options.dataDirectory, { recursive: true });
  const pkiDirectory = join(options.dataDirectory, 'pki');
  if (existsSync(join(pkiDirectory, 'trust.json')))
    throw new Error(`${pkiDirectory} exists: use a fresh data folder`);
  const pki = createDeploymentPki(pkiDirectory, options.dcpNames, Math.floor(Date.now() / 1000));
  const database = (name: string) => `sqlite:${join(options.dataDirectory, `${name}.sqlite`)}`;
  const services: Service[] = [];
  const stop = async () => {
    await Promise.all(services.reverse().map(stopService));
  };
  try {
    const ledgerOperatorKey = newApiKey();
    const ledger = await startService(
      'ledger',
      ['ledger', '--db', database('ledger')],
      { CBDC_LEDGER_OPERATOR_KEY: ledgerOperatorKey },
      logLevel,
    );
    services.push(ledger);
    const directoryOperatorKey = newApiKey();
    const directory = await startService(
      'directory',
      ['directory', '--db', database('directory'), '--pki', pkiDirectory],
      { CBDC_DIRECTORY_OPERATOR_KEY: directoryOperatorKey },
      logLevel,
    );
    services.push(directory);
    const dcps = new Map<string, RunningDcp>();
    const central = { ledger, directory, ledgerOperatorKey, directoryOperatorKey };
    for (const name of options.dcpNames) {
      const started = await startDcp(name, pki, pkiDirectory, central, database(`dcp-${name}`), logLevel);
      services.push(started.service);
      dcps.set(name, started.dcp);
    }
    return {
      pki,
      pkiDirectory,
      ledgerUrl: ledger.url,
      ledgerOperatorKey,
      directoryUrl: directory.url,
      directoryOperatorKey,
      dcps,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
