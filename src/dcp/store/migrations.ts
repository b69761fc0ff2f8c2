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
import type { MigrationSet } from '../../storage/migrations.ts';

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
        `CREATE TABLE dcp_idempotency_keys (
          participant_id TEXT NOT NULL,
          idempotency_key TEXT NOT NULL,
          fingerprint TEXT NOT NULL,
          result TEXT,
          created_at_ms BIGINT NOT NULL,
          PRIMARY KEY (participant_id, idempotency_key))`,
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
  ],
};
