// ECDSA P-256 / SHA-256 and SHA-256 on node:crypto (OpenSSL), the implementation of
// core's `Verifier` and `Signer`. KeyObjects are cached per public key: importing on every verify
// halves the verification rate (STACK.md).
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hash,
  randomFillSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { bytesEqual, concatBytes, utf8 } from '../core/bytes.ts';
import type { Bytes } from '../core/bytes.ts';
import { publicKeyBytes, signatureBytes, type Purpose, type Signer, type Verifier } from '../core/crypto.ts';

/** The P-256 group order n (SEC 2 §2.4.2), and n/2 for the low-S rule. */
const curveOrder = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const halfCurveOrder = curveOrder >> 1n;

/** Bound on cached public keys; the cache is cleared when full (simple, and verification stays correct). */
export const publicKeyCacheEntriesMax = 65536;

const purposePrefixCache = new Map<Purpose, Bytes>();

/** purpose ‖ 0x00 ‖ message: the bytes that are actually signed. */
export function signedBytes(purpose: Purpose, message: Bytes): Bytes {
  let prefix = purposePrefixCache.get(purpose);
  if (prefix === undefined) {
    prefix = concatBytes(utf8(purpose), Uint8Array.of(0));
    purposePrefixCache.set(purpose, prefix);
  }
  return concatBytes(prefix, message);
}

function bytesFrom(value: bigint, length: number): Bytes {
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/** n and n/2 as 32 big-endian bytes: the low-S rule compares bytes, on every verify and sign. */
const curveOrderBytes = bytesFrom(curveOrder, 32);
const halfCurveOrderBytes = bytesFrom(halfCurveOrder, 32);

/** s ≤ n/2, s being bytes 32..63 of r ‖ s: big-endian order is lexicographic order. */
function sIsAtMostHalfOrder(signature: Bytes): boolean {
  for (let i = 0; i < 32; i++) {
    // Indices stay below 64 and 32 (the length is checked first): `?? 0` only satisfies the type.
    const difference = (signature[32 + i] ?? 0) - (halfCurveOrderBytes[i] ?? 0);
    if (difference !== 0) return difference < 0;
  }
  return true;
}

/** True when s (the second half of r ‖ s) is at most n/2. */
export function isLowS(signature: Bytes): boolean {
  return signature.length === signatureBytes && sIsAtMostHalfOrder(signature);
}

/** Replaces s by n − s when s > n/2: both verify, only the low one is accepted (DESIGN §3). */
export function normaliseLowS(signature: Bytes): Bytes {
  if (sIsAtMostHalfOrder(signature)) return signature;
  const out = new Uint8Array(signatureBytes);
  out.set(signature.subarray(0, 32));
  // n − s, big-endian with borrow (modulo 2^256, as the BigInt rendering in 32 bytes was).
  let borrow = 0;
  for (let i = 31; i >= 0; i--) {
    const difference = (curveOrderBytes[i] ?? 0) - (signature[32 + i] ?? 0) - borrow;
    borrow = difference < 0 ? 1 : 0;
    out[32 + i] = difference & 0xff;
  }
  return out;
}

/**
 * KeyObjects for raw points, shared by every verifier in the process: a public key is public, so
 * sharing the cache leaks nothing, and each key is imported once however many verifiers see it.
 */
const publicKeyObjects = new Map<string, KeyObject | null>();

/**
 * The last KeyObject found for a given bytes object, with a copy of the bytes it was found for: the
 * same key object (an issuer's, a remembered certificate's) comes back at every verify, and a
 * 65-byte comparison is cheaper than rendering a Map key. The copy makes a later change of the
 * array's contents a miss, never a wrong key.
 */
const recentKeyObjects = new WeakMap<Bytes, { readonly point: Bytes; readonly key: KeyObject | null }>();

/** The KeyObject for a raw uncompressed point, or null when it is not a valid P-256 point. */
function publicKeyObject(publicKey: Bytes): KeyObject | null {
  if (publicKey.length !== publicKeyBytes || publicKey[0] !== 0x04) return null;
  const recent = recentKeyObjects.get(publicKey);
  if (recent !== undefined && bytesEqual(recent.point, publicKey)) return recent.key;
  const key = importedKeyObject(publicKey);
  recentKeyObjects.set(publicKey, { point: publicKey.slice(), key });
  return key;
}

function importedKeyObject(publicKey: Bytes): KeyObject | null {
  const cacheKey = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('latin1');
  const cached = publicKeyObjects.get(cacheKey);
  if (cached !== undefined) return cached;
  let key: KeyObject | null;
  try {
    // Node 20 cannot import a raw point. As a JWK (RFC 7518 §6.2.1) it imports in about half the time
    // of the same point in a DER SubjectPublicKeyInfo (OpenSSL's decoder framework costs the rest),
    // and OpenSSL refuses the same points: off the curve, or a coordinate not below p.
    key = createPublicKey({ key: pointJwk(publicKey), format: 'jwk' });
  } catch {
    key = null; // not on the curve, or not a point at all
  }
  if (publicKeyObjects.size >= publicKeyCacheEntriesMax) publicKeyObjects.clear();
  publicKeyObjects.set(cacheKey, key);
  return key;
}

/** The JWK of an uncompressed P-256 point 04 ‖ x ‖ y. */
function pointJwk(publicKey: Bytes): { kty: string; crv: string; x: string; y: string } {
  const point = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length);
  return {
    kty: 'EC',
    crv: 'P-256',
    x: point.toString('base64url', 1, 33),
    y: point.toString('base64url', 33, 65),
  };
}

