// The directory's store over the shared storage layer: prepared raw SQL in the subset both engines
// share. Lock order (see ports.ts): idempotency key, secure element, deny list head.
import { assert } from '../../core/assert.ts';
import { toHex, type Bytes } from '../../core/bytes.ts';
import type { Database, Executor } from '../../storage/database.ts';
import { ServiceStore, ServiceTransaction } from '../../storage/service-store.ts';
import { columnSafeInteger, columnText } from '../../storage/decode.ts';
import { IdempotencyTable } from '../../storage/idempotency.ts';
import type { DirectoryStore, DirectoryTransaction } from '../domain/ports.ts';
import type {
  DcpEndpoint,
  DenyListVersion,
  Participant,
  SecureElementRecord,
  Status,
  StatusChange,
  StoredResult,
} from '../domain/types.ts';
import {
  dcpEndpointFromRow,
  decodeResult,
  denyListFromRow,
  encodeResult,
  participantTable,
  secureElementFromRow,
  statusChangeFromRow,
} from './rows.ts';

const secureElementColumns =
  'se_id, dcp_id, kind, wallet_id, status, certificate, valid_until, registered_at_ms';
const denyListColumns = 'version, time_s, directory_id, signed';
const idempotencyTable = new IdempotencyTable('directory_idempotency', {
  encode: encodeResult,
  decode: decodeResult,
});
const tables = { participants: participantTable, idempotency: idempotencyTable };
/** Published versions never change, so decoded ones are kept: every DCP sync reads the newest. */
export const denyListCacheEntriesMax = 8;

export class SqlDirectoryStore extends ServiceStore<Participant, StoredResult> implements DirectoryStore {
  private readonly denyLists = new Map<number, DenyListVersion>();

  constructor(db: Database) {
    super(db, tables);
  }

