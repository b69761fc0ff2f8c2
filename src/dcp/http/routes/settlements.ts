// A device's settlements of its claim: `POST /v1/renewals`, `/v1/unloads`, `/v1/transfers` (no API
// key: the claim and the device request are signed over a DCP nonce). Each answers the issuances
// to install and the signed limits and deny list of the moment.
import type { SettleResult } from '../../domain/ports.ts';
import { settle } from '../../domain/settle.ts';
import { IdempotencyHeaders, RenewalBody, responses, TransferBody, UnloadBody } from '../schemas.ts';
import type { DcpRoutes } from './routes.ts';

export function settlementRoutes({ app, context, metrics, updates }: DcpRoutes): void {
  const answered = async (result: SettleResult) => {
    metrics.operations.inc({ kind: result.kind });
    return { ...result, credits: [...result.credits], loads: [...result.loads], ...(await updates.all()) };
  };

  app.post(
    '/v1/renewals',
    { schema: { headers: IdempotencyHeaders, body: RenewalBody, response: responses.settlement } },
    async (request, reply) => {
      const result = await settle(context, 'renewal', request.headers['idempotency-key'], request.body);
      return reply.status(201).send(await answered(result));
    },
  );

  app.post(
    '/v1/unloads',
    { schema: { headers: IdempotencyHeaders, body: UnloadBody, response: responses.settlement } },
    async (request, reply) => {
      const body = request.body;
      const result = await settle(context, 'unload', request.headers['idempotency-key'], {
        ...body,
        amount: BigInt(body.amount),
      });
      return reply.status(201).send(await answered(result));
    },
  );

  app.post(
    '/v1/transfers',
    { schema: { headers: IdempotencyHeaders, body: TransferBody, response: responses.settlement } },
    async (request, reply) => {
      const body = request.body;
      const result = await settle(context, 'transfer', request.headers['idempotency-key'], {
        ...body,
        amount: BigInt(body.amount),
      });
      return reply.status(201).send(await answered(result));
    },
  );
}
