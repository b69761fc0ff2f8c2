// `PUT /v1/dcps/{id}`, `GET /v1/dcps/{id}`: the DCP endpoint registry (peers find each other here).
import { markReplayed } from '../../../service-kit/app.ts';
import { decodeId } from '../../domain/rules.ts';
import { DcpParams, EndpointBody, IdempotencyHeaders, responses } from '../schemas.ts';
import { dcpEndpointWire } from '../wire.ts';
import { security, type DirectoryRoutes } from './routes.ts';

export function dcpRoutes({ app, service, caller }: DirectoryRoutes): void {
  app.put(
    '/v1/dcps/:dcpId',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        params: DcpParams,
        body: EndpointBody,
        response: responses.dcpEndpoint,
      },
    },
    async (request, reply) => {
      const dcpId = decodeId(request.params.dcpId, 'dcpId');
      const answer = await service.putDcpEndpoint(
        caller(request),
        request.headers['idempotency-key'],
        dcpId,
        request.body.baseUrl,
      );
      markReplayed(reply, answer);
      return { dcp: dcpEndpointWire(answer.value) };
    },
  );

  app.get(
    '/v1/dcps/:dcpId',
    { schema: { security, params: DcpParams, response: responses.dcpEndpoint } },
    async (request) => ({
      dcp: dcpEndpointWire(
        await service.dcpEndpoint(caller(request), decodeId(request.params.dcpId, 'dcpId')),
      ),
    }),
  );
}
