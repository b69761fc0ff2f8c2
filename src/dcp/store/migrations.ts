// The DCP's schema, in the SQL subset both engines share. Unique constraints carry the invariants that
// must hold even against a bug or a race: a token is retired at most once (dcp_retired_tokens' key),
// an issuance reference is minted at most once (dcp_issuances.request_reference), a nonce is used at
// most once (dcp_used_nonces' key), a ledger payment is credited at most once (dcp_credits' key).
//
// Version 2 moves the idempotency keys to the table shape of the one mechanism every service stores
// through (src/storage/idempotency.ts): `participant_id` is the key's scope (an SE id for device
// operations, a participant for administrative ones) and `result` names what the key created as
// `kind:id`. The kind of an existing row is read from what its id names: participants and wallets
// by their prefix, a personalisation by its device, an operation by its row; a key whose operation
// is gone was a refused load (only those are deleted).
//
// Version 4 is the MDS forwarding (docs/dcp.md, "Forwarding to the MDS"). The MDS takes an upload
// only with the SE's claim that binds it, so the claim is now stored beside the sealed bytes; the
// table is rebuilt because SQLite cannot widen a CHECK. A row from before has no claim, and the DCP
// kept it nowhere else (the idempotency table holds only a digest of the request), so it becomes
// `unforwardable`: kept, counted on /metrics, never silently dropped. Issuances and retired tokens
// get a report state, so each is reported once the MDS acknowledged it; a retired token also gets
// the digest of the upload whose claim retired it (the MDS's report names it), filled from its
// operation's upload, or `unreportable` in the one case that cannot be (an operation whose sealed
// upload repeated an earlier operation's, which stored none of its own).
//
// Version 5 indexes the idempotency answers by age: they expire after the retention
// (src/service-kit/idempotency.ts), a bounded batch at a time, and the tombstones stay.
//
// Version 6 (9 once merged after 6 to 8 of other branches) lets an operation be a `refusal`: the return to the wallet of a load its SE refused
// (REFUSE LOAD, docs/dcp.md "Loads an SE refuses"). The table is rebuilt because SQLite cannot
// widen a CHECK; every row and both indexes are kept as they were.
//
// Version 9 (assigned 8; main's 8 came first) reports queued credits to the MDS (docs/dcp.md, "Forwarding to the MDS"): a credit's
// value is in the pool from the moment it is queued, but it reaches the MDS as an issuance only when
// the SE's next sync mints it, so until then the MDS's supply would miss it. A credit gets a report
// state; only a queued one is ever reported (a minted one is reported through its issuance, which
// names it). Credits minted before this version need nothing: their issuances count.
import type { MigrationSet } from '../../storage/migrations.ts';
import { idempotencyAnswersIndexStatement, idempotencyTableStatement } from '../../storage/idempotency.ts';

const refusalOperationStatements = [
  `CREATE TABLE dcp_operations_v6 (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('load', 'renewal', 'unload', 'transfer', 'refusal')),
    se_id TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    state TEXT NOT NULL CHECK (state IN ('pending', 'held', 'paid', 'done')),
    account_id TEXT,
    hold_id TEXT,
    payment_id TEXT,
    payee_se_id TEXT,
    payee_endpoint TEXT,
    answer TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL)`,
  `INSERT INTO dcp_operations_v6 (id, kind, se_id, amount, state, account_id, hold_id, payment_id,
      payee_se_id, payee_endpoint, answer, created_at_ms, updated_at_ms)
    SELECT id, kind, se_id, amount, state, account_id, hold_id, payment_id,
      payee_se_id, payee_endpoint, answer, created_at_ms, updated_at_ms
    FROM dcp_operations`,
  `DROP TABLE dcp_operations`,
  `ALTER TABLE dcp_operations_v6 RENAME TO dcp_operations`,
  `CREATE INDEX dcp_operations_open ON dcp_operations (state)`,
  `CREATE INDEX dcp_operations_se ON dcp_operations (se_id, kind)`,
];

