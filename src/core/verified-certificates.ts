// A bounded memory of secure element certificates already verified (DESIGN §3): a party that sees the
// same certificates at every payment — a payee's, the payers of a history — checks each signature
// once. Pure and in RAM only: losing it (a power cut, a restart) costs a verification, never safety.
import { assert } from './assert.ts';
import { bytesEqual, toHex } from './bytes.ts';
import { checkNotExpired, verifySecureElementCertificate, type TrustAnchors } from './trust.ts';
import type { Verifier } from './crypto.ts';
import type { Certificate } from './certificate.ts';

interface VerifiedEntry {
  readonly certificate: Certificate;
  /** The anchors object the chain was checked against: another set (new anchors) never hits. */
  readonly anchors: TrustAnchors;
}

/**
 * What a hit skips is only what depends on the certificate's bytes and the anchors alone: the role,
 * the issuer among the anchors, the issuer's signature, subject id = digest of the key, a non-empty
 * validity period. A hit needs the very same body bytes and signature under the very same anchors
 * object; expiry is judged on every use, and the deny list is the caller's, on every use too.
 * Entries are evicted least recently used first, so the memory never holds more than `entriesMax`.
 */
export class VerifiedCertificates {
  readonly entriesMax: number;
  /** By the signature's hex: 64 bytes that differ between any two certificates an issuer signs. */
  readonly #entries = new Map<string, VerifiedEntry>();

  constructor(entriesMax: number) {
    assert(Number.isInteger(entriesMax) && entriesMax >= 1, 'entriesMax must be a positive integer');
    this.entriesMax = entriesMax;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * `verifySecureElementCertificate`, skipping the signature for a certificate verified before under
   * the same anchors: throws the same typed errors, and expiry at `time` is checked on every call.
   * Returns the remembered certificate (byte-identical to `certificate`), whose key bytes are then
   * the same object at every use, as the verifier's key cache likes.
   */
  verify(
    verifier: Verifier,
    anchors: TrustAnchors,
    certificate: Certificate,
    time: number | undefined,
  ): Certificate {
    const key = toHex(certificate.signature);
    const held = this.#entries.get(key);
    if (held !== undefined && held.anchors === anchors && sameBytes(held.certificate, certificate)) {
      // Most recently used last: Map keeps insertion order.
      this.#entries.delete(key);
      this.#entries.set(key, held);
      if (time !== undefined) checkNotExpired(held.certificate, time);
      return held.certificate;
    }
    verifySecureElementCertificate(verifier, anchors, certificate, time);
    this.#remember(key, { certificate, anchors });
    return certificate;
  }

  #remember(key: string, entry: VerifiedEntry): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.entriesMax) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, entry);
    assert(this.#entries.size <= this.entriesMax, 'the memory of verified certificates stays bounded');
  }
}

/** Byte-identical: body bytes and signature. The decoded body is a function of the body bytes. */
function sameBytes(held: Certificate, presented: Certificate): boolean {
  return bytesEqual(held.signature, presented.signature) && bytesEqual(held.bodyBytes, presented.bodyBytes);
}
