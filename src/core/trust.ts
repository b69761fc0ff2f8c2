// Certificate chains (DESIGN §3): root → DCP issuer → secure element. A secure element, a DCP and
// the MDS all judge certificates with these functions.
import { bytesEqual, type Bytes } from './bytes.ts';
import { purposes, type Verifier } from './crypto.ts';
import { coreError } from './errors.ts';
import { idKey, principalIdOf, type PrincipalId } from './ids.ts';
import { isSecureElementRole, type Certificate, type CertificateRole } from './certificate.ts';

/** What a party trusts: the root key and the DCP issuers the root certified. */
export interface TrustAnchors {
  readonly rootPublicKey: Bytes;
  readonly rootId: PrincipalId;
  /** Verified DCP issuer certificates by `idKey(subjectId)`. */
  readonly dcpIssuers: ReadonlyMap<string, Certificate>;
}

/** Checks a certificate issued directly by the root (DCP issuer, directory, MDS) and returns it. */
export function verifyRootCertificate(
  verifier: Verifier,
  rootPublicKey: Bytes,
  certificate: Certificate,
  role: CertificateRole,
  time: number,
): Certificate {
  const body = certificate.body;
  if (body.role !== role) throw coreError('certificateWrongRole', `expected ${role}, got ${body.role}`);
  if (!bytesEqual(body.issuerId, principalIdOf(verifier, rootPublicKey))) {
    throw coreError('certificateChainInvalid', `${role} certificate not issued by the root`);
  }
  if (!verifier.verify(rootPublicKey, purposes.certificate, certificate.bodyBytes, certificate.signature)) {
    throw coreError('certificateChainInvalid', `${role} certificate signature`);
  }
  checkSubjectAndValidity(verifier, certificate, time);
  return certificate;
}

export function buildTrustAnchors(
  verifier: Verifier,
  rootPublicKey: Bytes,
  dcpIssuerCertificates: readonly Certificate[],
  time: number,
): TrustAnchors {
  const dcpIssuers = new Map<string, Certificate>();
  for (const certificate of dcpIssuerCertificates) {
    verifyRootCertificate(verifier, rootPublicKey, certificate, 'dcpIssuer', time);
    dcpIssuers.set(idKey(certificate.body.subjectId), certificate);
  }
  return { rootPublicKey, rootId: principalIdOf(verifier, rootPublicKey), dcpIssuers };
}

/**
 * Checks a secure element certificate: issued and signed by a trusted DCP issuer, subject id = digest
 * of its key, a card or phone role, and — when `time` is given — not expired at that time.
 */
export function verifySecureElementCertificate(
  verifier: Verifier,
  anchors: TrustAnchors,
  certificate: Certificate,
  time: number | undefined,
): void {
  const body = certificate.body;
  if (!isSecureElementRole(body.role))
    throw coreError('certificateWrongRole', `expected card or phone, got ${body.role}`);
  const issuer = anchors.dcpIssuers.get(idKey(body.issuerId));
  if (issuer === undefined) throw coreError('certificateChainInvalid', 'issuer is not a trusted DCP issuer');
  if (
    !verifier.verify(
      issuer.body.publicKey,
      purposes.certificate,
      certificate.bodyBytes,
      certificate.signature,
    )
  ) {
    throw coreError('certificateChainInvalid', 'secure element certificate signature');
  }
  checkSubjectAndValidity(verifier, certificate, time);
}

function checkSubjectAndValidity(
  verifier: Verifier,
  certificate: Certificate,
  time: number | undefined,
): void {
  const body = certificate.body;
  if (!bytesEqual(body.subjectId, principalIdOf(verifier, body.publicKey)))
    throw coreError('certificateIdMismatch');
  if (body.validFrom > body.validUntil) throw coreError('certificateExpired', 'validity period is empty');
  if (time !== undefined) checkNotExpired(certificate, time);
}

/**
 * A card has no clock: `time` is the newest DCP-signed time the party has seen, so only expiry can
 * be judged, not "not yet valid" (a newer certificate may postdate the party's last sync).
 */
export function checkNotExpired(certificate: Certificate, time: number): void {
  if (time > certificate.body.validUntil) {
    throw coreError('certificateExpired', `valid until ${certificate.body.validUntil}, now ${time}`);
  }
}
