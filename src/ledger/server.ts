// The ledger process: opens the database, migrates it, bootstraps the first operator key if one is
// given, and serves the HTTP API (service-kit/server.ts does the wiring every service shares). The
// composition root: the real clock and id generator live here.
import { randomFillSync } from 'node:crypto';
import type { Database } from '../storage/database.ts';
import { migrate } from '../storage/migrations.ts';
import { checkOperatorKey } from '../service-kit/api-key.ts';
import { startServiceServer, systemClock, type LogLevel, type ServiceServer } from '../service-kit/server.ts';
import type { Clock, IdGenerator } from './domain/types.ts';
import { buildLedgerApp, type LedgerApp } from './http/app.ts';
import { apiKeyDigest, apiKeyLength } from './http/auth.ts';
import { LedgerService } from './domain/service.ts';
import { SqlLedgerStore } from './store/sql-store.ts';
import { ledgerMigrations } from './store/migrations.ts';

export interface LedgerServerOptions {
  readonly databaseUrl: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** An API key to register as an operator at start (idempotent), from a file or the environment. */
  readonly operatorKey?: string;
  readonly logLevel?: LogLevel;
  readonly clock?: Clock;
  /** How long an idempotency key's answer replays (default 7 days); after it the key is refused. */
  readonly idempotencyRetentionMs?: number;
}

/** The random part of an id: 80 bits. */
const idRandomBytes = 10;

/**
 * `prefix_` and 32 hex digits: the clock's milliseconds (12 digits), then 80 random bits (20
 * digits). Unique without coordination like a random id, but ordered by time, so a new payment,
 * hold or participant lands at the end of its table's primary-key index instead of on a random
 * page: SQLite writes about a third fewer WAL bytes per payment (bench/ledger.bench.ts). The time it
 * reveals is the row's createdAt, which every answer carries anyway.
 */
export function timeOrderedIds(clock: Clock): IdGenerator {
  // Random bytes for 256 ids at a time: one call to the generator per id cost more than the id.
  const pool = Buffer.alloc(idRandomBytes * 256);
  let offset = pool.length;
  return {
    next: (prefix) => {
      if (offset === pool.length) {
        randomFillSync(pool);
        offset = 0;
      }
      const random = pool.toString('hex', offset, offset + idRandomBytes);
      offset += idRandomBytes;
      return `${prefix}_${clock.nowMs().toString(16).padStart(12, '0')}${random}`;
    },
  };
}

/** How often the process drops expired idempotency answers (a bounded batch each time). */
export const idempotencyExpiryIntervalMs = 60_000;

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
        ids: timeOrderedIds(clock),
        logger,
        processMetrics: true,
        idempotencyExpiryIntervalMs,
        ...(options.idempotencyRetentionMs === undefined
          ? {}
          : { idempotencyRetentionMs: options.idempotencyRetentionMs }),
      });
    },
  });
}

/** Migrates the ledger's schema and registers the bootstrap operator key, if any. */
export async function prepareLedgerDatabase(db: Database, clock: Clock, operatorKey?: string): Promise<void> {
  await migrate(db, ledgerMigrations, clock.nowMs());
  if (operatorKey === undefined) return;
  checkOperatorKey(operatorKey, apiKeyLength);
  const service = new LedgerService(new SqlLedgerStore(db), clock, timeOrderedIds(clock));
  await service.bootstrapOperator(apiKeyDigest(operatorKey), 'central bank operator');
}
