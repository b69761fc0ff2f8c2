// `POST /v1/participants`: an operator registers an operator or agent API key (by its digest).
import { createParticipant } from '../../domain/participants.ts';
import { IdempotencyHeaders, ParticipantBody, responses } from '../schemas.ts';
import { security, type DcpRoutes } from './routes.ts';

export function participantRoutes({ app, context, caller }: DcpRoutes): void {
  app.post(
    '/v1/participants',
    {
      schema: {
        security,
        headers: IdempotencyHeaders,
        body: ParticipantBody,
        response: responses.participantCreated,
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const participant = await createParticipant(context, caller(request), key, request.body);
      return reply.status(201).send({ participant });
    },
  );
}
