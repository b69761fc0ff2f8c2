// The ledger's HTTP API (fastify). Routes decode their input through schemas, authenticate the
// participant, call the service and encode the answer; all rules live in the domain.
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { assert } from '../../core/assert.ts';
import { decodeAmount } from '../domain/amount.ts';
import { requestBodyBytesMax, statementPageSizeDefault, statementPageSizeMax } from '../domain/limits.ts';
import type { LedgerStore } from '../domain/ports.ts';
import { LedgerService, type Answer } from '../domain/service.ts';
import type { Clock, IdGenerator, Participant, Payment } from '../domain/types.ts';
import { ledgerError } from '../errors.ts';
import { Authenticator } from './auth.ts';
import { errorAnswer } from './errors.ts';
import { LedgerMetrics } from './metrics.ts';
import {
  AccountParams,
  CreateAccountBody,
  CreateParticipantBody,
  HoldBody,
  HoldParams,
  IdempotencyHeaders,
  IssueBody,
  PaymentBody,
  PaymentParams,
  StatementQuery,
  responses,
} from './schemas.ts';
import { accountWire, entryWire, holdWire, participantWire, paymentWire } from './wire.ts';

export interface LedgerAppOptions {
  readonly store: LedgerStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** pino options, or false for no logs (tests). */
  readonly logger?: FastifyServerOptions['logger'];
  /** Process metrics (CPU, memory, event loop) on /metrics; off in tests. */
  readonly processMetrics?: boolean;
}

const security = [{ apiKey: [] }];

