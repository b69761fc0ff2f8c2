// The ledger's HTTP API (fastify). Routes decode their input through schemas, authenticate the
// participant, call the service and encode the answer, one file per resource under routes/; all rules
// live in the domain. The app itself (strict decoding, error envelope, metrics, operations routes,
// maintenance) is the shared service kit's.
import type { ServiceProcessOptions } from '../../service-kit/app.ts';
import { createParticipantApp } from '../../service-kit/participant-app.ts';
import { requestBodyBytesMax } from '../domain/limits.ts';
import type { LedgerStore } from '../domain/ports.ts';
import { LedgerService } from '../domain/service.ts';
import type { Clock, IdGenerator } from '../domain/types.ts';
import { ledgerAuthenticator } from './auth.ts';
import { errorAnswer } from './errors.ts';
import { LedgerMetrics } from './metrics.ts';
import { accountRoutes } from './routes/accounts.ts';
import { holdRoutes } from './routes/holds.ts';
import { participantRoutes } from './routes/participants.ts';
import { paymentRoutes } from './routes/payments.ts';
import type { LedgerRoutes } from './routes/routes.ts';

export interface LedgerAppOptions extends ServiceProcessOptions {
  readonly store: LedgerStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

export async function buildLedgerApp(options: LedgerAppOptions) {
  const service = new LedgerService(options.store, options.clock, options.ids, {
    ...(options.idempotencyRetentionMs === undefined
      ? {}
      : { idempotencyRetentionMs: options.idempotencyRetentionMs }),
  });
  const metrics = new LedgerMetrics(options.processMetrics ?? false);
  // Every /v1 route needs a participant: nothing of the ledger is public.
  const { app, caller } = await createParticipantApp(options, service, metrics, {
    title: 'CBDC core ledger',
    requestBodyBytesMax,
    docs: 'docs/ledger.md',
    errorAnswer,
    authenticator: ledgerAuthenticator((digest) => service.authenticate(digest)),
  });
  const routes: LedgerRoutes = { app, service, metrics, caller };
  for (const register of [participantRoutes, accountRoutes, paymentRoutes, holdRoutes]) register(routes);
  return app;
}

export type LedgerApp = Awaited<ReturnType<typeof buildLedgerApp>>;
