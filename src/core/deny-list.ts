// The deny list (DESIGN §3, §8): secure elements honest SEs refuse to pay or be paid by; signed by
// the directory, versioned.
import { FieldReader, readBytesItem, type CborValue } from './cbor.ts';
import { structureVersion } from './certificate.ts';
import { principalIdBytes, type PrincipalId } from './ids.ts';
import { signedFromCbor, type Signed } from './signed.ts';

/** What a secure element can hold; a larger list means certificate lifetimes are too long. */
export const denyListEntriesMax = 1024;

export interface DenyList {
  readonly directoryId: PrincipalId;
  readonly version: number;
  readonly time: number;
  readonly entries: readonly PrincipalId[];
}

export type SignedDenyList = Signed<DenyList>;

export function denyListToCbor(list: DenyList): CborValue {
  return [structureVersion, list.directoryId, list.version, list.time, [...list.entries]];
}

export function denyListFromCbor(value: CborValue): DenyList {
  const reader = new FieldReader(value, 'denyList', 5);
  reader.version(0, structureVersion);
  return {
    directoryId: reader.bytes(1, 'directoryId', principalIdBytes),
    version: reader.uint(2, 'listVersion'),
    time: reader.uint(3, 'time'),
    entries: reader.array(4, 'entries', denyListEntriesMax, (item, where) =>
      readBytesItem(item, where, principalIdBytes),
    ),
  };
}

export function signedDenyListFromCbor(value: CborValue): SignedDenyList {
  return signedFromCbor(value, 'denyList', denyListFromCbor);
}
