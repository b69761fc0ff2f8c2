// The DCP's store (the ports of domain/ports.ts) over the shared storage layer: raw SQL in the subset
// both engines share, every row decoded strictly (rows.ts, codecs.ts). `SqlDcpStore` wraps the
// database; `SqlDcpTransaction` is one transaction's view, with row locks (`FOR UPDATE` on
// PostgreSQL; SQLite serialises transactions) taken in one order: idempotency key, then devices by
// id, then the operation. Idempotency keys are the shared mechanism's (src/storage/idempotency.ts).
import { assert } from '../../core/assert.ts';
import type { Database, Executor } from '../../storage/database.ts';
import {
  columnBigint,
  columnOneOf,
  columnSafeInteger,
  columnText,
  columnTextOrNull,
} from '../../storage/decode.ts';
import { IdempotencyTable, type IdempotencyKeys, type IdempotencyRecord } from '../../storage/idempotency.ts';
import { participantRoles } from '../api/types.ts';
import { commitGroupOperationsMax } from '../domain/limits.ts';
import {
  refusalOperationPrefix,
  type CreditRow,
  type DcpReader,
  type DcpStore,
  type DcpTransaction,
  type DeviceRow,
  type IssuanceFound,
  type IssuanceRow,
  type KeyResult,
  type LoadsUnseen,
  type MintedToken,
  type Operation,
  type ParticipantRow,
  type Supply,
  type WalletRow,
} from '../domain/ports.ts';
import { keyResultCodec } from './codecs.ts';
import { SqlMdsOutbox } from './mds-outbox.ts';
import {
  deviceColumns,
  deviceFromRow,
  deviceParams,
  operationChanges,
  operationColumns,
  operationFromRow,
  operationParams,
} from './rows.ts';

const insertIssuanceSql =
  'INSERT INTO dcp_issuances (id, request_reference, kind, se_id, value, operation_id, signed, stamped_at, created_at_ms) ' +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
const idempotencyTable = new IdempotencyTable<KeyResult>('dcp_idempotency_keys', keyResultCodec);
const findKeySql =
  'SELECT fingerprint, result, created_at_ms FROM dcp_idempotency_keys WHERE participant_id = ? AND idempotency_key = ?';

