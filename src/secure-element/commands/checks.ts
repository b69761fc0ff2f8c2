// Checks several instructions share: signed limits, deny lists and issuances from the SE's DCP.
import { bytesEqual } from '../../core/bytes.ts';
import { purposes, type Verifier } from '../../core/crypto.ts';
import { coreError } from '../../core/errors.ts';
import { idKey } from '../../core/ids.ts';
import type { Certificate } from '../../core/certificate.ts';
import type { SignedDenyList } from '../../core/deny-list.ts';
import type { Issuance } from '../../core/issuance.ts';
import type { SignedLimits } from '../../core/limits.ts';
import type { TrustAnchors } from '../../core/trust.ts';

/** The DCP issuer certificate that certified this SE: the only DCP whose limits and issuances it takes. */
export function ownIssuer(anchors: TrustAnchors, certificate: Certificate): Certificate {
  const issuer = anchors.dcpIssuers.get(idKey(certificate.body.issuerId));
  if (issuer === undefined)
    throw coreError('certificateChainInvalid', 'own DCP issuer is not a trust anchor');
  return issuer;
}

export function checkLimits(
  verifier: Verifier,
  issuer: Certificate,
  certificate: Certificate,
  limits: SignedLimits,
): void {
  if (!bytesEqual(limits.body.dcpId, issuer.body.subjectId))
    throw coreError('signatureInvalid', 'limits from another DCP');
  if (!verifier.verify(issuer.body.publicKey, purposes.limits, limits.bodyBytes, limits.signature)) {
    throw coreError('signatureInvalid', 'limits signature');
  }
  if (limits.body.kind !== certificate.body.role)
    throw coreError('fieldInvalid', `limits are for a ${limits.body.kind}`);
}

export function checkDenyList(verifier: Verifier, directory: Certificate, list: SignedDenyList): void {
  if (!bytesEqual(list.body.directoryId, directory.body.subjectId))
    throw coreError('signatureInvalid', 'deny list from another directory');
  if (!verifier.verify(directory.body.publicKey, purposes.denyList, list.bodyBytes, list.signature)) {
    throw coreError('signatureInvalid', 'deny list signature');
  }
}

export function checkIssuance(verifier: Verifier, issuer: Certificate, issuance: Issuance): void {
  if (!bytesEqual(issuance.body.dcpId, issuer.body.subjectId))
    throw coreError('issuanceNotFromDcp', 'issued by another DCP');
  if (!verifier.verify(issuer.body.publicKey, purposes.issuance, issuance.bodyBytes, issuance.signature)) {
    throw coreError('issuanceNotFromDcp', 'issuance signature does not verify');
  }
}
