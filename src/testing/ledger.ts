// Test fixtures for the ledger: a migrated scratch database on either engine, an app with a
// manual clock and counting ids, and helpers that go through the public HTTP API.
import { ManualClock, call, countingIds, freshKey, newApiKey } from './service-kit.ts';
import type { Database, Engine } from '../storage/database.ts';
import { LedgerService } from '../ledger/domain/service.ts';
import { openDatabase } from '../storage/open.ts';
import { createScratchDatabase } from './scratch.ts';
import { buildLedgerApp, type LedgerApp } from '../ledger/http/app.ts';
import { apiKeyDigest } from '../ledger/http/auth.ts';
import { prepareLedgerDatabase } from '../ledger/server.ts';
import { SqlLedgerStore } from '../ledger/store/sql-store.ts';

// The shared test support (clock, ids, keys, `call`), with this service's fixtures below.
export * from './service-kit.ts';

export interface LedgerFixture {
  readonly app: LedgerApp;
  readonly db: Database;
  readonly clock: ManualClock;
  readonly operatorKey: string;
  /** What the process does every minute: drops expired idempotency answers (one bounded batch). */
  expireIdempotencyAnswers(): Promise<number>;
  close(): Promise<void>;
}

export interface LedgerFixtureOptions {
  /** Process metrics on /metrics, as in a server process (off by default, as in tests). */
  readonly processMetrics?: boolean;
  readonly idempotencyRetentionMs?: number;
}

export async function ledgerFixture(
  engine: Engine,
  options: LedgerFixtureOptions = {},
): Promise<LedgerFixture> {
  const scratch = await createScratchDatabase(engine);
  const db = openDatabase(scratch.url);
  const clock = new ManualClock();
  const operatorKey = newApiKey();
  await prepareLedgerDatabase(db, clock, operatorKey);
  const store = new SqlLedgerStore(db);
  const retention =
    options.idempotencyRetentionMs === undefined
      ? {}
      : { idempotencyRetentionMs: options.idempotencyRetentionMs };
  const app = await buildLedgerApp({
    store,
    clock,
    ids: countingIds(),
    processMetrics: options.processMetrics ?? false,
    ...retention,
  });
  const service = new LedgerService(store, clock, countingIds(), retention);
  return {
    app,
    db,
    clock,
    expireIdempotencyAnswers: () => service.expireIdempotencyAnswers(),
    operatorKey,
    close: async () => {
      await app.close();
      await db.close();
      await scratch.drop();
    },
  };
}

export interface World {
  readonly operatorKey: string;
  readonly bankKey: string;
  readonly dcpKey: string;
  readonly otherDcpKey: string;
  readonly bankAccount: string;
  readonly poolAccount: string;
  readonly walletAccount: string;
  readonly otherWalletAccount: string;
}

/** An intermediary with an account, a DCP with a pool and a wallet, another DCP with a wallet. */
export async function buildWorld(app: LedgerApp, operatorKey: string): Promise<World> {
  const participant = async (role: string, name: string) => {
    const apiKey = newApiKey();
    const created = await call(app, operatorKey, 'POST', '/v1/participants', {
      key: freshKey(),
      body: { name, role, apiKeySha256: apiKeyDigest(apiKey) },
    });
    if (created.status !== 201) throw new Error(`participant: ${JSON.stringify(created.body)}`);
    return { apiKey, id: (created.body['participant'] as { id: string }).id };
  };
  const account = async (apiKey: string, kind: string, ownerId: string) => {
    const created = await call(app, apiKey, 'POST', '/v1/accounts', {
      key: freshKey(),
      body: { kind, ownerId },
    });
    if (created.status !== 201) throw new Error(`account: ${JSON.stringify(created.body)}`);
    return (created.body['account'] as { id: string }).id;
  };
  const bank = await participant('intermediary', 'Bank');
  const dcp = await participant('dcp', 'DCP one');
  const otherDcp = await participant('dcp', 'DCP two');
  return {
    operatorKey,
    bankKey: bank.apiKey,
    dcpKey: dcp.apiKey,
    otherDcpKey: otherDcp.apiKey,
    bankAccount: await account(operatorKey, 'intermediary', bank.id),
    poolAccount: await account(dcp.apiKey, 'dcpPool', dcp.id),
    walletAccount: await account(dcp.apiKey, 'wallet', dcp.id),
    otherWalletAccount: await account(otherDcp.apiKey, 'wallet', otherDcp.id),
  };
}

export async function balanceOf(app: LedgerApp, operatorKey: string, accountId: string): Promise<bigint> {
  const result = await call(app, operatorKey, 'GET', `/v1/accounts/${accountId}`);
  return BigInt((result.body['account'] as { balance: string }).balance);
}