/** A transaction body waiting for its commit group (SQLite). */
interface GroupedBody {
  readonly body: (tx: SqlDcpTransaction) => Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class SqlDcpStore implements DcpStore {
  #waiting: GroupedBody[] = [];
  #scheduled = false;

  readonly mdsOutbox: SqlMdsOutbox;

  constructor(private readonly db: Database) {
    this.mdsOutbox = new SqlMdsOutbox(db);
  }

  /**
   * Runs `body` in a transaction and resolves once it is committed. On SQLite, which serialises
   * transactions anyway, the bodies that arrive in one turn of the event loop are committed together
   * (group commit): each runs in its own savepoint, so a body that throws is rolled back alone and
   * its caller gets its error, and every caller is answered only after the one COMMIT, which is as
   * durable as before. One commit instead of many writes each shared page (table tails, index
   * roots) to the WAL once per group, not once per operation. PostgreSQL commits in parallel on
   * its connections: one transaction per body there.
   */
  transaction<T>(body: (tx: DcpTransaction) => Promise<T>): Promise<T> {
    return this.#transaction(body);
  }

  #transaction<T>(body: (tx: SqlDcpTransaction) => Promise<T>): Promise<T> {
    if (this.db.engine !== 'sqlite')
      return this.db.transaction((executor) => body(new SqlDcpTransaction(executor, this.db.lockRows)));
    return new Promise<T>((resolve, reject) => {
      let value: T;
      this.#waiting.push({
        body: async (tx) => {
          value = await body(tx);
        },
        resolve: () => {
          resolve(value);
        },
        reject,
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#flush();
        });
      }
    });
  }

  /** Hands every waiting body to the database, in arrival order, `commitGroupOperationsMax` per commit. */
  #flush(): void {
    this.#scheduled = false;
    while (this.#waiting.length > 0)
      void this.#commitGroup(this.#waiting.splice(0, commitGroupOperationsMax));
  }

  /** One transaction for the group; answers every body after the commit. Never rejects. */
  async #commitGroup(group: readonly GroupedBody[]): Promise<void> {
    const answers: (() => void)[] = [];
    try {
      await this.db.transaction(async (executor) => {
        const tx = new SqlDcpTransaction(executor, this.db.lockRows);
        for (const waiting of group) {
          await executor.run('SAVEPOINT dcp_operation');
          try {
            await waiting.body(tx);
            await executor.run('RELEASE dcp_operation');
            answers.push(waiting.resolve);
          } catch (error) {
            await executor.run('ROLLBACK TO dcp_operation');
            await executor.run('RELEASE dcp_operation');
            answers.push(() => {
              waiting.reject(error);
            });
          }
        }
      });
    } catch (error) {
      // BEGIN, COMMIT or a rollback failed: nothing of the group is committed.
      for (const waiting of group) waiting.reject(error);
      return;
    }
    for (const answer of answers) answer();
  }

  /** Reads outside a transaction (no locks). */
  get reader(): DcpReader {
    return new SqlDcpTransaction(this.db, '');
  }

  async ping(): Promise<void> {
    await this.db.all('SELECT 1 AS one');
  }

  expireIdempotencyAnswers(claimedAtOrBeforeMs: number, rowsMax: number): Promise<number> {
    return idempotencyTable.expire(this.db, claimedAtOrBeforeMs, rowsMax);
  }

  async supply(): Promise<Supply> {
    const rows = await this.db.all(
      'SELECT (SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM dcp_issuances) AS minted, ' +
        "(SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM dcp_credits WHERE state = 'queued') AS queued, " +
        '(SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM dcp_retired_tokens) AS retired',
    );
    const row = rows[0]!;
    return {
      minted: columnBigint(row, 'minted'),
      queued: columnBigint(row, 'queued'),
      retired: columnBigint(row, 'retired'),
    };
  }

  async openOperations(limit: number): Promise<Operation[]> {
    const rows = await this.db.all(
      `SELECT ${operationColumns} FROM dcp_operations WHERE state <> 'done' ORDER BY created_at_ms, id LIMIT ?`,
      [limit],
    );
    return rows.map(operationFromRow);
  }

  advanceOperation(next: Operation, from: Operation['state'], nowMs: number): Promise<Operation | null> {
    // One statement needs no transaction of its own on PostgreSQL (one round trip instead of four:
    // BEGIN, the locking read, the update, COMMIT); on SQLite it joins the commit group.
    if (this.db.engine !== 'sqlite')
      return new SqlDcpTransaction(this.db, '').advanceOperation(next, from, nowMs);
    return this.#transaction((tx) => tx.advanceOperation(next, from, nowMs));
  }

  async registeringDevices(limit: number): Promise<DeviceRow[]> {
    const rows = await this.db.all(
      `SELECT ${deviceColumns} FROM dcp_devices WHERE state = 'registering' ORDER BY se_id LIMIT ?`,
      [limit],
    );
    return rows.map(deviceFromRow);
  }

  async countIssuances(operationId: string): Promise<number> {
    const rows = await this.db.all('SELECT COUNT(*) AS n FROM dcp_issuances WHERE operation_id = ?', [
      operationId,
    ]);
    return columnSafeInteger(rows[0]!, 'n');
  }
}

export class SqlDcpTransaction implements DcpTransaction, DcpReader {
  readonly idempotencyKeys: IdempotencyKeys<KeyResult>;

  constructor(
    private readonly executor: Executor,
    private readonly lockRows: string,
  ) {
    this.idempotencyKeys = idempotencyTable.in(executor);
  }

