// What a device signs with AUTHENTICATE for each online request to its DCP (DESIGN §7), and the
// fingerprint a service keeps beside an idempotency key. Both sides compute the digests here: the
// device app before AUTHENTICATE, the DCP when it checks the device request.
//
// A request digest is the SHA-256 of a small canonical CBOR array that starts with the operation's
// tag. A renewal needs no device request: the claim itself is signed over the DCP nonce. Unload and
// transfer sign the claim's digest too, so the amount and the payee cannot be changed on the way,
// and use the claim's nonce (spent once).
import type { Bytes } from './bytes.ts';
import { encodeCbor } from './cbor.ts';
import type { Verifier } from './crypto.ts';
import type { PrincipalId } from './ids.ts';

export function loadRequestDigest(verifier: Verifier, amount: bigint, balance: bigint): Bytes {
  return verifier.sha256(encodeCbor(['cbdc/dcp/load/v1', amount, balance]));
}

export function unloadRequestDigest(verifier: Verifier, amount: bigint, claimBodyBytes: Bytes): Bytes {
  return verifier.sha256(encodeCbor(['cbdc/dcp/unload/v1', amount, verifier.sha256(claimBodyBytes)]));
}

export function transferRequestDigest(
  verifier: Verifier,
  amount: bigint,
  payeeSeId: PrincipalId,
  claimBodyBytes: Bytes,
): Bytes {
  return verifier.sha256(
    encodeCbor(['cbdc/dcp/transfer/v1', amount, payeeSeId, verifier.sha256(claimBodyBytes)]),
  );
}

/** A field of a request fingerprint: amounts as bigint, absent optional fields as null. */
export type FingerprintField = string | number | bigint | boolean | null;

/**
 * The request as canonical text, `[operation, ...fields]` in JSON with amounts in decimal: a replay
 * under the same idempotency key must match it exactly. A service whose requests are large (the
 * DCP's sealed uploads) stores a digest of this text rather than the text.
 */
export function requestFingerprint(operation: string, fields: readonly FingerprintField[]): string {
  return JSON.stringify([
    operation,
    ...fields.map((field) => (typeof field === 'bigint' ? field.toString() : field)),
  ]);
}
