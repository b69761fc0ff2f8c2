// A claim is what an SE presents online (DESIGN §4, §7): its tokens, signed over the DCP's nonce and
// bound to the sealed upload by its digest.
import { checkAmount } from './amount.ts';
import { FieldReader, type CborValue } from './cbor.ts';
import { structureVersion } from './certificate.ts';
import { digestBytes } from './crypto.ts';
import { entryIdBytes, nonceBytes, principalIdBytes, type PrincipalId, type TokenId } from './ids.ts';
import { signedFromCbor, type Signed } from './signed.ts';
import type { Bytes } from './bytes.ts';

/** Bound on the tokens one claim may cover. */
export const claimTokensMax = 256;

export interface ClaimedToken {
  readonly tokenId: TokenId;
  readonly value: bigint;
}

export interface ClaimBody {
  readonly seId: PrincipalId;
  readonly counter: number;
  readonly tokens: readonly ClaimedToken[];
  readonly dcpNonce: Bytes;
  readonly uploadDigest: Bytes;
  /**
   * The time (seconds) of the renewal the SE last completed a sync with, 0 before its first: the SE
   * refuses every load issuance stamped no later (LOAD's `issuanceStale`), so the DCP knows which of
   * its loads to this SE the coming sync could leave uninstallable, and delivers them with it.
   */
  readonly lastSyncTime: number;
}

export type Claim = Signed<ClaimBody>;

export function claimBodyToCbor(body: ClaimBody): CborValue {
  return [
    structureVersion,
    body.seId,
    body.counter,
    body.tokens.map((token) => [token.tokenId, token.value]),
    body.dcpNonce,
    body.uploadDigest,
    body.lastSyncTime,
  ];
}

export function claimBodyFromCbor(value: CborValue): ClaimBody {
  const reader = new FieldReader(value, 'claim', 7);
  reader.version(0, structureVersion);
  return {
    seId: reader.bytes(1, 'seId', principalIdBytes),
    counter: reader.uint(2, 'counter'),
    tokens: reader.array(3, 'tokens', claimTokensMax, (item, where) => {
      const token = new FieldReader(item, where, 2);
      return {
        tokenId: token.bytes(0, 'tokenId', entryIdBytes),
        value: checkAmount(token.biguint(1, 'value'), `${where}.value`),
      };
    }),
    dcpNonce: reader.bytes(4, 'dcpNonce', nonceBytes),
    uploadDigest: reader.bytes(5, 'uploadDigest', digestBytes),
    lastSyncTime: reader.uint(6, 'lastSyncTime'),
  };
}

export function claimFromCbor(value: CborValue): Claim {
  return signedFromCbor(value, 'claim', claimBodyFromCbor);
}
