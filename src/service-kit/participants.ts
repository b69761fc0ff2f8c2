// The participants routes of every service with participants (the directory, the ledger, the MDS):
// `GET /v1/participants/me` (who calls) and `POST /v1/participants` (an operator adds one, under an
// idempotency key). A service gives its schemas, its caller, how it creates a participant (its
// rules) and what the 201 answer holds; the routes, status codes and replay header are written here.
import { Type, type Static, type TSchema, type TString } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { IdempotentAnswer } from '../storage/idempotency.ts';
import type { DcpBoundParticipant, ServiceParticipant } from '../storage/participants.ts';
import { markReplayed, type ServiceApp } from './app.ts';
import {
  apiKeySecurity,
  errorResponses,
  isoTime,
  literals,
  strict,
  Timestamp,
  type idempotencyHeaders,
} from './schemas.ts';

/** A participant on the wire: its fields, the time as ISO 8601. */
export function serviceParticipantWire<Role extends string>(participant: ServiceParticipant<Role>) {
  const { id, name, role, createdAtMs } = participant;
  return { id, name, role, createdAt: isoTime(createdAtMs) };
}

/** A participant bound to a DCP on the wire: `dcpId` null for the roles without one. */
export function dcpBoundParticipantWire<Role extends string>(participant: DcpBoundParticipant<Role>) {
  const { id, name, role, dcpId, createdAtMs } = participant;
  return { id, name, role, dcpId, createdAt: isoTime(createdAtMs) };
}

/** A participant's name in a creation body: 1 to `lengthMax` characters. */
export function participantNameSchema(lengthMax: number) {
  return Type.String({ minLength: 1, maxLength: lengthMax });
}

/** The API key digest of a creation body, for a participant that made its own key. */
export function apiKeyDigestSchema() {
  return Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the API key, lowercase hex' });
}

/** A participant bound to a DCP on the wire (the directory's, the MDS's): `dcpId` null for the others. */
export function dcpBoundParticipantWireSchema<const Roles extends readonly string[]>(
  roles: Roles,
  id: TString,
  dcpId: TString,
) {
  return Type.Object(
    {
      id,
      name: Type.String(),
      role: literals(roles),
      dcpId: Type.Union([dcpId, Type.Null()]),
      createdAt: Timestamp,
    },
    strict,
  );
}

/** What the two routes decode and answer, from the service's schemas. */
export interface ParticipantSchemas<Body extends TSchema> {
  /** The service's Idempotency-Key header. */
  readonly headers: ReturnType<typeof idempotencyHeaders>;
  readonly body: Body;
  readonly responses: {
    readonly participant: Readonly<Record<string, TSchema>>;
    readonly participantCreated: Readonly<Record<string, TSchema>>;
  };
}

/**
 * The schemas of a service's participants routes: its header and body, and its participant's wire
 * answered as `{participant}`, or `{participant, ...created}` when one is created.
 */
export function participantSchemas<Body extends TSchema>(
  headers: ReturnType<typeof idempotencyHeaders>,
  body: Body,
  participant: TSchema,
  created: Readonly<Record<string, TSchema>> = {},
): ParticipantSchemas<Body> {
  return {
    headers,
    body,
    responses: {
      participant: { 200: Type.Object({ participant }, strict), ...errorResponses },
      participantCreated: { 201: Type.Object({ participant, ...created }, strict), ...errorResponses },
    },
  };
}

/** What a service does for the two routes. */
export interface ParticipantHandlers<Participant, Body extends TSchema, Created> {
  /** The caller's participant as `GET /v1/participants/me` answers it. */
  readonly wire: (participant: Participant) => unknown;
  /** The service creates the participant the body describes, under the key (its rules, its codes). */
  readonly create: (
    caller: Participant,
    key: string,
    body: Static<Body>,
  ) => Promise<IdempotentAnswer<Created>>;
  /** The 201 answer of what was created (a replay answers the same). */
  readonly created: (value: Created) => unknown;
}

export function participantRoutes<Participant, Body extends TSchema, Created>(
  app: ServiceApp,
  caller: (request: FastifyRequest) => Participant,
  schemas: ParticipantSchemas<Body>,
  handlers: ParticipantHandlers<Participant, Body, Created>,
): void {
  const { headers, body, responses } = schemas;
  const security = apiKeySecurity;
  app.get('/v1/participants/me', { schema: { security, response: responses.participant } }, (request) => ({
    participant: handlers.wire(caller(request)),
  }));

  app.post(
    '/v1/participants',
    { schema: { security, headers, body, response: responses.participantCreated } },
    async (request, reply) => {
      const answer = await handlers.create(caller(request), request.headers['idempotency-key'], request.body);
      markReplayed(reply, answer);
      return reply.status(201).send(handlers.created(answer.value));
    },
  );
}
