// `GET /v1/participants/me`, `POST /v1/participants`: who calls, and (operators) adding participants
// (service-kit/participants.ts); the new participant made its key and gives only its digest.
import { participantRoutes as sharedParticipantRoutes } from '../../../service-kit/participants.ts';
import { participantRouteSchemas } from '../schemas.ts';
import { participantWire } from '../wire.ts';
import type { MdsRoutes } from './routes.ts';

export function participantRoutes({ app, service, caller }: MdsRoutes): void {
  sharedParticipantRoutes(app, caller, participantRouteSchemas, {
    wire: participantWire,
    create: (participant, key, { name, role, apiKeySha256, dcpId }) =>
      service.createParticipant(participant, key, { name, role, apiKeySha256, dcpId: dcpId ?? null }),
    created: (participant) => ({ participant: participantWire(participant) }),
  });
}
