// The ledger's store over the shared storage layer. Hot-path statements are raw, prepared SQL (one
// text per statement, cached by the engine adapters); the SQL is the subset both engines share.
import { assert } from '../../core/assert.ts';
import type { Database, Executor, SqlValue } from '../../storage/database.ts';
import { columnBigint, columnSafeInteger } from '../../storage/decode.ts';
import { IdempotencyTable, type IdempotencyKeys } from '../../storage/idempotency.ts';
import type { LedgerStore, LedgerTransaction } from '../domain/ports.ts';
import type {
  Account,
  AccountView,
  Entry,
  Hold,
  Participant,
  Payment,
  StoredResult,
} from '../domain/types.ts';
import {
  accountFromRow,
  decodeResult,
  encodeResult,
  entryFromRow,
  holdFromRow,
  holdParams,
  participantTable,
  paymentFromRow,
  paymentParams,
} from './rows.ts';

const accountColumns = 'id, kind, owner_id, balance, entry_count, created_at_ms';
const paymentColumns =
  'id, kind, payer_account_id, payee_account_id, amount, reference, hold_id, created_at_ms';
const holdColumns =
  'id, payer_account_id, payee_account_id, amount, reference, state, expires_at_ms, created_at_ms, payment_id, closed_at_ms';
const idempotencyTable = new IdempotencyTable('ledger_idempotency', {
  encode: encodeResult,
  decode: decodeResult,
});
const entryColumns =
  'account_id, sequence, payment_id, kind, direction, amount, balance_after, created_at_ms';