  /** `next` over its row if the row is still in state `from`; else the row as it is (null: deleted). */
  async advanceOperation(
    next: Operation,
    from: Operation['state'],
    nowMs: number,
  ): Promise<Operation | null> {
    const changes = operationChanges(next);
    const changed = await this.executor.run(
      'UPDATE dcp_operations SET state = ?, hold_id = ?, payment_id = ?, answer = ?, updated_at_ms = ? ' +
        'WHERE id = ? AND state = ?',
      [changes.state, changes.holdId, changes.paymentId, changes.answer, nowMs, next.id, from],
    );
    return changed === 1 ? next : this.findOperation(next.id);
  }

  /**
   * A committed key's record, read outside the claiming transaction. The shared table has no read of
   * its own (`IdempotencyTable` claims and completes inside a transaction), so the DCP reads its own
   * table here with the same codec: a replay then skips every check (a spent nonce included).
   */
  async findKey(scope: string, key: string): Promise<IdempotencyRecord<KeyResult> | null> {
    const row = (await this.executor.all(findKeySql, [scope, key]))[0];
    if (row === undefined) return null;
    // NULL outside the claiming transaction (which no other reader sees) only for a tombstone.
    const result = columnTextOrNull(row, 'result');
    return {
      fingerprint: columnText(row, 'fingerprint'),
      result: result === null ? null : keyResultCodec.decode(result),
      createdAtMs: columnSafeInteger(row, 'created_at_ms'),
    };
  }

  claimKeyAnswered(
    claim: { readonly scope: string; readonly key: string; readonly fingerprint: string },
    result: KeyResult,
    nowMs: number,
  ): Promise<boolean> {
    return idempotencyTable.claimAnswered(
      this.executor,
      { participantId: claim.scope, key: claim.key, fingerprint: claim.fingerprint },
      result,
      nowMs,
    );
  }

  async releaseKey(scope: string, key: string): Promise<void> {
    await this.executor.run(
      'DELETE FROM dcp_idempotency_keys WHERE participant_id = ? AND idempotency_key = ?',
      [scope, key],
    );
  }

  async insertParticipant(
    participant: ParticipantRow,
    apiKeySha256: string,
    nowMs: number,
  ): Promise<boolean> {
    const changed = await this.executor.run(
      'INSERT INTO dcp_participants (id, name, role, api_key_sha256, created_at_ms) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT DO NOTHING',
      [participant.id, participant.name, participant.role, apiKeySha256, nowMs],
    );
    return changed === 1;
  }

  async findParticipantByKeyDigest(digest: string): Promise<ParticipantRow | null> {
    const rows = await this.executor.all(
      'SELECT id, name, role FROM dcp_participants WHERE api_key_sha256 = ?',
      [digest],
    );
    const row = rows[0];
    if (row === undefined) return null;
    return {
      id: columnText(row, 'id'),
      name: columnText(row, 'name'),
      role: columnOneOf(row, 'role', participantRoles),
    };
  }

  async insertWallet(wallet: WalletRow): Promise<void> {
    await this.executor.run(
      'INSERT INTO dcp_wallets (id, name, account_id, created_at_ms) VALUES (?, ?, ?, ?)',
      [wallet.id, wallet.name, wallet.accountId, wallet.createdAtMs],
    );
  }

  async findWallet(id: string): Promise<WalletRow | null> {
    const rows = await this.executor.all(
      'SELECT id, name, account_id, created_at_ms FROM dcp_wallets WHERE id = ?',
      [id],
    );
    const row = rows[0];
    if (row === undefined) return null;
    return {
      id: columnText(row, 'id'),
      name: columnText(row, 'name'),
      accountId: columnText(row, 'account_id'),
      createdAtMs: columnSafeInteger(row, 'created_at_ms'),
    };
  }

