// A service process's wiring, the same for every service: open the database, prepare it and build
// the app (the service's part), listen, and close both on the way out, or on a failed start. The
// real clock and id generator live here, with the other composition roots.
import { randomUUID } from 'node:crypto';
import type { FastifyServerOptions } from 'fastify';
import type { Database } from '../storage/database.ts';
import { openDatabase, redactDatabaseUrl } from '../storage/open.ts';

export const systemClock = { nowMs: (): number => Date.now() };
/** `prefix_` and 32 random hex digits: unique without coordination between instances. */
export const randomIds = {
  next: (prefix: string): string => `${prefix}_${randomUUID().replaceAll('-', '')}`,
};

export type LogLevel = 'silent' | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** pino options for a level; silent (the default) is no logger at all. */
export function loggerOptions(level: LogLevel | undefined): FastifyServerOptions['logger'] {
  return (level ?? 'silent') === 'silent' ? false : { level: level ?? 'info' };
}

/** How often a service process drops expired idempotency answers (a bounded batch each time). */
export const idempotencyExpiryIntervalMs = 60_000;

/** What every service process is started with, beside its own parts. */
export interface ServiceServerBaseOptions {
  readonly databaseUrl: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** An API key to register as an operator at start (idempotent), from a file or the environment. */
  readonly operatorKey?: string;
  readonly logLevel?: LogLevel;
  readonly clock?: { nowMs(): number };
  /** How long an idempotency key's answer replays (default 7 days); after it the key is refused. */
  readonly idempotencyRetentionMs?: number;
}

/**
 * A service app's process options in a server: these logs, process metrics on /metrics, expiry every
 * `idempotencyExpiryIntervalMs`, and the configured retention if any.
 */
export function serverProcessOptions(
  logger: FastifyServerOptions['logger'],
  options: Pick<ServiceServerBaseOptions, 'idempotencyRetentionMs'>,
) {
  return {
    logger,
    processMetrics: true,
    idempotencyExpiryIntervalMs,
    ...(options.idempotencyRetentionMs === undefined
      ? {}
      : { idempotencyRetentionMs: options.idempotencyRetentionMs }),
  };
}

/** What the wiring needs of a fastify app (any service's, whatever its type provider). */
export interface ListeningApp {
  listen(options: { readonly host: string; readonly port: number }): Promise<string>;
  close(): Promise<unknown>;
  readonly log: { info(fields: object, message: string): void };
}

export interface ServiceServer<App> {
  /** The listening address, e.g. http://127.0.0.1:4100. */
  readonly url: string;
  readonly app: App;
  /** Answers the requests in flight, stops listening, closes the database. */
  close(): Promise<void>;
}

export interface ServiceServerOptions<App> {
  /** The service's name in its log lines: `<name> ready`. */
  readonly name: string;
  readonly databaseUrl: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The app's log level; silent (the default) logs nothing. */
  readonly logLevel?: LogLevel | undefined;
  /** Migrates and bootstraps the database, then builds the app on it with these pino options. */
  readonly build: (db: Database, logger: FastifyServerOptions['logger']) => Promise<App>;
}

export async function startServiceServer<App extends ListeningApp>(
  options: ServiceServerOptions<App>,
): Promise<ServiceServer<App>> {
  const db = openDatabase(options.databaseUrl);
  let app: App | undefined;
  try {
    app = await options.build(db, loggerOptions(options.logLevel));
    const address = await app.listen({ host: options.host, port: options.port });
    app.log.info({ database: redactDatabaseUrl(options.databaseUrl) }, `${options.name} ready`);
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
