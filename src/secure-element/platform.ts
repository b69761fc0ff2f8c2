// What the chip's hardware gives the applet: a verifier, a key generator, a random source and the
// HPKE seal for uploads. Injected so the applet stays deterministic under a seeded simulator.
import type { Bytes } from '../core/bytes.ts';
import type { Signer, Verifier } from '../core/crypto.ts';

export interface SecureElementPlatform {
  readonly verifier: Verifier;
  /** Generates a P-256 key pair inside the chip. */
  generateKey(): { readonly privateScalar: Bytes; readonly publicKey: Bytes };
  /** A signer over the chip's stored private scalar. */
  signer(privateScalar: Bytes, publicKey: Bytes): Signer;
  randomBytes(length: number): Bytes;
  /** HPKE base-mode single-shot seal (RFC 9180) to the MDS key: enc ‖ ciphertext. */
  seal(recipientPublicKey: Bytes, info: Bytes, aad: Bytes, plaintext: Bytes): Bytes;
}
