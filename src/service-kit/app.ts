// The fastify app every service starts from: strict decoding, a body limit, the OpenAPI document,
// the error envelope, request metrics and the operations routes (/healthz, /metrics,
// /openapi.json). A service adds its authentication hook and its /v1 routes to what this returns.
//
// Every answer is the service's: besides the routes' own refusals, what the router (unknown path,
// wrong method, a path segment over its bound, bad percent-encoding), the body parser (media type,
// JSON, size) and the HTTP parser (malformed request, headers too large, too slow) refuse is
// answered in the `{error:{code,number,message}}` envelope with a generic code (service-errors.ts),
// never with fastify's or Node's own body.
import type { Socket } from 'node:net';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { assert } from '../core/assert.ts';
import type { ErrorAnswer } from './errors.ts';
import { scheduleMaintenance, type MaintenanceTask } from './maintenance.ts';
import type { HttpMetrics } from './metrics.ts';
import { serviceError } from './service-errors.ts';

/** The router's bound on one path segment (an id); a longer one is `pathParameterTooLong` (414). */
export const pathParameterLengthMax = 100;

/** What every service's app takes from its process, beside its own parts (store, clock, keys). */
export interface ServiceProcessOptions {
  /** pino options, or false for no logs (tests). */
  readonly logger?: FastifyServerOptions['logger'];
  /** Process metrics (CPU, memory, event loop) on /metrics; off in tests. */
  readonly processMetrics?: boolean;
  /** How long an idempotency key's answer replays (default 7 days, storage/idempotency.ts). */
  readonly idempotencyRetentionMs?: number;
  /** How often expired answers are dropped; left out (tests), never: expiry itself stays exact. */
  readonly idempotencyExpiryIntervalMs?: number;
}

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
  /** Periodic housekeeping (maintenance.ts), scheduled when the app is built, stopped when it closes. */
  readonly maintenance?: readonly MaintenanceTask[];
  readonly metrics: HttpMetrics;
  /** A database round trip, for /healthz. */
  readonly ping: () => Promise<void>;
}

export async function createServiceApp(options: ServiceAppOptions) {
  const refuse = (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = options.errorAnswer(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.status(status).send(body);
  };
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.requestBodyBytesMax,
    routerOptions: { maxParamLength: pathParameterLengthMax },
    // The router's refusals (a path segment over maxParamLength, bad percent-encoding), which never
    // reach the error handler.
    frameworkErrors: (error, request, reply) => {
      void refuse(error, request, reply);
    },
    clientErrorHandler: (error: NodeJS.ErrnoException, socket: Socket) => {
      answerClientError(options.errorAnswer, error, socket);
    },
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

  // Only JSON bodies: fastify's text/plain parser would hand a string to schemas that want objects.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(refuse);
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => {
    routes.add(route.method, route.url);
  });
  app.setNotFoundHandler((request, reply) => {
    const detail = `${request.method} ${request.url}`;
    const allowed = routes.methodsOf(request.url);
    if (allowed.length > 0) {
      // RFC 9110 §15.5.6: a 405 lists the methods the target supports.
      void reply.header('allow', allowed.join(', '));
      return refuse(serviceError('methodNotAllowed', detail), request, reply);
    }
    return refuse(serviceError('routeNotFound', detail), request, reply);
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
  for (const task of options.maintenance ?? []) scheduleMaintenance(app, task);
  return app;
}

/** Which methods the routes have for a path: what a 405 lists in its Allow header. */
class RouteMethods {
  private readonly routes: { readonly methods: readonly string[]; readonly pattern: RegExp }[] = [];

  add(method: string | readonly string[], url: string): void {
    // The services' routes are literal segments and `:name` parameters (a parameter matches one
    // non-empty segment, as in the router); anything else is escaped and matched literally.
    const source = url
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    this.routes.push({
      methods: typeof method === 'string' ? [method] : method,
      pattern: new RegExp(`^${source}$`),
    });
  }

  methodsOf(url: string): readonly string[] {
    const path = url.split('?', 1)[0] ?? url;
    const methods = new Set<string>();
    for (const route of this.routes) {
      if (route.pattern.test(path)) for (const method of route.methods) methods.add(method);
    }
    return [...methods].sort();
  }
}

/** What the HTTP parser refuses, before any request exists: answered on the socket, then closed. */
function answerClientError(
  errorAnswer: (error: unknown) => ErrorAnswer,
  error: NodeJS.ErrnoException,
  socket: Socket,
): void {
  // A reset connection has no one left to answer (https://nodejs.org/api/http.html#event-clienterror).
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const code =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 'requestTimeout'
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? 'requestHeadersTooLarge'
        : 'requestMalformed';
  const { status, body } = errorAnswer(serviceError(code));
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${statusText[status] ?? 'Error'}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(text)}\r\n` +
      'connection: close\r\n\r\n' +
      text,
  );
}

const statusText: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

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
