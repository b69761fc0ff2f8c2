// The ledger process: opens the database, migrates it, bootstraps the first operator key if one is
// given, and serves the HTTP API. The composition root: the real clock and id generator live here.
import { randomUUID } from 'node:crypto';
import type { Database } from '../storage/database.ts';
import { migrate } from '../storage/migrations.ts';
import { openDatabase, redactDatabaseUrl } from '../storage/open.ts';
import type { Clock, IdGenerator } from './domain/types.ts';
import { buildLedgerApp, type LedgerApp } from './http/app.ts';
import { apiKeyDigest } from './http/auth.ts';
import { apiKeyLengthMax, apiKeyLengthMin } from './domain/limits.ts';
import { LedgerService } from './domain/service.ts';
import { SqlLedgerStore } from './store/sql-store.ts';
import { ledgerMigrations } from './store/migrations.ts';

export const systemClock: Clock = { nowMs: () => Date.now() };
export const randomIds: IdGenerator = { next: (prefix) => `${prefix}_${randomUUID().replaceAll('-', '')}` };

export type LogLevel = 'silent' | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface LedgerServerOptions {
  readonly databaseUrl: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** An API key to register as an operator at start (idempotent), from a file or the environment. */
  readonly operatorKey?: string;
  readonly logLevel?: LogLevel;
  readonly clock?: Clock;
}

export interface LedgerServer {
  readonly url: string;
  readonly app: LedgerApp;
  close(): Promise<void>;
}

export async function startLedgerServer(options: LedgerServerOptions): Promise<LedgerServer> {
  const clock = options.clock ?? systemClock;
  const db = openDatabase(options.databaseUrl);
  let app: LedgerApp | undefined;
  try {
    await prepareLedgerDatabase(db, clock, options.operatorKey);
    app = await buildLedgerApp({
      store: new SqlLedgerStore(db),
      clock,
      ids: randomIds,
      logger: (options.logLevel ?? 'silent') === 'silent' ? false : { level: options.logLevel ?? 'info' },
      processMetrics: true,
    });
    const address = await app.listen({ host: options.host, port: options.port });
    app.log.info({ database: redactDatabaseUrl(options.databaseUrl) }, 'ledger ready');
    const started = app;
    return {
      url: address,
      app,
      close: async () => {
        await started.close();
        await db.close();
      },
    };
  } catch (error) {
    await app?.close();
    await db.close();
    throw error;
  }
}

/** Migrates the ledger's schema and registers the bootstrap operator key, if any. */
export async function prepareLedgerDatabase(db: Database, clock: Clock, operatorKey?: string): Promise<void> {
  await migrate(db, ledgerMigrations, clock.nowMs());
  if (operatorKey === undefined) return;
  if (
    operatorKey.length < apiKeyLengthMin ||
    operatorKey.length > apiKeyLengthMax ||
    !/^[A-Za-z0-9._~+/=-]+$/.test(operatorKey)
  ) {
    throw new TypeError(
      `the operator key must be ${apiKeyLengthMin}..${apiKeyLengthMax} characters of [A-Za-z0-9._~+/=-]`,
    );
  }
  const service = new LedgerService(new SqlLedgerStore(db), clock, randomIds);
  await service.bootstrapOperator(apiKeyDigest(operatorKey), 'central bank operator');
}
