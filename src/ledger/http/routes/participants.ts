// `GET /v1/participants/me`, `POST /v1/participants`: who calls, and (operators) adding participants
// (service-kit/participants.ts).
import { participantRoutes as sharedParticipantRoutes } from '../../../service-kit/participants.ts';
import { participantRouteSchemas } from '../schemas.ts';
import { participantWire } from '../wire.ts';
import type { LedgerRoutes } from './routes.ts';

export function participantRoutes({ app, service, caller }: LedgerRoutes): void {
  sharedParticipantRoutes(app, caller, participantRouteSchemas, {
    wire: participantWire,
    create: (participant, key, body) => service.createParticipant(participant, key, body),
    created: (participant) => ({ participant: participantWire(participant) }),
  });
}
