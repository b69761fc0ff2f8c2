// The detectors (docs/mds.md, "Enclave"): each alert is derived from the facts in the graph alone,
// never from the order they arrived in, so any ingest order of the same uploads ends with the same
// alerts, values and evidence. An alert's id is the digest of its kind and its subject (the token
// spent twice, the SE counter reused, the transfer that created value, the uncertified SE): more
// evidence for the same subject updates the same alert.
//
// Concurrency: `lockAlertSequence` is taken (FOR UPDATE on PostgreSQL) before the batch's facts are
// inserted, so before any detector reads, and held until commit. Of two workers merging related
// facts, the second to take the lock reads after the first committed, so it sees both and raises.
import { present } from './present.ts';
import { concatBytes, toHex, utf8 } from '../../core/bytes.ts';
import { assert } from '../../core/assert.ts';
import type { Verifier } from '../../core/crypto.ts';
import { fromHex } from '../../core/bytes.ts';
import type { Executor } from '../../storage/database.ts';
import { columnBigint, columnSafeInteger, columnText } from '../../storage/decode.ts';
import type { AlertKind } from '../channel/protocol.ts';
import type { EnclaveTables } from './store.ts';
import type { FakeFunding } from './upload-facts.ts';
import type { BatchFacts } from './batch-facts.ts';

export interface Finding {
  readonly kind: AlertKind;
  readonly subject: string;
  readonly seId: string;
  readonly value: bigint;
  /** Entry ids, sorted. */
  readonly evidence: readonly string[];
}

export function alertId(verifier: Verifier, kind: AlertKind, subject: string): string {
  const subjectBytes = fromHex(subject);
  assert(subjectBytes !== undefined, 'an alert subject is hex');
  return toHex(verifier.sha256(concatBytes(utf8(kind), Uint8Array.of(0), subjectBytes)));
}

export async function lockAlertSequence(tx: Executor, tables: EnclaveTables): Promise<number> {
  const lock = tx.engine === 'postgres' ? ' FOR UPDATE' : '';
  const rows = await tx.all(`SELECT value FROM ${tables.alertSequence} WHERE name = 'alerts'${lock}`);
  return columnSafeInteger(present(rows[0], 'the alert sequence row exists'), 'value');
}

/**
 * Runs every detector over the subjects a batch's facts touched; raises or updates alerts. The
 * caller holds the alert sequence lock (`lockAlertSequence`), taken before its first write, and
 * passes the sequence it read.
 */
export async function detect(
  tx: Executor,
  tables: EnclaveTables,
  verifier: Verifier,
  facts: BatchFacts,
  locked: { readonly sequence: number; readonly nowMs: number },
): Promise<void> {
  const { sequence, nowMs } = locked;
  const findings: Finding[] = facts.fakeFunding.map((finding: FakeFunding) => ({
    kind: 'fakeFunding',
    ...finding,
  }));
  // One grouped query per chunk finds the few subjects spent or signed twice; only those are read in
  // full. A token is also spent twice when a transfer consumed it offline and a DCP retired it.
  const tokenIds = [...new Set(facts.spends.map((spend) => spend.tokenId))];
  const twice = new Set([
    ...(await repeated(tx, tables.spends, 'token_id', tokenIds)),
    ...(await retiredAmong(tx, tables, tokenIds)),
  ]);
  for (const tokenId of [...twice].sort()) {
    const finding = await doubleSpend(tx, tables, tokenId);
    if (finding !== undefined) findings.push(finding);
  }
  const counterKeys = new Set(facts.counters.map((row) => `${row.seId}:${row.counter}`));
  const signers = [...new Set(facts.counters.map((row) => row.seId))];
  for (const key of await repeated(tx, tables.counters, 'se_id', signers, 'counter')) {
    if (!counterKeys.has(key)) continue;
    const [seId = '', counter = ''] = key.split(':');
    const finding = await counterReuse(tx, tables, seId, Number(counter));
    if (finding !== undefined) findings.push(finding);
  }
  const uncertified = new Set(
    facts.entries.filter((entry) => entry.kind === 'transfer' && !entry.backed).map((entry) => entry.signer),
  );
  for (const seId of uncertified) findings.push(await unknownSigner(tx, tables, seId));
  const payers = [
    ...new Set(facts.entries.filter((entry) => entry.kind === 'transfer').map((e) => e.signer)),
  ];
  findings.push(...(await revokedSigners(tx, tables, payers.sort())));
  await raiseAll(tx, tables, verifier, findings, sequence, nowMs);
}

