// The hash-chained audit log (docs/mds.md, "Audit"; design §8: every read of evidence is written to
// it). Entry n's hash is SHA-256 over entry n−1's hash ‖ the canonical encoding of entry n, so
// changing, removing or reordering any stored entry breaks the chain at that entry or the next one,
// and the head (the newest sequence and hash, kept beside the entries) catches a removed tail.
//
// The canonical encoding is deterministic CBOR (RFC 8949 §4.2, core/cbor.ts) of
//   [version 1, sequence, atMs, participantId, role, action, subject]
// so the bytes hashed never depend on JSON, column order or an engine's text formatting.
import { concatBytes, fromHex, toHex } from '../../core/bytes.ts';
import { encodeCbor } from '../../core/cbor.ts';
import { digestBytes } from '../../core/crypto.ts';
import type { AuditEntry, AuditEvent, AuditHead, Hasher } from './types.ts';

const auditEncodingVersion = 1;
/** The previous hash of the first entry. */
export const genesisHash = '00'.repeat(digestBytes);
export const emptyHead: AuditHead = { sequence: 0, hash: genesisHash };

export function encodeAuditEntry(entry: AuditEvent & { readonly sequence: number; readonly atMs: number }) {
  return encodeCbor([
    auditEncodingVersion,
    entry.sequence,
    entry.atMs,
    entry.participantId,
    entry.role,
    entry.action,
    entry.subject,
  ]);
}

/** The hash of an entry after `prevHash`; a prevHash that is not 32 bytes of hex hashes as given. */
export function auditHash(
  hasher: Hasher,
  prevHash: string,
  entry: AuditEvent & { readonly sequence: number; readonly atMs: number },
): string {
  const previous = fromHex(prevHash) ?? new TextEncoder().encode(prevHash);
  return toHex(hasher.sha256(concatBytes(previous, encodeAuditEntry(entry))));
}

/** The entry that follows `head`: the next sequence, chained to the head's hash. */
export function nextAuditEntry(hasher: Hasher, head: AuditHead, event: AuditEvent, atMs: number): AuditEntry {
  const body = { ...event, sequence: head.sequence + 1, atMs };
  return { ...body, prevHash: head.hash, hash: auditHash(hasher, head.hash, body) };
}

/** Whether `entry` is the one that may follow `previous`: the next sequence, its link and its hash. */
export function followsInChain(hasher: Hasher, previous: AuditHead, entry: AuditEntry): boolean {
  return (
    entry.sequence === previous.sequence + 1 &&
    entry.prevHash === previous.hash &&
    entry.hash === auditHash(hasher, entry.prevHash, entry)
  );
}

export interface AuditVerdict {
  readonly entries: number;
  /** The first sequence whose entry does not follow its predecessor (or is missing), else null. */
  readonly firstBroken: number | null;
}

/**
 * Walks the whole chain from the first entry, a page at a time (`page(afterSequence)` gives the
 * entries after it in sequence order, a bounded number, empty at the end), then compares its end
 * with the stored head. The first entry that does not follow its predecessor is named (a missing
 * entry by its sequence); a removed tail by the first sequence missing before the head. Every entry
 * is counted, broken or not.
 */
export async function verifyAuditChain(
  hasher: Hasher,
  head: AuditHead,
  page: (afterSequence: number) => Promise<readonly AuditEntry[]>,
): Promise<AuditVerdict> {
  let previous = emptyHead;
  let entries = 0;
  let firstBroken: number | null = null;
  for (let batch = await page(0); batch.length > 0; batch = await page(previous.sequence)) {
    for (const entry of batch) {
      entries++;
      if (firstBroken === null && !followsInChain(hasher, previous, entry))
        firstBroken = Math.min(entry.sequence, previous.sequence + 1);
      previous = { sequence: entry.sequence, hash: entry.hash };
    }
  }
  return { entries, firstBroken: firstBroken ?? headMismatch(previous, head) };
}

/** Where the chain's end and the head disagree, or null when they agree. */
function headMismatch(end: AuditHead, head: AuditHead): number | null {
  if (end.sequence < head.sequence) return end.sequence + 1;
  if (end.sequence > head.sequence) return head.sequence + 1;
  return end.hash === head.hash ? null : Math.max(1, head.sequence);
}
