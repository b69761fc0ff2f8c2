// `POST /v1/issuances`, `POST /v1/payments`, `GET /v1/payments/{id}`: money created and moved.
import { markReplayed } from '../../../service-kit/app.ts';
import { decodeAmount } from '../../domain/amount.ts';
import type { Answer } from '../../domain/service.ts';
import type { Payment } from '../../domain/types.ts';
import { IdempotencyHeaders, IssueBody, PaymentBody, PaymentParams, responses } from '../schemas.ts';
import { paymentWire } from '../wire.ts';
import { reference, security, type LedgerRoutes } from './routes.ts';

export function paymentRoutes({ app, service, metrics, caller }: LedgerRoutes): void {
  const counted = (answer: Answer<Payment>) => {
    if (!answer.replayed) metrics.moved.inc({ kind: answer.value.kind });
    return answer;
  };

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
}
