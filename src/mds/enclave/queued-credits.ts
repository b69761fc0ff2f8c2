// Queued credits in the DCPs' reports (docs/mds.md, "Supply and settlement"). A DCP queues a credit
// for an SE (a refund the MDS decided, an online transfer's credit) before it mints it: the value is
// in the DCP's pool from then on, but the issuance that mints it exists only after the SE's next
// sync. So the DCP reports the queued credit, and later reports the minting issuance together with
// the ids of the credits it minted (a mint). The rule, a function of the recorded facts alone:
//
//   a reported credit counts as issued by its DCP while no mint names it; once one does, the
//   issuance counts instead, never both.
//
// Both are facts keyed by the DCP and its credit id, recorded once (an identical repeat is no
// change, a different one `reportConflict`), so any order and any duplication converge: a mint
// reported before its credit makes the credit count for nothing when it arrives. A mint travels in
// the same report as its issuance (`reportMintInvalid` otherwise), so no state of the records ever
// holds a minted issuance whose credits still count.
import type { Executor, Row } from '../../storage/database.ts';
import { columnBigint, columnText } from '../../storage/decode.ts';
import { mdsError } from '../api/errors.ts';
import type { ReportedCredit, ReportedMint } from '../channel/protocol.ts';
import type { EnclaveTables } from './store.ts';

/** What a mint needs of the issuance it names: its kind and the SE it pays. */
export interface MintingIssuance {
  readonly entryId: string;
  readonly kind: string;
  readonly seId: string;
}

/** A mint checked against its issuance in the same report, ready to record. */
export interface CheckedMint extends ReportedMint {
  readonly kind: ReportedCredit['kind'];
  readonly seId: string;
}

/** Every mint names a credit or refund issuance of the same report (`reportMintInvalid`). */
export function checkMints(
  mints: readonly ReportedMint[],
  issuances: readonly MintingIssuance[],
): CheckedMint[] {
  const byId = new Map(issuances.map((issuance) => [issuance.entryId, issuance]));
  return mints.map((mint, index) => {
    const issuance = byId.get(mint.issuanceId);
    if (issuance === undefined)
      throw mdsError('reportMintInvalid', `mints[${index}] names an issuance outside this report`);
    if (issuance.kind !== 'credit' && issuance.kind !== 'refund')
      throw mdsError('reportMintInvalid', `mints[${index}] names a ${issuance.kind} issuance`);
    return { ...mint, kind: issuance.kind, seId: issuance.seId };
  });
}

/** Records one queued credit: 1 when new, 0 when recorded identically; refused when it contradicts. */
export async function recordCredit(
  tx: Executor,
  tables: EnclaveTables,
  dcpId: string,
  credit: ReportedCredit,
  nowMs: number,
): Promise<number> {
  const held = await byCredit(
    tx,
    tables.reportedCredits,
    'se_id, kind, value, queued_at_ms',
    dcpId,
    credit.creditId,
  );
  if (held !== undefined) {
    const same =
      columnText(held, 'se_id') === credit.seId &&
      columnText(held, 'kind') === credit.kind &&
      columnBigint(held, 'value') === credit.value &&
      columnBigint(held, 'queued_at_ms') === BigInt(credit.queuedAtMs);
    if (!same) throw mdsError('reportConflict', `credit ${credit.creditId} is recorded with other content`);
    return 0;
  }
  await checkAgainstMint(tx, tables, dcpId, credit);
  return tx.run(
    `INSERT INTO ${tables.reportedCredits} (dcp_id, credit_id, se_id, kind, value, queued_at_ms, reported_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dcp_id, credit_id) DO NOTHING`,
    [dcpId, credit.creditId, credit.seId, credit.kind, credit.value, credit.queuedAtMs, nowMs],
  );
}

/** Records one mint: 1 when new, 0 when recorded identically; refused when it contradicts. */
export async function recordMint(
  tx: Executor,
  tables: EnclaveTables,
  dcpId: string,
  mint: CheckedMint,
  nowMs: number,
): Promise<number> {
  const held = await byCredit(tx, tables.creditMints, 'entry_id', dcpId, mint.creditId);
  if (held !== undefined) {
    if (columnText(held, 'entry_id') !== mint.issuanceId)
      throw mdsError('reportConflict', `credit ${mint.creditId} is recorded minted by another issuance`);
    return 0;
  }
  const credit = await byCredit(tx, tables.reportedCredits, 'se_id, kind', dcpId, mint.creditId);
  if (credit !== undefined) sameCredit(mint, columnText(credit, 'kind'), columnText(credit, 'se_id'));
  return tx.run(
    `INSERT INTO ${tables.creditMints} (dcp_id, credit_id, entry_id, kind, se_id, reported_at_ms)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dcp_id, credit_id) DO NOTHING`,
    [dcpId, mint.creditId, mint.issuanceId, mint.kind, mint.seId, nowMs],
  );
}

/** A credit reported after its mint must be of the kind and for the SE of the issuance that minted it. */
async function checkAgainstMint(
  tx: Executor,
  tables: EnclaveTables,
  dcpId: string,
  credit: ReportedCredit,
): Promise<void> {
  const mint = await byCredit(tx, tables.creditMints, 'kind, se_id', dcpId, credit.creditId);
  if (mint !== undefined) sameCredit(credit, columnText(mint, 'kind'), columnText(mint, 'se_id'));
}

/** The row of a credits or mints table for one DCP's credit id, if any. */
async function byCredit(
  tx: Executor,
  table: string,
  columns: string,
  dcpId: string,
  creditId: string,
): Promise<Row | undefined> {
  return (
    await tx.all(`SELECT ${columns} FROM ${table} WHERE dcp_id = ? AND credit_id = ?`, [dcpId, creditId])
  )[0];
}

function sameCredit(
  item: { readonly creditId: string; readonly kind: string; readonly seId: string },
  kind: string,
  seId: string,
): void {
  if (item.kind !== kind || item.seId !== seId)
    throw mdsError(
      'reportMintInvalid',
      `credit ${item.creditId} is a ${kind} for SE ${seId}, its issuance a ${item.kind} for ${item.seId}`,
    );
}

/** Per DCP: the value of the credits it reported queued that no mint names yet. */
export async function queuedCredits(tx: Executor, tables: EnclaveTables): Promise<Map<string, bigint>> {
  const rows = await tx.all(
    `SELECT c.dcp_id, CAST(SUM(c.value) AS BIGINT) AS total FROM ${tables.reportedCredits} c
       WHERE NOT EXISTS (SELECT 1 FROM ${tables.creditMints} m WHERE m.dcp_id = c.dcp_id AND m.credit_id = c.credit_id)
       GROUP BY c.dcp_id`,
  );
  return new Map(rows.map((row) => [columnText(row, 'dcp_id'), columnBigint(row, 'total')]));
}
