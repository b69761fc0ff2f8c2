// HPKE (RFC 9180), base mode, single shot, for exactly one suite: DHKEM(P-256, HKDF-SHA256) (KEM
// 0x0010), HKDF-SHA256 (KDF 0x0001), AES-128-GCM (AEAD 0x0001). An SE seals its upload to the MDS
// key with it (DESIGN §3), so the DCP relays uploads it cannot read.
//
// Why not @hpke/core: it runs on WebCrypto, which is asynchronous, and the secure-element stack is
// synchronous. This file is not a new primitive: it composes node:crypto's HMAC-SHA256, ECDH on
// P-256 and AES-128-GCM exactly as RFC 9180 §4, §5.1, §5.2 and §7.1 specify, and the tests hold it
// to the RFC's Appendix A.3.1 vector and to @hpke/core in both directions.
import { createCipheriv, createDecipheriv, createECDH, createHmac, type ECDH } from 'node:crypto';
import { bytesEqual, concatBytes, u16be, utf8 } from '../core/bytes.ts';
import type { Bytes } from '../core/bytes.ts';

/** Nsk and Npk / Nenc of DHKEM(P-256, HKDF-SHA256) (RFC 9180 §7.1, Table 2). */
export const hpkePrivateKeyBytes = 32;
export const hpkePublicKeyBytes = 65;
/** Nt of AES-128-GCM (RFC 9180 §7.3): every sealed message is enc ‖ ciphertext ‖ tag, at least this long. */
export const hpkeSealedBytesMin = hpkePublicKeyBytes + 16;

const kemId = 0x0010;
const kdfId = 0x0001;
const aeadId = 0x0001;
const hashBytes = 32; // Nh of HKDF-SHA256
const sharedSecretBytes = 32; // Nsecret of DHKEM(P-256, HKDF-SHA256)
const aeadKeyBytes = 16; // Nk of AES-128-GCM
const aeadNonceBytes = 12; // Nn of AES-128-GCM
const aeadTagBytes = 16; // Nt of AES-128-GCM
const modeBase = 0x00; // RFC 9180 §5, Table 1
/** The P-256 group order (SEC 2 §2.4.2): DeriveKeyPair rejects candidates at or above it. */
const curveOrder = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** DeriveKeyPair gives up after this many candidates (RFC 9180 §7.1.3); reaching it has probability ~2^-8000. */
const deriveKeyPairCandidatesMax = 256;
/** The sequence number of the only message a single-shot context seals (RFC 9180 §6.1). */
const singleShotSequence = 0;

/** suite_id of the KEM (RFC 9180 §4.1) and of the whole suite (§5.1). */
const kemSuiteId = concatBytes(utf8('KEM'), u16be(kemId));
const hpkeSuiteId = concatBytes(utf8('HPKE'), u16be(kemId), u16be(kdfId), u16be(aeadId));
const versionLabel = utf8('HPKE-v1');
const emptyBytes = new Uint8Array(0);

export interface HpkeKeyPair {
  readonly privateKey: Bytes; // 32 bytes, the scalar big-endian (SerializePrivateKey, §7.1.2)
  readonly publicKey: Bytes; // 65 bytes, uncompressed SEC1 point (SerializePublicKey, §7.1.1)
}

/** What KeySchedule derives (RFC 9180 §5.1); exposed so the tests can check each RFC value. */
export interface HpkeBaseContext {
  readonly keyScheduleContext: Bytes;
  readonly secret: Bytes;
  readonly key: Bytes;
  readonly baseNonce: Bytes;
}

// ---- HKDF-SHA256 (RFC 5869) and its labeled forms (RFC 9180 §4) ----

/** HKDF-Extract (RFC 5869 §2.2); an empty salt means HashLen zero bytes. */
function hkdfExtract(salt: Bytes, inputKeyMaterial: Bytes): Bytes {
  const key = salt.length === 0 ? new Uint8Array(hashBytes) : salt;
  return createHmac('sha256', key).update(inputKeyMaterial).digest();
}

/** HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i), concatenated and truncated. */
function hkdfExpand(pseudorandomKey: Bytes, info: Bytes, length: number): Bytes {
  if (length > 255 * hashBytes) throw new RangeError('hkdfExpand: length exceeds 255 * HashLen');
  const out = new Uint8Array(length);
  let previous: Bytes = emptyBytes;
  for (let counter = 1, offset = 0; offset < length; counter++) {
    previous = createHmac('sha256', pseudorandomKey)
      .update(previous)
      .update(info)
      .update(Uint8Array.of(counter))
      .digest();
    out.set(previous.subarray(0, length - offset), offset);
    offset += previous.length;
  }
  return out;
}

/** LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm) (RFC 9180 §4). */
function labeledExtract(suiteId: Bytes, salt: Bytes, label: string, inputKeyMaterial: Bytes): Bytes {
  return hkdfExtract(salt, concatBytes(versionLabel, suiteId, utf8(label), inputKeyMaterial));
}

/** LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info, L) (§4). */
function labeledExpand(
  suiteId: Bytes,
  pseudorandomKey: Bytes,
  label: string,
  info: Bytes,
  length: number,
): Bytes {
  const labeledInfo = concatBytes(u16be(length), versionLabel, suiteId, utf8(label), info);
  return hkdfExpand(pseudorandomKey, labeledInfo, length);
}

// ---- DHKEM(P-256, HKDF-SHA256) (RFC 9180 §4.1, §7.1) ----

/** Node drops leading zero bytes of a private scalar (about 1 key in 256): SerializePrivateKey is fixed-length (§7.1.2). */
function fixedLength(bytes: Bytes, length: number): Bytes {
  if (bytes.length === length) return Uint8Array.from(bytes);
  const out = new Uint8Array(length);
  out.set(bytes, length - bytes.length);
  return out;
}

function keyPairOf(ecdh: ECDH): HpkeKeyPair {
  return {
    privateKey: fixedLength(ecdh.getPrivateKey(), hpkePrivateKeyBytes),
    publicKey: Uint8Array.from(ecdh.getPublicKey()), // uncompressed by default
  };
}

/** An ECDH context holding the scalar; throws when it is not 32 bytes in [1, n-1]. */
function ecdhFromPrivateKey(privateKey: Bytes): ECDH {
  if (privateKey.length !== hpkePrivateKeyBytes) throw new RangeError('privateKey must be 32 bytes');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(privateKey); // OpenSSL rejects 0 and values >= n
  return ecdh;
}

/**
 * DH(sk, pk): the x-coordinate of sk·pk (RFC 9180 §7.1.1). Only the uncompressed encoding is
 * accepted (Npk = 65); OpenSSL checks that the point is on the curve, which is the partial public
 * key validation §7.1.4 requires. Throws on an invalid point.
 */
function diffieHellman(ecdh: ECDH, publicKey: Bytes): Bytes {
  if (publicKey.length !== hpkePublicKeyBytes || publicKey[0] !== 0x04) {
    throw new RangeError('publicKey must be a 65-byte uncompressed P-256 point');
  }
  return Uint8Array.from(ecdh.computeSecret(publicKey));
}

/** ExtractAndExpand(dh, kem_context) (RFC 9180 §4.1). */
function extractAndExpand(dh: Bytes, kemContext: Bytes): Bytes {
  const eaePrk = labeledExtract(kemSuiteId, emptyBytes, 'eae_prk', dh);
  return labeledExpand(kemSuiteId, eaePrk, 'shared_secret', kemContext, sharedSecretBytes);
}

/** DeriveKeyPair(ikm) for P-256 (RFC 9180 §7.1.3): rejection sampling of candidates, bitmask 0xff. */
export function hpkeDeriveKeyPair(inputKeyMaterial: Bytes): HpkeKeyPair {
  if (inputKeyMaterial.length < hpkePrivateKeyBytes) throw new RangeError('ikm must have at least 32 bytes');
  const dkpPrk = labeledExtract(kemSuiteId, emptyBytes, 'dkp_prk', inputKeyMaterial);
  for (let counter = 0; counter < deriveKeyPairCandidatesMax; counter++) {
    const candidate = labeledExpand(
      kemSuiteId,
      dkpPrk,
      'candidate',
      Uint8Array.of(counter),
      hpkePrivateKeyBytes,
    );
    const scalar = BigInt('0x' + Buffer.from(candidate).toString('hex'));
    if (scalar !== 0n && scalar < curveOrder) return keyPairOf(ecdhFromPrivateKey(candidate));
  }
  throw new Error('DeriveKeyPairError: no valid candidate'); // §7.1.3; unreachable in practice
}

