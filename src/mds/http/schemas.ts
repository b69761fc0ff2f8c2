// The MDS's HTTP schemas (TypeBox → JSON Schema → validation, serialisation and OpenAPI), exactly
// as docs/mds.md describes the API. Every object schema forbids extra properties. The upload's two
// hex fields are plain strings here and are decoded by the domain, so an oversized or malformed one
// gets its MDS code (`uploadBytesLimitExceeded`, `uploadClaimInvalid`) naming it; a report's lists
// have no schema bound for the same reason (`reportItemsLimitExceeded`), the body limit bounds them.
import { Type } from '@sinclair/typebox';
import {
  errorResponses,
  idempotencyHeaders,
  literals,
  strict,
  Timestamp,
} from '../../service-kit/schemas.ts';
import {
  apiKeyDigestSchema,
  dcpBoundParticipantWireSchema,
  participantNameSchema,
  participantSchemas,
} from '../../service-kit/participants.ts';
import { idempotencyKeyLengthMax, issuanceBytesMax, participantNameLengthMax } from '../domain/limits.ts';
import { alertKinds, alertStatuses, roles } from '../domain/types.ts';

export const Digest = Type.String({
  pattern: '^[0-9a-f]{64}$',
  description: 'SHA-256, 64 lowercase hex digits',
});
export const PrincipalId = Type.String({
  pattern: '^[0-9a-f]{32}$',
  description: '16 bytes, 32 lowercase hex digits',
});
const Hex = Type.String({ pattern: '^([0-9a-f]{2})*$' });
export const Amount = Type.String({ pattern: '^(0|[1-9][0-9]{0,19})$', description: 'minor units, decimal' });
export const Count = Type.Integer({ minimum: 0 });
/** A cursor from `next`, or a sequence: a decimal integer. */
export const Cursor = Type.String({ pattern: '^(0|[1-9][0-9]{0,14})$' });
export const Limit = Type.String({
  pattern: '^[1-9][0-9]{0,3}$',
  description: 'page size (the route names its bound)',
});

export const IdempotencyHeaders = idempotencyHeaders(idempotencyKeyLengthMax);

export const CreateParticipantBody = Type.Object(
  {
    name: participantNameSchema(participantNameLengthMax),
    role: literals(roles),
    apiKeySha256: apiKeyDigestSchema(),
    dcpId: Type.Optional(PrincipalId),
  },
  strict,
);

export const UploadBody = Type.Object(
  {
    claim: Type.String({
      description: "hex of the SE's signed claim envelope (canonical CBOR), ≤ claimBytesMax",
    }),
    sealed: Type.String({
      description: 'hex of the HPKE-sealed upload the claim binds, ≤ sealedUploadBytesMax',
    }),
  },
  strict,
);

/** A DCP's own id of a queued credit (`reportedCreditIdPattern` of src/mds/api/types.ts). */
const CreditId = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$', description: "the DCP's credit id" });

export const ReportsBody = Type.Object(
  {
    issuances: Type.Array(
      Type.String({
        minLength: 2,
        maxLength: 2 * issuanceBytesMax,
        pattern: '^([0-9a-f]{2})+$',
        description: 'hex of a signed issuance envelope (canonical CBOR)',
      }),
      { description: 'at most reportItemsMax (256)' },
    ),
    retirements: Type.Array(
      Type.Object(
        {
          tokenId: Digest,
          value: Type.String({ pattern: '^[0-9]{1,20}$', description: 'minor units, decimal, 1..amountMax' }),
          seId: PrincipalId,
          uploadDigest: Digest,
          retiredAtMs: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
        },
        strict,
      ),
      { description: 'at most reportItemsMax (256)' },
    ),
    credits: Type.Optional(
      Type.Array(
        Type.Object(
          {
            creditId: CreditId,
            seId: PrincipalId,
            kind: literals(['credit', 'refund'] as const),
            value: Type.String({
              pattern: '^[0-9]{1,20}$',
              description: 'minor units, decimal, 1..amountMax',
            }),
            queuedAtMs: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
          },
          strict,
        ),
        { description: 'credits queued and not minted yet, at most reportItemsMax (256)' },
      ),
    ),
    mints: Type.Optional(
      Type.Array(Type.Object({ creditId: CreditId, issuanceId: Digest }, strict), {
        description: 'which queued credits the issuances of this report minted, at most reportItemsMax (256)',
      }),
    ),
  },
  strict,
);

