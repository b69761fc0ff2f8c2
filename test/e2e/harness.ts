// Process harness for the end-to-end tests: each service is its own child process started exactly as
// an operator would (`node bin/cbdc.mjs serve ledger|directory|mds|dcp ...`), on 127.0.0.1 and a free
// port chosen here (kept across restarts, so peers and outbox rows that hold a DCP's URL still reach
// it), with its own SQLite file in one temporary folder. The deployment is bootstrapped the way the
// docs say: operator keys from environment variables, every other participant created over HTTP.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { toHex } from '../../src/core/bytes.ts';
import { DcpClient } from '../../src/dcp/api/client.ts';
import type { FaultPoint } from '../../src/dcp/domain/ports.ts';
import { crashAtEnvironment } from '../../src/dcp/server.ts';
import { DirectoryClient } from '../../src/directory/api/client.ts';
import { LedgerClient } from '../../src/ledger/api/client.ts';
import { MdsClient } from '../../src/mds/api/client.ts';
import { apiKeyDigest } from '../../src/ledger/http/auth.ts';
import { createDeploymentPki, type CreatedPki } from '../../src/pki/deployment-pki.ts';
import { freshKey, newApiKey } from '../dcp/fixtures.ts';
import { freePort, ServiceProcess } from '../../src/testing/service-process.ts';

/** The money the central bank issues to the bank at bootstrap (the only issuance on the ledger). */
export const bankIssuedAmount = 100_000_000n;

export interface DcpHandle {
  readonly name: string;
  readonly dcpId: string;
  readonly url: string;
  /** The DCP's SQLite file, read by the tests (read-only) to count issuances. */
  readonly databaseFile: string;
  readonly operatorKey: string;
  readonly poolAccountId: string;
  process: ServiceProcess;
  /** Starts it again on the same file and port; `crashAt` arms the test-only crash switch. */
  restart(options?: { readonly crashAt?: FaultPoint }): Promise<void>;
}

export interface Deployment {
  readonly pki: CreatedPki;
  readonly folder: string;
  readonly ledgerUrl: string;
  /** The ledger operator (reads pool accounts and their statements). */
  readonly ledger: LedgerClient;
  /** An intermediary with money; it funds wallet accounts. */
  readonly bank: LedgerClient;
  readonly bankAccount: string;
  /** The directory operator. */
  readonly directory: DirectoryClient;
  readonly dcps: ReadonlyMap<string, DcpHandle>;
  dcp(name: string): DcpHandle;
  stop(): Promise<void>;
}

/**
 * Starts a ledger, a directory and one DCP per name, each a child process on its own SQLite file,
 * and bootstraps them as docs/ledger.md, docs/directory.md and docs/dcp.md describe.
 */
/**
 * The MDS (`serve mds`: its API process and enclave process, SQLite files), which the DCPs forward
 * to and whose renewal check their unload gate asks: an unload of value received offline is paid
 * on its yes (docs/dcp.md, "Renewal check and the unload gate").
 */
async function startMds(
  folder: string,
  pkiDir: string,
  directoryUrl: string,
  directory: DirectoryClient,
  spawned: Set<ServiceProcess>,
): Promise<{ readonly url: string; readonly client: MdsClient }> {
  const atDirectory = await directory.createParticipant(freshKey(), { name: 'MDS', role: 'mds' });
  const operatorKey = newApiKey();
  const port = await freePort();
  await ServiceProcess.start(
    'mds',
    [
      '--port',
      String(port),
      '--db',
      `sqlite:${join(folder, 'mds.sqlite')}`,
      '--enclave-db',
      `sqlite:${join(folder, 'mds-enclave.sqlite')}`,
      '--pki',
      pkiDir,
      '--directory',
      directoryUrl,
    ],
    { CBDC_MDS_DIRECTORY_KEY: atDirectory.value.apiKey, CBDC_MDS_OPERATOR_KEY: operatorKey },
    { spawned },
  );
  const url = `http://127.0.0.1:${port}`;
  return { url, client: new MdsClient({ baseUrl: url, apiKey: operatorKey, timeoutMs: 5_000 }) };
}

