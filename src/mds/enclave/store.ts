// The enclave's SQL (both engines, the portable subset): uploads, the facts of the token graph and
// the reports of the DCPs. Facts are inserted with ON CONFLICT DO NOTHING, so merging is a set union
// (docs/mds.md, "Enclave"); the detectors' SQL is in `detectors.ts`.
import { present } from './present.ts';
import { fromHex, toHex, type Bytes } from '../../core/bytes.ts';
import { assert } from '../../core/assert.ts';
import type { Engine, Executor, Row } from '../../storage/database.ts';
import {
  columnBigint,
  columnOneOf,
  columnSafeInteger,
  columnText,
  columnTextOrNull,
} from '../../storage/decode.ts';
import type { UploadState, UploadStatus } from '../channel/protocol.ts';
import { isMdsErrorCode } from '../api/errors.ts';
import { isCoreErrorCode } from './refusals.ts';
import { enclaveTable } from './migrations.ts';
import type { KnownEntries } from './upload-facts.ts';
import type { BatchFacts } from './batch-facts.ts';

export const uploadStates: readonly UploadState[] = ['stored', 'ingested', 'refused'];
/** Ids per `IN (...)` lookup: well under both engines' placeholder limits. */
export const lookupIdsMax = 500;

export interface StoredUpload {
  readonly digest: string;
  readonly dcpId: string;
  readonly claim: Bytes;
  readonly sealed: Bytes;
  readonly seId: string;
  readonly counter: number;
  readonly status: UploadStatus;
}

export class EnclaveTables {
  readonly uploads: string;
  readonly entries: string;
  readonly spends: string;
  readonly tokens: string;
  readonly counters: string;
  readonly holdings: string;
  readonly reportedIssuances: string;
  readonly reportedRetirements: string;
  readonly alerts: string;
  readonly evidence: string;
  readonly alertSequence: string;
  readonly issuanceArrivals: string;
  readonly denials: string;
  readonly reportedCredits: string;
  readonly creditMints: string;

  constructor(engine: Engine) {
    const t = (name: string) => enclaveTable(engine, name);
    this.uploads = t('uploads');
    this.entries = t('entries');
    this.spends = t('spends');
    this.tokens = t('tokens');
    this.counters = t('counters');
    this.holdings = t('holdings');
    this.reportedIssuances = t('reported_issuances');
    this.reportedRetirements = t('reported_retirements');
    this.alerts = t('alerts');
    this.evidence = t('evidence');
    this.alertSequence = t('alert_sequence');
    this.issuanceArrivals = t('issuance_arrivals');
    this.denials = t('denials');
    this.reportedCredits = t('reported_credits');
    this.creditMints = t('credit_mints');
  }
}

export function uploadFromRow(row: Row): StoredUpload {
  const refusal = columnTextOrNull(row, 'refusal');
  assert(refusal === null || isMdsErrorCode(refusal) || isCoreErrorCode(refusal), `refusal code ${refusal}`);
  return {
    digest: columnText(row, 'digest'),
    dcpId: columnText(row, 'dcp_id'),
    claim: hexColumn(row, 'claim'),
    sealed: hexColumn(row, 'sealed'),
    seId: columnText(row, 'se_id'),
    counter: columnSafeInteger(row, 'se_counter'),
    status: {
      digest: columnText(row, 'digest'),
      state: columnOneOf(row, 'state', uploadStates),
      refusal,
    },
  };
}

function hexColumn(row: Row, column: string): Bytes {
  const bytes = fromHex(columnText(row, column));
  assert(bytes !== undefined, `database column ${column}: expected hex`);
  return bytes;
}

export async function readUpload(
  tx: Executor,
  tables: EnclaveTables,
  digest: string,
  lock = '',
): Promise<StoredUpload | undefined> {
  const rows = await tx.all(`SELECT * FROM ${tables.uploads} WHERE digest = ?${lock}`, [digest]);
  const row = rows[0];
  return row === undefined ? undefined : uploadFromRow(row);
}

export interface NewUpload {
  readonly digest: string;
  readonly dcpId: string;
  readonly claim: Bytes;
  readonly sealed: Bytes;
  readonly seId: string;
  readonly counter: number;
  readonly receivedAtMs: number;
}

