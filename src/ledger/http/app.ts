// The ledger's HTTP API (fastify). Routes decode their input through schemas, authenticate the
// participant, call the service and encode the answer; all rules live in the domain. The app itself
// (strict decoding, error envelope, metrics, operations routes) is the shared service kit's.
import type { FastifyServerOptions } from 'fastify';
import { authenticatedCallers, createServiceApp, markReplayed } from '../../service-kit/app.ts';
import { scheduleMaintenance } from '../../service-kit/maintenance.ts';
import { decodeAmount } from '../domain/amount.ts';
import { requestBodyBytesMax, statementPageSizeDefault, statementPageSizeMax } from '../domain/limits.ts';
import type { LedgerStore } from '../domain/ports.ts';
import { LedgerService, type Answer } from '../domain/service.ts';
import type { Clock, IdGenerator, Payment } from '../domain/types.ts';
import { ledgerAuthenticator } from './auth.ts';
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
import { serviceError } from '../../service-kit/service-errors.ts';

export interface LedgerAppOptions {
  readonly store: LedgerStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** pino options, or false for no logs (tests). */
  readonly logger?: FastifyServerOptions['logger'];
  /** Process metrics (CPU, memory, event loop) on /metrics; off in tests. */
  readonly processMetrics?: boolean;
  /** How long an idempotency key's answer replays (default 7 days, storage/idempotency.ts). */
  readonly idempotencyRetentionMs?: number;
  /** How often expired answers are dropped; left out (tests), never: expiry itself stays exact. */
  readonly idempotencyExpiryIntervalMs?: number;
}

const security = [{ apiKey: [] }];

export async function buildLedgerApp(options: LedgerAppOptions) {
  const service = new LedgerService(options.store, options.clock, options.ids, {
    ...(options.idempotencyRetentionMs === undefined
      ? {}
      : { idempotencyRetentionMs: options.idempotencyRetentionMs }),
  });
  const auth = ledgerAuthenticator((digest) => service.authenticate(digest));
  const metrics = new LedgerMetrics(options.processMetrics ?? false);
  const app = await createServiceApp({
    title: 'CBDC core ledger',
    description: 'See docs/ledger.md',
    apiKeyDescription: 'participant API key',
    requestBodyBytesMax,
    logger: options.logger,
    errorAnswer,
    metrics,
    ping: () => options.store.ping(),
  });

  if (options.idempotencyExpiryIntervalMs !== undefined) {
    scheduleMaintenance(app, {
      name: 'idempotency expiry',
      intervalMs: options.idempotencyExpiryIntervalMs,
      run: () => service.expireIdempotencyAnswers(),
    });
  }

  // Every /v1 route needs a participant: nothing of the ledger is public.
  const caller = authenticatedCallers(app, {
    protects: (request) => request.url.startsWith('/v1/'),
    authenticate: (authorization) => auth.authenticate(authorization),
  });
  const counted = (answer: Answer<Payment>) => {
    if (!answer.replayed) metrics.moved.inc({ kind: answer.value.kind });
    return answer;
  };
  const reference = (value: string | undefined) => value ?? null;

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
      markReplayed(reply, answer);
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
      markReplayed(reply, answer);
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
        throw serviceError('requestInvalid', `limit must be at most ${statementPageSizeMax}`);
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
      markReplayed(reply, answer);
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
      markReplayed(reply, answer);
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
      markReplayed(reply, answer);
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
      markReplayed(reply, answer);
      const { hold, payment } = answer.value;
      return { hold: holdWire(hold, service.statusOf(hold)), payment: paymentWire(payment) };
    },
  );

  app.post(
    '/v1/holds/:holdId/release',
    { schema: { security, params: HoldParams, response: responses.hold } },
    async (request, reply) => {
      const answer = await service.releaseHold(caller(request), request.params.holdId);
      markReplayed(reply, answer);
      return { hold: holdWire(answer.value, service.statusOf(answer.value)) };
    },
  );

  return app;
}

export type LedgerApp = Awaited<ReturnType<typeof buildLedgerApp>>;
