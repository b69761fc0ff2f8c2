// The MDS API process's store over the shared storage layer: prepared raw SQL in the subset both
// engines share. Lock order (see domain/ports.ts): idempotency key, alert cursor, alert, audit head.
import { assert } from '../../core/assert.ts';
import type { EnclaveAlert } from '../channel/protocol.ts';
import type { Database, Executor, SqlValue } from '../../storage/database.ts';
import { columnOneOf, columnSafeInteger, columnText } from '../../storage/decode.ts';
import { IdempotencyTable, type IdempotencyRecord } from '../../storage/idempotency.ts';
import { ServiceStore, ServiceTransaction } from '../../storage/service-store.ts';
import type { AlertCounts, AlertQuery, MdsStore, MdsTransaction } from '../domain/ports.ts';
import {
  alertKinds,
  alertStatuses,
  type AlertKind,
  type AlertRecord,
  type AlertStatus,
  type AuditEntry,
  type AuditHead,
  type Participant,
  type StoredResult,
} from '../domain/types.ts';
import { alertFromRow, auditEntryFromRow, decodeResult, encodeResult, participantTable } from './rows.ts';

const alertColumns =
  'id, position, kind, se_id, value, raised_at_ms, evidence_count, status, revocation_refusal';
const auditColumns = 'sequence, at_ms, participant_id, role, action, subject, prev_hash, hash';
const idempotencyTable = new IdempotencyTable('mds_idempotency', {
  encode: encodeResult,
  decode: decodeResult,
});
const tables = { participants: participantTable, idempotency: idempotencyTable };

export class SqlMdsStore extends ServiceStore<Participant, StoredResult> implements MdsStore {
  constructor(db: Database) {
    super(db, tables);
  }

  transaction<T>(body: (tx: MdsTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((executor) => body(new SqlMdsTransaction(executor, this.db.lockRows, tables)));
  }

  async idempotencyRecord(
    participantId: string,
    key: string,
  ): Promise<Required<IdempotencyRecord<StoredResult>> | null> {
    // Only committed claims are visible here: a claim inside another transaction has no answer yet.
    const rows = await this.db.all(
      'SELECT fingerprint, result, created_at_ms FROM mds_idempotency WHERE participant_id = ? AND idempotency_key = ?',
      [participantId, key],
    );
    const row = rows[0];
    if (row === undefined) return null;
    const result = row['result'];
    return {
      fingerprint: columnText(row, 'fingerprint'),
      result: result === null ? null : decodeResult(columnText(row, 'result')),
      createdAtMs: columnSafeInteger(row, 'created_at_ms'),
    };
  }

  async isRelayedUpload(dcpId: string, digest: string): Promise<boolean> {
    const rows = await this.db.all(
      'SELECT 1 AS one FROM mds_relayed_uploads WHERE dcp_id = ? AND digest = ?',
      [dcpId, digest],
    );
    return rows.length > 0;
  }

  alertCursor(): Promise<number> {
    return alertCursor(this.db, '');
  }

  async findAlert(id: string): Promise<AlertRecord | null> {
    const rows = await this.db.all(`SELECT ${alertColumns} FROM mds_alerts WHERE id = ?`, [id]);
    return rows[0] === undefined ? null : alertFromRow(rows[0]);
  }

  async alerts(query: AlertQuery): Promise<readonly AlertRecord[]> {
    const conditions = ['position > ?'];
    const params: SqlValue[] = [query.afterPosition];
    if (query.kind !== undefined) {
      conditions.push('kind = ?');
      params.push(query.kind);
    }
    if (query.status !== undefined) {
      conditions.push('status = ?');
      params.push(query.status);
    }
    const rows = await this.db.all(
      `SELECT ${alertColumns} FROM mds_alerts WHERE ${conditions.join(' AND ')} ORDER BY position LIMIT ?`,
      [...params, query.limit],
    );
    return rows.map(alertFromRow);
  }

  async revocationsPending(limit: number): Promise<readonly AlertRecord[]> {
    const rows = await this.db.all(
      `SELECT ${alertColumns} FROM mds_alerts WHERE status = 'confirmed' AND revocation_refusal IS NULL ` +
        'ORDER BY position LIMIT ?',
      [limit],
    );
    return rows.map(alertFromRow);
  }

  async alertCounts(): Promise<AlertCounts> {
    const rows = await this.db.all(
      'SELECT kind, status, revocation_refusal IS NULL AS pending, COUNT(*) AS n FROM mds_alerts ' +
        'GROUP BY kind, status, revocation_refusal IS NULL',
    );
    const byKind = Object.fromEntries(
      alertKinds.map((kind) => [kind, { open: 0, confirmed: 0, revoked: 0 }]),
    ) as Record<AlertKind, Record<AlertStatus, number>>;
    let revocationsPending = 0;
    for (const row of rows) {
      const count = columnSafeInteger(row, 'n');
      const status = columnOneOf(row, 'status', alertStatuses);
      byKind[columnOneOf(row, 'kind', alertKinds)][status] += count;
      // SQLite answers the comparison as 1/0, PostgreSQL as a boolean.
      const pending = row['pending'] === true || row['pending'] === 1n || row['pending'] === 1;
      if (status === 'confirmed' && pending) revocationsPending += count;
    }
    return { byKind, revocationsPending };
  }

  auditHead(): Promise<AuditHead> {
    return auditHead(this.db, '');
  }

  async auditEntries(afterSequence: number, limit: number): Promise<readonly AuditEntry[]> {
    const rows = await this.db.all(
      `SELECT ${auditColumns} FROM mds_audit WHERE sequence > ? ORDER BY sequence LIMIT ?`,
      [afterSequence, limit],
    );
    return rows.map(auditEntryFromRow);
  }
}

class SqlMdsTransaction extends ServiceTransaction<Participant, StoredResult> implements MdsTransaction {
  async recordRelayedUpload(dcpId: string, digest: string, receivedAtMs: number): Promise<void> {
    await this.tx.run(
      'INSERT INTO mds_relayed_uploads (dcp_id, digest, received_at_ms) VALUES (?, ?, ?) ' +
        'ON CONFLICT (dcp_id, digest) DO NOTHING',
      [dcpId, digest, receivedAtMs],
    );
  }

