// The error envelope every service answers with: `{ "error": { "code", "number", "message" } }`, a
// stable code from the service's catalogue and the HTTP status of its kind (docs/errors.md), except
// 413 for an oversized body and 500 for a bug. Each service names its own codes for the failures
// every service has (schema refusal, oversized body, database down, bug); the mapping is here.
import type { FastifyError } from 'fastify';
import { httpStatusByKind, isCbdcError, type CbdcError, type ErrorDefinition } from '../core/errors.ts';
import { StorageUnavailable } from '../storage/database.ts';

export interface ErrorAnswer {
  readonly status: number;
  readonly body: {
    readonly error: { readonly code: string; readonly number: number; readonly message: string };
  };
}

/** A service's codes, and which of them answer the failures every service has. */
export interface ErrorEnvelope<Code extends string> {
  /** The codes this service answers with (its catalogue, and any it passes through, e.g. core's). */
  isCode(code: string): code is Code;
  definition(code: Code): ErrorDefinition;
  /** Schema or decoding refusals by fastify: a missing, extra or wrongly typed field or header. */
  readonly requestInvalid: Code;
  /** Answered with 413 (RFC 9110 §15.5.14) rather than the 400 of its kind. */
  readonly requestBodyTooLarge: Code;
  readonly storageUnavailable: Code;
  /** Anything unexpected: a bug, answered with 500 and logged. */
  readonly internalError: Code;
  /**
   * Another component's typed error, answered with one of this service's codes (e.g. a gateway's
   * `ledgerUnavailable`); undefined leaves it to the rules below (in the end, internalError).
   */
  translate?(error: CbdcError): { readonly code: Code; readonly message: string } | undefined;
}

/** The function that turns anything thrown in a route into the service's error answer. */
export function errorAnswerer<Code extends string>(
  envelope: ErrorEnvelope<Code>,
): (error: unknown) => ErrorAnswer {
  const answer = (code: Code, message: string): ErrorAnswer => {
    const definition = envelope.definition(code);
    const status =
      code === envelope.requestBodyTooLarge
        ? 413
        : code === envelope.internalError
          ? 500
          : httpStatusByKind[definition.kind];
    return { status, body: { error: { code, number: definition.number, message } } };
  };
  const meaning = (code: Code) => envelope.definition(code).meaning;
  return (error) => {
    if (isCbdcError(error)) {
      if (envelope.isCode(error.code)) return answer(error.code, error.detail ?? error.definition.meaning);
      const translated = envelope.translate?.(error);
      if (translated !== undefined) return answer(translated.code, translated.message);
    }
    if (error instanceof StorageUnavailable)
      return answer(envelope.storageUnavailable, meaning(envelope.storageUnavailable));
    if (isFastifyError(error)) {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        return answer(envelope.requestBodyTooLarge, error.message);
      if (error.validation !== undefined) return answer(envelope.requestInvalid, error.message);
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) return answer(envelope.requestInvalid, error.message);
    }
    return answer(envelope.internalError, meaning(envelope.internalError));
  };
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && 'code' in error && typeof error.code === 'string';
}
