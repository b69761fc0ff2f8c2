// A bundle is what PAY returns and RECEIVE takes (DESIGN §4, §5): the paying transfer (last entry)
// with its whole history back to DCP issuances, topologically ordered and deduplicated, plus the
// certificates of every secure element that signed a transfer in it. DCP issuer certificates are not
// carried: every SE holds them as trust anchors.
import { decodeCbor, encodeCbor, FieldReader, type CborValue } from './cbor.ts';
import { certificateFromCbor, structureVersion, type Certificate } from './certificate.ts';
import { issuanceFromCbor, type Issuance } from './issuance.ts';
import { transferFromCbor, type Transfer } from './transfer.ts';
import { signedToCbor } from './signed.ts';
import type { Bytes } from './bytes.ts';

/** Hard bounds on a bundle's lists, whatever the signed limits say. */
export const bundleEntriesMax = 512;
export const bundleCertificatesMax = 256;

export type HistoryEntry =
  | { readonly kind: 'issuance'; readonly signed: Issuance }
  | { readonly kind: 'transfer'; readonly signed: Transfer };

export interface Bundle {
  readonly certificates: readonly Certificate[];
  readonly entries: readonly HistoryEntry[];
}

const entryTags = { issuance: 0, transfer: 1 } as const;

export function entryToCbor(entry: HistoryEntry): CborValue {
  return [entryTags[entry.kind], signedToCbor(entry.signed)];
}

export function entryFromCbor(value: CborValue, where: string): HistoryEntry {
  const reader = new FieldReader(value, where, 2);
  const tag = reader.uint(0, 'kind');
  if (tag === entryTags.issuance) return { kind: 'issuance', signed: issuanceFromCbor(reader.raw(1)) };
  if (tag === entryTags.transfer) return { kind: 'transfer', signed: transferFromCbor(reader.raw(1)) };
  throw FieldReader.invalid(`${where}.kind`, 'must be 0 (issuance) or 1 (transfer)');
}

export function encodeEntry(entry: HistoryEntry): Bytes {
  return encodeCbor(entryToCbor(entry));
}

export function decodeEntry(bytes: Bytes): HistoryEntry {
  return entryFromCbor(decodeCbor(bytes), 'entry');
}

export function encodeBundle(bundle: Bundle): Bytes {
  return encodeCbor([
    structureVersion,
    bundle.certificates.map(signedToCbor),
    bundle.entries.map(entryToCbor),
  ]);
}

export function decodeBundle(bytes: Bytes): Bundle {
  const reader = new FieldReader(decodeCbor(bytes), 'bundle', 3);
  reader.version(0, structureVersion);
  return {
    certificates: reader.array(1, 'certificates', bundleCertificatesMax, (item) => certificateFromCbor(item)),
    entries: reader.array(2, 'entries', bundleEntriesMax, entryFromCbor),
  };
}