/** Inserts unless the digest is present; true when this call inserted it. */
export async function insertUpload(tx: Executor, tables: EnclaveTables, upload: NewUpload): Promise<boolean> {
  const changed = await tx.run(
    `INSERT INTO ${tables.uploads} (digest, dcp_id, claim, sealed, se_id, se_counter, state, received_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, 'stored', ?) ON CONFLICT (digest) DO NOTHING`,
    [
      upload.digest,
      upload.dcpId,
      toHex(upload.claim),
      toHex(upload.sealed),
      upload.seId,
      upload.counter,
      upload.receivedAtMs,
    ],
  );
  return changed === 1;
}

/**
 * The `uploadsMax` oldest stored uploads, locked for this transaction. On PostgreSQL `SKIP LOCKED`
 * lets several workers take different uploads at once; SQLite runs one writer, so no lock clause.
 */
export async function takeStoredUploads(
  tx: Executor,
  tables: EnclaveTables,
  uploadsMax: number,
): Promise<StoredUpload[]> {
  const lock = tx.engine === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
  const rows = await tx.all(
    `SELECT * FROM ${tables.uploads} WHERE state = 'stored' ORDER BY received_at_ms, digest LIMIT ?${lock}`,
    [uploadsMax],
  );
  return rows.map(uploadFromRow);
}

/** What ingest decided of one upload: its final state, refusal code and plaintext digest. */
export interface UploadOutcome {
  readonly digest: string;
  readonly state: 'ingested' | 'refused';
  readonly refusal: string | null;
  readonly plaintextSha256: string | null;
}

/** Uploads per UPDATE of `finishUploads` (6 placeholders each). */
const finishedUploadsMax = 100;

/** Records every outcome of a batch in one statement (per `finishedUploadsMax`), not one per upload. */
export async function finishUploads(
  tx: Executor,
  tables: EnclaveTables,
  outcomes: readonly UploadOutcome[],
  nowMs: number,
): Promise<void> {
  for (let start = 0; start < outcomes.length; start += finishedUploadsMax) {
    const chunk = outcomes.slice(start, start + finishedUploadsMax);
    const cases = (column: 'state' | 'refusal' | 'plaintextSha256') => ({
      sql: `CASE digest ${chunk.map(() => 'WHEN ? THEN ?').join(' ')} END`,
      params: chunk.flatMap((outcome) => [outcome.digest, outcome[column]]),
    });
    const [state, refusal, plaintext] = [cases('state'), cases('refusal'), cases('plaintextSha256')];
    const changed = await tx.run(
      `UPDATE ${tables.uploads} SET state = ${state.sql}, refusal = ${refusal.sql}, plaintext_sha256 = ${plaintext.sql},
       ingested_at_ms = ? WHERE state = 'stored' AND digest IN (${chunk.map(() => '?').join(', ')})`,
      [
        ...state.params,
        ...refusal.params,
        ...plaintext.params,
        nowMs,
        ...chunk.map((outcome) => outcome.digest),
      ],
    );
    assert(changed === chunk.length, 'an upload is finished once, by the worker that holds it');
  }
}

/** The replay rule's key of an upload: its SE and the digest of its plaintext. */
export function twinKey(seId: string, plaintextSha256: string): string {
  return `${seId}:${plaintextSha256}`;
}

/**
 * Which of `pairs` (an SE and a plaintext digest) another upload already ingested: the replay rule,
 * for a whole batch in one query per `lookupIdsMax` pairs. Keys are `twinKey`s.
 */
export async function ingestedTwins(
  tx: Executor,
  tables: EnclaveTables,
  pairs: readonly { readonly seId: string; readonly plaintextSha256: string }[],
): Promise<Set<string>> {
  const wanted = new Set(pairs.map((pair) => twinKey(pair.seId, pair.plaintextSha256)));
  const found = new Set<string>();
  for (let start = 0; start < pairs.length; start += lookupIdsMax) {
    const chunk = pairs.slice(start, start + lookupIdsMax);
    const list = chunk.map(() => '?').join(', ');
    // Rows of the same SEs under other plaintexts may come back too: only exact pairs count.
    const rows = await tx.all(
      `SELECT se_id, plaintext_sha256 FROM ${tables.uploads}
       WHERE state = 'ingested' AND plaintext_sha256 IN (${list}) AND se_id IN (${list})`,
      [...chunk.map((pair) => pair.plaintextSha256), ...chunk.map((pair) => pair.seId)],
    );
    for (const row of rows) {
      const key = twinKey(columnText(row, 'se_id'), columnText(row, 'plaintext_sha256'));
      if (wanted.has(key)) found.add(key);
    }
  }
  return found;
}

