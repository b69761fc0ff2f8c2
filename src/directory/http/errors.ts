// The directory's error envelope (service-kit/errors.ts): every failure becomes
// `{ "error": { "code", "number", "message" } }` with a stable code and the HTTP status of its kind.
// Core's codes (CBOR and certificate checks) pass through unchanged: they are the precise protocol
// reasons.
import { errorAnswerer } from '../../service-kit/errors.ts';
import { answerDefinition, isDirectoryAnswerCode } from '../api/errors.ts';

export type { ErrorAnswer } from '../../service-kit/errors.ts';

export const errorAnswer = errorAnswerer({
  isCode: isDirectoryAnswerCode,
  definition: answerDefinition,
  requestInvalid: 'directoryRequestInvalid',
  requestBodyTooLarge: 'directoryRequestBodyTooLarge',
  storageUnavailable: 'directoryStorageUnavailable',
  internalError: 'directoryInternalError',
});
