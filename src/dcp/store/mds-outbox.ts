// The store's side of the MDS forwarding (domain/forwarding.ts, docs/dcp.md "Forwarding to the MDS"):
// the sealed uploads of `dcp_uploads` by state, and the report states of `dcp_issuances` and
// `dcp_retired_tokens`. Each write is one statement (or one transaction for a batch), outside any
// operation's transaction: the forwarding runs beside the operations and never holds their locks.
import { assert } from '../../core/assert.ts';
import type { Database, SqlValue } from '../../storage/database.ts';
import { columnBigint, columnOneOf, columnSafeInteger, columnText } from '../../storage/decode.ts';
import type {
  CreditRow,
  ForwardingFigures,
  IssuanceReport,
  MdsOutboxStore,
  PendingUpload,
  ReportBatch,
} from '../domain/ports.ts';

const creditKinds: readonly CreditRow['kind'][] = ['credit', 'refund'];

/** `?, ?, ?` for `count` parameters of an IN list. */
const placeholders = (count: number) => Array.from({ length: count }, () => '?').join(', ');

/**
 * A limit written into the SQL: SQLite plans a statement again for every value bound to `LIMIT ?`
 * (see `queuedCredits` in sql-store.ts), and these are constants of the code.
 */
function limitClause(limit: number): string {
  assert(Number.isSafeInteger(limit) && limit > 0, 'a forwarding limit is a positive integer');
  return `LIMIT ${limit}`;
}

export class SqlMdsOutbox implements MdsOutboxStore {
  constructor(private readonly db: Database) {}

  async dueUploads(nowMs: number, limit: number): Promise<PendingUpload[]> {
    const rows = await this.db.all(
      'SELECT digest, se_id, claim, sealed, attempts FROM dcp_uploads ' +
        "WHERE state = 'pending' AND next_attempt_at_ms <= ? ORDER BY created_at_ms, digest " +
        limitClause(limit),
      [nowMs],
    );
    return rows.map((row) => ({
      digest: columnText(row, 'digest'),
      seId: columnText(row, 'se_id'),
      // A pending row has its claim (the table's CHECK: only an unforwardable one has none).
      claim: columnText(row, 'claim'),
      sealed: columnText(row, 'sealed'),
      attempts: columnSafeInteger(row, 'attempts'),
    }));
  }

  async markUploadForwarded(digest: string, nowMs: number): Promise<void> {
    await this.db.run(
      "UPDATE dcp_uploads SET state = 'forwarded', forwarded_at_ms = ? WHERE digest = ? AND state = 'pending'",
      [nowMs, digest],
    );
  }

  async markUploadRefused(digest: string, refusal: string): Promise<void> {
    await this.db.run(
      "UPDATE dcp_uploads SET state = 'refused', refusal = ? WHERE digest = ? AND state = 'pending'",
      [refusal, digest],
    );
  }

  async postponeUpload(digest: string, attempts: number, nextAttemptAtMs: number): Promise<void> {
    await this.db.run(
      "UPDATE dcp_uploads SET attempts = ?, next_attempt_at_ms = ? WHERE digest = ? AND state = 'pending'",
      [attempts, nextAttemptAtMs, digest],
    );
  }

  async unreported(limit: number): Promise<ReportBatch> {
    const issuances = await this.db.all(
      "SELECT id, signed FROM dcp_issuances WHERE report_state = 'pending' ORDER BY created_at_ms, id " +
        limitClause(limit),
    );
    const retirements = await this.db.all(
      'SELECT token_id, value, se_id, upload_digest, created_at_ms FROM dcp_retired_tokens ' +
        "WHERE report_state = 'pending' ORDER BY created_at_ms, token_id " +
        limitClause(limit),
    );
    // A minted credit is reported through its issuance's link alone: only queued ones go as credits.
    const credits = await this.db.all(
      'SELECT id, se_id, kind, value, created_at_ms FROM dcp_credits ' +
        "WHERE report_state = 'pending' AND state = 'queued' ORDER BY created_at_ms, id " +
        limitClause(limit),
    );
    return {
      issuances: await this.withCredits(
        issuances.map((row) => ({ id: columnText(row, 'id'), signed: columnText(row, 'signed') })),
        limit,
      ),
      retirements: retirements.map((row) => ({
        tokenId: columnText(row, 'token_id'),
        value: columnBigint(row, 'value'),
        seId: columnText(row, 'se_id'),
        // A pending retirement has its digest (migration 4 marks the others unreportable).
        uploadDigest: columnText(row, 'upload_digest'),
        retiredAtMs: columnSafeInteger(row, 'created_at_ms'),
      })),
      credits: credits.map((row) => ({
        creditId: columnText(row, 'id'),
        seId: columnText(row, 'se_id'),
        kind: columnOneOf(row, 'kind', creditKinds),
        value: columnBigint(row, 'value'),
        queuedAtMs: columnSafeInteger(row, 'created_at_ms'),
      })),
    };
  }

