// The DCP process (composition root): loads its issuer key and the deployment's trust, opens and
// migrates its database, finds its ledger participant and pool account through the gateway, serves
// the HTTP API, publishes its endpoint in the directory, and reconciles its outbox with the ledger at
// start and every `reconcileIntervalMs`. With an MDS (`mdsUrl`), a maintenance task forwards the
// sealed uploads and reports to it every `mdsForwardIntervalMs` (domain/forwarding.ts); without
// one, uploads stay pending in the outbox. Another task expires the idempotency answers past their
// retention every `idempotencyExpiryIntervalMs`, as the ledger and the directory do. The real clock
// and randomness live here.
import { randomBytes } from 'node:crypto';
import { concatBytes, utf8 } from '../core/bytes.ts';
import { NodeVerifier, secureRandomBytes } from '../crypto/node-crypto.ts';
import { DirectoryClient } from '../directory/api/client.ts';
import { LedgerClient } from '../ledger/api/client.ts';
import { MdsClient } from '../mds/api/client.ts';
import { scheduleMaintenance } from '../service-kit/maintenance.ts';
import { loadPrincipal, loadTrust, principalSigner } from '../pki/deployment-pki.ts';
import type { Database } from '../storage/database.ts';
import { migrate } from '../storage/migrations.ts';
import { openDatabase, redactDatabaseUrl } from '../storage/open.ts';
import {
  idempotencyExpiryIntervalMs,
  loggerOptions,
  systemClock,
  type LogLevel,
} from '../service-kit/server.ts';
import { DcpContext } from './domain/context.ts';
import type { Limits } from '../core/limits.ts';
import { MdsForwarder, type ForwardReport } from './domain/forwarding.ts';
import { RefundExecutor, type RefundReport } from './domain/refunds.ts';
import { reconcile, type ReconcileReport } from './domain/outbox.ts';
import {
  faultPoints,
  type Clock,
  type DirectoryPort,
  type FaultHook,
  type FaultPoint,
  type LedgerPort,
  type MdsPort,
  type MdsRefundsPort,
  type PeerDcpPort,
  type RenewalCheck,
  type RenewalCheckMode,
} from './domain/ports.ts';
import { noMdsRenewalCheck } from './domain/renewal-check.ts';
import { bootstrapOperator } from './domain/participants.ts';
import { HttpDirectory } from './adapters/directory.ts';
import { HttpMds, HttpRenewalCheck } from './adapters/mds.ts';
import { HttpPeers } from './adapters/peers.ts';
import { defaultVerifyWorkers, PooledRequestVerifier } from './adapters/verify-pool.ts';
import { VerifyPool } from '../crypto/verify-pool.ts';
import { buildDcpApp, type DcpApp } from './http/app.ts';
import { DcpMetrics } from './http/metrics.ts';
import { apiKeyDigest } from './http/auth.ts';
import { SqlDcpStore } from './store/sql-store.ts';
import { dcpMigrations } from './store/migrations.ts';
import { keepAliveTransport } from '../node-http/keep-alive-transport.ts';

export { systemClock, type LogLevel } from '../service-kit/server.ts';
export const reconcileIntervalMsDefault = 5_000;
export const mdsForwardIntervalMsDefault = 1_000;
/**
 * A renewal check waits on the MDS (its enclave's channel answers within 10 s): two attempts of at
 * most 12 s each, then the device is refused `renewalCheckUnavailable` and retries.
 */
export const renewalCheckAttemptsMax = 2;
export const renewalCheckTimeoutMs = 12_000;

/**
 * TEST-ONLY crash switch, off unless this environment variable is set; never set it in a deployment.
 * It names one fault point (`faultPoints` in domain/ports.ts); the first time the process reaches that
 * point it writes one line to stderr and kills itself with SIGKILL: no `finally`, no pending write,
 * no graceful close. End-to-end tests (test/e2e/) start a DCP child process with it to crash exactly
 * after a given local commit or ledger call, then restart the DCP on the same database. A value
 * that is not a fault point refuses to start, so a typo cannot silently disable a crash test.
 */