const mdsForwardingStatements = [
  `CREATE TABLE dcp_uploads_v4 (
    digest TEXT PRIMARY KEY,
    se_id TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    claim TEXT,
    sealed TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'forwarded', 'refused', 'unforwardable')),
    refusal TEXT,
    attempts BIGINT NOT NULL,
    next_attempt_at_ms BIGINT NOT NULL,
    forwarded_at_ms BIGINT,
    created_at_ms BIGINT NOT NULL,
    CHECK (claim IS NOT NULL OR state = 'unforwardable'))`,
  `INSERT INTO dcp_uploads_v4 (digest, se_id, operation_id, claim, sealed, state, refusal, attempts,
      next_attempt_at_ms, forwarded_at_ms, created_at_ms)
    SELECT digest, se_id, operation_id, NULL, sealed, 'unforwardable', NULL, 0, created_at_ms, NULL, created_at_ms
    FROM dcp_uploads`,
  `DROP TABLE dcp_uploads`,
  `ALTER TABLE dcp_uploads_v4 RENAME TO dcp_uploads`,
  `CREATE INDEX dcp_uploads_due ON dcp_uploads (state, next_attempt_at_ms)`,
  `ALTER TABLE dcp_issuances ADD COLUMN report_state TEXT NOT NULL DEFAULT 'pending'
    CHECK (report_state IN ('pending', 'reported', 'refused'))`,
  `ALTER TABLE dcp_issuances ADD COLUMN report_refusal TEXT`,
  `CREATE INDEX dcp_issuances_unreported ON dcp_issuances (report_state, created_at_ms)`,
  `ALTER TABLE dcp_retired_tokens ADD COLUMN upload_digest TEXT`,
  `UPDATE dcp_retired_tokens SET upload_digest =
    (SELECT u.digest FROM dcp_uploads u WHERE u.operation_id = dcp_retired_tokens.operation_id)`,
  `ALTER TABLE dcp_retired_tokens ADD COLUMN report_state TEXT NOT NULL DEFAULT 'pending'
    CHECK (report_state IN ('pending', 'reported', 'refused', 'unreportable'))`,
  `ALTER TABLE dcp_retired_tokens ADD COLUMN report_refusal TEXT`,
  `UPDATE dcp_retired_tokens SET report_state = 'unreportable' WHERE upload_digest IS NULL`,
  `CREATE INDEX dcp_retired_tokens_unreported ON dcp_retired_tokens (report_state, created_at_ms)`,
];

/**
 * The unload gate (docs/dcp.md, "Renewal check and the unload gate"): how much of each token this
 * DCP minted it knows backed without the MDS. Loads, credits and refunds are vouched in full (the
 * ledger moved their money into the pool). A renewal output from before this migration may have
 * renewed value that came offline, unchecked, and the DCP cannot tell any more: it is vouched for
 * nothing, so unloading it asks the MDS.
 */
const vouchedStatements = [
  'ALTER TABLE dcp_tokens ADD COLUMN vouched BIGINT NOT NULL DEFAULT 0',
  `UPDATE dcp_tokens SET vouched = value WHERE issuance_id IN
    (SELECT id FROM dcp_issuances WHERE kind IN ('load', 'credit', 'refund'))`,
];

/**
 * Loads a sync delivers again (settle.ts): each issuance's time, to find the loads stamped after the
 * last sync a claim shows, and per device the newest such time, to count the loads still open. An
 * issuance minted before this migration has time 0: no sync delivers it again (it was delivered, or
 * not, under the old rules).
 */
const openLoadStatements = [
  'ALTER TABLE dcp_issuances ADD COLUMN stamped_at BIGINT NOT NULL DEFAULT 0',
  'ALTER TABLE dcp_devices ADD COLUMN synced_through BIGINT NOT NULL DEFAULT 0',
  'CREATE INDEX dcp_issuances_by_se_time ON dcp_issuances (se_id, kind, stamped_at)',
];

const creditReportStatements = [
  `ALTER TABLE dcp_credits ADD COLUMN report_state TEXT NOT NULL DEFAULT 'pending'
    CHECK (report_state IN ('pending', 'reported', 'refused'))`,
  `ALTER TABLE dcp_credits ADD COLUMN report_refusal TEXT`,
  `CREATE INDEX dcp_credits_unreported ON dcp_credits (report_state, state, created_at_ms)`,
  // The issuance that minted a credit names it in its report: found by the issuance.
  `CREATE INDEX dcp_credits_issuance ON dcp_credits (issuance_id)`,
];

