// A wallet's devices: `POST /v1/wallets/{id}/devices` personalises a secure element (agent API key);
// `GET /v1/devices/{seId}/updates` gives a device its newest limits and deny list (no key: both are
// signed and public).
import { personalise } from '../../domain/personalise.ts';
import { IdempotencyHeaders, PersonaliseBody, responses, SeIdParams, WalletParams } from '../schemas.ts';
import { security, type DcpRoutes } from './routes.ts';

export function deviceRoutes({ app, context, caller, updates }: DcpRoutes): void {
  app.post(
    '/v1/wallets/:walletId/devices',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        params: WalletParams,
        body: PersonaliseBody,
        response: responses.personalisation,
      },
    },
    async (request, reply) => {
      const personalisation = await personalise(
        context,
        caller(request),
        request.headers['idempotency-key'],
        request.params.walletId,
        request.body,
      );
      return reply
        .status(201)
        .send({ personalisation: { ...personalisation, dcpIssuers: [...personalisation.dcpIssuers] } });
    },
  );

  app.get(
    '/v1/devices/:seId/updates',
    { schema: { params: SeIdParams, response: responses.updates } },
    async (request) => updates.of((await context.device(request.params.seId)).kind),
  );
}
