// Certificates (DESIGN §3): the root certifies DCP issuers, the directory and the MDS; a DCP issuer
// certifies the secure elements it personalises. Times are seconds since the Unix epoch.
import { FieldReader, type CborValue } from './cbor.ts';
import { publicKeyBytes } from './crypto.ts';
import { principalIdBytes, type PrincipalId } from './ids.ts';
import { signedFromCbor, type Signed } from './signed.ts';
import type { Bytes } from './bytes.ts';

export const structureVersion = 1;

export const certificateRoles = { dcpIssuer: 1, directory: 2, mds: 3, card: 4, phone: 5 } as const;
export type CertificateRole = keyof typeof certificateRoles;
const roleByNumber = new Map<number, CertificateRole>(
  Object.entries(certificateRoles).map(([name, number]) => [number, name as CertificateRole]),
);

export type SecureElementKind = 'card' | 'phone';
export const profileLengthMax = 32;

export interface CertificateBody {
  readonly role: CertificateRole;
  readonly subjectId: PrincipalId;
  /** P-256 point: a signing key, or for the MDS its HPKE key. */
  readonly publicKey: Bytes;
  readonly issuerId: PrincipalId;
  readonly validFrom: number;
  readonly validUntil: number;
  /** The limits profile an SE certificate was issued under; empty for other roles. */
  readonly profile: string;
}

export type Certificate = Signed<CertificateBody>;

export function certificateBodyToCbor(body: CertificateBody): CborValue {
  return [
    structureVersion,
    certificateRoles[body.role],
    body.subjectId,
    body.publicKey,
    body.issuerId,
    body.validFrom,
    body.validUntil,
    body.profile,
  ];
}

export function certificateBodyFromCbor(value: CborValue): CertificateBody {
  const reader = new FieldReader(value, 'certificate', 8);
  reader.version(0, structureVersion);
  const role = roleByNumber.get(reader.uint(1, 'role'));
  if (role === undefined) throw FieldReader.invalid('certificate.role', 'is not a known role');
  return {
    role,
    subjectId: reader.bytes(2, 'subjectId', principalIdBytes),
    publicKey: reader.bytes(3, 'publicKey', publicKeyBytes),
    issuerId: reader.bytes(4, 'issuerId', principalIdBytes),
    validFrom: reader.uint(5, 'validFrom'),
    validUntil: reader.uint(6, 'validUntil'),
    profile: reader.text(7, 'profile', profileLengthMax),
  };
}

export function certificateFromCbor(value: CborValue): Certificate {
  return signedFromCbor(value, 'certificate', certificateBodyFromCbor);
}

export function isSecureElementRole(role: CertificateRole): role is SecureElementKind {
  return role === 'card' || role === 'phone';
}