const insertPaymentSql = `INSERT INTO ledger_payments (${paymentColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
/** A payment moves money between two accounts; the bound keeps every lock statement small. */
const lockedAccountsMax = 2;
const activeHoldsSql =
  'SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total, COUNT(*) AS count FROM ledger_holds ' +
  "WHERE payer_account_id = ? AND state = 'held' AND expires_at_ms > ?";

export class SqlLedgerStore implements LedgerStore {
  constructor(private readonly db: Database) {}

  transaction<T>(body: (tx: LedgerTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((executor) => body(new SqlLedgerTransaction(executor, this.db.lockRows)));
  }

  findParticipantByKeyDigest(apiKeySha256: string): Promise<Participant | null> {
    return participantTable.byKeyDigest(this.db, apiKeySha256);
  }

  findHold(id: string): Promise<Hold | null> {
    return findHold(this.db, id, '');
  }

  findPayment(id: string): Promise<Payment | null> {
    return findPayment(this.db, id);
  }

  async accountView(id: string, nowMs: number): Promise<AccountView | null> {
    // One statement, so the balance and the holds come from one snapshot.
    const rows = await this.db.all(
      `SELECT ${accountColumns}, (SELECT CAST(COALESCE(SUM(h.amount), 0) AS BIGINT) FROM ledger_holds h ` +
        "WHERE h.payer_account_id = a.id AND h.state = 'held' AND h.expires_at_ms > ?) AS held, " +
        "(SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM ledger_payments p WHERE p.payee_account_id = a.id AND p.kind = 'settlement') AS settled_in, " +
        "(SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM ledger_payments p WHERE p.payer_account_id = a.id AND p.kind = 'settlement') AS settled_out " +
        'FROM ledger_accounts a WHERE a.id = ?',
      [nowMs, id],
    );
    if (rows[0] === undefined) return null;
    const account = accountFromRow(rows[0]);
    const held = columnBigint(rows[0], 'held');
    const settled = columnBigint(rows[0], 'settled_in') - columnBigint(rows[0], 'settled_out');
    return { account, held, available: account.balance - held, settled };
  }

  async entries(accountId: string, afterSequence: number, limit: number): Promise<readonly Entry[]> {
    const rows = await this.db.all(
      'SELECT account_id, sequence, payment_id, kind, direction, amount, balance_after, created_at_ms FROM ledger_entries ' +
        'WHERE account_id = ? AND sequence > ? ORDER BY sequence LIMIT ?',
      [accountId, afterSequence, limit],
    );
    return rows.map(entryFromRow);
  }

  expireIdempotencyAnswers(claimedAtOrBeforeMs: number, rowsMax: number): Promise<number> {
    return idempotencyTable.expire(this.db, claimedAtOrBeforeMs, rowsMax);
  }

  async ping(): Promise<void> {
    await this.db.all('SELECT 1 AS one');
  }
}

class SqlLedgerTransaction implements LedgerTransaction {
  readonly idempotencyKeys: IdempotencyKeys<StoredResult>;

  constructor(
    private readonly tx: Executor,
    private readonly lockRows: string,
  ) {
    this.idempotencyKeys = idempotencyTable.in(tx);
  }

  insertParticipant(participant: Participant, apiKeySha256: string): Promise<boolean> {
    return participantTable.insert(this.tx, participant, apiKeySha256);
  }

  findParticipant(id: string): Promise<Participant | null> {
    return participantTable.byId(this.tx, id);
  }

  async insertAccount(account: Account): Promise<void> {
    await this.tx.run(`INSERT INTO ledger_accounts (${accountColumns}) VALUES (?, ?, ?, ?, ?, ?)`, [
      account.id,
      account.kind,
      account.ownerId,
      account.balance,
      account.entryCount,
      account.createdAtMs,
    ]);
  }

  async lockAccounts(ids: readonly string[]): Promise<ReadonlyMap<string, Account>> {
    const sorted = [...new Set(ids)].sort();
    assert(sorted.length > 0 && sorted.length <= lockedAccountsMax, 'a bounded, non-empty set of accounts');
    // One statement, locks in id order: PostgreSQL sorts before it locks (its LockRows step runs on
    // the sorted rows; PostgreSQL docs, SELECT, "The Locking Clause"), so two transactions locking
    // overlapping pairs always wait in the same order and never deadlock.
    const rows = await this.tx.all(
      `SELECT ${accountColumns} FROM ledger_accounts WHERE id IN (${placeholders(sorted.length)}) ` +
        `ORDER BY id${this.lockRows}`,
      sorted,
    );
    return new Map(
      rows.map((row) => {
        const account = accountFromRow(row);
        return [account.id, account];
      }),
    );
  }

  async activeHolds(accountId: string, nowMs: number): Promise<{ total: bigint; count: number }> {
    const rows = await this.tx.all(activeHoldsSql, [accountId, nowMs]);
    const row = rows[0];
    assert(row !== undefined, 'an aggregate returns one row');
    return { total: columnBigint(row, 'total'), count: columnSafeInteger(row, 'count') };
  }

  async postPayment(payment: Payment, entries: readonly Entry[]): Promise<void> {
    assert(
      entries.length > 0 && entries.length <= lockedAccountsMax,
      'a payment posts to its locked accounts',
    );
    if (this.tx.engine === 'postgres') return this.postPaymentInOneStatement(payment, entries);
    // SQLite runs in process: a statement costs no round trip, so the plain statements are as fast.
    await this.tx.run(insertPaymentSql, paymentParams(payment));
    for (const entry of entries) {
      const changed = await this.tx.run(
        'UPDATE ledger_accounts SET balance = ?, entry_count = ? WHERE id = ? AND entry_count = ?',
        [entry.balanceAfter, entry.sequence, entry.accountId, entry.sequence - 1],
      );
      assert(changed === 1, `account ${entry.accountId} was locked and unchanged since read`);
      await this.tx.run(
        `INSERT INTO ledger_entries (${entryColumns}) VALUES (${placeholders(8)})`,
        entryParams(entry),
      );
    }
  }

  /**
   * PostgreSQL: the payment, its entries and the balances in one statement (data-modifying CTEs), so
   * the accounts' row locks are held over one round trip instead of five. The foreign keys of the
   * entries on the payment are checked at the end of the statement, when the payment row exists.
   */
  private async postPaymentInOneStatement(payment: Payment, entries: readonly Entry[]): Promise<void> {
    const balances = entries.map(() => '(?::text, ?::bigint, ?::bigint)').join(', ');
    const rows = await this.tx.all(
      `WITH payment AS (${insertPaymentSql}), ` +
        'posted AS (UPDATE ledger_accounts AS a SET balance = v.balance, entry_count = v.sequence ' +
        `FROM (VALUES ${balances}) AS v (id, balance, sequence) ` +
        'WHERE a.id = v.id AND a.entry_count = v.sequence - 1 RETURNING a.id), ' +
        `entries AS (INSERT INTO ledger_entries (${entryColumns}) VALUES ` +
        `${entries.map(() => `(${placeholders(8)})`).join(', ')}) ` +
        'SELECT COUNT(*) AS posted FROM posted',
      [
        ...paymentParams(payment),
        ...entries.flatMap((entry) => [entry.accountId, entry.balanceAfter, entry.sequence]),
        ...entries.flatMap(entryParams),
      ],
    );
    const posted = rows[0] === undefined ? 0 : columnSafeInteger(rows[0], 'posted');
    assert(posted === entries.length, 'every account was locked and unchanged since read');
  }

  async insertHold(hold: Hold): Promise<void> {
    await this.tx.run(
      `INSERT INTO ledger_holds (${holdColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      holdParams(hold),
    );
  }

  findHold(id: string): Promise<Hold | null> {
    return findHold(this.tx, id, '');
  }

  lockHold(id: string): Promise<Hold | null> {
    return findHold(this.tx, id, this.lockRows);
  }

  async updateHold(hold: Hold): Promise<void> {
    const changed = await this.tx.run(
      'UPDATE ledger_holds SET state = ?, payment_id = ?, closed_at_ms = ? WHERE id = ?',
      [hold.state, hold.paymentId, hold.closedAtMs, hold.id],
    );
    assert(changed === 1, `hold ${hold.id} exists`);
  }

  findPayment(id: string): Promise<Payment | null> {
    return findPayment(this.tx, id);
  }
}

async function findHold(executor: Executor, id: string, lockRows: string): Promise<Hold | null> {
  const rows = await executor.all(`SELECT ${holdColumns} FROM ledger_holds WHERE id = ?${lockRows}`, [id]);
  return rows[0] === undefined ? null : holdFromRow(rows[0]);
}

async function findPayment(executor: Executor, id: string): Promise<Payment | null> {
  const rows = await executor.all(`SELECT ${paymentColumns} FROM ledger_payments WHERE id = ?`, [id]);
  return rows[0] === undefined ? null : paymentFromRow(rows[0]);
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

function entryParams(entry: Entry): SqlValue[] {
  return [
    entry.accountId,
    entry.sequence,
    entry.paymentId,
    entry.kind,
    entry.direction,
    entry.amount,
    entry.balanceAfter,
    entry.createdAtMs,
  ];
}