export const DigestParams = Type.Object({ digest: Digest }, strict);
export const AlertParams = Type.Object({ alertId: Digest }, strict);

export const AlertsQuery = Type.Object(
  {
    kind: Type.Optional(literals(alertKinds)),
    status: Type.Optional(literals(alertStatuses)),
    limit: Type.Optional(Limit),
    after: Type.Optional(Cursor),
  },
  strict,
);

export const AuditQuery = Type.Object({ after: Type.Optional(Cursor), limit: Type.Optional(Limit) }, strict);

const UploadState = literals(['stored', 'ingested', 'refused'] as const);

export const ParticipantWire = dcpBoundParticipantWireSchema(roles, Type.String(), PrincipalId);

export const AlertWire = Type.Object(
  {
    id: Digest,
    kind: literals(alertKinds),
    seId: PrincipalId,
    value: Amount,
    status: literals(alertStatuses),
    raisedAtMs: Count,
    evidenceCount: Count,
  },
  strict,
);

const EvidenceWire = Type.Object(
  { entryId: Digest, kind: literals(['transfer', 'issuance'] as const), entry: Hex },
  strict,
);

const AuditEntryWire = Type.Object(
  {
    sequence: Count,
    atMs: Count,
    participantId: Type.String(),
    role: literals(roles),
    action: literals(['evidenceRead', 'alertConfirmed'] as const),
    alertId: Digest,
    previousDigest: Type.String({ description: "the previous entry's digest (64 zeros before the first)" }),
    digest: Type.String({ description: 'SHA-256 over previousDigest ‖ the canonical CBOR of the entry' }),
  },
  strict,
);

const countsOf = (names: readonly string[]) =>
  Type.Object(Object.fromEntries(names.map((name) => [name, Count])), strict);
const StatusWire = Type.Object(
  {
    uploads: countsOf(['stored', 'ingested', 'refused']),
    alerts: Type.Object(
      Object.fromEntries(alertKinds.map((kind) => [kind, countsOf(alertStatuses)])),
      strict,
    ),
    revocations: Type.Object(
      {
        pending: Count,
        lastFailure: Type.Union([
          Type.Object({ code: Type.String(), message: Type.String(), at: Timestamp }, strict),
          Type.Null(),
        ]),
      },
      strict,
    ),
  },
  strict,
);

export const responses = {
  renewalCheck: {
    200: Type.Object(
      {
        verdict: Type.String({
          pattern: '^([0-9a-f]{2})+$',
          description:
            'hex of the signed renewal verdict (canonical CBOR, src/core/renewal-verdict.ts), signed by the MDS key',
        }),
      },
      strict,
    ),
    ...errorResponses,
  },
  uploadStored: { 202: Type.Object({ digest: Digest, state: UploadState }, strict), ...errorResponses },
  upload: {
    200: Type.Object(
      { digest: Digest, state: UploadState, refusal: Type.Union([Type.String(), Type.Null()]) },
      strict,
    ),
    ...errorResponses,
  },
  reports: { 200: Type.Object({ issuances: Count, retirements: Count }, strict), ...errorResponses },
  alerts: {
    200: Type.Object({ alerts: Type.Array(AlertWire), next: Type.Union([Cursor, Type.Null()]) }, strict),
    ...errorResponses,
  },
  evidence: {
    200: Type.Object({ alert: AlertWire, evidence: Type.Array(EvidenceWire), auditSequence: Count }, strict),
    ...errorResponses,
  },
  alert: { 200: Type.Object({ alert: AlertWire }, strict), ...errorResponses },
  audit: {
    200: Type.Object(
      { entries: Type.Array(AuditEntryWire), next: Type.Union([Cursor, Type.Null()]) },
      strict,
    ),
    ...errorResponses,
  },
  auditVerdict: {
    200: Type.Object({ entries: Count, firstBroken: Type.Union([Count, Type.Null()]) }, strict),
    ...errorResponses,
  },
  status: { 200: StatusWire, ...errorResponses },
} as const;

/** The participants routes' (service-kit/participants.ts). */
export const participantRouteSchemas = participantSchemas(
  IdempotencyHeaders,
  CreateParticipantBody,
  ParticipantWire,
);
