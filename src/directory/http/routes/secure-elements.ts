// `POST /v1/secure-elements`, `GET /v1/secure-elements/{id}`, `POST /v1/secure-elements/{id}/status`:
// registration by the owning DCP, lookup, and status changes (each publishing a deny-list version).
import { markReplayed } from '../../../service-kit/app.ts';
import { certificateBytesMax } from '../../domain/limits.ts';
import { decodeHexField, decodeId } from '../../domain/rules.ts';
import { IdempotencyHeaders, RegisterBody, SecureElementParams, StatusBody, responses } from '../schemas.ts';
import { secureElementWire } from '../wire.ts';
import { security, type DirectoryRoutes } from './routes.ts';

export function secureElementRoutes({ app, service, metrics, caller }: DirectoryRoutes): void {
  app.post(
    '/v1/secure-elements',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        body: RegisterBody,
        response: responses.secureElementCreated,
      },
    },
    async (request, reply) => {
      const certificate = decodeHexField(request.body.certificate, 'certificate', {
        bytesMax: certificateBytesMax,
      });
      const answer = await service.registerSecureElement(
        caller(request),
        request.headers['idempotency-key'],
        {
          certificate,
          walletId: request.body.walletId,
        },
      );
      if (!answer.replayed) metrics.registrations.inc({ kind: answer.value.kind });
      markReplayed(reply, answer);
      return reply
        .status(201)
        .send({ secureElement: secureElementWire({ record: answer.value, walletVisible: true }) });
    },
  );

  app.get(
    '/v1/secure-elements/:seId',
    { schema: { security, params: SecureElementParams, response: responses.secureElement } },
    async (request) => {
      const view = await service.secureElement(caller(request), decodeId(request.params.seId, 'seId'));
      return { secureElement: secureElementWire(view) };
    },
  );

  app.post(
    '/v1/secure-elements/:seId/status',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        params: SecureElementParams,
        body: StatusBody,
        response: responses.statusChanged,
      },
    },
    async (request, reply) => {
      const who = caller(request);
      const seId = decodeId(request.params.seId, 'seId');
      const answer = await service.changeStatus(who, request.headers['idempotency-key'], seId, request.body);
      if (!answer.replayed) metrics.statusChanges.inc({ status: request.body.status });
      metrics.denyListVersion.set(answer.value.denyListVersion);
      markReplayed(reply, answer);
      const record = answer.value.secureElement;
      return {
        secureElement: secureElementWire({ record, walletVisible: who.role === 'operator' }),
        denyListVersion: answer.value.denyListVersion,
      };
    },
  );
}
