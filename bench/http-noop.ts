// The HTTP bound for the service benchmarks (`http.noop`): the service kit with one no-op route that
// does what a ledger payment's HTTP side does — bearer authentication, the Idempotency-Key header,
// the payment's body schema and its 201 answer with the payment's response schema — and nothing
// else: no storage, no rules. A service's figure over this one says how much of the HTTP machinery's
// rate its own work leaves.
import { BearerAuthenticator, apiKeyDigest } from '../src/service-kit/api-key.ts';
import { authenticatedCallers, createServiceApp } from '../src/service-kit/app.ts';
import { HttpMetrics } from '../src/service-kit/metrics.ts';
import { errorAnswer } from '../src/ledger/http/errors.ts';
import { IdempotencyHeaders, PaymentBody, responses } from '../src/ledger/http/schemas.ts';
import { apiKeyLengthMax, apiKeyLengthMin, requestBodyBytesMax } from '../src/ledger/domain/limits.ts';

export interface NoopServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 with a route `POST /v1/noop` that only `apiKey` may call. */
export async function startNoopServer(apiKey: string): Promise<NoopServer> {
  const digest = apiKeyDigest(apiKey);
  const participant = { id: 'prt_bench' };
  const auth = new BearerAuthenticator({
    find: (candidate) => Promise.resolve(candidate === digest ? participant : null),
    length: { min: apiKeyLengthMin, max: apiKeyLengthMax },
    cacheEntriesMax: 16,
  });
  const app = await createServiceApp({
    title: 'http.noop',
    description: 'benchmark bound',
    requestBodyBytesMax,
    errorAnswer,
    metrics: new HttpMetrics('noop'),
    ping: () => Promise.resolve(),
  });
  const caller = authenticatedCallers(app, {
    protects: (request) => request.url.startsWith('/v1/'),
    authenticate: (authorization) => auth.authenticate(authorization),
  });
  let next = 0;
  app.post(
    '/v1/noop',
    { schema: { headers: IdempotencyHeaders, body: PaymentBody, response: responses.paymentCreated } },
    async (request, reply) =>
      reply.status(201).send({
        payment: {
          id: `pay_${caller(request).id}_${next++}`,
          kind: 'payment',
          payerAccountId: request.body.payerAccountId,
          payeeAccountId: request.body.payeeAccountId,
          amount: request.body.amount,
          reference: null,
          holdId: null,
          createdAt: new Date(0).toISOString(),
        },
      }),
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}