export const dcpMigrations: MigrationSet = {
  service: 'dcp',
  migrations: [
    {
      version: 1,
      name: 'wallets devices operations issuances tokens',
      statements: () => [
        `CREATE TABLE dcp_participants (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN ('operator', 'agent')),
          api_key_sha256 TEXT NOT NULL UNIQUE,
          created_at_ms BIGINT NOT NULL)`,
        `CREATE TABLE dcp_wallets (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          account_id TEXT NOT NULL,
          created_at_ms BIGINT NOT NULL)`,
        `CREATE TABLE dcp_devices (
          se_id TEXT PRIMARY KEY,
          wallet_id TEXT NOT NULL REFERENCES dcp_wallets (id),
          kind TEXT NOT NULL CHECK (kind IN ('card', 'phone')),
          public_key TEXT NOT NULL UNIQUE,
          certificate TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('registering', 'active')),
          last_time BIGINT NOT NULL,
          created_at_ms BIGINT NOT NULL)`,
        `CREATE TABLE dcp_idempotency (
          scope TEXT NOT NULL,
          idempotency_key TEXT NOT NULL,
          fingerprint TEXT NOT NULL,
          result TEXT NOT NULL,
          created_at_ms BIGINT NOT NULL,
          PRIMARY KEY (scope, idempotency_key))`,
        `CREATE TABLE dcp_used_nonces (
          nonce TEXT PRIMARY KEY,
          expires_at_ms BIGINT NOT NULL)`,
        `CREATE TABLE dcp_operations (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('load', 'renewal', 'unload', 'transfer')),
          se_id TEXT NOT NULL,
          amount BIGINT NOT NULL CHECK (amount >= 0),
          state TEXT NOT NULL CHECK (state IN ('pending', 'held', 'paid', 'done')),
          account_id TEXT,
          hold_id TEXT,
          payment_id TEXT,
          payee_se_id TEXT,
          payee_endpoint TEXT,
          answer TEXT,
          created_at_ms BIGINT NOT NULL,
          updated_at_ms BIGINT NOT NULL)`,
        `CREATE INDEX dcp_operations_open ON dcp_operations (state)`,
        `CREATE TABLE dcp_issuances (
          id TEXT PRIMARY KEY,
          request_reference TEXT NOT NULL UNIQUE,
          kind TEXT NOT NULL CHECK (kind IN ('load', 'renewal', 'credit', 'refund')),
          se_id TEXT NOT NULL,
          value BIGINT NOT NULL CHECK (value >= 0),
          operation_id TEXT NOT NULL,
          signed TEXT NOT NULL,
          created_at_ms BIGINT NOT NULL)`,
        `CREATE TABLE dcp_tokens (
          token_id TEXT PRIMARY KEY,
          se_id TEXT NOT NULL,
          value BIGINT NOT NULL CHECK (value > 0),
          issuance_id TEXT NOT NULL)`,
        `CREATE TABLE dcp_retired_tokens (
          token_id TEXT PRIMARY KEY,
          se_id TEXT NOT NULL,
          value BIGINT NOT NULL CHECK (value > 0),
          operation_id TEXT NOT NULL,
          created_at_ms BIGINT NOT NULL)`,
        `CREATE TABLE dcp_credits (
          id TEXT PRIMARY KEY,
          se_id TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('credit', 'refund')),
          value BIGINT NOT NULL CHECK (value > 0),
          state TEXT NOT NULL CHECK (state IN ('queued', 'minted')),
          issuance_id TEXT,
          created_at_ms BIGINT NOT NULL)`,
        `CREATE INDEX dcp_credits_queued ON dcp_credits (se_id, state)`,
        `CREATE TABLE dcp_uploads (
          digest TEXT PRIMARY KEY,
          se_id TEXT NOT NULL,
          operation_id TEXT NOT NULL,
          sealed TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('pending', 'forwarded')),
          created_at_ms BIGINT NOT NULL)`,
        `CREATE INDEX dcp_uploads_pending ON dcp_uploads (state)`,
      ],
    },
    {
      version: 2,
      name: 'idempotency keys of the shared mechanism',
      statements: () => [
        idempotencyTableStatement('dcp_idempotency_keys'),
        `INSERT INTO dcp_idempotency_keys (participant_id, idempotency_key, fingerprint, result, created_at_ms)
          SELECT k.scope, k.idempotency_key, k.fingerprint,
            CASE
              WHEN SUBSTR(k.result, 1, 4) = 'prt_' THEN 'participant:' || k.result
              WHEN SUBSTR(k.result, 1, 4) = 'wal_' THEN 'wallet:' || k.result
              WHEN EXISTS (SELECT 1 FROM dcp_devices d WHERE d.se_id = k.result) THEN 'personalisation:' || k.result
              WHEN EXISTS (SELECT 1 FROM dcp_operations o WHERE o.id = k.result)
                THEN (SELECT o.kind FROM dcp_operations o WHERE o.id = k.result) || ':' || k.result
              ELSE 'load:' || k.result
            END,
            k.created_at_ms
          FROM dcp_idempotency k`,
        `DROP TABLE dcp_idempotency`,
      ],
    },
    {
      version: 3,
      name: "an SE's operations by kind, for the value of its loads not yet seen installed",
      statements: () => [`CREATE INDEX dcp_operations_se ON dcp_operations (se_id, kind)`],
    },
    {
      version: 4,
      name: 'the MDS forwarding: claims beside uploads, reported markers',
      statements: () => mdsForwardingStatements,
    },
    {
      version: 5,
      name: 'idempotency answers by age, for their expiry',
      statements: () => [idempotencyAnswersIndexStatement('dcp_idempotency_answers', 'dcp_idempotency_keys')],
    },
    {
      version: 6,
      name: 'operations that return a load its SE refused',
      statements: () => refusalOperationStatements,
    },
    {
      version: 7,
      name: 'the vouched value of each minted token, for the unload gate',
      statements: () => vouchedStatements,
    },
    {
      version: 8,
      name: 'issuance times and the last sync a claim showed, for the loads a sync delivers again',
      statements: () => openLoadStatements,
    },
    {
      version: 9,
      name: 'queued credits reported to the MDS',
      statements: () => creditReportStatements,
    },
    {
      version: 10,
      name: "a load's issuance and an issuance's tokens by key, for the load guard",
      // The load guard (load.ts) joins every load of an SE to its issuance and token under the
      // device's lock; without these it scanned both tables once per load.
      statements: () => [
        'CREATE INDEX dcp_issuances_operation ON dcp_issuances (operation_id)',
        'CREATE INDEX dcp_tokens_issuance ON dcp_tokens (issuance_id)',
      ],
    },
  ],
};
