// The fastify app every service starts from: strict decoding, a body limit, the OpenAPI document,
// the error envelope, request metrics and the operations routes (/healthz, /metrics,
// /openapi.json). A service adds its authentication hook and its /v1 routes to what this returns.
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { assert } from '../core/assert.ts';
import type { ErrorAnswer } from './errors.ts';
import type { HttpMetrics } from './metrics.ts';

export interface ServiceAppOptions {
  /** The OpenAPI document's title, e.g. `CBDC core ledger`. */
  readonly title: string;
  /** The OpenAPI document's description: where the API is documented. */
  readonly description: string;
  /** What the bearer token is, in the OpenAPI security scheme (left out when undefined). */
  readonly apiKeyDescription?: string;
  /** The service's limit; a larger body is refused with 413 before it is parsed. */
  readonly requestBodyBytesMax: number;
  /** pino options, or false for no logs (tests). */
  readonly logger?: FastifyServerOptions['logger'] | undefined;
  /** The service's error envelope (`errorAnswerer` of its codes). */
  readonly errorAnswer: (error: unknown) => ErrorAnswer;
  /** The service's refusal for a method and path no route has (`detail`: `GET /v1/nothing`). */
  readonly routeNotFound: (detail: string) => Error;
  readonly metrics: HttpMetrics;
  /** A database round trip, for /healthz. */
  readonly ping: () => Promise<void>;
}

export async function createServiceApp(options: ServiceAppOptions) {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.requestBodyBytesMax,
    // Strict decoding: no type coercion ("5" stays a string, 5 stays a number), no silent removal
    // of unknown properties (they are refused), no defaults filled in.
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const apiKey = { type: 'http', scheme: 'bearer' } as const;
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: options.title, version: '1.0.0', description: options.description },
      components: {
        securitySchemes: {
          apiKey:
            options.apiKeyDescription === undefined
              ? apiKey
              : { ...apiKey, description: options.apiKeyDescription },
        },
      },
    },
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = options.errorAnswer(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = options.errorAnswer(options.routeNotFound(`${request.method} ${request.url}`));
    return reply.status(status).send(body);
  });
  const { metrics } = options;
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unknown';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  app.get('/healthz', { schema: { hide: true } }, async () => {
    await options.ping();
    return { status: 'ok' };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}

/** Tells the client the answer is an earlier request's (`Idempotent-Replayed: true`, what clients read). */
export function markReplayed(reply: FastifyReply, answer: { readonly replayed: boolean }): void {
  if (answer.replayed) void reply.header('idempotent-replayed', 'true');
}

export type ServiceApp = Awaited<ReturnType<typeof createServiceApp>>;

export interface RequestAuthentication<Participant> {
  /** Whether the request needs a participant (e.g. every /v1 route but the public ones). */
  protects(request: FastifyRequest): boolean;
  /** The participant of an `Authorization` header, or a thrown refusal (service-kit/api-key.ts). */
  authenticate(authorization: string | undefined): Promise<Participant>;
}

/**
 * Authenticates the protected requests in onRequest, which runs before the body is read and
 * validated, so an unauthenticated client learns nothing but that its key is missing or unknown.
 * Returns what gives a protected route its participant.
 */
export function authenticatedCallers<Participant>(
  app: ServiceApp,
  authentication: RequestAuthentication<Participant>,
): (request: FastifyRequest) => Participant {
  const participants = new WeakMap<FastifyRequest, Participant>();
  app.addHook('onRequest', async (request) => {
    if (authentication.protects(request))
      participants.set(request, await authentication.authenticate(request.headers.authorization));
  });
  return (request) => {
    const participant = participants.get(request);
    assert(participant !== undefined, 'every protected request is authenticated in onRequest');
    return participant;
  };
}
