// `POST /v1/accounts`, `GET /v1/accounts/{id}`, `GET /v1/accounts/{id}/statement`.
import { markReplayed } from '../../../service-kit/app.ts';
import { serviceError } from '../../../service-kit/service-errors.ts';
import { statementPageSizeDefault, statementPageSizeMax } from '../../domain/limits.ts';
import {
  AccountParams,
  CreateAccountBody,
  IdempotencyHeaders,
  StatementQuery,
  responses,
} from '../schemas.ts';
import { accountWire, entryWire } from '../wire.ts';
import { security, type LedgerRoutes } from './routes.ts';

export function accountRoutes({ app, service, caller }: LedgerRoutes): void {
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
      const account = accountWire({
        account: answer.value,
        held: 0n,
        available: answer.value.balance,
        settled: 0n,
      });
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
}
