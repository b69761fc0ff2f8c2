// One ingest batch's facts as one set (docs/mds.md, "Storing and ingesting"): the accepted uploads'
// facts in batch order, each row once, so that merging them costs one statement per table instead of
// one per upload and table (on PostgreSQL each statement is a round trip). The union is exactly what
// merging the uploads one after the other leaves: facts are keyed by content and inserted "ignore if
// present", so of equal keys the first is kept, as it would have been inserted first; of an entry's
// twins (the same id under different envelopes) the one `mergeFacts`' upsert would end with wins.
import type { RecoveryFacts } from './recovery-facts.ts';
import type { EntryFact, FakeFunding, TokenFact, UploadFacts } from './upload-facts.ts';

/** An upload the batch accepted: where it came from and what it brings. */
export interface AcceptedUpload {
  readonly digest: string;
  readonly dcpId: string;
  readonly facts: UploadFacts;
  readonly recovery: RecoveryFacts;
}

export interface BatchFacts {
  readonly entries: readonly EntryFact[];
  readonly tokens: readonly TokenFact[];
  readonly spends: UploadFacts['spends'];
  readonly counters: UploadFacts['counters'];
  readonly holdings: readonly {
    readonly uploadDigest: string;
    readonly tokenId: string;
    readonly value: bigint;
  }[];
  /** Every upload's findings, in batch order: the detectors raise them in that order. */
  readonly fakeFunding: readonly FakeFunding[];
}

export function batchFacts(accepted: readonly AcceptedUpload[]): BatchFacts {
  const all = accepted.map((upload) => upload.facts);
  return {
    entries: [...keptEntries(all.flatMap((facts) => facts.entries)).values()],
    tokens: firstByKey(
      all.flatMap((facts) => facts.tokens),
      (token) => token.id,
    ),
    spends: firstByKey(
      all.flatMap((facts) => facts.spends),
      (spend) => `${spend.tokenId}:${spend.transferId}`,
    ),
    counters: firstByKey(
      all.flatMap((facts) => facts.counters),
      (row) => `${row.seId}:${row.counter}:${row.transferId}`,
    ),
    holdings: accepted.flatMap((upload) =>
      firstByKey(upload.facts.holdings, (holding) => holding.tokenId).map((holding) => ({
        uploadDigest: upload.digest,
        ...holding,
      })),
    ),
    fakeFunding: all.flatMap((facts) => facts.fakeFunding),
  };
}

/** The first row of each key, in order. */
export function firstByKey<T>(rows: readonly T[], key: (row: T) => string): T[] {
  const seen = new Set<string>();
  const kept: T[] = [];
  for (const row of rows) {
    const id = key(row);
    if (seen.has(id)) continue;
    seen.add(id);
    kept.push(row);
  }
  return kept;
}

/**
 * One envelope per entry id, chosen as `mergeFacts` chooses against a held row: a backed envelope
 * over an unbacked one, then the smaller (hex) envelope. A total order, so the choice is the same
 * whichever upload brought which twin first.
 */
function keptEntries(entries: readonly EntryFact[]): Map<string, EntryFact> {
  const kept = new Map<string, EntryFact>();
  for (const entry of entries) {
    const held = kept.get(entry.id);
    if (held === undefined || preferredEntry(entry, held)) kept.set(entry.id, entry);
  }
  return kept;
}

/** Whether `candidate` replaces `held`, of an entry's twins, as `mergeFacts`' upsert decides. */
export function preferredEntry(
  candidate: Pick<EntryFact, 'backed' | 'envelope'>,
  held: Pick<EntryFact, 'backed' | 'envelope'>,
): boolean {
  if (candidate.backed !== held.backed) return candidate.backed;
  return candidate.envelope < held.envelope;
}
