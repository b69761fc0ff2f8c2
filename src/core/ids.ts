// Identifiers are SHA-256 digests (DESIGN §4).
import { toHex, type Bytes } from './bytes.ts';
import type { Verifier } from './crypto.ts';

/** A principal (secure element, DCP issuer, directory, MDS) is named by the first 16 bytes of the digest of its public key. */
export const principalIdBytes = 16;
/** Issuances, transfers and tokens are named by a whole SHA-256 digest. */
export const entryIdBytes = 32;
export const challengeBytes = 16;
export const nonceBytes = 16;
export const requestReferenceBytes = 16;

export type PrincipalId = Bytes;
export type EntryId = Bytes;
export type TokenId = Bytes;

export function principalIdOf(verifier: Verifier, publicKey: Bytes): PrincipalId {
  return verifier.sha256(publicKey).subarray(0, principalIdBytes);
}

/** Token id = H(parent id ‖ output index): one output of an issuance or a transfer (DESIGN §4). */
export function tokenIdOf(verifier: Verifier, parentId: EntryId, outputIndex: number): TokenId {
  // parent id ‖ u16be(index) written into one buffer: every entry of every bundle names its outputs.
  const preimage = new Uint8Array(parentId.length + 2);
  preimage.set(parentId);
  preimage[parentId.length] = (outputIndex >> 8) & 0xff;
  preimage[parentId.length + 1] = outputIndex & 0xff;
  return verifier.sha256(preimage);
}

/** A hex rendering used as a Map key and in logs. */
export function idKey(id: Bytes): string {
  return toHex(id);
}