  async insertDevice(device: DeviceRow, nowMs: number): Promise<boolean> {
    const changed = await this.executor.run(
      `INSERT INTO dcp_devices (${deviceColumns}, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      deviceParams(device, nowMs),
    );
    return changed === 1;
  }

  async findDevice(seId: string, lock = false): Promise<DeviceRow | null> {
    const rows = await this.executor.all(
      `SELECT ${deviceColumns} FROM dcp_devices WHERE se_id = ?${lock ? this.lockRows : ''}`,
      [seId],
    );
    return rows[0] === undefined ? null : deviceFromRow(rows[0]);
  }

  async lockDevices(seIds: readonly string[]): Promise<Map<string, DeviceRow>> {
    const found = new Map<string, DeviceRow>();
    for (const seId of [...new Set(seIds)].sort()) {
      const device = await this.findDevice(seId, true);
      if (device !== null) found.set(seId, device);
    }
    return found;
  }

  async setDeviceState(seId: string, state: DeviceRow['state']): Promise<void> {
    await this.executor.run('UPDATE dcp_devices SET state = ? WHERE se_id = ?', [state, seId]);
  }

  async loadsUnseen(device: DeviceRow, sinceMs: number): Promise<LoadsUnseen> {
    // One pass over the SE's load operations (a load has at most one issuance, of one token).
    // Open: not yet minted, or stamped after the last sync a claim showed and not claimed. Unseen:
    // loads done before the SE's newest claim are in that claim, or its settlement delivered them
    // again (settle.ts); so are loads done before `sinceMs`. A load the SE refused (REFUSE LOAD) is
    // neither: it is never installed, its value went back to the wallet.
    const row = (
      await this.executor.all(
        `SELECT
            COUNT(CASE WHEN i.id IS NULL OR (i.stamped_at > ?
              AND NOT EXISTS (SELECT 1 FROM dcp_retired_tokens r WHERE r.token_id = t.token_id))
              THEN 1 END) AS open_loads,
            COALESCE(SUM(CASE WHEN o.state <> 'done' OR (o.updated_at_ms >= ? AND o.updated_at_ms >= COALESCE(
              (SELECT MAX(c.created_at_ms) FROM dcp_operations c
                WHERE c.se_id = ? AND c.kind IN ('renewal', 'unload', 'transfer')), 0))
              THEN o.amount END), 0) AS unseen
          FROM dcp_operations o
          LEFT JOIN dcp_issuances i ON i.operation_id = o.id AND i.kind = 'load'
          LEFT JOIN dcp_tokens t ON t.issuance_id = i.id
          WHERE o.se_id = ? AND o.kind = 'load'
            AND NOT EXISTS (SELECT 1 FROM dcp_operations f WHERE f.id = ? || o.id)`,
        [device.syncedThrough, sinceMs, device.seId, device.seId, refusalOperationPrefix],
      )
    )[0];
    assert(row !== undefined, 'an aggregate answers one row');
    return { open: columnSafeInteger(row, 'open_loads'), value: columnBigint(row, 'unseen') };
  }

  async deleteRegisteringDevice(seId: string): Promise<void> {
    await this.executor.run("DELETE FROM dcp_devices WHERE se_id = ? AND state = 'registering'", [seId]);
  }

  async stampIssuanceTime(seId: string, nowSeconds: number): Promise<number | null> {
    // nextIssuanceTime (mint.ts) in SQL: the write locks the row, and answers the time it set.
    const rows = await this.executor.all(
      'UPDATE dcp_devices SET last_time = CASE WHEN last_time + 1 > ? THEN last_time + 1 ELSE ? END ' +
        'WHERE se_id = ? RETURNING last_time',
      [nowSeconds, nowSeconds, seId],
    );
    return rows[0] === undefined ? null : columnSafeInteger(rows[0], 'last_time');
  }

  async setDeviceTimes(seId: string, lastTime: number, syncedThrough: number): Promise<void> {
    await this.executor.run('UPDATE dcp_devices SET last_time = ?, synced_through = ? WHERE se_id = ?', [
      lastTime,
      syncedThrough,
      seId,
    ]);
  }

  async loadsOpen(seId: string, afterTime: number, limit: number): Promise<string[]> {
    // A load issuance has one token (mint.ts); a claim that retired it held it, a refusal refused it.
    const rows = await this.executor.all(
      `SELECT i.signed FROM dcp_issuances i JOIN dcp_tokens t ON t.issuance_id = i.id
        WHERE i.se_id = ? AND i.kind = 'load' AND i.stamped_at > ?
          AND NOT EXISTS (SELECT 1 FROM dcp_retired_tokens r WHERE r.token_id = t.token_id)
        ORDER BY i.stamped_at LIMIT ?`,
      [seId, afterTime, limit],
    );
    return rows.map((row) => columnText(row, 'signed'));
  }

  /** Marks a nonce used; false if it was used before. */
  async useNonce(nonce: string, expiresAtMs: number): Promise<boolean> {
    const changed = await this.executor.run(
      'INSERT INTO dcp_used_nonces (nonce, expires_at_ms) VALUES (?, ?) ON CONFLICT DO NOTHING',
      [nonce, expiresAtMs],
    );
    return changed === 1;
  }

  async forgetExpiredNonces(nowMs: number): Promise<number> {
    return this.executor.run('DELETE FROM dcp_used_nonces WHERE expires_at_ms < ?', [nowMs]);
  }

  async insertOperation(operation: Operation, nowMs: number): Promise<void> {
    await this.executor.run(
      `INSERT INTO dcp_operations (${operationColumns}, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [...operationParams(operation), nowMs, nowMs],
    );
  }

  async findOperation(id: string, lock = false): Promise<Operation | null> {
    const rows = await this.executor.all(
      `SELECT ${operationColumns} FROM dcp_operations WHERE id = ?${lock ? this.lockRows : ''}`,
      [id],
    );
    return rows[0] === undefined ? null : operationFromRow(rows[0]);
  }

  async updateOperation(operation: Operation, nowMs: number): Promise<void> {
    const changes = operationChanges(operation);
    await this.executor.run(
      'UPDATE dcp_operations SET state = ?, hold_id = ?, payment_id = ?, answer = ?, updated_at_ms = ? WHERE id = ?',
      [changes.state, changes.holdId, changes.paymentId, changes.answer, nowMs, operation.id],
    );
  }

  async deleteOperation(id: string): Promise<void> {
    await this.executor.run('DELETE FROM dcp_operations WHERE id = ?', [id]);
  }

  async insertIssuance(issuance: IssuanceRow, nowMs: number): Promise<void> {
    const issuanceParams = [
      issuance.id,
      issuance.requestReference,
      issuance.kind,
      issuance.seId,
      issuance.value,
      issuance.operationId,
      issuance.signed,
      issuance.time,
      nowMs,
    ];
    const tokenParams = issuance.tokens.flatMap((token) => [
      token.tokenId,
      issuance.seId,
      token.value,
      issuance.id,
      token.vouched,
    ]);
    const tokensSql =
      issuance.tokens.length === 0
        ? null
        : `INSERT INTO dcp_tokens (token_id, se_id, value, issuance_id, vouched) VALUES ${issuance.tokens
            .map(() => '(?, ?, ?, ?, ?)')
            .join(', ')}`;
    // PostgreSQL runs an INSERT in a WITH once whether or not the statement reads it: the issuance
    // and its tokens in one round trip. SQLite has no writing WITH: two statements there.
    if (tokensSql !== null && this.executor.engine === 'postgres') {
      await this.executor.run(`WITH issued AS (${insertIssuanceSql}) ${tokensSql}`, [
        ...issuanceParams,
        ...tokenParams,
      ]);
      return;
    }
    await this.executor.run(insertIssuanceSql, issuanceParams);
    if (tokensSql !== null) await this.executor.run(tokensSql, tokenParams);
  }

  async findToken(tokenId: string): Promise<MintedToken | null> {
    const rows = await this.executor.all('SELECT se_id, value, vouched FROM dcp_tokens WHERE token_id = ?', [
      tokenId,
    ]);
    const row = rows[0];
    return row === undefined
      ? null
      : {
          seId: columnText(row, 'se_id'),
          value: columnBigint(row, 'value'),
          vouched: columnBigint(row, 'vouched'),
        };
  }

  async findIssuance(id: string): Promise<IssuanceFound | null> {
    const rows = await this.executor.all(
      'SELECT kind, se_id, value, operation_id FROM dcp_issuances WHERE id = ?',
      [id],
    );
    const row = rows[0];
    if (row === undefined) return null;
    return {
      kind: columnOneOf(row, 'kind', ['load', 'renewal', 'credit', 'refund'] as const),
      seId: columnText(row, 'se_id'),
      value: columnBigint(row, 'value'),
      operationId: columnText(row, 'operation_id'),
    };
  }

  /** Retires a token; false if it was retired before (the unique key decides, even under races). */
  async retireToken(token: Parameters<DcpTransaction['retireToken']>[0], nowMs: number): Promise<boolean> {
    const changed = await this.executor.run(
      'INSERT INTO dcp_retired_tokens (token_id, se_id, value, operation_id, upload_digest, created_at_ms) ' +
        'VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [token.tokenId, token.seId, token.value, token.operationId, token.uploadDigest, nowMs],
    );
    return changed === 1;
  }

  /** Queues a credit; false if one with this id was queued before. */
  async queueCredit(
    id: string,
    seId: string,
    kind: CreditRow['kind'],
    value: bigint,
    nowMs: number,
  ): Promise<boolean> {
    const changed = await this.executor.run(
      "INSERT INTO dcp_credits (id, se_id, kind, value, state, issuance_id, created_at_ms) VALUES (?, ?, ?, ?, 'queued', NULL, ?) " +
        'ON CONFLICT DO NOTHING',
      [id, seId, kind, value, nowMs],
    );
    return changed === 1;
  }

  async queuedCredits(seId: string, limit: number): Promise<CreditRow[]> {
    // The limit is a constant of the code, written into the SQL: SQLite (built with STAT4, as
    // better-sqlite3 is) plans a statement again for every value bound to `LIMIT ?`, which made this
    // read of usually no rows cost as much as an insert.
    assert(Number.isSafeInteger(limit) && limit > 0, 'queuedCredits limit is a positive integer');
    const rows = await this.executor.all(
      `SELECT id, kind, value FROM dcp_credits WHERE se_id = ? AND state = 'queued' ORDER BY created_at_ms, id LIMIT ${limit}`,
      [seId],
    );
    return rows.map((row) => ({
      id: columnText(row, 'id'),
      kind: columnOneOf(row, 'kind', ['credit', 'refund'] as const),
      value: columnBigint(row, 'value'),
    }));
  }

  async markCreditMinted(id: string, issuanceId: string): Promise<void> {
    await this.executor.run(
      "UPDATE dcp_credits SET state = 'minted', issuance_id = ? WHERE id = ? AND state = 'queued'",
      [issuanceId, id],
    );
  }

  /** A sealed upload already kept (its digest) keeps its first claim: the MDS would refuse another. */
  async insertUpload(upload: Parameters<DcpTransaction['insertUpload']>[0], nowMs: number): Promise<void> {
    await this.executor.run(
      'INSERT INTO dcp_uploads (digest, se_id, operation_id, claim, sealed, state, refusal, attempts, ' +
        "next_attempt_at_ms, forwarded_at_ms, created_at_ms) VALUES (?, ?, ?, ?, ?, 'pending', NULL, 0, ?, NULL, ?) " +
        'ON CONFLICT DO NOTHING',
      [upload.digest, upload.seId, upload.operationId, upload.claim, upload.sealed, nowMs, nowMs],
    );
  }
}
