// Which codes an upload may be refused with, and how a thrown error becomes one (docs/mds.md,
// "Enclave"): an MDS `upload*` code or the core code its decoding or verification failed with.
// Anything else thrown during ingest is a bug and is not recorded as a refusal.
import { coreErrors, isCbdcError, type CoreErrorCode } from '../../core/errors.ts';
import { isMdsErrorCode, type MdsErrorCode } from '../api/errors.ts';

export type RefusalCode = MdsErrorCode | CoreErrorCode;

export function isCoreErrorCode(code: string): code is CoreErrorCode {
  return Object.hasOwn(coreErrors, code);
}

/** The code of a typed refusal from either catalogue, else undefined (a bug: rethrow it). */
export function refusalCodeOf(error: unknown): RefusalCode | undefined {
  if (!isCbdcError(error)) return undefined;
  const code = error.code;
  return isMdsErrorCode(code) || isCoreErrorCode(code) ? code : undefined;
}
