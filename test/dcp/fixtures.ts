// Test support for the DCP: a real ledger, the real directory service (its fastify app and SQL store,
// listening on 127.0.0.1) and DCP servers in this process, every database on the engine under test;
// devices emulated in memory; the device-side requests of each operation.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../src/core/bytes.ts';
import type { SecureElementKind } from '../../src/core/certificate.ts';
import { NodeVerifier } from '../../src/crypto/node-crypto.ts';
import {
  DcpClient,
  type DcpSupply,
  type DcpWallet,
  type LoadBody,
  type SettleKind,
} from '../../src/dcp/api/client.ts';
import type { DeviceApp, PreparedSettlement } from '../../src/device/device-app.ts';
import type { Clock, FaultHook } from '../../src/dcp/domain/ports.ts';
import { startDcpServer, type DcpServer, type DcpServerOptions } from '../../src/dcp/server.ts';
import { Device } from '../../src/device/device.ts';
import { DirectoryClient } from '../../src/directory/api/client.ts';
import { startDirectoryServer, type DirectoryServer } from '../../src/directory/server.ts';
import { LedgerClient } from '../../src/ledger/api/client.ts';
import type { LedgerEntry } from '../../src/ledger/api/types.ts';
import { apiKeyDigest } from '../../src/ledger/http/auth.ts';
import { startLedgerServer, type LedgerServer, type LedgerServerOptions } from '../../src/ledger/server.ts';
import { createDeploymentPki, type CreatedPki } from '../../src/pki/deployment-pki.ts';
import { nodePlatform } from '../../src/secure-element/node-platform.ts';
import { MemoryMedium } from '../../src/secure-element/store/medium.ts';
import type { Engine } from '../../src/storage/database.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../src/testing/scratch.ts';
import { startSettlingMds, type SettlingMds } from './settling-mds.ts';

export const verifier = new NodeVerifier();
const platform = nodePlatform(verifier);

export function newApiKey(): string {
  return randomBytes(24).toString('base64url');
}

let keys = 0;
export function freshKey(prefix = 'k'): string {
  return `${prefix}-${process.pid}-${++keys}-${randomBytes(3).toString('hex')}`;
}

export function newDevice(kind: SecureElementKind, name: string): Device {
  return new Device(kind, name, new MemoryMedium(), platform);
}

export function seIdOf(device: Device): string {
  return toHex(device.client().getData().seId);
}

