// The MDS API process's rules as pure functions: who may do what, how the posted bytes decode, and
// which alerts the response policy confirms by itself. Each refusal throws a typed error from the
// MDS catalogue or a generic service code; a broken invariant is an assertion.
import { bytesEqual, fromHex, toHex, type Bytes } from '../../core/bytes.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { claimFromCbor, type Claim } from '../../core/claim.ts';
import { isCbdcError } from '../../core/errors.ts';
import { serviceError } from '../../service-kit/service-errors.ts';
import { mdsError } from '../api/errors.ts';
import { claimBytesMax, reportItemsMax, sealedUploadBytesMax } from './limits.ts';
import type { AlertKind, Hasher, Participant, Role } from './types.ts';

export function requireRole(caller: Participant, allowed: readonly Role[], operation: string): void {
  if (!allowed.includes(caller.role))
    throw serviceError('roleNotAllowed', `a ${caller.role} may not ${operation}`);
}

/** The caller's DCP id; the caller must be a DCP participant (which always has one). */
export function callerDcpId(caller: Participant, operation: string): string {
  requireRole(caller, ['dcp'], operation);
  if (caller.dcpId === null) throw serviceError('roleNotAllowed', 'a dcp participant without a DCP id');
  return caller.dcpId;
}

/** dcpId: required for a DCP and one of the trust file's DCP issuers; refused for the other roles. */
export function checkParticipantDcpId(
  role: Role,
  dcpId: string | null,
  dcpIssuers: ReadonlySet<string>,
): void {
  if (role !== 'dcp') {
    if (dcpId !== null) throw serviceError('requestInvalid', `dcpId: a ${role} has no dcpId`);
    return;
  }
  if (dcpId === null) throw serviceError('requestInvalid', 'dcpId: a dcp participant needs one');
  if (!dcpIssuers.has(dcpId))
    throw serviceError('requestInvalid', `dcpId: ${dcpId} is no DCP issuer of the trust file`);
}

const lowercaseHex = /^(?:[0-9a-f]{2})+$/;

/** Lowercase hex of 1..bytesMax bytes, or undefined (the caller names the refusal). */
function hexBytes(text: string, bytesMax: number): Bytes | 'tooLong' | undefined {
  if (text.length > bytesMax * 2) return 'tooLong';
  return lowercaseHex.test(text) ? fromHex(text) : undefined;
}

export interface PostedUpload {
  readonly claim: Bytes;
  readonly sealed: Bytes;
  /** Lowercase hex SHA-256 of `sealed`. */
  readonly digest: string;
}

/**
 * Decodes `POST /v1/uploads` (docs/mds.md, "Ingest"): both fields within their bounds
 * (`uploadBytesLimitExceeded`), the sealed upload hex (`requestInvalid`), the claim a canonical
 * claim envelope that binds the sealed upload by its SHA-256 (`uploadClaimInvalid`). The claim's
 * signature and the SE behind it are the enclave's to check: it alone holds the certificates' graph.
 */
export function decodePostedUpload(hasher: Hasher, claimHex: string, sealedHex: string): PostedUpload {
  const sealed = hexBytes(sealedHex, sealedUploadBytesMax);
  if (sealed === 'tooLong')
    throw mdsError('uploadBytesLimitExceeded', `sealed: more than ${sealedUploadBytesMax} bytes`);
  const claimBytes = hexBytes(claimHex, claimBytesMax);
  if (claimBytes === 'tooLong')
    throw mdsError('uploadBytesLimitExceeded', `claim: more than ${claimBytesMax} bytes`);
  if (sealed === undefined) throw serviceError('requestInvalid', 'sealed: expected lowercase hex bytes');
  if (claimBytes === undefined) throw mdsError('uploadClaimInvalid', 'claim: expected lowercase hex bytes');
  const claim = decodeClaim(claimBytes);
  const digest = hasher.sha256(sealed);
  if (!bytesEqual(claim.body.uploadDigest, digest)) {
    throw mdsError(
      'uploadClaimInvalid',
      `claim.uploadDigest ${toHex(claim.body.uploadDigest)} is not the digest of sealed (${toHex(digest)})`,
    );
  }
  return { claim: claimBytes, sealed, digest: toHex(digest) };
}

function decodeClaim(bytes: Bytes): Claim {
  try {
    return claimFromCbor(decodeCbor(bytes));
  } catch (error) {
    if (isCbdcError(error)) throw mdsError('uploadClaimInvalid', `claim: ${error.message}`);
    throw error;
  }
}

/** A report of at most reportItemsMax of each kind (`reportItemsLimitExceeded`). */
export function checkReportSize(counts: Readonly<Record<string, number>>): void {
  for (const [field, count] of Object.entries(counts)) {
    if (count > reportItemsMax)
      throw mdsError('reportItemsLimitExceeded', `${field}: ${count} items, at most ${reportItemsMax}`);
  }
}

export type ResponsePolicy = Readonly<Record<AlertKind, 'automatic' | 'manual'>>;

/**
 * Which alerts are confirmed without an analyst (issue 14, "Response"): the kinds whose evidence is
 * a proof by itself — two signatures of one SE over conflicting statements, or a signature the
 * trust chain does not back. A transfer signed after a revocation is left to an analyst: its order
 * against the revocation rests on the SE's own advisory time, and the SE is revoked already.
 */
export const defaultResponsePolicy: ResponsePolicy = {
  doubleSpend: 'automatic',
  counterReuse: 'automatic',
  fakeFunding: 'automatic',
  unknownSigner: 'automatic',
  revokedSigner: 'manual',
};

/** The directory's reason for a revocation the MDS asks for (at most 200 characters there). */
export function revocationReason(kind: AlertKind, alertId: string): string {
  return `mds alert ${kind} ${alertId}`.slice(0, 200);
}

/** One key per alert: a retry of the same revocation is a replay at the directory. */
export function revocationKey(alertId: string): string {
  return `mds-revoke-${alertId}`.slice(0, 128);
}