export async function buildLedgerApp(options: LedgerAppOptions) {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: requestBodyBytesMax,
    // Strict decoding: no type coercion ("5" stays a string, 5 stays a number), no silent removal
    // of unknown properties (they are refused), no defaults filled in.
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const service = new LedgerService(options.store, options.clock, options.ids);
  const auth = new Authenticator((digest) => service.authenticate(digest));
  const metrics = new LedgerMetrics(options.processMetrics ?? false);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'CBDC core ledger', version: '1.0.0', description: 'See docs/ledger.md' },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'participant API key' } },
      },
    },
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = errorAnswer(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = errorAnswer(ledgerError('routeNotFound', `${request.method} ${request.url}`));
    return reply.status(status).send(body);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unknown';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  // Authentication comes first (onRequest runs before the body is read and validated), so an
  // unauthenticated client learns nothing but apiKeyMissing or apiKeyUnknown.
  const participants = new WeakMap<FastifyRequest, Participant>();
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/v1/'))
      participants.set(request, await auth.authenticate(request.headers.authorization));
  });
  const caller = (request: FastifyRequest): Participant => {
    const participant = participants.get(request);
    assert(participant !== undefined, 'every /v1 request is authenticated in onRequest');
    return participant;
  };
  const replayed = (reply: FastifyReply, answer: Answer<unknown>) => {
    if (answer.replayed) void reply.header('idempotent-replayed', 'true');
  };
  const counted = (answer: Answer<Payment>) => {
    if (!answer.replayed) metrics.moved.inc({ kind: answer.value.kind });
    return answer;
  };
  const reference = (value: string | undefined) => value ?? null;

  app.get('/healthz', { schema: { hide: true } }, async () => {
    await options.store.ping();
    return { status: 'ok' };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  app.get('/v1/participants/me', { schema: { security, response: responses.participant } }, (request) => ({
    participant: participantWire(caller(request)),
  }));

  app.post(
    '/v1/participants',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        body: CreateParticipantBody,
        response: responses.participantCreated,
      },
    },
    async (request, reply) => {
      const answer = await service.createParticipant(
        caller(request),
        request.headers['idempotency-key'],
        request.body,
      );
      replayed(reply, answer);
      return reply.status(201).send({ participant: participantWire(answer.value) });
    },
  );

  app.post(
    '/v1/accounts',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        body: CreateAccountBody,
        response: responses.accountCreated,
      },
    },
    async (request, reply) => {
      const answer = await service.createAccount(
        caller(request),
        request.headers['idempotency-key'],
        request.body,
      );
      replayed(reply, answer);
      const account = accountWire({ account: answer.value, held: 0n, available: answer.value.balance });
      return reply.status(201).send({ account });
    },
  );

  app.get(
    '/v1/accounts/:accountId',
    { schema: { security, params: AccountParams, response: responses.account } },
    async (request) => ({
      account: accountWire(await service.account(caller(request), request.params.accountId)),
    }),
  );

  app.get(
    '/v1/accounts/:accountId/statement',
    {
      schema: { security, params: AccountParams, querystring: StatementQuery, response: responses.statement },
    },
    async (request) => {
      const limit =
        request.query.limit === undefined ? statementPageSizeDefault : Number(request.query.limit);
      if (limit > statementPageSizeMax)
        throw ledgerError('requestInvalid', `limit must be at most ${statementPageSizeMax}`);
      const after = request.query.after === undefined ? 0 : Number(request.query.after);
      const who = caller(request);
      const entries = await service.statement(who, request.params.accountId, after, limit);
      const last = entries.at(-1);
      return {
        entries: entries.map(entryWire),
        next: entries.length === limit && last ? String(last.sequence) : null,
      };
    },
  );

  app.post(
    '/v1/issuances',
    {
      schema: { security, headers: IdempotencyHeaders, body: IssueBody, response: responses.paymentCreated },
    },
    async (request, reply) => {
      const who = caller(request);
      const { accountId, amount } = request.body;
      const answer = counted(
        await service.issue(who, request.headers['idempotency-key'], {
          accountId,
          amount: decodeAmount(amount, 'amount'),
          reference: reference(request.body.reference),
        }),
      );
      replayed(reply, answer);
      return reply.status(201).send({ payment: paymentWire(answer.value) });
    },
  );

  app.post(
    '/v1/payments',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        body: PaymentBody,
        response: responses.paymentCreated,
      },
    },
    async (request, reply) => {
      const who = caller(request);
      const { payerAccountId, payeeAccountId, amount } = request.body;
      const answer = counted(
        await service.pay(who, request.headers['idempotency-key'], {
          payerAccountId,
          payeeAccountId,
          amount: decodeAmount(amount, 'amount'),
          reference: reference(request.body.reference),
        }),
      );
      replayed(reply, answer);
      return reply.status(201).send({ payment: paymentWire(answer.value) });
    },
  );

  app.get(
    '/v1/payments/:paymentId',
    { schema: { security, params: PaymentParams, response: responses.payment } },
    async (request) => ({
      payment: paymentWire(await service.payment(caller(request), request.params.paymentId)),
    }),
  );

  app.post(
    '/v1/holds',
    { schema: { security, headers: IdempotencyHeaders, body: HoldBody, response: responses.holdCreated } },
    async (request, reply) => {
      const who = caller(request);
      const { payerAccountId, payeeAccountId, amount, expiresInSeconds } = request.body;
      const answer = await service.placeHold(who, request.headers['idempotency-key'], {
        payerAccountId,
        payeeAccountId,
        amount: decodeAmount(amount, 'amount'),
        expiresInSeconds,
        reference: reference(request.body.reference),
      });
      replayed(reply, answer);
      return reply.status(201).send({ hold: holdWire(answer.value, service.statusOf(answer.value)) });
    },
  );

  app.get(
    '/v1/holds/:holdId',
    { schema: { security, params: HoldParams, response: responses.hold } },
    async (request) => {
      const hold = await service.hold(caller(request), request.params.holdId);
      return { hold: holdWire(hold, service.statusOf(hold)) };
    },
  );

  app.post(
    '/v1/holds/:holdId/capture',
    { schema: { security, params: HoldParams, response: responses.capture } },
    async (request, reply) => {
      const answer = await service.captureHold(caller(request), request.params.holdId);
      if (!answer.replayed) metrics.moved.inc({ kind: 'capture' });
      replayed(reply, answer);
      const { hold, payment } = answer.value;
      return { hold: holdWire(hold, service.statusOf(hold)), payment: paymentWire(payment) };
    },
  );

  app.post(
    '/v1/holds/:holdId/release',
    { schema: { security, params: HoldParams, response: responses.hold } },
    async (request, reply) => {
      const answer = await service.releaseHold(caller(request), request.params.holdId);
      replayed(reply, answer);
      return { hold: holdWire(answer.value, service.statusOf(answer.value)) };
    },
  );

  return app;
}

export type LedgerApp = Awaited<ReturnType<typeof buildLedgerApp>>;
