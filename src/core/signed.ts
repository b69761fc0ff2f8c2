// A signed structure travels as [body bytes, signature]: the body is a deterministic-CBOR byte string
// signed as purpose ‖ 0x00 ‖ body (DESIGN §3), so verifying and hashing never re-encode.
import { signatureBytes, type Purpose, type Signer } from './crypto.ts';
import { decodeCbor, encodeCbor, FieldReader, type CborValue } from './cbor.ts';
import type { Bytes } from './bytes.ts';

export interface Signed<T> {
  readonly body: T;
  readonly bodyBytes: Bytes;
  readonly signature: Bytes;
}

export function signBody<T>(
  signer: Signer,
  purpose: Purpose,
  body: T,
  encodeBody: (body: T) => CborValue,
): Signed<T> {
  const bodyBytes = encodeCbor(encodeBody(body));
  return { body, bodyBytes, signature: signer.sign(purpose, bodyBytes) };
}

export function signedToCbor(signed: Signed<unknown>): CborValue {
  return [signed.bodyBytes, signed.signature];
}

export function encodeSigned(signed: Signed<unknown>): Bytes {
  return encodeCbor(signedToCbor(signed));
}

/** Decodes [body bytes, signature] and the body inside; checks shape only, never the signature. */
export function signedFromCbor<T>(
  value: CborValue,
  structure: string,
  decodeBody: (body: CborValue) => T,
): Signed<T> {
  const reader = new FieldReader(value, structure, 2);
  const bodyBytes = reader.bytes(0, 'body');
  const signature = reader.bytes(1, 'signature', signatureBytes);
  return { body: decodeBody(decodeCbor(bodyBytes)), bodyBytes, signature };
}

export function decodeSigned<T>(
  bytes: Bytes,
  structure: string,
  decodeBody: (body: CborValue) => T,
): Signed<T> {
  return signedFromCbor(decodeCbor(bytes), structure, decodeBody);
}
