// The MDS's error envelope (service-kit/errors.ts): every failure becomes
// `{ "error": { "code", "number", "message" } }` with an MDS code or a generic service code and the
// HTTP status of its kind. Core's codes pass through unchanged: they are the precise reasons a
// claim, an amount or a reported issuance does not decode, and the enclave's refusals carry them too.
import { coreErrors, type CoreErrorCode } from '../../core/errors.ts';
import { errorAnswerer } from '../../service-kit/errors.ts';
import { isMdsErrorCode, mdsErrors, type MdsErrorCode } from '../api/errors.ts';

export type { ErrorAnswer } from '../../service-kit/errors.ts';

export const errorAnswer = errorAnswerer<MdsErrorCode | CoreErrorCode>({
  isCode: (code): code is MdsErrorCode | CoreErrorCode =>
    isMdsErrorCode(code) || Object.hasOwn(coreErrors, code),
  definition: (code) => (isMdsErrorCode(code) ? mdsErrors[code] : coreErrors[code]),
});
