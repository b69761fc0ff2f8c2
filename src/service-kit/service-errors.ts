// The codes every HTTP service answers with for what every service has: requests that do not decode,
// routes that do not exist, API keys, idempotency keys, its database, bugs (0x0Fxx). They are defined
// once here; a service's own catalogue keeps only its domain codes (the ledger's 0x10xx, the
// directory's 0x20xx...). A client tells the service apart by whom it called, not by a prefix.
//
// Registered in `src/errors.ts` (docs/errors.md). This file is a public contract like a service's
// `api/errors.ts`: a typed client imports it to type refusals, so it imports nothing but core.
import { assert } from '../core/assert.ts';
import {
  catalogueFunctions,
  defineErrorCatalogue,
  httpStatusByKind,
  type ErrorDefinition,
} from '../core/errors.ts';

export const serviceErrors = defineErrorCatalogue({
  // Requests (0x0F0x): what the router, the body parser and the schemas refuse.
  requestInvalid: {
    number: 0x0f01,
    kind: 'wrongData',
    meaning:
      'the request does not match its schema: a missing, extra or wrongly typed field, header, query or path parameter (the message names it)',
  },
  requestBodyTooLarge: {
    number: 0x0f02,
    kind: 'wrongLength',
    meaning: "the request body is larger than the service's requestBodyBytesMax (HTTP 413)",
  },
  requestBodyMalformed: {
    number: 0x0f03,
    kind: 'wrongData',
    meaning: 'the body is not JSON, is empty under a JSON content type, or does not match its Content-Length',
  },
  mediaTypeUnsupported: {
    number: 0x0f04,
    kind: 'wrongData',
    meaning: 'the body has a content type other than application/json (HTTP 415)',
  },
  pathParameterTooLong: {
    number: 0x0f05,
    kind: 'wrongLength',
    meaning: "a path segment is longer than the router's pathParameterLengthMax (HTTP 414)",
  },
  urlMalformed: {
    number: 0x0f06,
    kind: 'wrongData',
    meaning: 'the path is not valid percent-encoding',
  },
  routeNotFound: { number: 0x0f07, kind: 'notFound', meaning: 'no route has this path' },
  methodNotAllowed: {
    number: 0x0f08,
    kind: 'wrongData',
    meaning: 'a route has this path but not this method; the Allow header lists its methods (HTTP 405)',
  },
  requestMalformed: {
    number: 0x0f09,
    kind: 'wrongData',
    meaning: 'the bytes are not a well-formed HTTP/1.1 request (answered before any route, then closed)',
  },
  requestHeadersTooLarge: {
    number: 0x0f0a,
    kind: 'wrongLength',
    meaning: "the request's headers are larger than the server accepts (HTTP 431)",
  },
  requestTimeout: {
    number: 0x0f0b,
    kind: 'conditionsNotSatisfied',
    meaning: 'the client did not send the whole request in time (HTTP 408)',
  },
  // Authority (0x0F1x)
  apiKeyMissing: {
    number: 0x0f10,
    kind: 'securityNotSatisfied',
    meaning: 'the request carries no `Authorization: Bearer <API key>` header',
  },
  apiKeyUnknown: {
    number: 0x0f11,
    kind: 'securityNotSatisfied',
    meaning: 'the API key belongs to no participant',
  },
  roleNotAllowed: {
    number: 0x0f12,
    kind: 'securityNotSatisfied',
    meaning: "the participant's role may not perform this operation",
  },
  apiKeyAlreadyRegistered: {
    number: 0x0f13,
    kind: 'conflict',
    meaning: 'another participant already uses an API key with this digest',
  },
  // Idempotency (0x0F2x)
  idempotencyKeyReusedWithDifferentRequest: {
    number: 0x0f20,
    kind: 'conflict',
    meaning: 'this idempotency key was used before by the participant for a different request',
  },
  idempotencyKeyExpired: {
    number: 0x0f21,
    kind: 'conflict',
    meaning:
      "this idempotency key was used longer ago than the service's idempotency retention: its answer is gone and nothing was executed again; read the outcome instead",
  },
  // The service itself (0x0FFx)
  storageUnavailable: {
    number: 0x0ff0,
    kind: 'unavailable',
    meaning: "the service's database does not answer; nothing was changed, retry later",
  },
  internalError: {
    number: 0x0fff,
    kind: 'unavailable',
    meaning: 'an unexpected failure inside the service (a bug; answered with HTTP 500 and logged)',
  },
});

