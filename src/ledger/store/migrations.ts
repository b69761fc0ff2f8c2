// The ledger's schema, in the SQL subset both engines share (BIGINT is a 64-bit integer on both;
// TEXT ids; no engine-specific types). CHECK constraints repeat the domain's money rules as a last
// line of defence: no balance but the issuance account's can go negative, amounts are positive.
import type { Engine } from '../../storage/database.ts';
import type { MigrationSet } from '../../storage/migrations.ts';

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
        `CREATE TABLE ledger_idempotency (
          participant_id TEXT NOT NULL,
          idempotency_key TEXT NOT NULL,
          fingerprint TEXT NOT NULL,
          result TEXT,
          created_at_ms BIGINT NOT NULL,
          PRIMARY KEY (participant_id, idempotency_key))`,
      ],
    },
    {
      version: 2,
      name: 'idempotency expiry',
      // What IdempotencyTable.expire scans: the answers still kept, oldest first (a partial index,
      // which both engines have; tombstones leave it).
      statements: () => [
        'CREATE INDEX ledger_idempotency_answers ON ledger_idempotency (created_at_ms) WHERE result IS NOT NULL',
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
  ],
};

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
