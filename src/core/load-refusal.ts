// A load refusal (issue 8, item 6): an SE's signed statement that it will never install one load
// issuance, because installing it would pass its balance limit. The SE records the refusal in the
// same commit that signs it (REFUSE LOAD), so LOAD and COMPLETE SYNC never install that issuance
// afterwards; on this proof the DCP returns the issuance's value to the wallet it came from.
//
// The statement is about one issuance, named by its id, so it needs no nonce: replaying it proves
// nothing new, and the DCP returns the value once per issuance whatever the number of copies.
import { amountMax } from './amount.ts';
import { FieldReader, type CborValue } from './cbor.ts';
import { structureVersion } from './certificate.ts';
import { entryIdBytes, principalIdBytes, type EntryId, type PrincipalId } from './ids.ts';
import { signedFromCbor, type Signed } from './signed.ts';

export interface LoadRefusalBody {
  readonly seId: PrincipalId;
  readonly issuanceId: EntryId;
  /** The catalogue number of the rule the load would break (today only `balanceLimitExceeded`). */
  readonly reason: number;
  /** The SE's balance when it refused: with the issuance's value, above its balance limit. */
  readonly balance: bigint;
}

export type LoadRefusal = Signed<LoadRefusalBody>;

export function loadRefusalBodyToCbor(body: LoadRefusalBody): CborValue {
  return [structureVersion, body.seId, body.issuanceId, body.reason, body.balance];
}

export function loadRefusalBodyFromCbor(value: CborValue): LoadRefusalBody {
  const reader = new FieldReader(value, 'loadRefusal', 5);
  reader.version(0, structureVersion);
  return {
    seId: reader.bytes(1, 'seId', principalIdBytes),
    issuanceId: reader.bytes(2, 'issuanceId', entryIdBytes),
    reason: reader.uint(3, 'reason', 0xffff),
    balance: readBalance(reader.biguint(4, 'balance')),
  };
}

function readBalance(balance: bigint): bigint {
  if (balance > amountMax) throw FieldReader.invalid('loadRefusal.balance', `is above ${amountMax}`);
  return balance;
}

export function loadRefusalFromCbor(value: CborValue): LoadRefusal {
  return signedFromCbor(value, 'loadRefusal', loadRefusalBodyFromCbor);
}
