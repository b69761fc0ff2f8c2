// The MDS API process's HTTP API (fastify, docs/mds.md). Routes decode their input through schemas,
// authenticate the participant, call the service and encode the answer, one file per resource under
// routes/; all rules live in the domain. The app itself (strict decoding, error envelope, metrics,
// operations routes, maintenance) is the shared service kit's. Two maintenance tasks run beside the
// routes: idempotency expiry, and the alert response (mirror, policy, revocations).
import type { ServiceProcessOptions } from '../../service-kit/app.ts';
import type { MaintenanceTask } from '../../service-kit/maintenance.ts';
import { createParticipantApp } from '../../service-kit/participant-app.ts';
import type { EnclavePort } from '../channel/protocol.ts';
import { requestBodyBytesMax } from '../domain/limits.ts';
import type { DenyListPort, MdsStore, RevocationPort } from '../domain/ports.ts';
import type { ResponsePolicy } from '../domain/rules.ts';
import { MdsService } from '../domain/service.ts';
import type { Clock, Hasher, IdGenerator } from '../domain/types.ts';
import { mdsAuthenticator } from './auth.ts';
import { errorAnswer } from './errors.ts';
import { MdsMetrics } from './metrics.ts';
import { alertRoutes } from './routes/alerts.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { operationsRoutes } from './routes/operations.ts';
import { participantRoutes } from './routes/participants.ts';
import { recoveryRoutes } from './routes/recoveries.ts';
import { settlementRoutes } from './routes/settlements.ts';
import { supplyRoutes } from './routes/supply.ts';
import { indicatorRoutes } from './routes/indicators.ts';
import { Indicators } from '../domain/indicators.ts';
import { Settlements, type SettlementDependencies } from '../domain/settlement.ts';
import type { MdsRoutes } from './routes/routes.ts';

export interface MdsAppOptions extends ServiceProcessOptions {
  readonly store: MdsStore;
  readonly enclave: EnclavePort;
  readonly revocations: RevocationPort;
  readonly denyLists?: DenyListPort;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly hasher: Hasher;
  /** The DCP issuers of the deployment's trust file (hex ids). */
  readonly dcpIssuers: ReadonlySet<string>;
  readonly policy?: ResponsePolicy;
  /** How often alerts are copied and revocations asked for; left out (tests: `service.response.run()`), never. */
  readonly responseIntervalMs?: number;
  /** The ledger and the store of settlement runs and pools; left out, the MDS settles nothing. */
  readonly settlement?: SettlementDependencies['settlement'];
  /** k: indicator cells over fewer distinct SEs are suppressed (default 10). */
  readonly indicatorSecureElementsMin?: number;
  /** How often a settlement run is made (period `periodic-<start ms>`); left out, only on request. */
  readonly settlementIntervalMs?: number;
}

export function mdsService(options: MdsAppOptions): MdsService {
  return new MdsService({
    store: options.store,
    enclave: options.enclave,
    revocations: options.revocations,
    ...(options.denyLists === undefined ? {} : { denyLists: options.denyLists }),
    clock: options.clock,
    ids: options.ids,
    hasher: options.hasher,
    dcpIssuers: options.dcpIssuers,
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    ...(options.idempotencyRetentionMs === undefined
      ? {}
      : { idempotencyRetentionMs: options.idempotencyRetentionMs }),
  });
}

export async function buildMdsApp(options: MdsAppOptions) {
  const metrics = new MdsMetrics(options.processMetrics ?? false);
  const service = mdsService(options);
  service.response.observe = (outcome) => {
    metrics.revocations.inc({ outcome });
  };
  const response: MaintenanceTask[] =
    options.responseIntervalMs === undefined
      ? []
      : [
          {
            name: 'alert response',
            intervalMs: options.responseIntervalMs,
            run: () => service.response.run(),
          },
        ];
  const settlements = new Settlements({
    enclave: options.enclave,
    clock: options.clock,
    ...(options.settlement === undefined ? {} : { settlement: options.settlement }),
  });
  const settlement = settlementTask(settlements, options);
  // Every /v1 route needs a participant: nothing of the MDS is public.
  const { app, caller } = await createParticipantApp(options, service, metrics, {
    title: 'CBDC Monitoring and Detection System',
    requestBodyBytesMax,
    docs: 'docs/mds.md',
    errorAnswer,
    authenticator: mdsAuthenticator((digest) => service.authenticate(digest)),
    maintenance: [...response, ...settlement],
  });
  const indicators = new Indicators(options.enclave, options.indicatorSecureElementsMin);
  const routes: MdsRoutes = { app, service, settlements, indicators, metrics, caller };
  for (const register of [
    participantRoutes,
    ingestRoutes,
    alertRoutes,
    operationsRoutes,
    supplyRoutes,
    settlementRoutes,
    indicatorRoutes,
    recoveryRoutes,
  ])
    register(routes);
  return { app, service };
}

/** The periodic settlement run, when the deployment asks for one: period `periodic-<start ms>`. */
function settlementTask(settlements: Settlements, options: MdsAppOptions): MaintenanceTask[] {
  const intervalMs = options.settlementIntervalMs;
  if (intervalMs === undefined || options.settlement === undefined) return [];
  const run = async () => {
    const start = Math.floor(options.clock.nowMs() / intervalMs) * intervalMs;
    await settlements.settle(`periodic-${start}`);
  };
  return [{ name: 'settlement', intervalMs, run }];
}

export type MdsApp = Awaited<ReturnType<typeof buildMdsApp>>['app'];
