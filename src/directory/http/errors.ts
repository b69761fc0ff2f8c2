// The directory's error envelope (service-kit/errors.ts): every failure becomes
// `{ "error": { "code", "number", "message" } }` with a stable code and the HTTP status of its kind.
// Core's codes (CBOR and certificate checks) pass through unchanged: they are the precise protocol
// reasons.
import { coreErrors, type CoreErrorCode } from '../../core/errors.ts';
import { errorAnswerer } from '../../service-kit/errors.ts';
import { directoryErrors, isDirectoryErrorCode, type DirectoryErrorCode } from '../api/errors.ts';

export type { ErrorAnswer } from '../../service-kit/errors.ts';

export const errorAnswer = errorAnswerer<DirectoryErrorCode | CoreErrorCode>({
  isCode: (code): code is DirectoryErrorCode | CoreErrorCode =>
    isDirectoryErrorCode(code) || Object.hasOwn(coreErrors, code),
  definition: (code) => (isDirectoryErrorCode(code) ? directoryErrors[code] : coreErrors[code]),
});
