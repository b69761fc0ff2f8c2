// The DCP's HTTP API (fastify). Device routes are authenticated by the SE's signatures (a claim or a
// device request over a DCP nonce), administrative routes by an API key (operator, agent). Routes
// decode, call the domain and encode, one file per resource under routes/; the rules live in the
// domain. See docs/dcp.md.
import type { FastifyServerOptions } from 'fastify';
import { authenticatedCallers, createServiceApp } from '../../service-kit/app.ts';
import type { DcpContext } from '../domain/context.ts';
import { requestBodyBytesMax } from '../domain/limits.ts';
import { dcpAuthenticator } from './auth.ts';
import { errorAnswer } from './errors.ts';
import { DcpMetrics } from './metrics.ts';
import { creditRoutes } from './routes/credits.ts';
import { dcpRoutes } from './routes/dcp.ts';
import { deviceRoutes } from './routes/devices.ts';
import { loadRoutes } from './routes/loads.ts';
import { participantRoutes } from './routes/participants.ts';
import { updatesOf, type DcpRoutes } from './routes/routes.ts';
import { settlementRoutes } from './routes/settlements.ts';
import { supplyRoutes } from './routes/supply.ts';
import { walletRoutes } from './routes/wallets.ts';

export interface DcpAppOptions {
  readonly context: DcpContext;
  readonly logger?: FastifyServerOptions['logger'];
  readonly processMetrics?: boolean;
  /** The app's metrics; the server passes its own to set the pool gauge after each reconcile pass. */
  readonly metrics?: DcpMetrics;
}

const adminPrefixes = ['/v1/participants', '/v1/wallets', '/v1/supply'];

export async function buildDcpApp(options: DcpAppOptions) {
  const context = options.context;
  const metrics = options.metrics ?? new DcpMetrics(options.processMetrics ?? false);
  const app = await createServiceApp({
    title: 'CBDC DCP',
    description: 'See docs/dcp.md',
    requestBodyBytesMax,
    logger: options.logger,
    errorAnswer,
    metrics,
    ping: () => context.store.ping(),
  });
  const auth = dcpAuthenticator((digest) => context.store.reader.findParticipantByKeyDigest(digest));
  const caller = authenticatedCallers(app, {
    protects: (request) => adminPrefixes.some((prefix) => request.url.startsWith(prefix)),
    authenticate: (authorization) => auth.authenticate(authorization),
  });
  const routes: DcpRoutes = { app, context, metrics, caller, updates: updatesOf(context) };
  for (const register of [
    dcpRoutes,
    participantRoutes,
    walletRoutes,
    deviceRoutes,
    supplyRoutes,
    loadRoutes,
    settlementRoutes,
    creditRoutes,
  ])
    register(routes);
  return app;
}

export type DcpApp = Awaited<ReturnType<typeof buildDcpApp>>;
