// The ledger's schema, in the SQL subset both engines share (BIGINT is a 64-bit integer on both;
// TEXT ids; no engine-specific types). CHECK constraints repeat the domain's money rules as a last
// line of defence: no balance but the issuance account's can go negative, amounts are positive.
import type { Engine } from '../../storage/database.ts';
import type { MigrationSet } from '../../storage/migrations.ts';
import { idempotencyAnswersIndexStatement, idempotencyTableStatement } from '../../storage/idempotency.ts';

export const ledgerMigrations: MigrationSet = {
  service: 'ledger',
  migrations: [
    {
      version: 1,
      name: 'accounts payments holds',
      statements: () => [
        `CREATE TABLE ledger_participants (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN ('operator', 'intermediary', 'dcp')),
          api_key_sha256 TEXT NOT NULL UNIQUE,
          created_at_ms BIGINT NOT NULL)`,
        `CREATE TABLE ledger_accounts (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('issuance', 'intermediary', 'dcpPool', 'wallet')),
          owner_id TEXT REFERENCES ledger_participants (id),
          balance BIGINT NOT NULL,
          entry_count BIGINT NOT NULL,
          created_at_ms BIGINT NOT NULL,
          CHECK (kind = 'issuance' OR balance >= 0),
          CHECK ((kind = 'issuance' AND owner_id IS NULL) OR (kind <> 'issuance' AND owner_id IS NOT NULL)))`,
        `CREATE UNIQUE INDEX ledger_accounts_one_issuance ON ledger_accounts (kind) WHERE kind = 'issuance'`,
        `INSERT INTO ledger_accounts (id, kind, owner_id, balance, entry_count, created_at_ms)
          VALUES ('issuance', 'issuance', NULL, 0, 0, 0)`,
        `CREATE TABLE ledger_payments (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('payment', 'issuance', 'capture')),
          payer_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
          payee_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
          amount BIGINT NOT NULL CHECK (amount > 0),
          reference TEXT,
          hold_id TEXT,
          created_at_ms BIGINT NOT NULL,
          CHECK (payer_account_id <> payee_account_id))`,
        `CREATE TABLE ledger_entries (
          account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
          sequence BIGINT NOT NULL,
          payment_id TEXT NOT NULL REFERENCES ledger_payments (id),
          kind TEXT NOT NULL,
          direction TEXT NOT NULL CHECK (direction IN ('debit', 'credit')),
          amount BIGINT NOT NULL CHECK (amount > 0),
          balance_after BIGINT NOT NULL,
          created_at_ms BIGINT NOT NULL,
          PRIMARY KEY (account_id, sequence))`,
        `CREATE TABLE ledger_holds (
          id TEXT PRIMARY KEY,
          payer_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
          payee_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
          amount BIGINT NOT NULL CHECK (amount > 0),
          reference TEXT,
          state TEXT NOT NULL CHECK (state IN ('held', 'captured', 'released')),
          expires_at_ms BIGINT NOT NULL,
          created_at_ms BIGINT NOT NULL,
          payment_id TEXT,
          closed_at_ms BIGINT)`,
        `CREATE INDEX ledger_holds_active ON ledger_holds (payer_account_id, state, expires_at_ms)`,
        idempotencyTableStatement('ledger_idempotency'),
      ],
    },
    {
      version: 2,
      name: 'idempotency expiry',
      // What IdempotencyTable.expire scans: the answers still kept, oldest first (a partial index,
      // which both engines have; tombstones leave it).
      statements: () => [
        idempotencyAnswersIndexStatement('ledger_idempotency_answers', 'ledger_idempotency'),
      ],
    },
    {
      version: 3,
      name: 'settlement role and settlement payments between DCP pools',
      statements: (engine) => [
        ...widenCheck(
          engine,
          'ledger_participants',
          'role',
          ['operator', 'intermediary', 'dcp', 'settlement'],
          participantsTable,
        ),
        ...widenCheck(
          engine,
          'ledger_payments',
          'kind',
          ['payment', 'issuance', 'capture', 'settlement'],
          paymentsTable,
        ),
        // What an account's `settled` sums (sql-store.ts accountView): few rows, on hot accounts.
        "CREATE INDEX ledger_payments_settled_in ON ledger_payments (payee_account_id) WHERE kind = 'settlement'",
        "CREATE INDEX ledger_payments_settled_out ON ledger_payments (payer_account_id) WHERE kind = 'settlement'",
      ],
    },
    {
      version: 4,
      name: 'payments and captures posted by one statement on PostgreSQL',
      // SQLite runs in process, where a statement costs no round trip: it needs no function.
      statements: (engine) => (engine === 'postgres' ? [postPaymentFunction] : []),
    },
  ],
};

/**
 * `ledger_post_payment`: a payment or capture the domain decided on an unlocked view, posted in one
 * round trip (sql-store.ts `postInOneStatement`). Its locks are taken in the global order (the
 * idempotency key, the accounts by id, the hold) and held only while this one statement runs, never
 * across a round trip to the client, so a hot account (a DCP pool) queues no transaction idle on the
 * network. Under the locks it re-checks what the decision read and can change: the hold is still
 * held and unexpired, and the payer's available balance still covers the amount (each PL/pgSQL
 * statement reads a fresh snapshot, so it sees every hold committed before the lock was granted).
 * If not, it raises SQLSTATE CB001 and the whole statement rolls back: the domain reads and decides
 * again. The accounts are locked FOR NO KEY UPDATE, the lock their UPDATE takes anyway: it does not
 * block the FOR KEY SHARE that a foreign key check takes, so a hold placed on another account for
 * this one (which locks only its payer, then checks its payee's key) never waits on it in a cycle.
 * Balances and entry sequences come from the locked rows (UPDATE ... RETURNING). Returns
 * 'posted', or 'keyTaken' (nothing written) when the idempotency key was claimed meanwhile.
 */
