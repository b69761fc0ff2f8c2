// The directory's rules as pure functions: who may do what, which status changes are legal, what a
// registration of a known secure element means. Each refusal throws a typed error from the
// catalogue; a broken invariant is an assertion.
import { bytesEqual, fromHex, type Bytes } from '../../core/bytes.ts';
import { directoryError } from '../api/errors.ts';
import { statusChangesMax } from './limits.ts';
import type { Participant, Role, SecureElementRecord, Status } from './types.ts';
import { serviceError } from '../../service-kit/service-errors.ts';

export function requireRole(caller: Participant, allowed: readonly Role[], operation: string): void {
  if (!allowed.includes(caller.role)) {
    throw serviceError('roleNotAllowed', `a ${caller.role} may not ${operation}`);
  }
}

/** The caller's DCP id; the caller must be a DCP. */
export function callerDcpId(caller: Participant, operation: string): string {
  requireRole(caller, ['dcp'], operation);
  const dcpId = caller.dcpId;
  if (dcpId === null) throw serviceError('roleNotAllowed', 'a dcp participant without a DCP id');
  return dcpId;
}

/** dcpId: required for a DCP, refused for the others. */
export function checkParticipantDcpId(role: Role, dcpId: string | null): void {
  if ((role === 'dcp') !== (dcpId !== null)) {
    throw directoryError(
      'participantDcpIdInvalid',
      role === 'dcp' ? 'a dcp participant needs dcpId' : `a ${role} has no dcpId`,
    );
  }
}

/**
 * Privacy (DESIGN §8): the wallet links an SE to a person, so only the DCP that holds the wallet and
 * the central bank's operators see it; the MDS and other DCPs see pseudonyms only.
 */
export function mayReadWallet(caller: Participant, record: SecureElementRecord): boolean {
  return caller.role === 'operator' || (caller.role === 'dcp' && caller.dcpId === record.dcpId);
}

/** Denied secure elements are on the deny list: honest SEs refuse to pay or be paid by them. */
export function isDenied(status: Status): boolean {
  return status !== 'active';
}

/** active ⇄ suspended, and either → revoked; revoked is final. */
export function checkTransition(record: SecureElementRecord, to: Status): void {
  if (record.status === 'revoked')
    throw directoryError('secureElementRevoked', `secure element ${record.seId}`);
  if (record.status === to) {
    throw directoryError('statusTransitionInvalid', `secure element ${record.seId} is already ${to}`);
  }
  if (record.history.length >= statusChangesMax) {
    throw directoryError(
      'statusHistoryFull',
      `secure element ${record.seId} has ${record.history.length} changes`,
    );
  }
}

export type RegistrationOutcome = 'unchanged' | 'renewal';

/** What registering `certificate` for a secure element already on record means. */
export function registrationOfKnown(
  record: SecureElementRecord,
  registration: { readonly dcpId: string; readonly walletId: string },
  certificate: Bytes,
  validUntil: number,
): RegistrationOutcome {
  // First, before the wallet: the SE id is the hash of the public key, so another DCP's certificate
  // for the same key must never replace the record of the DCP that personalised the SE.
  if (record.dcpId !== registration.dcpId) {
    throw directoryError('secureElementOwnedByAnotherDcp', `secure element ${record.seId} is another DCP's`);
  }
  if (record.walletId !== registration.walletId) {
    throw directoryError('secureElementWalletConflict', `secure element ${record.seId} has another wallet`);
  }
  if (bytesEqual(record.certificate, certificate)) return 'unchanged';
  if (record.status === 'revoked')
    throw directoryError('secureElementRevoked', `secure element ${record.seId}`);
  if (validUntil <= record.validUntil) {
    throw directoryError(
      'secureElementCertificateConflict',
      `secure element ${record.seId} has a certificate valid until ${record.validUntil}`,
    );
  }
  if (record.status !== 'active') {
    throw directoryError('secureElementNotActive', `secure element ${record.seId} is ${record.status}`);
  }
  return 'renewal';
}

const lowercaseHex = /^[0-9a-f]*$/;

/** Decodes a lowercase hex field of `bytes` bytes (or any even length up to `bytesMax`), naming it. */
export function decodeHexField(
  text: string,
  field: string,
  size: { readonly bytes?: number; readonly bytesMax?: number },
): Bytes {
  const expected =
    size.bytes === undefined ? `at most ${size.bytesMax ?? 0} bytes of` : `${size.bytes * 2} digits of`;
  const tooLong = size.bytesMax !== undefined && text.length > size.bytesMax * 2;
  const wrongLength = size.bytes !== undefined && text.length !== size.bytes * 2;
  const bytes = tooLong || wrongLength || !lowercaseHex.test(text) ? undefined : fromHex(text);
  if (bytes === undefined || bytes.length === 0)
    throw directoryError('directoryHexMalformed', `${field} must be ${expected} lowercase hex`);
  return bytes;
}

/** A principal id (SE or DCP issuer) in its canonical form: 32 lowercase hex digits. */
export function decodeId(text: string, field: string): string {
  decodeHexField(text, field, { bytes: 16 });
  return text;
}

/** http(s), absolute, no credentials, query or fragment: where other DCPs will send money orders. */
export function checkBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw directoryError('dcpBaseUrlInvalid', 'not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw directoryError('dcpBaseUrlInvalid', 'only http and https');
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw directoryError('dcpBaseUrlInvalid', 'no credentials, query or fragment');
  }
  return text;
}