export function hpkeGenerateKeyPair(): HpkeKeyPair {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return keyPairOf(ecdh);
}

/**
 * Encap(pkR) (RFC 9180 §4.1): enc = pkE, shared_secret = ExtractAndExpand(DH(skE, pkR), enc ‖ pkRm).
 * The ephemeral key pair is fresh from node:crypto unless injected (deterministic tests only).
 */
export function hpkeEncap(
  recipientPublicKey: Bytes,
  ephemeral?: HpkeKeyPair,
): { readonly enc: Bytes; readonly sharedSecret: Bytes } {
  let ecdh: ECDH;
  if (ephemeral === undefined) {
    ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
  } else {
    ecdh = ecdhFromPrivateKey(ephemeral.privateKey);
    if (!bytesEqual(ecdh.getPublicKey(), ephemeral.publicKey)) {
      throw new RangeError('ephemeral.publicKey does not match ephemeral.privateKey');
    }
  }
  let dh: Bytes;
  try {
    dh = diffieHellman(ecdh, recipientPublicKey);
  } catch {
    throw new RangeError('recipientPublicKey is not a valid uncompressed P-256 point');
  }
  const enc = Uint8Array.from(ecdh.getPublicKey());
  return { enc, sharedSecret: extractAndExpand(dh, concatBytes(enc, recipientPublicKey)) };
}

/**
 * Decap(enc, skR) (RFC 9180 §4.1). pkRm is recomputed from skR; the caller's copy must match it, so a
 * mismatched key pair fails here instead of yielding a shared secret no sender ever computed.
 * Throws on any invalid input; `hpkeOpen` turns that into undefined.
 */
export function hpkeDecap(enc: Bytes, recipientPrivateKey: Bytes, recipientPublicKey: Bytes): Bytes {
  const ecdh = ecdhFromPrivateKey(recipientPrivateKey);
  const publicKey = ecdh.getPublicKey();
  if (!bytesEqual(publicKey, recipientPublicKey)) throw new RangeError('recipientPublicKey does not match');
  const dh = diffieHellman(ecdh, enc);
  return extractAndExpand(dh, concatBytes(enc, publicKey));
}

/** KeySchedule(mode_base, shared_secret, info, psk = "", psk_id = "") (RFC 9180 §5.1), without the exporter secret. */
export function hpkeKeyScheduleBase(sharedSecret: Bytes, info: Bytes): HpkeBaseContext {
  const pskIdHash = labeledExtract(hpkeSuiteId, emptyBytes, 'psk_id_hash', emptyBytes);
  const infoHash = labeledExtract(hpkeSuiteId, emptyBytes, 'info_hash', info);
  const keyScheduleContext = concatBytes(Uint8Array.of(modeBase), pskIdHash, infoHash);
  const secret = labeledExtract(hpkeSuiteId, sharedSecret, 'secret', emptyBytes);
  return {
    keyScheduleContext,
    secret,
    key: labeledExpand(hpkeSuiteId, secret, 'key', keyScheduleContext, aeadKeyBytes),
    baseNonce: labeledExpand(hpkeSuiteId, secret, 'base_nonce', keyScheduleContext, aeadNonceBytes),
  };
}

/** ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn) (RFC 9180 §5.2); seq is small, so only the last 4 bytes move. */
function computeNonce(baseNonce: Bytes, sequence: number): Bytes {
  const nonce = Uint8Array.from(baseNonce);
  for (let i = 0; i < 4; i++) nonce[aeadNonceBytes - 1 - i]! ^= (sequence >>> (8 * i)) & 0xff;
  return nonce;
}

/** AES-128-GCM Seal (RFC 9180 §5.2, §7.3): ciphertext ‖ 16-byte tag. */
function aeadSeal(context: HpkeBaseContext, aad: Bytes, plaintext: Bytes): Bytes {
  const nonce = computeNonce(context.baseNonce, singleShotSequence);
  const cipher = createCipheriv('aes-128-gcm', context.key, nonce, { authTagLength: aeadTagBytes });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  return concatBytes(body, cipher.final(), cipher.getAuthTag());
}