export const crashAtEnvironment = 'CBDC_DCP_TEST_CRASH_AT';

/** The fault hook of the crash switch, or undefined when `CBDC_DCP_TEST_CRASH_AT` is unset or empty. */
export function crashHookFromEnvironment(
  environment: NodeJS.ProcessEnv = process.env,
): FaultHook | undefined {
  const value = environment[crashAtEnvironment];
  if (value === undefined || value === '') return undefined;
  const point = faultPoints.find((candidate) => candidate === value);
  if (point === undefined)
    throw new RangeError(`${crashAtEnvironment}=${value} is not a fault point (${faultPoints.join(', ')})`);
  return (reached: FaultPoint) => {
    if (reached !== point) return;
    // stderr is a pipe or a file here, written synchronously on Linux: the parent sees the line.
    process.stderr.write(`dcp crash switch: SIGKILL at ${point}\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}

export interface DcpServerOptions {
  readonly databaseUrl: string;
  readonly host: string;
  readonly port: number;
  /** Folder of the deployment PKI: trust.json and dcp-<name>.json. */
  readonly pkiDir: string;
  readonly name: string;
  readonly ledgerUrl: string;
  readonly ledgerKey: string;
  readonly directoryUrl?: string;
  readonly directoryKey?: string;
  /** Replaces the HTTP directory (benchmarks, tests). */
  readonly directory?: DirectoryPort;
  readonly peers?: PeerDcpPort;
  /** The MDS the sealed uploads and reports go to, e.g. http://127.0.0.1:4500; none: they wait. */
  readonly mdsUrl?: string;
  /** The DCP's MDS API key (a participant of role `dcp` bound to this DCP's id). */
  readonly mdsKey?: string;
  /** Replaces the HTTP MDS (tests). */
  readonly mds?: MdsPort;
  /** The MDS's refund orders; by default the MDS at `mdsUrl` (none with only `mds`). */
  readonly mdsRefunds?: MdsRefundsPort;
  readonly mdsForwardIntervalMs?: number;
  /**
   * `async` (default: renewals mint at once, the MDS judges after the fact) or `sync` (every
   * renewal, unload and transfer asks the MDS first; needs `mdsUrl`). The unload gate asks in both.
   */
  readonly renewalCheck?: RenewalCheckMode;
  /** Replaces the HTTP renewal check (tests). */
  readonly renewalChecker?: RenewalCheck;
  /** Wraps the ledger client (crash tests inject faults here). */
  readonly ledger?: (client: LedgerClient) => LedgerPort;
  /** The URL other DCPs reach this one at (default: the listening address). */
  readonly publicUrl?: string;
  readonly operatorKey?: string;
  readonly logLevel?: LogLevel;
  readonly clock?: Clock;
  readonly limits?: {
    readonly version: number;
    readonly card?: Partial<Limits>;
    readonly phone?: Partial<Limits>;
  };
  readonly directoryCacheMs?: number;
  /** How long an idempotency key's answer replays (default 7 days); after it the key is refused. */
  readonly idempotencyRetentionMs?: number;
  /** How often expired idempotency answers are dropped (default `idempotencyExpiryIntervalMs`). */
  readonly idempotencyExpiryIntervalMs?: number;
  readonly reconcileIntervalMs?: number;
  /** Crash injection; without it, the test-only `CBDC_DCP_TEST_CRASH_AT` switch (off by default). */
  readonly faults?: FaultHook;
  /**
   * Worker threads that verify the requests' signatures (default `defaultVerifyWorkers()`: the
   * cores beside the event loop's); 0 verifies them on the event loop.
   */
  readonly verifyWorkers?: number;
}

export interface DcpServer {
  readonly url: string;
  readonly app: DcpApp;
  readonly context: DcpContext;
  /** One reconcile pass now (as the timer runs them), the pool gauge set from its check. */
  reconcile(): Promise<ReconcileReport>;
  /** One MDS forwarding pass now (as the task runs them); null without an MDS. */
  forwardToMds(): Promise<ForwardReport | null>;
  /** One refund pass now (as the forwarding task runs them after each forwarding pass); null without an MDS. */
  executeRefunds(): Promise<RefundReport | null>;
  close(): Promise<void>;
}

export async function startDcpServer(options: DcpServerOptions): Promise<DcpServer> {
  const clock = options.clock ?? systemClock;
  const faults = options.faults ?? crashHookFromEnvironment();
  const wiring = wire(options, clock);
  const db = openDatabase(options.databaseUrl);
  const workers = options.verifyWorkers ?? defaultVerifyWorkers();
  const verifyPool = workers > 0 ? new VerifyPool({ workers }) : null;
  let app: DcpApp | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await verifyPool?.ready();
    await migrate(db, dcpMigrations, clock.nowMs());
    const store = new SqlDcpStore(db);
    const forwarder = forwarderOf(options, store, clock, (error, what) => {
      app?.log.warn({ err: error }, what);
    });
    const forward = forwarder === null ? null : singleFlight(() => forwarder.pass());
    const renewalCheck = renewalCheckOf(options, wiring, forward);
    const context = await contextOf(options, wiring, store, clock, faults, renewalCheck, verifyPool);
    if (options.operatorKey !== undefined)
      await bootstrapOperator(context, apiKeyDigest(options.operatorKey));
    const metrics = new DcpMetrics(true);
    // The MDS outbox on /metrics, also without an MDS (uploads then wait there, counted).
    metrics.watchForwarding(() => context.store.mdsOutbox.figures());
    app = await buildDcpApp({ context, logger: loggerOptions(options.logLevel), metrics });
    if (options.faults === undefined && faults !== undefined)
      app.log.warn({ crashAt: process.env[crashAtEnvironment] }, 'TEST-ONLY crash switch armed');
    const started = app;
    const pass = reconcilePass(context, metrics, started);
    const refunds = refundsOf(options, context, (error, what) => {
      started.log.warn({ err: error }, what);
    });
    scheduleMaintenanceTasks(started, options, context, { forward, refunds });
    const report = await pass();
    const address = await app.listen({ host: options.host, port: options.port });
    await context.callDirectory(() =>
      wiring.directory.publishEndpoint(context.dcpId, options.publicUrl ?? address),
    );
    const reconciled = { ...report, poolDifference: String(report.poolDifference) };
    app.log.info({ database: redactDatabaseUrl(options.databaseUrl), reconciled }, 'dcp ready');
    timer = repeat(pass, options.reconcileIntervalMs ?? reconcileIntervalMsDefault, started);
    const stopTimer = timer;
    return {
      url: address,
      app,
      context,
      reconcile: pass,
      forwardToMds: () => (forward === null ? Promise.resolve(null) : forward()),
      executeRefunds: () => (refunds === null ? Promise.resolve(null) : refunds()),
      close: async () => {
        clearInterval(stopTimer);
        // The requests in flight are answered first, their verifies included; then the workers stop.
        await started.close();
        await verifyPool?.close();
        await db.close();
      },
    };
  } catch (error) {
    if (timer !== undefined) clearInterval(timer);
    await app?.close();
    await verifyPool?.close();
    await db.close();
    throw error;
  }
}

/** Idempotency expiry, and the MDS forwarding pass with the refund pass after it (when an MDS is set). */
function scheduleMaintenanceTasks(
  app: DcpApp,
  options: DcpServerOptions,
  context: DcpContext,
  passes: {
    readonly forward: (() => Promise<ForwardReport>) | null;
    readonly refunds: (() => Promise<RefundReport>) | null;
  },
): void {
  const { forward, refunds } = passes;
  scheduleMaintenance(app, {
    name: 'idempotency expiry',
    intervalMs: options.idempotencyExpiryIntervalMs ?? idempotencyExpiryIntervalMs,
    run: () => context.idempotency.expire(context.store),
  });
  if (forward === null && refunds === null) return;
  scheduleMaintenance(app, {
    name: 'mds forwarding',
    intervalMs: options.mdsForwardIntervalMs ?? mdsForwardIntervalMsDefault,
    run: async () => {
      const report = forward === null ? null : await forward();
      const refunded = refunds === null ? null : await refunds();
      return (report?.uploadsForwarded ?? 0) + (report?.itemsReported ?? 0) + (refunded?.executed ?? 0);
    },
  });
}

/** The DCP's keys, trust and clients, read before the database opens (a bad PKI fails first). */
function wire(options: DcpServerOptions, clock: Clock) {
  const principal = loadPrincipal(options.pkiDir, `dcp-${options.name}.json`);
  const ledgerClient = new LedgerClient({
    baseUrl: options.ledgerUrl,
    apiKey: options.ledgerKey,
    transport: keepAliveTransport,
  });
  return {
    trust: loadTrust(options.pkiDir, Math.floor(clock.nowMs() / 1000)),
    principal,
    signer: principalSigner(principal),
    ledgerClient,
    ledger: options.ledger?.(ledgerClient) ?? ledgerClient,
    directory:
      options.directory ??
      new HttpDirectory(
        new DirectoryClient({
          baseUrl: options.directoryUrl ?? 'http://127.0.0.1:4200',
          transport: keepAliveTransport,
          ...(options.directoryKey === undefined ? {} : { apiKey: options.directoryKey }),
        }),
      ),
  };
}

/** Finds the DCP's ledger participant and (idempotently) its pool account; builds the context. */
async function contextOf(
  options: DcpServerOptions,
  wiring: ReturnType<typeof wire>,
  store: SqlDcpStore,
  clock: Clock,
  faults: FaultHook | undefined,
  renewalCheck: RenewalCheck,
  verifyPool: VerifyPool | null,
): Promise<DcpContext> {
  const verifier = new NodeVerifier();
  const me = await wiring.ledgerClient.whoAmI();
  const pool = await wiring.ledgerClient.createAccount('dcp-pool', { kind: 'dcpPool', ownerId: me.id });
  return new DcpContext({
    store,
    ledger: wiring.ledger,
    directory: wiring.directory,
    peers: options.peers ?? new HttpPeers(),
    clock,
    verifier,
    ...(verifyPool === null ? {} : { requestVerifier: new PooledRequestVerifier(verifyPool) }),
    signer: wiring.signer,
    certificate: wiring.principal.certificate,
    trust: wiring.trust,
    ledgerParticipantId: me.id,
    poolAccountId: pool.value.id,
    // The nonce key is derived from the issuer key, so every instance of this DCP shares it.
    nonceKey: verifier.sha256(concatBytes(utf8('cbdc/dcp/nonce-key/v1'), wiring.principal.privateKey)),
    randomBytes: secureRandomBytes,
    newId: (prefix) =>
      prefix === 'op' ? randomBytes(16).toString('hex') : `${prefix}_${randomBytes(12).toString('hex')}`,
    renewalCheck,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.directoryCacheMs === undefined ? {} : { directoryCacheMs: options.directoryCacheMs }),
    ...(options.idempotencyRetentionMs === undefined
      ? {}
      : { idempotencyRetentionMs: options.idempotencyRetentionMs }),
    ...(faults === undefined ? {} : { faults }),
  });
}

/**
/** The MDS over HTTP, as the configuration names it; undefined without an MDS URL. */
function httpMdsOf(options: DcpServerOptions): HttpMds | undefined {
  if (options.mdsUrl === undefined) return undefined;
  return new HttpMds(
    new MdsClient({
      baseUrl: options.mdsUrl,
      transport: keepAliveTransport,
      ...(options.mdsKey === undefined ? {} : { apiKey: options.mdsKey }),
      // A pass is already retried with backoff; a long hang must not hold the next one up.
      attemptsMax: 2,
    }),
  );
}

/**
 * The MDS forwarding over the configured MDS; null without an MDS. A refusal of the DCP's setup
 * (its key, its role) is logged like an MDS that does not answer, and retried.
 */
function forwarderOf(
  options: DcpServerOptions,
  store: SqlDcpStore,
  clock: Clock,
  log: (error: unknown, what: string) => void,
): MdsForwarder | null {
  const mds = options.mds ?? httpMdsOf(options);
  if (mds === undefined) return null;
  const verifier = new NodeVerifier();
  return new MdsForwarder({
    store: store.mdsOutbox,
    mds,
    clock,
    sha256: (bytes) => verifier.sha256(bytes),
    log,
  });
}

/** The refund pass (domain/refunds.ts), run after each forwarding pass; null without an MDS. */
function refundsOf(
  options: DcpServerOptions,
  context: DcpContext,
  log: (error: unknown, what: string) => void,
): (() => Promise<RefundReport>) | null {
  const port = options.mdsRefunds ?? (options.mds === undefined ? httpMdsOf(options) : undefined);
  if (port === undefined) return null;
  const executor = new RefundExecutor({ store: context.store, mds: port, clock: context.clock, log });
  return () => executor.pass();
}

/**
 * The renewal check and the unload gate (docs/dcp.md, "Renewal check and the unload gate"): over
 * the MDS's `POST /v1/renewal-checks` when one is configured, asking again once after a forwarding
 * pass when the MDS still lacks this DCP's reports. `sync` without an MDS is a configuration error.
 */
function renewalCheckOf(
  options: DcpServerOptions,
  wiring: ReturnType<typeof wire>,
  forward: (() => Promise<ForwardReport>) | null,
): RenewalCheck {
  if (options.renewalChecker !== undefined) return options.renewalChecker;
  const mode = options.renewalCheck ?? 'async';
  if (options.mdsUrl === undefined) {
    if (mode === 'sync') throw new Error('renewalCheck sync needs an MDS (mdsUrl, --mds)');
    return noMdsRenewalCheck;
  }
  return new HttpRenewalCheck({
    mode,
    client: new MdsClient({
      baseUrl: options.mdsUrl,
      ...(options.mdsKey === undefined ? {} : { apiKey: options.mdsKey }),
      attemptsMax: renewalCheckAttemptsMax,
      timeoutMs: renewalCheckTimeoutMs,
    }),
    verifier: new NodeVerifier(),
    mds: wiring.trust.mds,
    dcpId: wiring.principal.certificate.body.subjectId,
    catchUp: () => forward?.() ?? Promise.resolve(null),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
}

/** Runs `pass` once at a time: a caller while one runs waits for it, then runs the next one. */
function singleFlight<T>(pass: () => Promise<T>): () => Promise<T> {
  let running: Promise<unknown> = Promise.resolve();
  return () => {
    const next = running.catch(() => undefined).then(pass);
    running = next;
    return next;
  };
}

/** A reconcile pass, then the pool invariant on /metrics; a difference is logged as a warning. */
function reconcilePass(context: DcpContext, metrics: DcpMetrics, app: DcpApp) {
  const log = (error: unknown, what: string) => {
    app.log.warn({ err: error }, `reconcile ${what} failed`);
  };
  return async (): Promise<ReconcileReport> => {
    const report = await reconcile(context, log);
    if (report.poolDifference !== null) {
      metrics.poolDifference.set(Number(report.poolDifference));
      if (report.poolDifference !== 0n)
        app.log.warn({ poolDifference: String(report.poolDifference) }, 'pool ≠ issued − retired');
    }
    return report;
  };
}

/** Runs `pass` every `intervalMs`, never two at once; the timer does not keep the process alive. */
function repeat(pass: () => Promise<unknown>, intervalMs: number, app: DcpApp): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    pass()
      .catch((error: unknown) => {
        app.log.warn({ err: error }, 'reconcile pass failed');
      })
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return timer;
}

export async function migrateDcpDatabase(db: Database, clock: Clock = systemClock): Promise<void> {
  await migrate(db, dcpMigrations, clock.nowMs());
}