/** The entries among `ids` already in the graph, with their envelopes (not verified twice). */
export async function knownEntries(
  tx: Executor,
  tables: EnclaveTables,
  ids: readonly string[],
): Promise<KnownEntries> {
  const known = new Map<string, { envelope: string; backed: boolean }>();
  for (let start = 0; start < ids.length; start += lookupIdsMax) {
    const chunk = ids.slice(start, start + lookupIdsMax);
    const rows = await tx.all(
      `SELECT entry_id, envelope, backed FROM ${tables.entries} WHERE entry_id IN (${chunk.map(() => '?').join(', ')})`,
      chunk,
    );
    for (const row of rows)
      known.set(columnText(row, 'entry_id'), {
        envelope: columnText(row, 'envelope'),
        backed: columnBigint(row, 'backed') === 1n,
      });
  }
  return known;
}

/** Rows per multi-row INSERT: bounds the statement (7 columns × 100 = 700 placeholders). */
const insertRowsMax = 100;

/** Inserts `rows` into `table`, skipping those whose `key` is present: one statement per `insertRowsMax`. */
export async function insertMany(
  tx: Executor,
  table: string,
  columns: readonly string[],
  key: string,
  rows: readonly (readonly (string | number | bigint)[])[],
): Promise<void> {
  for (let start = 0; start < rows.length; start += insertRowsMax) {
    const chunk = rows.slice(start, start + insertRowsMax);
    const placeholders = chunk.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
    await tx.run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${placeholders} ON CONFLICT (${key}) DO NOTHING`,
      chunk.flat(),
    );
  }
}

/**
 * Merges a batch's facts (batch-facts.ts): a set union, so merging twice or in any order leaves the
 * same rows.
 *
 * An entry id is the digest of its body only, so two uploads may carry the same body under different
 * signatures (a twin): a forged signature on a known body, or a key holder signing it again. The row
 * kept is a function of all the envelopes seen, not of their order: a backed envelope (its signature
 * verified under a DCP issuer or a chaining certificate) replaces an unbacked one, and among equals
 * the smaller envelope (hex) wins. A forged twin therefore never replaces verified evidence, and
 * verified evidence arriving after a forged twin replaces it.
 */
export async function mergeFacts(tx: Executor, tables: EnclaveTables, facts: BatchFacts): Promise<void> {
  await upsertEntries(tx, tables, facts.entries);
  await insertMany(
    tx,
    tables.tokens,
    ['token_id', 'value', 'owner', 'parent_entry', 'generation'],
    'token_id',
    facts.tokens.map((token) => [token.id, token.value, token.owner, token.parent, token.generation]),
  );
  await insertMany(
    tx,
    tables.spends,
    ['token_id', 'transfer_id'],
    'token_id, transfer_id',
    facts.spends.map((spend) => [spend.tokenId, spend.transferId]),
  );
  await insertMany(
    tx,
    tables.counters,
    ['se_id', 'counter', 'transfer_id'],
    'se_id, counter, transfer_id',
    facts.counters.map((row) => [row.seId, row.counter, row.transferId]),
  );
  await insertMany(
    tx,
    tables.holdings,
    ['upload_digest', 'token_id', 'value'],
    'upload_digest, token_id',
    facts.holdings.map((holding) => [holding.uploadDigest, holding.tokenId, holding.value]),
  );
}

async function upsertEntries(
  tx: Executor,
  tables: EnclaveTables,
  entries: BatchFacts['entries'],
): Promise<void> {
  const columns = ['entry_id', 'kind', 'signer', 'backed', 'value', 'paid', 'envelope', 'advisory_time'];
  for (let start = 0; start < entries.length; start += insertRowsMax) {
    const chunk = entries.slice(start, start + insertRowsMax);
    const placeholders = chunk.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
    await tx.run(
      `INSERT INTO ${tables.entries} AS held (${columns.join(', ')}) VALUES ${placeholders}
       ON CONFLICT (entry_id) DO UPDATE SET backed = excluded.backed, envelope = excluded.envelope
       WHERE excluded.backed > held.backed OR (excluded.backed = held.backed AND excluded.envelope < held.envelope)`,
      chunk.flatMap((entry) => [
        entry.id,
        entry.kind,
        entry.signer,
        entry.backed ? 1 : 0,
        entry.value,
        entry.paid,
        entry.envelope,
        entry.time,
      ]),
    );
  }
}

export async function countRows(executor: Executor, table: string): Promise<number> {
  const rows = await executor.all(`SELECT COUNT(*) AS n FROM ${table}`);
  return columnSafeInteger(present(rows[0], 'COUNT answers one row'), 'n');
}