/**
 * `revokedSigner` for each of `seIds` the directory's deny lists named: its transfers whose advisory
 * time is at or after the first list naming it (docs/mds.md, "Detectors": the order rests on the
 * payer's clock). Value: what they paid (output 0). None when no such transfer is in the graph.
 */
export async function revokedSigners(
  tx: Executor,
  tables: EnclaveTables,
  seIds: readonly string[],
): Promise<Finding[]> {
  const findings: Finding[] = [];
  // One lookup per chunk finds the few denied SEs among them (usually none): honest traffic costs one query.
  const listedAt = new Map<string, number>();
  for (let start = 0; start < seIds.length; start += repeatedIdsMax) {
    const chunk = seIds.slice(start, start + repeatedIdsMax);
    const rows = await tx.all(
      `SELECT se_id, listed_at FROM ${tables.denials} WHERE se_id IN (${chunk.map(() => '?').join(', ')})`,
      chunk,
    );
    for (const row of rows) listedAt.set(columnText(row, 'se_id'), columnSafeInteger(row, 'listed_at'));
  }
  for (const seId of seIds) {
    const listed = listedAt.get(seId);
    if (listed === undefined) continue;
    const rows = await tx.all(
      `SELECT entry_id, paid FROM ${tables.entries}
       WHERE signer = ? AND kind = 'transfer' AND advisory_time >= ? ORDER BY entry_id`,
      [seId, listed],
    );
    if (rows.length === 0) continue;
    findings.push({
      kind: 'revokedSigner',
      subject: seId,
      seId,
      value: rows.reduce((sum, row) => sum + columnBigint(row, 'paid'), 0n),
      evidence: rows.map((row) => columnText(row, 'entry_id')),
    });
  }
  return findings;
}

/**
 * After a DCP reported retiring `tokenIds`: a token a transfer already consumed offline was spent
 * twice (claimed and renewed by the SE that had paid it away), whichever arrived first.
 */
export async function detectRetired(
  tx: Executor,
  tables: EnclaveTables,
  verifier: Verifier,
  tokenIds: readonly string[],
  nowMs: number,
): Promise<void> {
  const sequence = await lockAlertSequence(tx, tables);
  const findings: Finding[] = [];
  for (const tokenId of [...new Set(tokenIds)].sort()) {
    const finding = await doubleSpend(tx, tables, tokenId);
    if (finding !== undefined) findings.push(finding);
  }
  await raiseAll(tx, tables, verifier, findings, sequence, nowMs);
}

export async function raiseAll(
  tx: Executor,
  tables: EnclaveTables,
  verifier: Verifier,
  findings: readonly Finding[],
  sequenceBefore: number,
  nowMs: number,
): Promise<void> {
  let sequence = sequenceBefore;
  for (const finding of findings) {
    if (await raise(tx, tables, verifier, finding, sequence + 1, nowMs)) sequence++;
  }
  if (sequence !== sequenceBefore)
    await tx.run(`UPDATE ${tables.alertSequence} SET value = ? WHERE name = 'alerts'`, [sequence]);
}

/** Which of `tokenIds` a DCP reported retired. */
async function retiredAmong(
  tx: Executor,
  tables: EnclaveTables,
  tokenIds: readonly string[],
): Promise<string[]> {
  const found: string[] = [];
  for (let start = 0; start < tokenIds.length; start += repeatedIdsMax) {
    const chunk = tokenIds.slice(start, start + repeatedIdsMax);
    const rows = await tx.all(
      `SELECT token_id FROM ${tables.reportedRetirements} WHERE token_id IN (${chunk.map(() => '?').join(', ')})`,
      chunk,
    );
    for (const row of rows) found.push(columnText(row, 'token_id'));
  }
  return found;
}

/** Ids per grouped lookup: well under both engines' placeholder limits. */
const repeatedIdsMax = 500;

/**
 * The values of `column` among `ids` (with `extra`, as `value:extra`) that occur in two or more rows
 * of `table`: the candidates for a double spend or a counter reuse.
 */
async function repeated(
  tx: Executor,
  table: string,
  column: string,
  ids: readonly string[],
  extra?: string,
): Promise<string[]> {
  const found: string[] = [];
  const columns = extra === undefined ? column : `${column}, ${extra}`;
  for (let start = 0; start < ids.length; start += repeatedIdsMax) {
    const chunk = ids.slice(start, start + repeatedIdsMax);
    const rows = await tx.all(
      `SELECT ${columns} FROM ${table} WHERE ${column} IN (${chunk.map(() => '?').join(', ')})
       GROUP BY ${columns} HAVING COUNT(*) > 1`,
      chunk,
    );
    for (const row of rows) {
      const value = columnText(row, column);
      found.push(extra === undefined ? value : `${value}:${columnSafeInteger(row, extra)}`);
    }
  }
  return found;
}

