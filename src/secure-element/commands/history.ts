// Building a bundle from what the SE holds (DESIGN §4): the union of the inputs' histories in
// topological order, deduplicated, then the new transfer; with the certificate of every signer.
import { assert } from '../../core/assert.ts';
import { idKey, type EntryId, type PrincipalId } from '../../core/ids.ts';
import type { Certificate } from '../../core/certificate.ts';
import type { HistoryEntry } from '../../core/bundle.ts';
import { recordKeys, type TokenRecord } from '../records.ts';
import type { SecureElementView } from '../view.ts';
import type { IdentifiedEntry } from '../../core/validate-bundle.ts';

/**
 * Concatenates the histories and keeps each entry's first occurrence. Each history is ancestor-closed
 * and topologically ordered, so an entry's ancestors precede its first occurrence: the merge is
 * topologically ordered too.
 */
export function mergeHistories(tokens: readonly TokenRecord[]): EntryId[] {
  const seen = new Set<string>();
  const merged: EntryId[] = [];
  for (const token of tokens) {
    for (const id of token.entryIds) {
      const key = idKey(id);
      if (seen.has(key)) continue;
      seen.add(key);
      merged.push(id);
    }
  }
  return merged;
}

/** An entry as the view decodes it from its record: its kind and signed structure, no more. */
export function heldEntry(entry: IdentifiedEntry): HistoryEntry {
  return entry.kind === 'transfer'
    ? { kind: 'transfer', signed: entry.signed }
    : { kind: 'issuance', signed: entry.signed };
}

export function loadEntries(se: SecureElementView, ids: readonly EntryId[]): HistoryEntry[] {
  return ids.map((id) => {
    const entry = se.entry(id);
    assert(entry !== undefined, 'a held token references a history entry that is not stored');
    return entry;
  });
}

/** The certificates of every transfer signer in `entries`, own certificate included, each once. */
export function signerCertificates(
  se: SecureElementView,
  own: Certificate,
  entries: readonly HistoryEntry[],
): Certificate[] {
  const ownKey = idKey(own.body.subjectId);
  const byKey = new Map<string, Certificate>();
  for (const entry of entries) {
    if (entry.kind !== 'transfer') continue;
    const payerId: PrincipalId = entry.signed.body.payerId;
    const key = idKey(payerId);
    if (byKey.has(key)) continue;
    const certificate = key === ownKey ? own : se.certificate(payerId);
    assert(certificate !== undefined, 'a held history names a signer whose certificate is not stored');
    byKey.set(key, certificate);
  }
  return [...byKey.values()];
}

/**
 * Why an incoming history conflicts with what this SE holds: a transfer new to it spends a token it
 * holds, or one that a stored transfer spends. Both are double spends upstream (a clone, a compromised
 * SE); the SE could keep each branch, but never pay them together (every payee would refuse the merge
 * as `historyDoubleSpend`), so it refuses the second branch while it can still be refused at no cost.
 * The stored transfers are every `e/` record (asked of the view's RAM SpentIndex): the histories of the tokens held and of those spent
 * since the last sync. (A payment this SE made without change is not an entry: its own log holds it.)
 */
export function heldHistoryConflict(
  se: SecureElementView,
  entries: readonly IdentifiedEntry[],
): string | undefined {
  const incoming = new Set<string>();
  for (const entry of entries) {
    if (entry.kind !== 'transfer' || se.store.has(recordKeys.entry(entry.id))) continue;
    for (const input of entry.signed.body.inputs) {
      // A lookup per incoming input rather than a scan of every token held.
      if (se.store.has(recordKeys.token(input))) return 'a new transfer spends a token this SE holds';
      incoming.add(idKey(input));
    }
  }
  for (const input of incoming) {
    if (se.storedTransferSpends(input)) return 'a new transfer spends a token a held history spends';
  }
  return undefined;
}