export async function startDeployment(dcpNames: readonly string[]): Promise<Deployment> {
  const folder = mkdtempSync(join(tmpdir(), 'cbdc-e2e-'));
  const pkiDir = join(folder, 'pki');
  const pki = createDeploymentPki(pkiDir, dcpNames, Math.floor(Date.now() / 1000));
  const spawned = new Set<ServiceProcess>();
  const dcps = new Map<string, DcpHandle>();
  const stop = async () => {
    await Promise.all([...spawned].map((service) => service.stop('SIGKILL')));
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    const ledgerKey = newApiKey();
    const directoryKey = newApiKey();
    const [ledgerPort, directoryPort] = [await freePort(), await freePort()];
    const ledgerUrl = `http://127.0.0.1:${ledgerPort}`;
    const directoryUrl = `http://127.0.0.1:${directoryPort}`;
    await Promise.all([
      ServiceProcess.start(
        'ledger',
        ['--port', String(ledgerPort), '--db', `sqlite:${join(folder, 'ledger.sqlite')}`],
        { CBDC_LEDGER_OPERATOR_KEY: ledgerKey },
        { spawned },
      ),
      ServiceProcess.start(
        'directory',
        [
          '--port',
          String(directoryPort),
          '--db',
          `sqlite:${join(folder, 'directory.sqlite')}`,
          '--pki',
          pkiDir,
        ],
        { CBDC_DIRECTORY_OPERATOR_KEY: directoryKey },
        { spawned },
      ),
    ]);
    const ledgerClient = (apiKey: string) =>
      new LedgerClient({ baseUrl: ledgerUrl, apiKey, timeoutMs: 5_000, attemptsMax: 10, backoffMs: 25 });
    const ledger = ledgerClient(ledgerKey);
    const directory = new DirectoryClient({ baseUrl: directoryUrl, apiKey: directoryKey, timeoutMs: 5_000 });
    const bankKey = newApiKey();
    const bankId = (
      await ledger.createParticipant(freshKey(), {
        name: 'Bank',
        role: 'intermediary',
        apiKeySha256: apiKeyDigest(bankKey),
      })
    ).value.id;
    const bankAccount = (await ledger.createAccount(freshKey(), { kind: 'intermediary', ownerId: bankId }))
      .value.id;
    await ledger.issue(freshKey(), { accountId: bankAccount, amount: bankIssuedAmount });
    const mds = await startMds(folder, pkiDir, directoryUrl, directory, spawned);

    const prepared = await Promise.all(
      dcpNames.map(async (name) => {
        const dcpId = toHex(pki.dcps.get(name)!.certificate.body.subjectId);
        const dcpLedgerKey = newApiKey();
        await ledger.createParticipant(freshKey(), {
          name: `DCP ${name}`,
          role: 'dcp',
          apiKeySha256: apiKeyDigest(dcpLedgerKey),
        });
        const created = await directory.createParticipant(freshKey(), {
          name: `DCP ${name}`,
          role: 'dcp',
          dcpId,
        });
        const dcpMdsKey = newApiKey();
        await mds.client.createParticipant(freshKey(), {
          name: `DCP ${name}`,
          role: 'dcp',
          apiKeySha256: apiKeyDigest(dcpMdsKey),
          dcpId,
        });
        return {
          name,
          dcpId,
          dcpLedgerKey,
          dcpDirectoryKey: created.value.apiKey,
          dcpMdsKey,
          port: await freePort(),
        };
      }),
    );
    await Promise.all(
      prepared.map(async ({ name, dcpId, dcpLedgerKey, dcpDirectoryKey, dcpMdsKey, port }) => {
        const databaseFile = join(folder, `dcp-${name}.sqlite`);
        const operatorKey = newApiKey();
        const launch = (crashAt?: FaultPoint) =>
          ServiceProcess.start(
            'dcp',
            [
              '--port',
              String(port),
              '--db',
              `sqlite:${databaseFile}`,
              '--ledger',
              ledgerUrl,
              '--directory',
              directoryUrl,
              '--pki',
              pkiDir,
              '--name',
              name,
              '--mds',
              mds.url,
            ],
            {
              CBDC_DCP_LEDGER_KEY: dcpLedgerKey,
              CBDC_DCP_DIRECTORY_KEY: dcpDirectoryKey,
              CBDC_DCP_MDS_KEY: dcpMdsKey,
              CBDC_DCP_OPERATOR_KEY: operatorKey,
              [crashAtEnvironment]: crashAt ?? '',
            },
            { spawned, label: `dcp ${name}` },
          );
        const url = `http://127.0.0.1:${port}`;
        const first = await launch();
        const described = await new DcpClient({ baseUrl: url }).describe();
        const handle: DcpHandle = {
          name,
          dcpId,
          url,
          databaseFile,
          operatorKey,
          poolAccountId: described.poolAccountId,
          process: first,
          restart: async (options = {}) => {
            assert.ok(!handle.process.running, `dcp ${name} is still running`);
            handle.process = await launch(options.crashAt);
          },
        };
        dcps.set(name, handle);
      }),
    );
    return {
      pki,
      folder,
      ledgerUrl,
      ledger,
      bank: ledgerClient(bankKey),
      bankAccount,
      directory,
      dcps,
      dcp: (name) => {
        const dcp = dcps.get(name);
        assert.ok(dcp !== undefined, `no DCP ${name}`);
        return dcp;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One number from a DCP's SQLite file, opened read-only beside the running process (WAL). */
export function countRows(databaseFile: string, sql: string, ...parameters: readonly string[]): number {
  const db = new Sqlite(databaseFile, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare(sql).get(...parameters) as { n: number | bigint };
    return Number(row.n);
  } finally {
    db.close();
  }
}
