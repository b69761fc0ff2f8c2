// The ledger's store over the shared storage layer. Hot-path statements are raw, prepared SQL (one
// text per statement, cached by the engine adapters); the SQL is the subset both engines share.
import { assert } from '../../core/assert.ts';
import {
  StorageUnavailable,
  type Database,
  type Executor,
  type Row,
  type SqlValue,
} from '../../storage/database.ts';
import { columnBigint, columnSafeInteger, columnText } from '../../storage/decode.ts';
import { postgresErrorCode } from '../../storage/postgres.ts';
import { IdempotencyTable } from '../../storage/idempotency.ts';
import { ServiceStore, ServiceTransaction } from '../../storage/service-store.ts';
import type {
  LedgerStore,
  LedgerTransaction,
  PaymentDecision,
  PaymentPost,
  PaymentTarget,
  PaymentView,
} from '../domain/ports.ts';
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
const tables = { participants: participantTable, idempotency: idempotencyTable };
const entryColumns =
  'account_id, sequence, payment_id, kind, direction, amount, balance_after, created_at_ms';
const insertPaymentSql = `INSERT INTO ledger_payments (${paymentColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
/** A payment moves money between two accounts; the bound keeps every lock statement small. */
const lockedAccountsMax = 2;
const activeHoldsSql =
  'SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total, COUNT(*) AS count FROM ledger_holds ' +
  "WHERE payer_account_id = ? AND state = 'held' AND expires_at_ms > ?";

/**
 * Times a PostgreSQL payment is read and decided again because its post found the view outdated: a
 * concurrent request took its key, captured its hold or spent the payer's balance meanwhile. The
 * next view shows that change, so the decision replays or refuses; only a payer whose balance keeps
 * rising and falling between view and post could take more.
 */
export const paymentDecisionAttemptsMax = 8;
/** The SQLSTATE `ledger_post_payment` raises when a decision's view no longer holds (migration 4). */
const viewOutdatedSqlState = 'CB001';
const retriedSqlStates = new Set([viewOutdatedSqlState, '40001', '40P01']);

export class SqlLedgerStore extends ServiceStore<Participant, StoredResult> implements LedgerStore {
  constructor(db: Database) {
    super(db, tables);
  }

  transaction<T>(body: (tx: LedgerTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((executor) =>
      body(new SqlLedgerTransaction(executor, this.db.lockRows, tables)),
    );
  }

  /**
   * SQLite: view, decision and post in one (serialised) transaction. PostgreSQL: two round trips,
   * no transaction held open across them: the view is one statement without locks, the post one
   * statement (`ledger_post_payment`, migration 4) that locks, re-checks the view and writes.
   */
  async decideAndPost<T>(
    target: PaymentTarget,
    decide: (view: PaymentView) => PaymentDecision<T>,
  ): Promise<T> {
    if (this.db.engine === 'sqlite')
      return this.db.transaction(async (tx) => {
        const decision = decide(await readPaymentView(tx, target));
        if (decision.kind === 'post') await postInStatements(tx, target, decision);
        return decision.answer;
      });
    for (let attempt = 1; attempt <= paymentDecisionAttemptsMax; attempt++) {
      const decision = decide(await readPaymentView(this.db, target));
      if (decision.kind === 'answer' || (await postInOneStatement(this.db, target, decision)))
        return decision.answer;
    }
    throw new StorageUnavailable(
      `the payment's view changed under ${paymentDecisionAttemptsMax} decisions in a row`,
    );
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
}

class SqlLedgerTransaction
  extends ServiceTransaction<Participant, StoredResult>
  implements LedgerTransaction
{
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

  async findAccount(id: string): Promise<Account | null> {
    const rows = await this.tx.all(`SELECT ${accountColumns} FROM ledger_accounts WHERE id = ?`, [id]);
    return rows[0] === undefined ? null : accountFromRow(rows[0]);
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

/** A view's accounts, prefixed (`account_id`...) so that a capture's hold columns keep their names. */
const viewAccountColumns =
  'a.id AS account_id, a.kind AS account_kind, a.owner_id AS account_owner_id, ' +
  'a.balance AS account_balance, a.entry_count AS account_entry_count, ' +
  'a.created_at_ms AS account_created_at_ms, (SELECT CAST(COALESCE(SUM(h.amount), 0) AS BIGINT) ' +
  "FROM ledger_holds h WHERE h.payer_account_id = a.id AND h.state = 'held' AND h.expires_at_ms > ?) " +
  'AS account_held';
// One statement each, so the key, the hold and the accounts come from one snapshot. The one-row
// `target` keeps a row when nothing joins (an unused key, an unknown hold or account).
const paymentViewSql =
  `SELECT k.fingerprint, k.result, k.created_at_ms, ${viewAccountColumns} FROM (SELECT 1 AS one) AS target ` +
  'LEFT JOIN ledger_idempotency k ON k.participant_id = ? AND k.idempotency_key = ? ' +
  'LEFT JOIN ledger_accounts a ON a.id IN (?, ?)';
const captureViewSql =
  `SELECT ${holdColumns.replace(/(\w+)/g, 'hh.$1')}, ${viewAccountColumns} FROM (SELECT 1 AS one) AS target ` +
  'LEFT JOIN ledger_holds hh ON hh.id = ? ' +
  'LEFT JOIN ledger_accounts a ON a.id IN (hh.payer_account_id, hh.payee_account_id)';

async function readPaymentView(executor: Executor, target: PaymentTarget): Promise<PaymentView> {
  const rows =
    target.kind === 'payment'
      ? await executor.all(paymentViewSql, [
          target.nowMs,
          target.participantId,
          target.key,
          target.payerAccountId,
          target.payeeAccountId,
        ])
      : await executor.all(captureViewSql, [target.nowMs, target.holdId]);
  const first = rows[0];
  assert(first !== undefined, 'a view has its target row');
  const hold = target.kind === 'capture' && first['id'] !== null ? holdFromRow(first) : null;
  const payerId = target.kind === 'payment' ? target.payerAccountId : hold?.payerAccountId;
  const payeeId = target.kind === 'payment' ? target.payeeAccountId : hold?.payeeAccountId;
  const accounts = rows.filter((row) => row['account_id'] !== null);
  const payerRow = accounts.find((row) => columnText(row, 'account_id') === payerId);
  const payeeRow = accounts.find((row) => columnText(row, 'account_id') === payeeId);
  const keyed = target.kind === 'payment' && first['fingerprint'] !== null;
  return {
    earlier: keyed ? idempotencyTable.recordFromRow(first) : null,
    hold,
    payer: payerRow === undefined ? null : accountFromRow(unprefixed(payerRow, 'account_')),
    payee: payeeRow === undefined ? null : accountFromRow(unprefixed(payeeRow, 'account_')),
    payerHeld: payerRow === undefined ? 0n : columnBigint(payerRow, 'account_held'),
  };
}

function unprefixed(row: Row, prefix: string): Row {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row))
    if (name.startsWith(prefix)) out[name.slice(prefix.length)] = value;
  return out;
}

