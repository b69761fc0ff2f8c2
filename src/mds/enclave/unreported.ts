// Fake funding by a real DCP key (docs/mds.md, "Detectors"): an issuance that verifies under a DCP
// issuer of trust.json but that the DCP never reported (`POST /v1/reports`) was minted off the books,
// or by someone holding a stolen DCP key. A DCP reports from its outbox and may lag the uploads, so
// the decision waits for a settling window after the issuance first entered the graph:
//
//   merged (outcome NULL) ──window ends, report held──▶ reported
//                         └─window ends, no report───▶ raised  (one fakeFunding alert)
//
// Both ends are final. The decision depends only on facts at the window's end (is the report
// recorded?) and on when the issuance was first merged, never on the order uploads arrived in; the
// sweep runs on the enclave's clock, so a test injects the clock and a short window. A report that
// arrives after the alert was raised does not withdraw it: by then the alert may have revoked the SE
// (fakeFunding is confirmed automatically), and a report later than the window is itself the
// anomaly the window exists to catch; the analyst sees both (the report is recorded).
import type { Verifier } from '../../core/crypto.ts';
import type { Executor } from '../../storage/database.ts';
import { columnBigint, columnText } from '../../storage/decode.ts';
import { lockAlertSequence, raiseAll, type Finding } from './detectors.ts';
import type { EnclaveTables } from './store.ts';
import type { UploadFacts } from './upload-facts.ts';

/** How long a DCP has, after an issuance first enters the graph, to have reported it (MDS clock). */
export const issuanceReportWindowMsDefault = 10 * 60_000;
/**
 * The enclave process also takes the window from this environment variable (inherited through
 * `cbdc serve mds`, which forks it): how an end-to-end test shortens it without a flag on every
 * command in between. `--report-window-ms` wins over it.
 */
export const reportWindowVariable = 'CBDC_MDS_REPORT_WINDOW_MS';
/** Issuances one sweep settles: bounds its transaction; the next sweep takes the rest. */
export const issuancesSettledMax = 256;

/** Rows per multi-row INSERT of arrivals (5 columns: 500 placeholders). */
const arrivalRowsMax = 100;

interface Arrival {
  readonly entryId: string;
  readonly dcpId: string;
  readonly owner: string;
  readonly value: bigint;
}

/**
 * The DCP-signed issuances among an upload's facts, each with the SE it pays (output 0): every
 * transfer that spends its outputs is signed by that owner (ingest rule 7), so it is the SE that
 * first spent the issuance, or claimed it, whichever it did.
 */
export function arrivalsOf(facts: Pick<UploadFacts, 'entries' | 'tokens'>): Arrival[] {
  const firstOwner = new Map<string, string>();
  for (const token of facts.tokens)
    if (!firstOwner.has(token.parent)) firstOwner.set(token.parent, token.owner);
  const arrivals: Arrival[] = [];
  for (const entry of facts.entries) {
    if (entry.kind !== 'issuance' || !entry.backed) continue;
    const owner = firstOwner.get(entry.id);
    if (owner !== undefined)
      arrivals.push({ entryId: entry.id, dcpId: entry.signer, owner, value: entry.value });
  }
  return arrivals;
}

/** Records when each issuance first entered the graph; a later merge of it changes nothing. */
export async function recordArrivals(
  tx: Executor,
  tables: EnclaveTables,
  facts: Pick<UploadFacts, 'entries' | 'tokens'>,
  nowMs: number,
): Promise<void> {
  const arrivals = arrivalsOf(facts);
  for (let start = 0; start < arrivals.length; start += arrivalRowsMax) {
    const chunk = arrivals.slice(start, start + arrivalRowsMax);
    await tx.run(
      `INSERT INTO ${tables.issuanceArrivals} (entry_id, dcp_id, owner, value, first_seen_ms)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')} ON CONFLICT (entry_id) DO NOTHING`,
      chunk.flatMap((arrival) => [arrival.entryId, arrival.dcpId, arrival.owner, arrival.value, nowMs]),
    );
  }
}

/**
 * Settles the issuances whose window has ended, at most `issuancesSettledMax`: reported ones are
 * marked so, the others raise `fakeFunding` (subject: the issuance; blamed: its owner; value: its
 * outputs; evidence: the issuance). Returns how many were settled.
 */
export async function settleIssuances(
  tx: Executor,
  tables: EnclaveTables,
  verifier: Verifier,
  windowMs: number,
  nowMs: number,
): Promise<number> {
  // The alert lock first: of two workers sweeping at once, the second reads after the first committed.
  const sequence = await lockAlertSequence(tx, tables);
  const rows = await tx.all(
    `SELECT a.entry_id, a.owner, a.value, r.entry_id AS reported FROM ${tables.issuanceArrivals} a
     LEFT JOIN ${tables.reportedIssuances} r ON r.entry_id = a.entry_id
     WHERE a.outcome IS NULL AND a.first_seen_ms <= ? ORDER BY a.first_seen_ms, a.entry_id LIMIT ?`,
    [nowMs - windowMs, issuancesSettledMax],
  );
  const findings: Finding[] = [];
  for (const row of rows) {
    const entryId = columnText(row, 'entry_id');
    const reported = row['reported'] !== null && row['reported'] !== undefined;
    await tx.run(`UPDATE ${tables.issuanceArrivals} SET outcome = ? WHERE entry_id = ?`, [
      reported ? 'reported' : 'raised',
      entryId,
    ]);
    if (!reported)
      findings.push({
        kind: 'fakeFunding',
        subject: entryId,
        seId: columnText(row, 'owner'),
        value: columnBigint(row, 'value'),
        evidence: [entryId],
      });
  }
  await raiseAll(tx, tables, verifier, findings, sequence, nowMs);
  return rows.length;
}
