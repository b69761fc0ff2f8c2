// `GET /v1/participants/me`, `POST /v1/participants`: who calls, and (operators) adding participants
// (service-kit/participants.ts); the directory derives the new participant's key and answers it.
import { participantRoutes as sharedParticipantRoutes } from '../../../service-kit/participants.ts';
import { decodeId } from '../../domain/rules.ts';
import { participantRouteSchemas } from '../schemas.ts';
import { participantWire } from '../wire.ts';
import type { DirectoryRoutes } from './routes.ts';

export function participantRoutes({ app, service, caller }: DirectoryRoutes): void {
  sharedParticipantRoutes(app, caller, participantRouteSchemas, {
    wire: participantWire,
    create: (participant, key, { name, role, dcpId }) =>
      service.createParticipant(participant, key, {
        name,
        role,
        dcpId: dcpId === undefined ? null : decodeId(dcpId, 'dcpId'),
      }),
    created: ({ participant, apiKey }) => ({ participant: participantWire(participant), apiKey }),
  });
}