/**
 * One token consumed twice: by two or more transfers, or by a transfer and a DCP's retirement (the
 * owner paid it away offline and still claimed it). Blames the transfers' signer, the token's owner;
 * the evidence is the transfers (a retirement is a report, not an entry).
 */
async function doubleSpend(
  tx: Executor,
  tables: EnclaveTables,
  tokenId: string,
): Promise<Finding | undefined> {
  const rows = await tx.all(
    `SELECT s.transfer_id, e.signer FROM ${tables.spends} s JOIN ${tables.entries} e ON e.entry_id = s.transfer_id
     WHERE s.token_id = ? ORDER BY s.transfer_id`,
    [tokenId],
  );
  const retired = await tx.all(`SELECT token_id FROM ${tables.reportedRetirements} WHERE token_id = ?`, [
    tokenId,
  ]);
  if (rows.length + retired.length < 2) return undefined;
  const token = await tx.all(`SELECT value FROM ${tables.tokens} WHERE token_id = ?`, [tokenId]);
  return {
    kind: 'doubleSpend',
    subject: tokenId,
    seId: columnText(present(rows[0], 'two spends'), 'signer'),
    value: columnBigint(present(token[0], 'a spent token was merged with its producer'), 'value'),
    evidence: rows.map((row) => columnText(row, 'transfer_id')),
  };
}

/** One SE counter on two or more transfers; value: what they paid (output 0) beyond the largest payment. */
async function counterReuse(
  tx: Executor,
  tables: EnclaveTables,
  seId: string,
  counter: number,
): Promise<Finding | undefined> {
  const rows = await tx.all(
    `SELECT c.transfer_id, e.paid FROM ${tables.counters} c JOIN ${tables.entries} e ON e.entry_id = c.transfer_id
     WHERE c.se_id = ? AND c.counter = ? ORDER BY c.transfer_id`,
    [seId, counter],
  );
  if (rows.length < 2) return undefined;
  const values = rows.map((row) => columnBigint(row, 'paid'));
  const total = values.reduce((sum, value) => sum + value, 0n);
  const largest = values.reduce((max, value) => (value > max ? value : max), 0n);
  return {
    kind: 'counterReuse',
    subject: seId + counter.toString(16).padStart(16, '0'),
    seId,
    value: total - largest,
    evidence: rows.map((row) => columnText(row, 'transfer_id')),
  };
}

/** Every transfer signed by an SE whose certificate does not chain to a DCP issuer; value: their total. */
async function unknownSigner(tx: Executor, tables: EnclaveTables, seId: string): Promise<Finding> {
  const rows = await tx.all(
    `SELECT entry_id, value FROM ${tables.entries} WHERE signer = ? AND kind = 'transfer' AND backed = 0 ORDER BY entry_id`,
    [seId],
  );
  assert(rows.length > 0, 'an uncertified signer has merged transfers');
  return {
    kind: 'unknownSigner',
    subject: seId,
    seId,
    value: rows.reduce((sum, row) => sum + columnBigint(row, 'value'), 0n),
    evidence: rows.map((row) => columnText(row, 'entry_id')),
  };
}

/** Inserts or updates the alert of `finding`; true when it took `sequence` (raised or changed). */
async function raise(
  tx: Executor,
  tables: EnclaveTables,
  verifier: Verifier,
  finding: Finding,
  sequence: number,
  nowMs: number,
): Promise<boolean> {
  const id = alertId(verifier, finding.kind, finding.subject);
  const evidence = [...finding.evidence].sort();
  const rows = await tx.all(`SELECT value, evidence_count FROM ${tables.alerts} WHERE id = ?`, [id]);
  const held = rows[0];
  if (held === undefined) {
    await tx.run(
      `INSERT INTO ${tables.alerts} (id, kind, se_id, value, evidence_count, raised_at_ms, sequence) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [id, finding.kind, finding.seId, finding.value, evidence.length, nowMs, sequence],
    );
  } else {
    const same =
      columnBigint(held, 'value') === finding.value &&
      columnSafeInteger(held, 'evidence_count') === evidence.length;
    if (same) return false;
    await tx.run(`UPDATE ${tables.alerts} SET value = ?, evidence_count = ?, sequence = ? WHERE id = ?`, [
      finding.value,
      evidence.length,
      sequence,
      id,
    ]);
  }
  for (const entryId of evidence)
    await tx.run(
      `INSERT INTO ${tables.evidence} (alert_id, entry_id) VALUES (?, ?) ON CONFLICT (alert_id, entry_id) DO NOTHING`,
      [id, entryId],
    );
  return true;
}
