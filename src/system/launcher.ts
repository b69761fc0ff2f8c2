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

async function postJson<T>(url: string, apiKey: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': newApiKey().slice(0, 32),
    },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as T;
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Starts ledger, directory and DCPs; on any failure stops what already runs and rethrows. */
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
    for (const name of options.dcpNames) {
      const dcpId = toHex(pki.dcps.get(name)!.certificate.body.subjectId);
      const ledgerKey = newApiKey();
      await postJson(`${ledger.url}/v1/participants`, ledgerOperatorKey, {
        name: `DCP ${name}`,
        role: 'dcp',
        apiKeySha256: sha256Hex(ledgerKey),
      });
      const { apiKey: directoryKey } = await postJson<{ apiKey: string }>(
        `${directory.url}/v1/participants`,
        directoryOperatorKey,
        {
          name: `DCP ${name}`,
          role: 'dcp',
          dcpId,
        },
      );
      const operatorKey = newApiKey();
      const dcp = await startService(
        `dcp-${name}`,
        [
          'dcp',
          '--db',
          database(`dcp-${name}`),
          '--ledger',
          ledger.url,
          '--directory',
          directory.url,
          '--pki',
          pkiDirectory,
          '--name',
          name,
        ],
        {
          CBDC_DCP_LEDGER_KEY: ledgerKey,
          CBDC_DCP_DIRECTORY_KEY: directoryKey,
          CBDC_DCP_OPERATOR_KEY: operatorKey,
        },
        logLevel,
      );
      services.push(dcp);
      dcps.set(name, { name, url: dcp.url, operatorKey, dcpId });
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
