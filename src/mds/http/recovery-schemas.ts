// The schemas of the recovery routes (docs/mds.md, "Recovery of value in flight"), beside schemas.ts
// and built from its primitives; every object forbids extra properties.
import { Type } from '@sinclair/typebox';
import { errorResponses, strict } from '../../service-kit/schemas.ts';
import { Amount, Count, Cursor, Digest, Limit, PrincipalId } from './schemas.ts';

export const RefundsQuery = Type.Object(
  { after: Type.Optional(Cursor), limit: Type.Optional(Limit) },
  strict,
);
export const DecisionParams = Type.Object({ decisionId: Digest }, strict);

const RefundOrderWire = Type.Object(
  { decisionId: Digest, seId: PrincipalId, value: Amount, tokenId: Digest, uploadDigest: Digest },
  strict,
);

const InFlightWire = Type.Object(
  { transferId: Digest, payerSeId: PrincipalId, value: Amount, sinceMs: Count },
  strict,
);

const DecisionWire = Type.Object(
  {
    decisionId: Digest,
    transferId: Digest,
    payerSeId: PrincipalId,
    value: Amount,
    decidedAtMs: Count,
    executedAtMs: Type.Union([Count, Type.Null()]),
  },
  strict,
);

export const recoveryResponses = {
  refunds: {
    200: Type.Object(
      { refunds: Type.Array(RefundOrderWire), next: Type.Union([Cursor, Type.Null()]) },
      strict,
    ),
    ...errorResponses,
  },
  executed: { 200: Type.Object({ decisionId: Digest, executedAtMs: Count }, strict), ...errorResponses },
  recoveries: {
    200: Type.Object(
      {
        inFlight: Type.Object({ count: Count, value: Amount, transfers: Type.Array(InFlightWire) }, strict),
        refunds: Type.Object(
          {
            count: Count,
            value: Amount,
            executedCount: Count,
            executedValue: Amount,
            decisions: Type.Array(DecisionWire),
          },
          strict,
        ),
      },
      strict,
    ),
    ...errorResponses,
  },
} as const;
