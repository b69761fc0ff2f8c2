// Every failure becomes `{ "error": { "code", "number", "message" } }` with a code of the DCP's
// catalogue and the HTTP status of its kind (413 for an oversized body, 500 for a bug). Core decoding
// refusals become `dcpRequestInvalid` naming the field; the gateway's `ledgerUnavailable` becomes
// `dcpLedgerUnavailable`.
import type { FastifyError } from 'fastify';
import { httpStatusByKind, isCbdcError } from '../../core/errors.ts';
import { StorageUnavailable } from '../../storage/database.ts';
import { dcpErrors, isDcpErrorCode, type DcpErrorCode } from '../errors.ts';

export interface ErrorAnswer {
  readonly status: number;
  readonly body: {
    readonly error: { readonly code: string; readonly number: number; readonly message: string };
  };
}

export function errorAnswer(error: unknown): ErrorAnswer {
  if (isCbdcError(error)) {
    if (isDcpErrorCode(error.code)) return answer(error.code, error.detail ?? error.definition.meaning);
    if (error.code === 'ledgerUnavailable' || error.code === 'ledgerAnswerInvalid')
      return answer('dcpLedgerUnavailable', error.message);
    if (error.definition.kind === 'wrongData' || error.definition.kind === 'wrongLength')
      return answer('dcpRequestInvalid', error.message);
  }
  if (error instanceof StorageUnavailable)
    return answer('dcpStorageUnavailable', dcpErrors.dcpStorageUnavailable.meaning);
  if (isFastifyError(error)) {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return answer('dcpRequestBodyTooLarge', error.message);
    if (error.validation !== undefined) return answer('dcpRequestInvalid', error.message);
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return answer('dcpRequestInvalid', error.message);
  }
  return answer('dcpInternalError', dcpErrors.dcpInternalError.meaning);
}

function answer(code: DcpErrorCode, message: string): ErrorAnswer {
  const definition = dcpErrors[code];
  const status =
    code === 'dcpRequestBodyTooLarge'
      ? 413
      : code === 'dcpInternalError'
        ? 500
        : httpStatusByKind[definition.kind];
  return { status, body: { error: { code, number: definition.number, message } } };
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && 'code' in error && typeof error.code === 'string';
}