  lockAlertCursor(): Promise<number> {
    return alertCursor(this.tx, this.lockRows);
  }

  async setAlertCursor(sequence: number): Promise<void> {
    const changed = await this.tx.run('UPDATE mds_alert_cursor SET sequence = ? WHERE id = 1', [sequence]);
    assert(changed === 1, 'the first migration inserts the cursor');
  }

  async mirrorAlert(alert: EnclaveAlert): Promise<'inserted' | 'updated'> {
    const updated = await this.tx.run(
      'UPDATE mds_alerts SET value = ?, evidence_count = ?, enclave_sequence = ? WHERE id = ?',
      [alert.value, alert.evidenceCount, alert.sequence, alert.id],
    );
    if (updated === 1) return 'updated';
    // Positions follow the order of first copy; the cursor row is locked, so copies do not race.
    await this.tx.run(
      `INSERT INTO mds_alerts (${alertColumns}, enclave_sequence) ` +
        "SELECT ?, COALESCE(MAX(position), 0) + 1, ?, ?, ?, ?, ?, 'open', NULL, ? FROM mds_alerts",
      [alert.id, alert.kind, alert.seId, alert.value, alert.raisedAtMs, alert.evidenceCount, alert.sequence],
    );
    return 'inserted';
  }

  async lockAlert(id: string): Promise<AlertRecord | null> {
    const rows = await this.tx.all(`SELECT ${alertColumns} FROM mds_alerts WHERE id = ?${this.lockRows}`, [
      id,
    ]);
    return rows[0] === undefined ? null : alertFromRow(rows[0]);
  }

  async setAlertStatus(id: string, status: AlertStatus, revocationRefusal: string | null): Promise<void> {
    const changed = await this.tx.run(
      'UPDATE mds_alerts SET status = ?, revocation_refusal = ? WHERE id = ?',
      [status, revocationRefusal, id],
    );
    assert(changed === 1, `alert ${id} is mirrored`);
  }

  lockAuditHead(): Promise<AuditHead> {
    return auditHead(this.tx, this.lockRows);
  }

  async appendAuditEntry(entry: AuditEntry): Promise<void> {
    await this.tx.run(`INSERT INTO mds_audit (${auditColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
      entry.sequence,
      entry.atMs,
      entry.participantId,
      entry.role,
      entry.action,
      entry.subject,
      entry.prevHash,
      entry.hash,
    ]);
    const changed = await this.tx.run('UPDATE mds_audit_head SET sequence = ?, hash = ? WHERE id = 1', [
      entry.sequence,
      entry.hash,
    ]);
    assert(changed === 1, 'the first migration inserts the audit head');
  }
}

async function alertCursor(executor: Executor, lockRows: string): Promise<number> {
  const rows = await executor.all(`SELECT sequence FROM mds_alert_cursor WHERE id = 1${lockRows}`);
  assert(rows[0] !== undefined, 'the first migration inserts the cursor');
  return columnSafeInteger(rows[0], 'sequence');
}

async function auditHead(executor: Executor, lockRows: string): Promise<AuditHead> {
  const rows = await executor.all(`SELECT sequence, hash FROM mds_audit_head WHERE id = 1${lockRows}`);
  assert(rows[0] !== undefined, 'the first migration inserts the audit head');
  return { sequence: columnSafeInteger(rows[0], 'sequence'), hash: columnText(rows[0], 'hash') };
}