  transaction<T>(body: (tx: DirectoryTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((executor) => body(new SqlDirectoryTransaction(executor, this.db.lockRows)));
  }

  findSecureElement(seId: string): Promise<SecureElementRecord | null> {
    // In a transaction so the record and its history come from one snapshot on PostgreSQL.
    return this.db.transaction((tx) => findSecureElement(tx, seId, ''));
  }

  async latestDenyList(): Promise<DenyListVersion | null> {
    // The head moves in the transaction that inserts the version, so it names a stored version.
    const rows = await this.db.all('SELECT version FROM directory_deny_list_head WHERE id = 1');
    assert(rows[0] !== undefined, 'the first migration inserts the head');
    const version = columnSafeInteger(rows[0], 'version');
    return version < 0 ? null : this.denyList(version);
  }

  async denyList(version: number): Promise<DenyListVersion | null> {
    const cached = this.denyLists.get(version);
    if (cached !== undefined) return cached;
    const rows = await this.db.all(`SELECT ${denyListColumns} FROM directory_deny_lists WHERE version = ?`, [
      version,
    ]);
    if (rows[0] === undefined) return null;
    const list = denyListFromRow(rows[0]);
    if (this.denyLists.size >= denyListCacheEntriesMax) this.denyLists.clear();
    this.denyLists.set(version, list);
    return list;
  }

  async dcpEndpoint(dcpId: string): Promise<DcpEndpoint | null> {
    const rows = await this.db.all(
      'SELECT dcp_id, base_url, updated_at_ms FROM directory_dcp_endpoints WHERE dcp_id = ?',
      [dcpId],
    );
    return rows[0] === undefined ? null : dcpEndpointFromRow(rows[0]);
  }
}

class SqlDirectoryTransaction
  extends ServiceTransaction<Participant, StoredResult>
  implements DirectoryTransaction
{
  constructor(tx: Executor, lockRows: string) {
    super(tx, lockRows, tables);
  }

  lockSecureElement(seId: string): Promise<SecureElementRecord | null> {
    return findSecureElement(this.tx, seId, this.lockRows);
  }

  async insertSecureElement(record: SecureElementRecord): Promise<boolean> {
    const inserted = await this.tx.run(
      `INSERT INTO directory_secure_elements (${secureElementColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ` +
        'ON CONFLICT (se_id) DO NOTHING',
      [
        record.seId,
        record.dcpId,
        record.kind,
        record.walletId,
        record.status,
        toHex(record.certificate),
        record.validUntil,
        record.registeredAtMs,
      ],
    );
    if (inserted === 0) return false;
    for (const [index, change] of record.history.entries())
      await this.insertStatusChange(record.seId, change, index + 1);
    return true;
  }

  async replaceCertificate(seId: string, certificate: Bytes, validUntil: number): Promise<void> {
    const changed = await this.tx.run(
      'UPDATE directory_secure_elements SET certificate = ?, valid_until = ? WHERE se_id = ?',
      [toHex(certificate), validUntil, seId],
    );
    assert(changed === 1, `secure element ${seId} was locked`);
  }

  async appendStatusChange(
    seId: string,
    status: Status,
    change: StatusChange,
    sequence: number,
  ): Promise<void> {
    const changed = await this.tx.run('UPDATE directory_secure_elements SET status = ? WHERE se_id = ?', [
      status,
      seId,
    ]);
    assert(changed === 1, `secure element ${seId} was locked`);
    await this.insertStatusChange(seId, change, sequence);
  }

  async lockDenyListHead(): Promise<number> {
    const rows = await this.tx.all(
      `SELECT version FROM directory_deny_list_head WHERE id = 1${this.lockRows}`,
    );
    assert(rows[0] !== undefined, 'the first migration inserts the head');
    return columnSafeInteger(rows[0], 'version');
  }

  async deniedSecureElements(nowSeconds: number, limit: number): Promise<readonly string[]> {
    const rows = await this.tx.all(
      "SELECT se_id FROM directory_secure_elements WHERE status IN ('suspended', 'revoked') " +
        'AND valid_until >= ? ORDER BY se_id LIMIT ?',
      [nowSeconds, limit],
    );
    return rows.map((row) => columnText(row, 'se_id'));
  }

  async insertDenyList(list: DenyListVersion, nowMs: number): Promise<void> {
    await this.tx.run(
      'INSERT INTO directory_deny_lists (version, time_s, directory_id, entry_count, signed, created_at_ms) ' +
        'VALUES (?, ?, ?, ?, ?, ?)',
      [list.version, list.time, list.directoryId, list.entries.length, toHex(list.signed), nowMs],
    );
    const changed = await this.tx.run('UPDATE directory_deny_list_head SET version = ? WHERE id = 1', [
      list.version,
    ]);
    assert(changed === 1, 'the head row exists');
  }

  latestDenyList(): Promise<DenyListVersion | null> {
    return latestDenyList(this.tx);
  }

  async upsertDcpEndpoint(endpoint: DcpEndpoint, updatedBy: string): Promise<void> {
    await this.tx.run(
      'INSERT INTO directory_dcp_endpoints (dcp_id, base_url, updated_by, updated_at_ms) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (dcp_id) DO UPDATE SET base_url = excluded.base_url, updated_by = excluded.updated_by, ' +
        'updated_at_ms = excluded.updated_at_ms',
      [endpoint.dcpId, endpoint.baseUrl, updatedBy, endpoint.updatedAtMs],
    );
  }

  private async insertStatusChange(seId: string, change: StatusChange, sequence: number): Promise<void> {
    await this.tx.run(
      'INSERT INTO directory_status_changes (se_id, sequence, status, reason, changed_by, changed_at_ms) ' +
        'VALUES (?, ?, ?, ?, ?, ?)',
      [seId, sequence, change.status, change.reason, change.changedBy, change.changedAtMs],
    );
  }
}

async function findSecureElement(
  executor: Executor,
  seId: string,
  lockRows: string,
): Promise<SecureElementRecord | null> {
  const rows = await executor.all(
    `SELECT ${secureElementColumns} FROM directory_secure_elements WHERE se_id = ?${lockRows}`,
    [seId],
  );
  if (rows[0] === undefined) return null;
  const history = await executor.all(
    'SELECT status, reason, changed_by, changed_at_ms FROM directory_status_changes WHERE se_id = ? ORDER BY sequence',
    [seId],
  );
  return secureElementFromRow(rows[0], history.map(statusChangeFromRow));
}

async function latestDenyList(executor: Executor): Promise<DenyListVersion | null> {
  const rows = await executor.all(
    `SELECT ${denyListColumns} FROM directory_deny_lists ORDER BY version DESC LIMIT 1`,
  );
  return rows[0] === undefined ? null : denyListFromRow(rows[0]);
}
