// `POST /v1/holds`, `GET /v1/holds/{id}`, `POST /v1/holds/{id}/capture`, `.../release`: reserved money.
import { markReplayed } from '../../../service-kit/app.ts';
import { decodeAmount } from '../../domain/amount.ts';
import { HoldBody, HoldParams, IdempotencyHeaders, responses } from '../schemas.ts';
import { holdWire, paymentWire } from '../wire.ts';
import { reference, security, type LedgerRoutes } from './routes.ts';

export function holdRoutes({ app, service, metrics, caller }: LedgerRoutes): void {
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
}