  /**
   * Each issuance with the ids of the credits it minted, cut where the ids would pass `limit` (the
   * rest wait for the next batch). One issuance mints at most `creditsPerSyncMax` credits of its
   * kind, which fits a report: the first issuance always goes.
   */
  private async withCredits(
    issuances: readonly { readonly id: string; readonly signed: string }[],
    limit: number,
  ): Promise<IssuanceReport[]> {
    if (issuances.length === 0) return [];
    const rows = await this.db.all(
      `SELECT id, issuance_id FROM dcp_credits WHERE issuance_id IN (${placeholders(issuances.length)}) ORDER BY id`,
      issuances.map((issuance) => issuance.id),
    );
    const byIssuance = new Map<string, string[]>();
    for (const row of rows) {
      const issuanceId = columnText(row, 'issuance_id');
      byIssuance.set(issuanceId, [...(byIssuance.get(issuanceId) ?? []), columnText(row, 'id')]);
    }
    const reports: IssuanceReport[] = [];
    let named = 0;
    for (const issuance of issuances) {
      const credits = byIssuance.get(issuance.id) ?? [];
      assert(credits.length <= limit, 'an issuance mints at most creditsPerSyncMax credits');
      if (named + credits.length > limit) break;
      named += credits.length;
      reports.push({ ...issuance, credits });
    }
    return reports;
  }

  markReported(batch: ReportBatch): Promise<void> {
    return this.setReportState(batch, 'reported', null);
  }

  markReportRefused(batch: ReportBatch, refusal: string): Promise<void> {
    return this.setReportState(batch, 'refused', refusal);
  }

  private async setReportState(
    batch: ReportBatch,
    state: 'reported' | 'refused',
    refusal: string | null,
  ): Promise<void> {
    const issuanceIds = batch.issuances.map((issuance) => issuance.id);
    const tokenIds = batch.retirements.map((retirement) => retirement.tokenId);
    const creditIds = batch.credits.map((credit) => credit.creditId);
    await this.db.transaction(async (tx) => {
      const update = async (table: string, key: string, ids: readonly string[]) => {
        if (ids.length === 0) return;
        const parameters: SqlValue[] = [state, refusal, ...ids];
        await tx.run(
          `UPDATE ${table} SET report_state = ?, report_refusal = ? ` +
            `WHERE report_state = 'pending' AND ${key} IN (${placeholders(ids.length)})`,
          parameters,
        );
      };
      await update('dcp_issuances', 'id', issuanceIds);
      await update('dcp_retired_tokens', 'token_id', tokenIds);
      await update('dcp_credits', 'id', creditIds);
    });
  }

  async figures(): Promise<ForwardingFigures> {
    // Only the states that are not delivered are counted: they are few, and the index finds them.
    const count = async (sql: string) => {
      const rows = await this.db.all(sql);
      return new Map(rows.map((row) => [columnText(row, 'state'), columnSafeInteger(row, 'n')]));
    };
    const uploads = await count(
      'SELECT state, COUNT(*) AS n FROM dcp_uploads ' +
        "WHERE state IN ('pending', 'refused', 'unforwardable') GROUP BY state",
    );
    const issuances = await count(
      'SELECT report_state AS state, COUNT(*) AS n FROM dcp_issuances ' +
        "WHERE report_state IN ('pending', 'refused') GROUP BY report_state",
    );
    const retirements = await count(
      'SELECT report_state AS state, COUNT(*) AS n FROM dcp_retired_tokens ' +
        "WHERE report_state IN ('pending', 'refused', 'unreportable') GROUP BY report_state",
    );
    const credits = await count(
      'SELECT report_state AS state, COUNT(*) AS n FROM dcp_credits ' +
        "WHERE state = 'queued' AND report_state IN ('pending', 'refused') GROUP BY report_state",
    );
    const of = (counts: Map<string, number>, state: string) => counts.get(state) ?? 0;
    return {
      uploads: {
        pending: of(uploads, 'pending'),
        refused: of(uploads, 'refused'),
        unforwardable: of(uploads, 'unforwardable'),
      },
      issuances: { pending: of(issuances, 'pending'), refused: of(issuances, 'refused') },
      retirements: {
        pending: of(retirements, 'pending'),
        refused: of(retirements, 'refused'),
        unreportable: of(retirements, 'unreportable'),
      },
      credits: { pending: of(credits, 'pending'), refused: of(credits, 'refused') },
    };
  }
}
