// The error envelope every service answers with: `{ "error": { "code", "number", "message" } }`, a
// stable code and the HTTP status of its kind (docs/errors.md), or the precise status of a generic
// code (405, 413, 414, 415, 500: service-errors.ts). The failures every service has — a request
// that does not decode, an oversized body, the database down, a bug — are answered with the generic
// codes of service-errors.ts; a service's own catalogue holds only its domain codes.
import type { FastifyError } from 'fastify';
import { isCbdcError, type CbdcError, type ErrorDefinition } from '../core/errors.ts';
import { StorageUnavailable } from '../storage/database.ts';
import { httpStatusOf, isServiceErrorCode, serviceErrors, type ServiceErrorCode } from './service-errors.ts';

export interface ErrorAnswer {
  readonly status: number;
  readonly body: {
    readonly error: { readonly code: string; readonly number: number; readonly message: string };
  };
}

/** A service's own codes; the generic ones (service-errors.ts) are answered for every service. */
export interface ErrorEnvelope<Code extends string> {
  /** The codes this service answers with (its catalogue, and any it passes through, e.g. core's). */
  isCode(code: string): code is Code;
  definition(code: Code): ErrorDefinition;
  /**
   * Another component's typed error, answered with one of this service's codes or a generic one
   * (e.g. a gateway's `ledgerUnavailable`, a core decoding refusal as `requestInvalid`); undefined
   * leaves it to the rules below (in the end, internalError).
   */
  translate?(
    error: CbdcError,
  ): { readonly code: Code | ServiceErrorCode; readonly message: string } | undefined;
}

/** The generic code for each of fastify's own errors that a client can cause. */
const codeByFastifyError: Readonly<Record<string, ServiceErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'requestBodyTooLarge',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'mediaTypeUnsupported',
  FST_ERR_CTP_INVALID_JSON_BODY: 'requestBodyMalformed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'requestBodyMalformed',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'requestBodyMalformed',
  FST_ERR_MAX_PARAM_LENGTH: 'pathParameterTooLong',
  FST_ERR_BAD_URL: 'urlMalformed',
  FST_ERR_VALIDATION: 'requestInvalid',
};

/** The function that turns anything thrown in a route (or by the framework) into the error answer. */
export function errorAnswerer<Code extends string>(
  envelope: ErrorEnvelope<Code>,
): (error: unknown) => ErrorAnswer {
  type AnyCode = Code | ServiceErrorCode;
  const definition = (code: AnyCode): ErrorDefinition =>
    isServiceErrorCode(code) ? serviceErrors[code] : envelope.definition(code);
  const answer = (code: AnyCode, message: string): ErrorAnswer => {
    const found = definition(code);
    return { status: httpStatusOf(code, found), body: { error: { code, number: found.number, message } } };
  };
  const meaning = (code: AnyCode) => definition(code).meaning;
  return (error) => {
    if (isCbdcError(error)) {
      if (envelope.isCode(error.code)) return answer(error.code, error.detail ?? error.definition.meaning);
      if (isServiceErrorCode(error.code)) return answer(error.code, error.detail ?? error.definition.meaning);
      const translated = envelope.translate?.(error);
      if (translated !== undefined) return answer(translated.code, translated.message);
    }
    if (error instanceof StorageUnavailable)
      return answer('storageUnavailable', meaning('storageUnavailable'));
    if (isFastifyError(error)) {
      const known = codeByFastifyError[error.code];
      if (known !== undefined) return answer(known, error.message);
      if (error.validation !== undefined) return answer('requestInvalid', error.message);
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) return answer('requestInvalid', error.message);
    }
    return answer('internalError', meaning('internalError'));
  };
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && 'code' in error && typeof error.code === 'string';
}
