// DCP nonces (DESIGN §7): fresh, single use, expiring, bound to one secure element. A nonce is
// self-authenticating so that making one costs no database write and any instance of the DCP over
// the same database accepts it:
//
//   nonce = expiry (u32 seconds, big-endian) ‖ random (4 bytes) ‖ tag (8 bytes)
//   tag   = SHA-256(nonceKey ‖ seId ‖ expiry ‖ random)[0..8]
//
// The message has a fixed length, so the keyed prefix hash is a sound MAC (no length extension).
// Single use is enforced where a nonce is spent: `dcp_used_nonces` has it as its key, inserted in the
// same transaction as the operation the nonce authorises.
import { bytesEqual, concatBytes, readU32be, u32be, type Bytes } from '../../core/bytes.ts';
import type { Verifier } from '../../core/crypto.ts';
import { nonceBytes, type PrincipalId } from '../../core/ids.ts';
import { dcpError } from '../api/errors.ts';
import { nonceLifetimeSeconds } from './limits.ts';

const tagBytes = 8;

export class NonceMaker {
  constructor(
    private readonly verifier: Verifier,
    private readonly nonceKey: Bytes,
    private readonly randomBytes: (length: number) => Bytes,
  ) {}

  make(seId: PrincipalId, nowSeconds: number): { readonly nonce: Bytes; readonly expiresAt: number } {
    const expiresAt = nowSeconds + nonceLifetimeSeconds;
    const head = concatBytes(u32be(expiresAt), this.randomBytes(4));
    return { nonce: concatBytes(head, this.tag(seId, head)), expiresAt };
  }

  /** Checks that this DCP made `nonce` for `seId` and that it has not expired; returns its expiry. */
  check(seId: PrincipalId, nonce: Bytes, nowSeconds: number): number {
    if (nonce.length !== nonceBytes) throw dcpError('nonceUnknown', 'a nonce has 16 bytes');
    const head = nonce.subarray(0, nonceBytes - tagBytes);
    if (!bytesEqual(this.tag(seId, head), nonce.subarray(nonceBytes - tagBytes)))
      throw dcpError('nonceUnknown');
    const expiresAt = readU32be(head, 0);
    if (nowSeconds > expiresAt) throw dcpError('nonceExpired', `expired at ${expiresAt}, now ${nowSeconds}`);
    return expiresAt;
  }

  private tag(seId: PrincipalId, head: Bytes): Bytes {
    return this.verifier.sha256(concatBytes(this.nonceKey, seId, head)).subarray(0, tagBytes);
  }
}
