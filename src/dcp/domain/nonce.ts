// DCP nonces (DESIGN §7): fresh, single use, expiring, bound to one secure element. A nonce is
// self-authenticating so that making one costs no database write and any instance of the DCP over
// the same database accepts it:
//
//   nonce = expiry (u32 seconds, big-endian) ‖ made (u16 ms) ‖ random (2 bytes) ‖ tag (8 bytes)
//   tag   = SHA-256(nonceKey ‖ seId ‖ expiry ‖ made ‖ random)[0..8]
//
// `made` is the millisecond, within its second, at which the nonce was made (the second is
// expiry − nonceLifetimeSeconds): a load needs to know which of the SE's earlier loads were done
// before the SE signed its balance over this nonce (load.ts). Two nonces for one SE within one
// millisecond share their first six bytes with probability 2⁻¹⁶; the second would then be refused as
// used, and the device asks for another.
//
// The message has a fixed length, so the keyed prefix hash is a sound MAC (no length extension).
// Single use is enforced where a nonce is spent: `dcp_used_nonces` has it as its key, inserted in the
// same transaction as the operation the nonce authorises.
import { bytesEqual, concatBytes, readU32be, u32be, type Bytes } from '../../core/bytes.ts';

const u16be = (value: number): Bytes => new Uint8Array([value >> 8, value & 0xff]);
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

  make(seId: PrincipalId, nowMs: number): { readonly nonce: Bytes; readonly expiresAt: number } {
    const expiresAt = Math.floor(nowMs / 1000) + nonceLifetimeSeconds;
    const made = nowMs - Math.floor(nowMs / 1000) * 1000;
    const head = concatBytes(u32be(expiresAt), u16be(made), this.randomBytes(2));
    return { nonce: concatBytes(head, this.tag(seId, head)), expiresAt };
  }

  /**
   * Checks that this DCP made `nonce` for `seId` and that it has not expired; returns its expiry
   * (seconds) and when it was made (milliseconds).
   */
  check(
    seId: PrincipalId,
    nonce: Bytes,
    nowSeconds: number,
  ): { readonly expiresAt: number; readonly madeAtMs: number } {
    if (nonce.length !== nonceBytes) throw dcpError('nonceUnknown', 'a nonce has 16 bytes');
    const head = nonce.subarray(0, nonceBytes - tagBytes);
    if (!bytesEqual(this.tag(seId, head), nonce.subarray(nonceBytes - tagBytes)))
      throw dcpError('nonceUnknown');
    const expiresAt = readU32be(head, 0);
    if (nowSeconds > expiresAt) throw dcpError('nonceExpired', `expired at ${expiresAt}, now ${nowSeconds}`);
    // A nonce made before `made` was added carries random bytes there: at most the second's end.
    const made = Math.min(((head[4] ?? 0) << 8) | (head[5] ?? 0), 999);
    return { expiresAt, madeAtMs: (expiresAt - nonceLifetimeSeconds) * 1000 + made };
  }

  private tag(seId: PrincipalId, head: Bytes): Bytes {
    return this.verifier.sha256(concatBytes(this.nonceKey, seId, head)).subarray(0, tagBytes);
  }
}
