// An issuance is value minted by a DCP (DESIGN §4): on load, renewal, online credit or refund.
import { checkAmount } from './amount.ts';
import { FieldReader, readBytesItem, type CborValue } from './cbor.ts';
import {
  entryIdBytes,
  principalIdBytes,
  requestReferenceBytes,
  type PrincipalId,
  type TokenId,
} from './ids.ts';
import { structureVersion } from './certificate.ts';
import { signedFromCbor, type Signed } from './signed.ts';
import type { Bytes } from './bytes.ts';

export const issuanceKinds = { load: 0, renewal: 1, credit: 2, refund: 3 } as const;
export type IssuanceKind = keyof typeof issuanceKinds;
const kindByNumber = new Map<number, IssuanceKind>(
  Object.entries(issuanceKinds).map(([name, number]) => [number, name as IssuanceKind]),
);

/** Bounds on one issuance's lists. */
export const issuanceOutputsMax = 16;
export const retiredTokensMax = 256;

export interface Output {
  readonly value: bigint;
  readonly owner: PrincipalId;
}

export interface IssuanceBody {
  readonly dcpId: PrincipalId;
  readonly kind: IssuanceKind;
  /** The DCP's idempotency reference: one issuance per reference, ever (invariant 3). */
  readonly requestReference: Bytes;
  readonly outputs: readonly Output[];
  /** For a renewal or unload: the tokens this issuance replaces. */
  readonly retiredTokenIds: readonly TokenId[];
  readonly time: number;
}

export type Issuance = Signed<IssuanceBody>;

export function outputToCbor(output: Output): CborValue {
  return [output.value, output.owner];
}

export function outputFromCbor(value: CborValue, where: string): Output {
  const reader = new FieldReader(value, where, 2);
  return {
    value: checkAmount(reader.biguint(0, 'value'), `${where}.value`),
    owner: reader.bytes(1, 'owner', principalIdBytes),
  };
}

export function issuanceBodyToCbor(body: IssuanceBody): CborValue {
  return [
    structureVersion,
    body.dcpId,
    issuanceKinds[body.kind],
    body.requestReference,
    body.outputs.map(outputToCbor),
    [...body.retiredTokenIds],
    body.time,
  ];
}

export function issuanceBodyFromCbor(value: CborValue): IssuanceBody {
  const reader = new FieldReader(value, 'issuance', 7);
  reader.version(0, structureVersion);
  const kind = kindByNumber.get(reader.uint(2, 'kind'));
  if (kind === undefined) throw FieldReader.invalid('issuance.kind', 'is not a known kind');
  return {
    dcpId: reader.bytes(1, 'dcpId', principalIdBytes),
    kind,
    requestReference: reader.bytes(3, 'requestReference', requestReferenceBytes),
    outputs: reader.array(4, 'outputs', issuanceOutputsMax, outputFromCbor),
    retiredTokenIds: reader.array(5, 'retiredTokenIds', retiredTokensMax, (item, where) =>
      readBytesItem(item, where, entryIdBytes),
    ),
    time: reader.uint(6, 'time'),
  };
}

export function issuanceFromCbor(value: CborValue): Issuance {
  return signedFromCbor(value, 'issuance', issuanceBodyFromCbor);
}