export type ServiceErrorCode = keyof typeof serviceErrors;

export const { error: serviceError, isCode: isServiceErrorCode } = catalogueFunctions(serviceErrors);

/**
 * The codes answered with another status than their kind's: the HTTP status that says precisely
 * what happened (RFC 9110 §15.5.6, §15.5.9, §15.5.14, §15.5.15, §15.5.16; RFC 6585 §5 for 431), and
 * 500 for a bug. Their meanings say so, and a test keeps the two in step.
 */
export const httpStatusByServiceCode: Readonly<Partial<Record<ServiceErrorCode, number>>> = {
  methodNotAllowed: 405,
  requestTimeout: 408,
  requestBodyTooLarge: 413,
  pathParameterTooLong: 414,
  mediaTypeUnsupported: 415,
  requestHeadersTooLarge: 431,
  internalError: 500,
};

/** The HTTP status of a code of any catalogue: its kind's, unless it is one of the above. */
export function httpStatusOf(code: string, definition: ErrorDefinition): number {
  return (
    (isServiceErrorCode(code) ? httpStatusByServiceCode[code] : undefined) ??
    httpStatusByKind[definition.kind]
  );
}

/**
 * The catalogue of codes a service answers with, as its clients see it: its own codes, the generic
 * ones above, and any catalogue it passes through unchanged (the directory passes core's).
 */
/** Plain functions (no `this`), so a client may pass them on (`catalogueRefusal(answers.definition)`). */
export interface AnswerCatalogue<Code extends string> {
  readonly isCode: (code: string) => code is Code | ServiceErrorCode;
  readonly definition: (code: Code | ServiceErrorCode) => ErrorDefinition;
}

/**
 * The two codes of a service's typed client (src/http-client/json-caller.ts), numbered in the
 * service's own range: `<prefix>Unavailable` (no answer after every attempt) and
 * `<prefix>AnswerInvalid` (an answer that does not decode). `service` names it in their meanings.
 */
export function clientErrorCodes<const Prefix extends string>(
  prefix: Prefix,
  service: string,
  numbers: { readonly unavailable: number; readonly answerInvalid: number },
): Readonly<Record<`${Prefix}Unavailable` | `${Prefix}AnswerInvalid`, ErrorDefinition>> {
  const unavailable: ErrorDefinition = {
    number: numbers.unavailable,
    kind: 'unavailable',
    meaning: `client side: ${service} did not answer (refused connection, timeout or 5xx) after every retry`,
  };
  const answerInvalid: ErrorDefinition = {
    number: numbers.answerInvalid,
    kind: 'unavailable',
    meaning: `client side: ${service} answered something that does not decode (the message names the field)`,
  };
  return { [`${prefix}Unavailable`]: unavailable, [`${prefix}AnswerInvalid`]: answerInvalid } as Record<
    `${Prefix}Unavailable` | `${Prefix}AnswerInvalid`,
    ErrorDefinition
  >;
}

export function answerCatalogue<Code extends string>(
  ...catalogues: readonly Readonly<Partial<Record<Code, ErrorDefinition>>>[]
): AnswerCatalogue<Code> {
  const find = (code: string): ErrorDefinition | undefined => {
    for (const catalogue of catalogues) {
      if (Object.hasOwn(catalogue, code)) return catalogue[code as Code];
    }
    return undefined;
  };
  return {
    isCode: (code): code is Code | ServiceErrorCode => isServiceErrorCode(code) || find(code) !== undefined,
    definition: (code) => {
      const definition = isServiceErrorCode(code) ? serviceErrors[code] : find(code);
      assert(definition !== undefined, `${code} is a code of this service (isCode said so)`);
      return definition;
    },
  };
}