export function tempPki(dcpNames: readonly string[]): { dir: string; pki: CreatedPki; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cbdc-dcp-pki-'));
  const pki = createDeploymentPki(dir, dcpNames, Math.floor(Date.now() / 1000));
  return {
    dir,
    pki,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The real clock shifted by `offsetMs`, which a test sets (the DCP domain takes its clock). */
export class TestClock implements Clock {
  offsetMs = 0;
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
}

/** An operator's client of the DCP at `baseUrl`. */
export function adminClient(baseUrl: string, apiKey: string): DcpClient {
  return new DcpClient({ baseUrl, apiKey });
}

export type Supply = DcpSupply;
export type Wallet = DcpWallet;

/** A DCP in this process, its operator key, and a restart on the same database. */
export interface TestDcp {
  readonly name: string;
  readonly operatorKey: string;
  server: DcpServer;
  restart(): Promise<void>;
  supply(): Promise<Supply>;
  createWallet(name: string): Promise<Wallet>;
}

export interface World {
  readonly engine: Engine;
  readonly pki: CreatedPki;
  readonly ledger: LedgerServer;
  /** The ledger operator. */
  readonly ledgerOperator: LedgerClient;
  readonly directoryUrl: string;
  /** The directory operator (status changes, reads). */
  readonly directoryOperator: DirectoryClient;
  readonly dcps: ReadonlyMap<string, TestDcp>;
  dcp(name: string): TestDcp;
  /** The MDS, when asked for (`mds: true`): every DCP forwards to it, and it settles between pools. */
  readonly mds: SettlingMds | null;
  /** Pays `amount` from the bank's account to a wallet's ledger account. */
  fund(accountId: string, amount: bigint): Promise<void>;
  close(): Promise<void>;
}

export interface WorldOptions {
  readonly dcpNames: readonly string[];
  readonly limits?: DcpServerOptions['limits'];
  readonly clock?: Clock;
  /** Fault hooks by DCP name (crash tests). */
  readonly faults?: Readonly<Record<string, FaultHook>>;
  /** More options for every DCP (the MDS forwarding tests give the MDS). */
  readonly dcpOptions?: Partial<DcpServerOptions>;
  /** The ledger's clock and idempotency retention (the expiry tests move them). */
  readonly ledgerOptions?: Pick<LedgerServerOptions, 'clock' | 'idempotencyRetentionMs'>;
  /** A real MDS (settling-mds.ts) that every DCP forwards to. */
  readonly mds?: boolean;
}

/**
 * A ledger (SQLite in memory: it is not under test here), the directory service on a scratch database
 * of `engine`, and one DCP per name, each on its own scratch database of `engine`; every participant
 * created over HTTP as the docs say.
 */
export async function startWorld(engine: Engine, options: WorldOptions): Promise<World> {
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const pkiFolder = tempPki(options.dcpNames);
    cleanups.push(() => {
      pkiFolder.remove();
      return Promise.resolve();
    });
    const ledgerKey = newApiKey();
    const ledger = await startLedgerServer({
      databaseUrl: 'sqlite::memory:',
      host: '127.0.0.1',
      port: 0,
      operatorKey: ledgerKey,
      logLevel: 'silent',
      ...options.ledgerOptions,
    });
    cleanups.push(() => ledger.close());
    const ledgerClient = (apiKey: string) =>
      new LedgerClient({ baseUrl: ledger.url, apiKey, attemptsMax: 40, backoffMs: 25 });
    const ledgerOperator = ledgerClient(ledgerKey);
    const bankKey = newApiKey();
    const bank = await ledgerOperator.createParticipant(freshKey(), {
      name: 'Bank',
      role: 'intermediary',
      apiKeySha256: apiKeyDigest(bankKey),
    });
    const bankAccount = (
      await ledgerOperator.createAccount(freshKey(), { kind: 'intermediary', ownerId: bank.value.id })
    ).value.id;
    await ledgerOperator.issue(freshKey(), { accountId: bankAccount, amount: 100_000_000n });

    const scratch = async (): Promise<ScratchDatabase> => {
      const database = await createScratchDatabase(engine, 'file');
      cleanups.push(() => database.drop());
      return database;
    };
    const directoryKey = newApiKey();
    const directory: DirectoryServer = await startDirectoryServer({
      databaseUrl: (await scratch()).url,
      host: '127.0.0.1',
      port: 0,
      pkiDir: pkiFolder.dir,
      operatorKey: directoryKey,
      logLevel: 'silent',
    });
    cleanups.push(() => directory.close());
    const directoryOperator = new DirectoryClient({ baseUrl: directory.url, apiKey: directoryKey });
    const mds =
      options.mds === true
        ? await startSettlingMds(
            engine,
            pkiFolder,
            ledger.url,
            ledgerOperator,
            directory.url,
            directoryOperator,
          )
        : null;
    if (mds !== null) cleanups.push(() => mds.close());

    const dcps = new Map<string, TestDcp>();
    for (const name of options.dcpNames) {
      const dcpLedgerKey = newApiKey();
      await ledgerOperator.createParticipant(freshKey(), {
        name: `DCP ${name}`,
        role: 'dcp',
        apiKeySha256: apiKeyDigest(dcpLedgerKey),
      });
      const registered = await directoryOperator.createParticipant(freshKey(), {
        name: `DCP ${name}`,
        role: 'dcp',
        dcpId: toHex(pkiFolder.pki.dcps.get(name)!.certificate.body.subjectId),
      });
      const database = await scratch();
      const operatorKey = newApiKey();
      const faults = options.faults?.[name];
      const forwarding = mds === null ? {} : await mds.enrol(name);
      const start = () =>
        startDcpServer({
          databaseUrl: database.url,
          host: '127.0.0.1',
          port: 0,
          pkiDir: pkiFolder.dir,
          name,
          ledgerUrl: ledger.url,
          ledgerKey: dcpLedgerKey,
          directoryUrl: directory.url,
          directoryKey: registered.value.apiKey,
          operatorKey,
          directoryCacheMs: 0,
          ...(options.limits === undefined ? {} : { limits: options.limits }),
          ...(options.clock === undefined ? {} : { clock: options.clock }),
          ...(faults === undefined ? {} : { faults }),
          ...forwarding,
          ...options.dcpOptions,
        });
      const dcp: TestDcp = {
        name,
        operatorKey,
        server: await start(),
        restart: async () => {
          await dcp.server.close();
          dcp.server = await start();
        },
        supply: () => adminClient(dcp.server.url, operatorKey).supply(),
        createWallet: (walletName) =>
          adminClient(dcp.server.url, operatorKey).createWallet(freshKey(), { name: walletName }),
      };
      cleanups.push(() => dcp.server.close());
      if (mds !== null) await mds.setPool(name, dcp.server.context.poolAccountId);
      dcps.set(name, dcp);
    }
    const bankClient = ledgerClient(bankKey);
    return {
      engine,
      pki: pkiFolder.pki,
      ledger,
      ledgerOperator,
      directoryUrl: directory.url,
      directoryOperator,
      dcps,
      dcp: (name) => dcps.get(name)!,
      mds,
      fund: async (accountId, amount) => {
        await bankClient.pay(freshKey(), { payerAccountId: bankAccount, payeeAccountId: accountId, amount });
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Every entry of a ledger account's statement, page by page. */
export async function ledgerStatement(ledger: LedgerClient, accountId: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  for (let after: string | null = '0'; after !== null;) {
    const page = await ledger.statement(accountId, { after, limit: 200 });
    entries.push(...page.entries);
    after = page.next;
  }
  return entries;
}

/** What the device app posts for a load, made by the SE over a fresh nonce. */
export async function loadRequest(
  app: DeviceApp,
  device: Device,
  amount: bigint,
): Promise<{ readonly kind: 'load'; readonly body: LoadBody }> {
  return { kind: 'load', body: await app.prepareLoad(device.client(), amount) };
}

export type { SettleKind };

/** What the device app posts for a renewal, an unload or an online transfer (BEGIN SYNC over a nonce). */
export function settleRequest(
  app: DeviceApp,
  device: Device,
  kind: SettleKind,
  options: { readonly amount?: bigint; readonly payeeSeId?: string } = {},
): Promise<PreparedSettlement> {
  const client = device.client();
  if (kind === 'renewal') return app.prepareSettlement(client, { kind });
  const { amount, payeeSeId } = options;
  if (amount === undefined) throw new RangeError(`a ${kind} needs an amount`);
  if (kind === 'unload') return app.prepareSettlement(client, { kind, amount });
  if (payeeSeId === undefined) throw new RangeError('a transfer needs a payee');
  return app.prepareSettlement(client, { kind, amount, payeeSeId });
}
