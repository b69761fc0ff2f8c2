// The directory's HTTP schemas (TypeBox → JSON Schema → validation, serialisation and OpenAPI).
// Every object schema forbids extra properties. Hex fields are plain bounded strings here and are
// decoded by the routes, so a malformed one gets its own code (directoryHexMalformed) naming it.
import { Type } from '@sinclair/typebox';
import {
  baseUrlLengthMax,
  certificateBytesMax,
  idempotencyKeyLengthMax,
  participantNameLengthMax,
  reasonLengthMax,
  walletIdLengthMax,
} from '../domain/limits.ts';
import {
  errorResponses,
  idempotencyHeaders,
  literals,
  strict,
  Timestamp,
} from '../../service-kit/schemas.ts';
import {
  dcpBoundParticipantWireSchema,
  participantNameSchema,
  participantSchemas,
} from '../../service-kit/participants.ts';
import { roles, statuses } from '../domain/types.ts';

/** A principal id as received: decoded by the route (32 lowercase hex digits). */
const IdIn = Type.String({ maxLength: 64, description: '16 bytes as 32 lowercase hex digits' });
const IdOut = Type.String({ pattern: '^[0-9a-f]{32}$' });
const Hex = Type.String({ pattern: '^([0-9a-f]{2})*$' });
const ParticipantId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,80}$' });

export const IdempotencyHeaders = idempotencyHeaders(idempotencyKeyLengthMax);

export const CreateParticipantBody = Type.Object(
  {
    name: participantNameSchema(participantNameLengthMax),
    role: literals(roles),
    dcpId: Type.Optional(IdIn),
  },
  strict,
);

export const RegisterBody = Type.Object(
  {
    certificate: Type.String({
      maxLength: certificateBytesMax * 2,
      description: 'hex of the canonical CBOR envelope of the SE certificate',
    }),
    walletId: Type.String({ pattern: `^[A-Za-z0-9_-]{1,${walletIdLengthMax}}$` }),
  },
  strict,
);

export const StatusBody = Type.Object(
  { status: literals(statuses), reason: Type.String({ minLength: 1, maxLength: reasonLengthMax }) },
  strict,
);

export const EndpointBody = Type.Object(
  { baseUrl: Type.String({ minLength: 1, maxLength: baseUrlLengthMax }) },
  strict,
);

export const SecureElementParams = Type.Object({ seId: IdIn }, strict);
export const DcpParams = Type.Object({ dcpId: IdIn }, strict);
export const DenyListQuery = Type.Object(
  {
    since: Type.Optional(
      Type.String({
        pattern: '^(0|[1-9][0-9]{0,14})$',
        description: 'a deny list version held by the caller',
      }),
    ),
  },
  strict,
);

export const ParticipantWire = dcpBoundParticipantWireSchema(roles, ParticipantId, IdOut);

export const StatusChangeWire = Type.Object(
  { status: literals(statuses), reason: Type.String(), changedBy: ParticipantId, changedAt: Timestamp },
  strict,
);

export const SecureElementWire = Type.Object(
  {
    seId: IdOut,
    dcpId: IdOut,
    kind: literals(['card', 'phone'] as const),
    status: literals(statuses),
    certificate: Hex,
    validUntil: Timestamp,
    walletId: Type.Union([Type.String(), Type.Null()], {
      description: 'null unless the caller is the owning DCP or an operator',
    }),
    registeredAt: Timestamp,
    history: Type.Array(StatusChangeWire, {
      description: 'oldest first; the first entry is the registration',
    }),
  },
  strict,
);

export const DenyListWire = Type.Object(
  {
    version: Type.Integer({ minimum: 0 }),
    time: Type.Integer({ minimum: 0, description: 'the signed body time, seconds since the epoch' }),
    signed: Type.String({ pattern: '^([0-9a-f]{2})+$', description: 'hex of encodeSigned(SignedDenyList)' }),
    delta: Type.Union([
      Type.Object(
        {
          fromVersion: Type.Integer({ minimum: 0 }),
          toVersion: Type.Integer({ minimum: 0 }),
          added: Type.Array(IdOut),
          removed: Type.Array(IdOut),
        },
        strict,
      ),
      Type.Null(),
    ]),
  },
  strict,
);

export const TrustWire = Type.Object(
  { rootPublicKey: Hex, dcpIssuers: Type.Array(Hex), directory: Hex, mds: Hex },
  strict,
);

export const DcpEndpointWire = Type.Object(
  { dcpId: IdOut, baseUrl: Type.String(), updatedAt: Timestamp },
  strict,
);

export const responses = {
  secureElementCreated: { 201: Type.Object({ secureElement: SecureElementWire }, strict), ...errorResponses },
  secureElement: { 200: Type.Object({ secureElement: SecureElementWire }, strict), ...errorResponses },
  statusChanged: {
    200: Type.Object(
      { secureElement: SecureElementWire, denyListVersion: Type.Integer({ minimum: 0 }) },
      strict,
    ),
    ...errorResponses,
  },
  denyList: { 200: DenyListWire, ...errorResponses },
  trust: { 200: TrustWire, ...errorResponses },
  dcpEndpoint: { 200: Type.Object({ dcp: DcpEndpointWire }, strict), ...errorResponses },
} as const;

/** The participants routes' (service-kit/participants.ts); a created participant's key is answered. */
export const participantRouteSchemas = participantSchemas(
  IdempotencyHeaders,
  CreateParticipantBody,
  ParticipantWire,
  {
    apiKey: Type.String({ description: 'shown at creation (and replays)' }),
  },
);