/** AES-128-GCM Open (RFC 9180 §5.2); throws when the tag does not verify. */
function aeadOpen(context: HpkeBaseContext, aad: Bytes, sealed: Bytes): Bytes {
  const nonce = computeNonce(context.baseNonce, singleShotSequence);
  const decipher = createDecipheriv('aes-128-gcm', context.key, nonce, { authTagLength: aeadTagBytes });
  decipher.setAuthTag(sealed.subarray(sealed.length - aeadTagBytes));
  decipher.setAAD(aad);
  const body = decipher.update(sealed.subarray(0, sealed.length - aeadTagBytes));
  return concatBytes(body, decipher.final());
}

/**
 * Single-shot base-mode Seal (RFC 9180 §6.1): SetupBaseS(pkR, info), then one Seal(aad, pt) with
 * sequence number 0. Returns enc (65 bytes) ‖ ciphertext ‖ tag. Throws (RangeError naming the
 * argument) only on a malformed recipient key or injected ephemeral key: those are caller bugs.
 */
export function hpkeSeal(
  recipientPublicKey: Bytes,
  info: Bytes,
  aad: Bytes,
  plaintext: Bytes,
  ephemeral?: HpkeKeyPair,
): Bytes {
  const { enc, sharedSecret } = hpkeEncap(recipientPublicKey, ephemeral);
  const context = hpkeKeyScheduleBase(sharedSecret, info);
  return concatBytes(enc, aeadSeal(context, aad, plaintext));
}

/** Opens one single-shot message to a recipient key held by an `hpkeOpener`. */
export type HpkeOpen = (info: Bytes, aad: Bytes, sealed: Bytes) => Bytes | undefined;

/**
 * `hpkeOpen` for one recipient key pair, checked once: the ECDH context is kept, so each open costs
 * one scalar multiplication (DH(skR, pkE)) instead of two (`setPrivateKey` derives pkR again). What
 * the MDS enclave opens every upload with. Throws a RangeError on a malformed or mismatched key
 * pair (a caller bug); the returned function never throws, like `hpkeOpen`.
 */
export function hpkeOpener(recipientPrivateKey: Bytes, recipientPublicKey: Bytes): HpkeOpen {
  const ecdh = ecdhFromPrivateKey(recipientPrivateKey);
  const publicKey = Uint8Array.from(ecdh.getPublicKey());
  if (!bytesEqual(publicKey, recipientPublicKey)) throw new RangeError('recipientPublicKey does not match');
  return (info, aad, sealed) => {
    if (sealed.length < hpkeSealedBytesMin) return undefined;
    try {
      const enc = sealed.subarray(0, hpkePublicKeyBytes);
      const sharedSecret = extractAndExpand(diffieHellman(ecdh, enc), concatBytes(enc, publicKey));
      const context = hpkeKeyScheduleBase(sharedSecret, info);
      return aeadOpen(context, aad, sealed.subarray(hpkePublicKeyBytes));
    } catch {
      return undefined;
    }
  };
}

/**
 * Single-shot base-mode Open (RFC 9180 §6.1): SetupBaseR(enc, skR, info), then one Open(aad, ct).
 * Undefined on any failure (malformed or off-curve enc, wrong key, wrong info or aad, altered
 * ciphertext or tag, too short); never throws.
 */
export function hpkeOpen(
  recipientPrivateKey: Bytes,
  recipientPublicKey: Bytes,
  info: Bytes,
  aad: Bytes,
  sealed: Bytes,
): Bytes | undefined {
  if (sealed.length < hpkeSealedBytesMin) return undefined;
  try {
    const enc = sealed.subarray(0, hpkePublicKeyBytes);
    const sharedSecret = hpkeDecap(enc, recipientPrivateKey, recipientPublicKey);
    const context = hpkeKeyScheduleBase(sharedSecret, info);
    return aeadOpen(context, aad, sealed.subarray(hpkePublicKeyBytes));
  } catch {
    return undefined;
  }
}
