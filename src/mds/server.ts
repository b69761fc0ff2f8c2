// The MDS API process: reads the deployment's public trust file (never the MDS key file, which is
// the enclave's alone), starts the enclave process with the PKI folder and its own database, opens
// and migrates the API process's database, bootstraps the first operator key if one is given, and
// serves the HTTP API with the alert response running beside it. On the way out the API stops first
// (the requests in flight are answered, the maintenance runs finish), then the enclave.
import type { DoubleSpendPolicy } from '../core/renewal-verdict.ts';
import { toHex } from '../core/bytes.ts';
import { NodeVerifier } from '../crypto/node-crypto.ts';
import { DirectoryClient } from '../directory/api/client.ts';
import { loadTrust } from '../pki/deployment-pki.ts';
import { checkOperatorKey } from '../service-kit/api-key.ts';
import {
  randomIds,
  startServiceServer,
  systemClock,
  serverProcessOptions,
  type ServiceServer,
  type ServiceServerBaseOptions,
} from '../service-kit/server.ts';
import type { Database } from '../storage/database.ts';
import { migrate } from '../storage/migrations.ts';
import { DirectoryDenyLists, DirectoryRevocations } from './adapters/directory.ts';
import { LedgerSettlement } from './adapters/ledger.ts';
import { SqlSettlementStore } from './store/settlement-store.ts';
import { LedgerClient } from '../ledger/api/client.ts';
import type { EnclavePort } from './channel/protocol.ts';
import type { Clock } from './domain/types.ts';
import { buildMdsApp, mdsService, type MdsApp, type MdsAppOptions } from './http/app.ts';
import { apiKeyDigest, apiKeyLength } from './http/auth.ts';
import { mdsMigrations } from './store/migrations.ts';
import { SqlMdsStore } from './store/sql-store.ts';
import { keepAliveTransport } from '../node-http/keep-alive-transport.ts';

/** A running enclave process: the channel's port, and how to stop it. */
export interface EnclaveHandle extends EnclavePort {
  close(): Promise<void>;
}

/** Starts the enclave process (src/mds/channel/enclave-client.ts `startEnclave`). */
export type EnclaveStarter = (options: {
  readonly databaseUrl: string;
  readonly pkiDirectory: string;
  readonly doubleSpendPolicy?: DoubleSpendPolicy;
}) => Promise<EnclaveHandle>;

export interface MdsServerOptions extends ServiceServerBaseOptions {
  /** A deployment PKI folder: the API process reads `trust.json`; the enclave reads `mds.json`. */
  readonly pkiDir: string;
  /** The enclave's own database (another SQLite file, or a PostgreSQL URL for its own schema and role). */
  readonly enclaveDatabaseUrl: string;
  readonly startEnclave: EnclaveStarter;
  /**
   * What a renewal check answers an honest payee of double-spent value (docs/mds.md, "Renewal
   * check"): `honour` (default: offline payments are final) or `refuse`.
   */
  readonly doubleSpendPolicy?: DoubleSpendPolicy;
  /** The directory, which revokes the SEs confirmed alerts blame, and the MDS's API key there. */
  readonly directoryUrl: string;
  readonly directoryKey: string;
  readonly clock?: Clock;
  /**
   * The core ledger and the MDS's key there (role `settlement`): settlement between DCP pools, and
   * pool balances beside the supply. Left out, the MDS settles nothing. `intervalMs` schedules a run
   * (period `periodic-<start ms>`); left out, runs are made on request only.
   */
  /** k of the indicators: a cell over fewer distinct SEs is suppressed (default 10). */
  readonly indicatorSecureElementsMin?: number;
  readonly settlement?: {
    readonly ledgerUrl: string;
    readonly ledgerKey: string;
    readonly intervalMs?: number;
  };
}

/** How often alerts are copied from the enclave and pending revocations asked for. */
export const responseIntervalMs = 1_000;
/**
 * Attempts per revocation call: few, since a run waits for them and the next run (a second later)
 * asks again under the same idempotency key anyway.
 */
export const revocationCallAttemptsMax = 2;

export type MdsServer = ServiceServer<MdsApp>;

export async function startMdsServer(options: MdsServerOptions): Promise<MdsServer> {
  const clock = options.clock ?? systemClock;
  // The trust file first: a deployment error is reported before any process or database is started.
  const trust = loadTrust(options.pkiDir, Math.floor(clock.nowMs() / 1000));
  const dcpIssuers = new Set(trust.dcpIssuers.map((certificate) => toHex(certificate.body.subjectId)));
  const enclave = await options.startEnclave({
    databaseUrl: options.enclaveDatabaseUrl,
    pkiDirectory: options.pkiDir,
    ...(options.doubleSpendPolicy === undefined ? {} : { doubleSpendPolicy: options.doubleSpendPolicy }),
  });
  const revocations = new DirectoryRevocations(
    new DirectoryClient({
      baseUrl: options.directoryUrl,
      apiKey: options.directoryKey,
      transport: keepAliveTransport,
      attemptsMax: revocationCallAttemptsMax,
    }),
  );
  const denyLists = new DirectoryDenyLists(
    new DirectoryClient({ baseUrl: options.directoryUrl, attemptsMax: revocationCallAttemptsMax }),
  );
  let server: MdsServer;
  try {
    server = await startServiceServer({
      name: 'mds',
      databaseUrl: options.databaseUrl,
      host: options.host,
      port: options.port,
      logLevel: options.logLevel,
      build: async (db, logger) => {
        const parts = { store: new SqlMdsStore(db), enclave, revocations, denyLists, clock, ids: randomIds };
        const appOptions = { ...parts, hasher: new NodeVerifier(), dcpIssuers };
        await prepareMdsDatabase(db, appOptions, options.operatorKey);
        const built = await buildMdsApp({
          ...appOptions,
          ...serverProcessOptions(logger, options),
          responseIntervalMs,
          ...settlementOptions(db, options.settlement),
          ...(options.indicatorSecureElementsMin === undefined
            ? {}
            : { indicatorSecureElementsMin: options.indicatorSecureElementsMin }),
        });
        return built.app;
      },
    });
  } catch (error) {
    await enclave.close();
    throw error;
  }
  return {
    url: server.url,
    app: server.app,
    close: async () => {
      try {
        await server.close();
      } finally {
        await enclave.close();
      }
    },
  };
}

/** The app's settlement options: the runs' store on the process's database, the ledger's client. */
function settlementOptions(
  db: Database,
  settlement: MdsServerOptions['settlement'],
): Pick<MdsAppOptions, 'settlement' | 'settlementIntervalMs'> {
  if (settlement === undefined) return {};
  const client = new LedgerClient({
    baseUrl: settlement.ledgerUrl,
    apiKey: settlement.ledgerKey,
    transport: keepAliveTransport,
  });
  return {
    settlement: { store: new SqlSettlementStore(db), ledger: new LedgerSettlement(client) },
    ...(settlement.intervalMs === undefined ? {} : { settlementIntervalMs: settlement.intervalMs }),
  };
}

/** Migrates the API process's schema and registers the bootstrap operator key, if any. */
export async function prepareMdsDatabase(
  db: Database,
  options: MdsAppOptions,
  operatorKey?: string,
): Promise<void> {
  await migrate(db, mdsMigrations, options.clock.nowMs());
  if (operatorKey === undefined) return;
  checkOperatorKey(operatorKey, apiKeyLength);
  await mdsService(options).bootstrapOperator(apiKeyDigest(operatorKey), 'central bank operator');
}
