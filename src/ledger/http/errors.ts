// The ledger's error envelope (service-kit/errors.ts) over its catalogue: every failure becomes
// `{ "error": { "code", "number", "message" } }` with a ledger code or a generic service code and
// the HTTP status of its kind.
import { errorAnswerer } from '../../service-kit/errors.ts';
import { isLedgerErrorCode, ledgerErrors } from '../api/errors.ts';

export type { ErrorAnswer } from '../../service-kit/errors.ts';

export const errorAnswer = errorAnswerer({
  isCode: isLedgerErrorCode,
  definition: (code) => ledgerErrors[code],
});