/**
 * ECDSA P-256 / SHA-256 over exactly `message` (no purpose tag): true only for a 64-byte r ‖ s
 * signature with a low S (DESIGN §3) under a valid 65-byte uncompressed public key. Returns false,
 * never throws, on any malformed input. Protocol code calls `NodeVerifier.verify`, which adds the
 * purpose tag; this exists so official vectors (Wycheproof) can be checked on the same path.
 */
export function verifyRawP256(publicKey: Bytes, message: Bytes, signature: Bytes): boolean {
  if (signature.length !== signatureBytes || !isLowS(signature)) return false;
  const key = publicKeyObject(publicKey);
  if (key === null) return false;
  try {
    return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

export class NodeVerifier implements Verifier {
  sha256(data: Bytes): Bytes {
    return hash('sha256', data, 'buffer');
  }

  verify(publicKey: Bytes, purpose: Purpose, message: Bytes, signature: Bytes): boolean {
    return verifyRawP256(publicKey, signedBytes(purpose, message), signature);
  }

  /** The KeyObject for a raw point, or null when it is not a valid P-256 point. */
  publicKeyObject(publicKey: Bytes): KeyObject | null {
    return publicKeyObject(publicKey);
  }
}

/** A P-256 key pair held in the process: the private scalar never leaves this object except by `exportPrivateScalar` (for an SE's own persistent store). */
export class NodeSigner implements Signer {
  readonly publicKey: Bytes;
  readonly #privateKey: KeyObject;

  private constructor(privateKey: KeyObject, publicKey: Bytes) {
    this.#privateKey = privateKey;
    this.publicKey = publicKey;
  }

  static generate(): NodeSigner {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return new NodeSigner(privateKey, rawPublicKey(publicKey));
  }

  /** Rebuilds a signer from the 32-byte private scalar d and its 65-byte public point. */
  static fromScalar(privateScalar: Bytes, publicKey: Bytes): NodeSigner {
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      d: Buffer.from(privateScalar).toString('base64url'),
      x: Buffer.from(publicKey.subarray(1, 33)).toString('base64url'),
      y: Buffer.from(publicKey.subarray(33, 65)).toString('base64url'),
    };
    return new NodeSigner(createPrivateKey({ key: jwk, format: 'jwk' }), publicKey);
  }

  exportPrivateScalar(): Bytes {
    const jwk = this.#privateKey.export({ format: 'jwk' });
    return Uint8Array.from(Buffer.from(jwk.d ?? '', 'base64url'));
  }

  sign(purpose: Purpose, message: Bytes): Bytes {
    const signature = sign('sha256', signedBytes(purpose, message), {
      key: this.#privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return normaliseLowS(new Uint8Array(signature.buffer, signature.byteOffset, signature.length));
  }
}

function rawPublicKey(key: KeyObject): Bytes {
  const der = key.export({ format: 'der', type: 'spki' });
  return Uint8Array.from(der.subarray(der.length - publicKeyBytes));
}

export function secureRandomBytes(length: number): Bytes {
  // Filled in place: no Buffer from the pool to copy out of (a challenge at every payment request).
  return randomFillSync(new Uint8Array(length));
}
