// A device request (DESIGN §7): an SE authenticates an online request (load, sync, transfer) by
// signing the DCP's fresh nonce and the digest of the request, so a request can neither be forged
// nor replayed. The SE signs it with AUTHENTICATE; only the DCP that issued the nonce accepts it.
import { digestBytes } from './crypto.ts';
import { FieldReader, type CborValue } from './cbor.ts';
import { structureVersion } from './certificate.ts';
import { nonceBytes, principalIdBytes, type PrincipalId } from './ids.ts';
import { signedFromCbor, type Signed } from './signed.ts';
import type { Bytes } from './bytes.ts';

export interface DeviceRequestBody {
  readonly seId: PrincipalId;
  readonly dcpNonce: Bytes;
  /** SHA-256 of the request's canonical content, as the DCP defines it per operation. */
  readonly requestDigest: Bytes;
}

export type DeviceRequest = Signed<DeviceRequestBody>;

export function deviceRequestBodyToCbor(body: DeviceRequestBody): CborValue {
  return [structureVersion, body.seId, body.dcpNonce, body.requestDigest];
}

export function deviceRequestBodyFromCbor(value: CborValue): DeviceRequestBody {
  const reader = new FieldReader(value, 'deviceRequest', 4);
  reader.version(0, structureVersion);
  return {
    seId: reader.bytes(1, 'seId', principalIdBytes),
    dcpNonce: reader.bytes(2, 'dcpNonce', nonceBytes),
    requestDigest: reader.bytes(3, 'requestDigest', digestBytes),
  };
}

export function deviceRequestFromCbor(value: CborValue): DeviceRequest {
  return signedFromCbor(value, 'deviceRequest', deviceRequestBodyFromCbor);
}
