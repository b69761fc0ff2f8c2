// The cryptography the protocol needs, as interfaces: core is pure and never imports node:crypto.
// `src/crypto/node-crypto.ts` implements them with node:crypto; tests cross-check with @noble/curves.
import type { Bytes } from './bytes.ts';

/**
 * Domain separation: every signed message starts with a purpose tag (DESIGN §3), so a signature made
 * for one structure can never be replayed as another. Tags are ASCII, NUL-terminated on the wire.
 */
export const purposes = {
  certificate: 'cbdc/certificate/v1',
  issuance: 'cbdc/issuance/v1',
  transfer: 'cbdc/transfer/v1',
  receipt: 'cbdc/receipt/v1',
  claim: 'cbdc/claim/v1',
  limits: 'cbdc/limits/v1',
  denyList: 'cbdc/deny-list/v1',
  deviceRequest: 'cbdc/device-request/v1',
  loadRefusal: 'cbdc/load-refusal/v1',
} as const;

export type Purpose = (typeof purposes)[keyof typeof purposes];

/** ECDSA P-256 public key: the 65-byte uncompressed SEC1 point (0x04 ‖ x ‖ y). */
export const publicKeyBytes = 65;
/** ECDSA signature: r ‖ s, 32 bytes each, s in the lower half of the group order (low-S). */
export const signatureBytes = 64;
export const digestBytes = 32;

/** Verification and hashing: what every party needs. */
export interface Verifier {
  sha256(data: Bytes): Bytes;
  /**
   * True only for a valid low-S ECDSA P-256/SHA-256 signature over purpose ‖ 0x00 ‖ message. Returns
   * false (never throws) for any malformed key or signature.
   */
  verify(publicKey: Bytes, purpose: Purpose, message: Bytes, signature: Bytes): boolean;
}

/** A key that signs; the private half stays inside whatever implements it. */
export interface Signer {
  readonly publicKey: Bytes;
  /** Signs purpose ‖ 0x00 ‖ message; always returns a 64-byte low-S signature. */
  sign(purpose: Purpose, message: Bytes): Bytes;
}
