// What a device signs with AUTHENTICATE for each online request (DESIGN §7): the SHA-256 of a small
// canonical CBOR array that starts with the operation's tag. A renewal needs no device request: the
// claim itself is signed over the DCP nonce. Unload and transfer sign the claim's digest too, so the
// amount and the payee cannot be changed on the way, and use the claim's nonce (spent once).
import type { Bytes } from '../../core/bytes.ts';
import { encodeCbor } from '../../core/cbor.ts';
import type { Verifier } from '../../core/crypto.ts';
import type { PrincipalId } from '../../core/ids.ts';

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
