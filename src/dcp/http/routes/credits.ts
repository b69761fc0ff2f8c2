// `POST /v1/credits`: another DCP announces a ledger payment into this DCP's pool for one of its
// devices (no key: the ledger payment is the authority; idempotent by payment id).
import { acceptCredit } from '../../domain/settle.ts';
import { CreditBody, responses } from '../schemas.ts';
import type { DcpRoutes } from './routes.ts';

export function creditRoutes({ app, context }: DcpRoutes): void {
  app.post(
    '/v1/credits',
    { schema: { body: CreditBody, response: responses.credit } },
    async (request, reply) => {
      const credit = await acceptCredit(context, request.body.paymentId);
      return reply.status(201).send({ seId: credit.seId, amount: credit.amount.toString() });
    },
  );
}
