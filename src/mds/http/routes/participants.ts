// `GET /v1/participants/me`, `POST /v1/participants`: who calls, and (operators) adding participants.
import { markReplayed } from '../../../service-kit/app.ts';
import { CreateParticipantBody, IdempotencyHeaders, responses } from '../schemas.ts';
import { participantWire } from '../wire.ts';
import { security, type MdsRoutes } from './routes.ts';

export function participantRoutes({ app, service, caller }: MdsRoutes): void {
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
      const { name, role, apiKeySha256, dcpId } = request.body;
      const answer = await service.createParticipant(caller(request), request.headers['idempotency-key'], {
        name,
        role,
        apiKeySha256,
        dcpId: dcpId ?? null,
      });
      markReplayed(reply, answer);
      return reply.status(201).send({ participant: participantWire(answer.value) });
    },
  );
}