/**
 * What `ledger_post_payment` does, as plain statements for SQLite (in process: a statement costs no
 * round trip), in the transaction that read the view, so nothing needs re-checking.
 */
async function postInStatements<T>(tx: Executor, target: PaymentTarget, post: PaymentPost<T>): Promise<void> {
  const { payment } = post;
  if (target.kind === 'payment' && post.result !== null) {
    const claim = { participantId: target.participantId, key: target.key, fingerprint: post.fingerprint };
    const claimed = await idempotencyTable.claimAnswered(tx, claim, post.result, target.nowMs);
    assert(claimed, 'a key read unused in this transaction is still unused');
  }
  if (post.captured !== null) {
    const { captured } = post;
    const changed = await tx.run(
      "UPDATE ledger_holds SET state = ?, payment_id = ?, closed_at_ms = ? WHERE id = ? AND state = 'held'",
      [captured.state, captured.paymentId, captured.closedAtMs, captured.id],
    );
    assert(changed === 1, `hold ${captured.id} was held when read in this transaction`);
  }
  await tx.run(insertPaymentSql, paymentParams(payment));
  const posted = await tx.all(postBalancesSql, [
    payment.payerAccountId,
    payment.amount,
    payment.amount,
    payment.payerAccountId,
    payment.payeeAccountId,
  ]);
  assert(posted.length === 2, 'a payment posts to both its accounts');
  await tx.run(
    insertEntryPairSql,
    posted.flatMap((row) => {
      const accountId = columnText(row, 'id');
      const direction = accountId === payment.payerAccountId ? 'debit' : 'credit';
      return entryParams({
        accountId,
        sequence: columnSafeInteger(row, 'entry_count'),
        paymentId: payment.id,
        kind: payment.kind,
        direction,
        amount: payment.amount,
        balanceAfter: columnBigint(row, 'balance'),
        createdAtMs: payment.createdAtMs,
      });
    }),
  );
}

/** A payment's two entries; the text made once (it is the key of the engine's statement cache). */
const insertEntryPairSql = `INSERT INTO ledger_entries (${entryColumns}) VALUES (${placeholders(8)}), (${placeholders(8)})`;

/** Both balances of a payment from their rows (the database's CHECK keeps the payer's non-negative). */
const postBalancesSql =
  'UPDATE ledger_accounts SET balance = balance + CASE WHEN id = ? THEN -? ELSE ? END, ' +
  'entry_count = entry_count + 1 WHERE id IN (?, ?) RETURNING id, entry_count, balance';

/**
 * PostgreSQL: the post in one statement (`ledger_post_payment`, migration 4), outside any explicit
 * transaction. Returns false when the view no longer holds (nothing was written): decide again.
 */
async function postInOneStatement<T>(
  db: Database,
  target: PaymentTarget,
  post: PaymentPost<T>,
): Promise<boolean> {
  const { payment } = post;
  const keyed = target.kind === 'payment' && post.result !== null;
  try {
    const rows = await db.all(
      // The key's four, then the payment's: id, kind, payer, payee, amount, reference, hold, time.
      'SELECT ledger_post_payment(?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ' +
        '?::text, ?::bigint, ?::text, ?::text, ?::bigint) AS outcome',
      [
        keyed ? target.participantId : null,
        keyed ? target.key : null,
        keyed ? post.fingerprint : null,
        keyed && post.result !== null ? idempotencyTable.encode(post.result) : null,
        ...paymentParams(payment),
      ],
    );
    const outcome = rows[0] === undefined ? null : columnText(rows[0], 'outcome');
    assert(outcome === 'posted' || outcome === 'keyTaken', 'ledger_post_payment answers posted or keyTaken');
    return outcome === 'posted';
  } catch (error) {
    // A deadlock or serialisation failure rolled the statement back like an outdated view: decide
    // again (the safety net `postgres.ts` keeps for transactions, should a later lock break the order).
    if (retriedSqlStates.has(postgresErrorCode(error) ?? '')) return false;
    throw error;
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
