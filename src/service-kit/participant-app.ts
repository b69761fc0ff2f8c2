// The app of a service whose callers are participants with API keys (the directory, the ledger, the
// MDS): the shared service app (app.ts) with the participant key in the OpenAPI document, its
// idempotency expiry before any maintenance of its own, and every /v1 route but its public ones
// authenticated by the service's bearer authenticator. Returns the app and what gives a protected
// route its participant.
import type { FastifyRequest } from 'fastify';
import type { BearerAuthenticator } from './api-key.ts';
import {
  authenticatedCallers,
  createServiceApp,
  type ServiceApp,
  type ServiceAppOptions,
  type ServiceProcessOptions,
} from './app.ts';
import { idempotencyExpiry } from './maintenance.ts';
import type { HttpMetrics } from './metrics.ts';

/** What the app needs of the service's domain. */
export interface ParticipantService {
  /** Drops the answers of keys past the retention, a bounded batch per call. */
  expireIdempotencyAnswers(): Promise<number>;
}

export interface ParticipantAppOptions<Participant> extends Pick<
  ServiceAppOptions,
  'title' | 'requestBodyBytesMax' | 'errorAnswer'
> {
  /** Where the API is documented, e.g. `docs/ledger.md` (the OpenAPI description says so). */
  readonly docs: string;
  readonly authenticator: BearerAuthenticator<Participant>;
  /** The service's own periodic tasks, scheduled after idempotency expiry. */
  readonly maintenance?: ServiceAppOptions['maintenance'];
  /** Route URLs under /v1/ anyone may call (the directory's published documents); none by default. */
  readonly publicRoutes?: ReadonlySet<string>;
}

/** `process`: the app's process options and its store (pinged by /healthz). */
export async function createParticipantApp<Participant>(
  process: ServiceProcessOptions & { readonly store: { ping(): Promise<void> } },
  service: ParticipantService,
  metrics: HttpMetrics,
  options: ParticipantAppOptions<Participant>,
): Promise<{ readonly app: ServiceApp; readonly caller: (request: FastifyRequest) => Participant }> {
  const app = await createServiceApp({
    title: options.title,
    description: `See ${options.docs}`,
    apiKeyDescription: 'participant API key',
    requestBodyBytesMax: options.requestBodyBytesMax,
    logger: process.logger,
    errorAnswer: options.errorAnswer,
    metrics,
    ping: () => process.store.ping(),
    maintenance: [
      ...idempotencyExpiry(process.idempotencyExpiryIntervalMs, () => service.expireIdempotencyAnswers()),
      ...(options.maintenance ?? []),
    ],
  });
  const publicRoutes = options.publicRoutes ?? new Set<string>();
  const caller = authenticatedCallers(app, {
    protects: (request) =>
      request.url.startsWith('/v1/') && !publicRoutes.has(request.routeOptions.url ?? ''),
    authenticate: (authorization) => options.authenticator.authenticate(authorization),
  });
  return { app, caller };
}
