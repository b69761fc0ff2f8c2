// Every failure becomes `{ "error": { "code", "number", "message" } }` with a stable code and the
// HTTP status of its kind (413 for an oversized body, 500 for a bug). Core's codes (CBOR and
// certificate checks) pass through unchanged: they are the precise protocol reasons.
import type { FastifyError } from 'fastify';
import { httpStatusByKind, isCbdcError } from '../../core/errors.ts';
import { StorageUnavailable } from '../../storage/database.ts';
import {
  answerDefinition,
  directoryErrors,
  isDirectoryAnswerCode,
  type DirectoryAnswerCode,
} from '../errors.ts';

export interface ErrorAnswer {
  readonly status: number;
  readonly body: {
    readonly error: { readonly code: string; readonly number: number; readonly message: string };
  };
}

export function errorAnswer(error: unknown): ErrorAnswer {
  if (isCbdcError(error) && isDirectoryAnswerCode(error.code))
    return answer(error.code, error.detail ?? error.definition.meaning);
  if (error instanceof StorageUnavailable)
    return answer('directoryStorageUnavailable', directoryErrors.directoryStorageUnavailable.meaning);
  if (isFastifyError(error)) {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return answer('directoryRequestBodyTooLarge', error.message);
    if (error.validation !== undefined) return answer('directoryRequestInvalid', error.message);
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return answer('directoryRequestInvalid', error.message);
  }
  return answer('directoryInternalError', directoryErrors.directoryInternalError.meaning);
}

function answer(code: DirectoryAnswerCode, message: string): ErrorAnswer {
  const definition = answerDefinition(code);
  const status =
    code === 'directoryRequestBodyTooLarge'
      ? 413
      : code === 'directoryInternalError'
        ? 500
        : httpStatusByKind[definition.kind];
  return { status, body: { error: { code, number: definition.number, message } } };
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && 'code' in error && typeof error.code === 'string';
}
