// The first half of ingest (docs/mds.md, "Enclave"): open a stored upload with the MDS key, decode it
// strictly, and check that it is what its claim says — the same secure element, counter and tokens,
// signed by that SE's certified key. The claim binds the sealed bytes by digest (checked when the
// upload was stored), so after these checks everything in the upload is vouched for by its SE.
// Pure: the HPKE open and the verifier are injected.
import { present } from './present.ts';
import { bytesEqual, type Bytes } from '../../core/bytes.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { claimFromCbor, type Claim } from '../../core/claim.ts';
import { purposes, type Verifier } from '../../core/crypto.ts';
import { isCbdcError } from '../../core/errors.ts';
import { decodeUpload, type Upload } from '../../core/upload.ts';
import type { VerifiedCertificates } from '../../core/verified-certificates.ts';
import { verifySecureElementCertificate, type TrustAnchors } from '../../core/trust.ts';
import { mdsError } from '../api/errors.ts';

/** What ingest needs of cryptography: verification, and opening with the MDS private key. */
export interface EnclaveCrypto {
  readonly verifier: Verifier;
  /** HPKE single-shot open with `uploadInfo` and `aad`; undefined when it does not open. */
  open(aad: Bytes, sealed: Bytes): Bytes | undefined;
}

/** Decodes a claim envelope; throws `uploadClaimInvalid` naming why. */
export function decodeClaim(bytes: Bytes): Claim {
  try {
    return claimFromCbor(decodeCbor(bytes));
  } catch (error) {
    if (isCbdcError(error)) throw mdsError('uploadClaimInvalid', error.message);
    throw error;
  }
}

export interface OpenedUpload {
  readonly upload: Upload;
  /** SHA-256 of the plaintext: two sealings of the same plaintext are one upload (the replay rule). */
  readonly plaintextSha256: Bytes;
}

/**
 * Opens `sealed` (aad = the claim's SE id, as BEGIN SYNC seals), decodes it, and checks it against
 * `claim`. Throws `uploadUnsealable`, a core decoding code, or `uploadMismatch`.
 */
export function openUpload(
  crypto: EnclaveCrypto,
  anchors: TrustAnchors,
  claim: Claim,
  sealed: Bytes,
  certificates?: VerifiedCertificates,
): OpenedUpload {
  const plaintext = crypto.open(claim.body.seId, sealed);
  if (plaintext === undefined) throw mdsError('uploadUnsealable');
  const upload = decodeUpload(plaintext);
  checkAgainstClaim(crypto.verifier, anchors, claim, upload, certificates);
  return { upload, plaintextSha256: crypto.verifier.sha256(plaintext) };
}

function checkAgainstClaim(
  verifier: Verifier,
  anchors: TrustAnchors,
  claim: Claim,
  upload: Upload,
  certificates: VerifiedCertificates | undefined,
): void {
  const body = claim.body;
  if (!bytesEqual(upload.seId, body.seId)) throw mdsError('uploadMismatch', 'secure element');
  if (upload.counter !== body.counter) throw mdsError('uploadMismatch', 'counter');
  // BEGIN SYNC builds both lists from the same held tokens, in the same order.
  const sameTokens =
    upload.tokens.length === body.tokens.length &&
    upload.tokens.every((token, index) => {
      const claimed = present(body.tokens[index], 'the lists have the same length');
      return bytesEqual(token.id, claimed.tokenId) && token.value === claimed.value;
    });
  if (!sameTokens) throw mdsError('uploadMismatch', 'tokens');
  const certificate = upload.certificate;
  if (!bytesEqual(certificate.body.subjectId, upload.seId))
    throw mdsError('uploadMismatch', 'the certificate names another secure element');
  try {
    // Expiry is not judged: an SE may sync after its certificate expired, to hand its value back.
    // A chain checked before (the SE's earlier syncs, or its payments in others' uploads) is
    // remembered byte for byte (src/core/verified-certificates.ts) and not verified again.
    if (certificates === undefined) verifySecureElementCertificate(verifier, anchors, certificate, undefined);
    else certificates.verify(verifier, anchors, certificate, undefined);
  } catch (error) {
    if (isCbdcError(error)) throw mdsError('uploadMismatch', `certificate: ${error.message}`);
    throw error;
  }
  if (!verifier.verify(certificate.body.publicKey, purposes.claim, claim.bodyBytes, claim.signature))
    throw mdsError('uploadMismatch', 'the claim signature does not verify under the certificate');
}
