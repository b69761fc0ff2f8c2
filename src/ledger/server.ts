// The ledger process: opens the database, migrates it, bootstraps the first operator key if one is
// given, and serves the HTTP API (service-kit/server.ts does the wiring every service shares). The
// composition root: the real clock and id generator live here.
import type { Database } from '../storage/database.ts';
import { migrate } from '../storage/migrations.ts';
import { checkOperatorKey } from '../service-kit/api-key.ts';
import {
  randomIds,
  startServiceServer,
  systemClock,
  serverProcessOptions,
  type ServiceServer,
  type ServiceServerBaseOptions,
} from '../service-kit/server.ts';
import type { Clock } from './domain/types.ts';
import { buildLedgerApp, type LedgerApp } from './http/app.ts';
import { apiKeyDigest, apiKeyLength } from './http/auth.ts';
import { LedgerService } from './domain/service.ts';
import { SqlLedgerStore } from './store/sql-store.ts';
import { ledgerMigrations } from './store/migrations.ts';

/** The ledger process's options: only what every service has (service-kit/server.ts). */
export type LedgerServerOptions = ServiceServerBaseOptions;

export type LedgerServer = ServiceServer<LedgerApp>;

export async function startLedgerServer(options: LedgerServerOptions): Promise<LedgerServer> {
  const clock = options.clock ?? systemClock;
  return await startServiceServer({
    name: 'ledger',
    databaseUrl: options.databaseUrl,
    host: options.host,
    port: options.port,
    logLevel: options.logLevel,
    build: async (db, logger) => {
      await prepareLedgerDatabase(db, clock, options.operatorKey);
      return buildLedgerApp({
        store: new SqlLedgerStore(db),
        clock,
        ids: randomIds,
        ...serverProcessOptions(logger, options),
      });
    },
  });
}

/** Migrates the ledger's schema and registers the bootstrap operator key, if any. */
export async function prepareLedgerDatabase(db: Database, clock: Clock, operatorKey?: string): Promise<void> {
  await migrate(db, ledgerMigrations, clock.nowMs());
  if (operatorKey === undefined) return;
  checkOperatorKey(operatorKey, apiKeyLength);
  const service = new LedgerService(new SqlLedgerStore(db), clock, randomIds);
  await service.bootstrapOperator(apiKeyDigest(operatorKey), 'central bank operator');
}
