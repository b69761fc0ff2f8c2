// The DCP's error envelope (service-kit/errors.ts) over its catalogue: every failure becomes
// `{ "error": { "code", "number", "message" } }` with a code of the DCP's catalogue and the HTTP
// status of its kind (413 for an oversized body, 500 for a bug), a DCP code or a generic service code.
// Core decoding refusals become `requestInvalid` naming the field; the gateway's `ledgerUnavailable`
// becomes `dcpLedgerUnavailable`.
import type { CbdcError } from '../../core/errors.ts';
import { DirectoryRefusal } from '../../directory/api/client.ts';
import { LedgerRefusal } from '../../ledger/api/client.ts';
import { errorAnswerer } from '../../service-kit/errors.ts';
import type { ServiceErrorCode } from '../../service-kit/service-errors.ts';
import { dcpErrors, isDcpErrorCode, type DcpErrorCode } from '../api/errors.ts';

export type { ErrorAnswer } from '../../service-kit/errors.ts';

function translate(
  error: CbdcError,
): { readonly code: DcpErrorCode | ServiceErrorCode; readonly message: string } | undefined {
  if (error.code === 'ledgerUnavailable' || error.code === 'ledgerAnswerInvalid')
    return { code: 'dcpLedgerUnavailable', message: error.message };
  if (error.code === 'directoryUnavailable' || error.code === 'directoryAnswerInvalid')
    return { code: 'dcpDirectoryUnavailable', message: error.message };
  // The domain and the adapters translate every refusal they meet (domain/refusals.ts,
  // adapters/directory.ts); one that slips past them is still another service's refusal of the
  // DCP's call, never a refusal of the caller's request.
  if (error instanceof LedgerRefusal)
    return { code: 'dcpLedgerRefused', message: `the ledger answered ${error.code}: ${error.message}` };
  if (error instanceof DirectoryRefusal)
    return { code: 'dcpDirectoryRefused', message: `the directory answered ${error.code}: ${error.message}` };
  // A core decoding refusal (a structure in a request that does not decode) names the field.
  if (error.definition.kind === 'wrongData' || error.definition.kind === 'wrongLength')
    return { code: 'requestInvalid', message: error.message };
  return undefined;
}

export const errorAnswer = errorAnswerer({
  isCode: isDcpErrorCode,
  definition: (code) => dcpErrors[code],
  translate,
});
