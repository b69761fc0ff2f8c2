// A device's nonces and loads: `POST /v1/nonces`, `POST /v1/loads` (no API key: the SE's signature
// over a DCP nonce authenticates a load) and `POST /v1/loads/refusals` (the SE's signed refusal
// authenticates it, and the issuance it names is its idempotency).
import { load, makeNonce } from '../../domain/load.ts';
import { returnRefusedLoad } from '../../domain/refusal.ts';
import { IdempotencyHeaders, LoadBody, LoadRefusalBody, NonceBody, responses } from '../schemas.ts';
import type { DcpRoutes } from './routes.ts';

export function loadRoutes({ app, context, metrics }: DcpRoutes): void {
  app.post('/v1/nonces', { schema: { body: NonceBody, response: responses.nonce } }, async (request, reply) =>
    reply.status(201).send(await makeNonce(context, request.body.seId)),
  );

  app.post(
    '/v1/loads',
    { schema: { headers: IdempotencyHeaders, body: LoadBody, response: responses.load } },
    async (request, reply) => {
      const body = request.body;
      const answer = await load(context, request.headers['idempotency-key'], {
        seId: body.seId,
        amount: BigInt(body.amount),
        balance: BigInt(body.balance),
        deviceRequest: body.deviceRequest,
      });
      metrics.operations.inc({ kind: 'load' });
      return reply.status(201).send(answer);
    },
  );

  app.post(
    '/v1/loads/refusals',
    { schema: { body: LoadRefusalBody, response: responses.loadRefusal } },
    async (request, reply) => {
      const answer = await returnRefusedLoad(context, request.body.refusal);
      metrics.operations.inc({ kind: 'refusal' });
      return reply.status(201).send(answer);
    },
  );
}