const postPaymentFunction = `CREATE FUNCTION ledger_post_payment(
    p_participant TEXT, p_key TEXT, p_fingerprint TEXT, p_result TEXT,
    p_id TEXT, p_kind TEXT, p_payer TEXT, p_payee TEXT, p_amount BIGINT, p_reference TEXT,
    p_hold TEXT, p_now BIGINT) RETURNS TEXT LANGUAGE plpgsql AS $$
  DECLARE
    available BIGINT;
  BEGIN
    IF p_key IS NOT NULL THEN
      INSERT INTO ledger_idempotency (participant_id, idempotency_key, fingerprint, result, created_at_ms)
        VALUES (p_participant, p_key, p_fingerprint, p_result, p_now) ON CONFLICT DO NOTHING;
      IF NOT FOUND THEN RETURN 'keyTaken'; END IF;
    END IF;
    PERFORM 1 FROM ledger_accounts WHERE id IN (p_payer, p_payee) ORDER BY id FOR NO KEY UPDATE;
    IF p_hold IS NOT NULL THEN
      UPDATE ledger_holds SET state = 'captured', payment_id = p_id, closed_at_ms = p_now
        WHERE id = p_hold AND state = 'held' AND expires_at_ms > p_now;
      IF NOT FOUND THEN RAISE EXCEPTION 'hold % is no longer held', p_hold USING ERRCODE = 'CB001'; END IF;
    END IF;
    SELECT a.balance - (SELECT COALESCE(SUM(h.amount), 0) FROM ledger_holds h
        WHERE h.payer_account_id = a.id AND h.state = 'held' AND h.expires_at_ms > p_now)
      INTO available FROM ledger_accounts a WHERE a.id = p_payer;
    IF available < p_amount THEN
      RAISE EXCEPTION 'account % no longer covers %', p_payer, p_amount USING ERRCODE = 'CB001';
    END IF;
    INSERT INTO ledger_payments (id, kind, payer_account_id, payee_account_id, amount, reference,
        hold_id, created_at_ms)
      VALUES (p_id, p_kind, p_payer, p_payee, p_amount, p_reference, p_hold, p_now);
    WITH posted AS (
      UPDATE ledger_accounts SET
          balance = balance + CASE WHEN id = p_payer THEN -p_amount ELSE p_amount END,
          entry_count = entry_count + 1
        WHERE id IN (p_payer, p_payee)
        RETURNING id, entry_count, balance)
    INSERT INTO ledger_entries (account_id, sequence, payment_id, kind, direction, amount,
        balance_after, created_at_ms)
      SELECT id, entry_count, p_id, p_kind,
          CASE WHEN id = p_payer THEN 'debit' ELSE 'credit' END, p_amount, balance, p_now
        FROM posted;
    RETURN 'posted';
  END $$`;

function participantsTable(roles: readonly string[]): string {
  return `CREATE TABLE ledger_participants (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN (${quoted(roles)})),
          api_key_sha256 TEXT NOT NULL UNIQUE,
          created_at_ms BIGINT NOT NULL)`;
}

function paymentsTable(kinds: readonly string[]): string {
  return `CREATE TABLE ledger_payments (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN (${quoted(kinds)})),
          payer_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
          payee_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
          amount BIGINT NOT NULL CHECK (amount > 0),
          reference TEXT,
          hold_id TEXT,
          created_at_ms BIGINT NOT NULL,
          CHECK (payer_account_id <> payee_account_id))`;
}

function quoted(values: readonly string[]): string {
  return values.map((value) => `'${value}'`).join(', ');
}

/**
 * Widens the CHECK of one column to `values` (`create` gives the table's new definition). PostgreSQL
 * replaces the constraint in place. SQLite cannot alter a CHECK: the table is copied, dropped and
 * created anew, inside the migration's transaction; other tables' foreign keys name it by name, and
 * with the checks deferred to the commit, the rows inserted back satisfy them again (the count of
 * deferred violations the drop raised falls back to zero), so the commit passes.
 */
function widenCheck(
  engine: Engine,
  table: string,
  column: string,
  values: readonly string[],
  create: (values: readonly string[]) => string,
): string[] {
  if (engine === 'postgres')
    return [
      `ALTER TABLE ${table} DROP CONSTRAINT ${table}_${column}_check`,
      `ALTER TABLE ${table} ADD CONSTRAINT ${table}_${column}_check CHECK (${column} IN (${quoted(values)}))`,
    ];
  return [
    'PRAGMA defer_foreign_keys = ON',
    `CREATE TABLE ${table}_copy AS SELECT * FROM ${table}`,
    `DROP TABLE ${table}`,
    create(values),
    `INSERT INTO ${table} SELECT * FROM ${table}_copy`,
    `DROP TABLE ${table}_copy`,
  ];
}
