// Every failure becomes `{ "error": { "code", "number", "message" } }` with a stable code from the
// ledger's catalogue and the HTTP status of its kind (413 for an oversized body, 500 for a bug).
import type { FastifyError } from 'fastify';
import { httpStatusByKind, isCbdcError } from '../../core/errors.ts';
import { StorageUnavailable } from '../../storage/database.ts';
import { isLedgerErrorCode, ledgerErrors, type LedgerErrorCode } from '../errors.ts';

export interface ErrorAnswer {
  readonly status: number;
  readonly body: {
    readonly error: { readonly code: string; readonly number: number; readonly message: string };
  };
}

export function errorAnswer(error: unknown): ErrorAnswer {
  if (isCbdcError(error) && isLedgerErrorCode(error.code))
    return answer(error.code, error.detail ?? error.definition.meaning);
  if (error instanceof StorageUnavailable)
    return answer('storageUnavailable', ledgerErrors.storageUnavailable.meaning);
  if (isFastifyError(error)) {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return answer('requestBodyTooLarge', error.message);
    if (error.validation !== undefined) return answer('requestInvalid', error.message);
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return answer('requestInvalid', error.message);
  }
  return answer('internalError', ledgerErrors.internalError.meaning);
}

function answer(code: LedgerErrorCode, message: string): ErrorAnswer {
  const definition = ledgerErrors[code];
  const status =
    code === 'requestBodyTooLarge' ? 413 : code === 'internalError' ? 500 : httpStatusByKind[definition.kind];
  return { status, body: { error: { code, number: definition.number, message } } };
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && 'code' in error && typeof error.code === 'string';
}
