// Schema pieces every service's HTTP API shares (TypeBox → validation, serialisation and OpenAPI):
// strict objects, string enums, times, the Idempotency-Key header and the error envelope.
import { Type } from '@sinclair/typebox';

/** Every object schema forbids extra properties: an unknown field is refused, never ignored. */
export const strict = { additionalProperties: false } as const;

/** A string enum as one JSON Schema `enum` (TypeBox's union of literals reads worse in OpenAPI). */
export const literals = <const T extends readonly string[]>(values: T) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });

/** OpenAPI: a route that takes the participant's API key (the bearer token). */
export const apiKeySecurity = [{ apiKey: [] }];

export const Timestamp = Type.String({ format: 'date-time' });
/** A `Timestamp` from milliseconds since the epoch: ISO 8601 in UTC, milliseconds included. */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** The Idempotency-Key header every mutation carries; `lengthMax` is the service's limit. */
export function idempotencyHeaders(lengthMax: number) {
  return Type.Object({
    'idempotency-key': Type.String({
      pattern: `^[A-Za-z0-9_.:-]{1,${lengthMax}}$`,
      description:
        'client-made key (draft-ietf-httpapi-idempotency-key-header): a replay answers the first answer',
    }),
  });
}

/** The body of every refusal (service-kit/errors.ts). */
export const ErrorWire = Type.Object(
  {
    error: Type.Object(
      { code: Type.String(), number: Type.Integer(), message: Type.String() },
      { additionalProperties: false },
    ),
  },
  strict,
);

/** Spread into a route's `response` schemas: every refusal and failure has the envelope. */
export const errorResponses = { '4xx': ErrorWire, '5xx': ErrorWire } as const;
