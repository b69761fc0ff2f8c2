// The MDS API process's schema, in the SQL subset both engines share (BIGINT, TEXT; bytes and
// digests as lowercase hex). It holds only what the API process owns (docs/mds.md): participants,
// idempotency keys, the mirrored alerts with their statuses and the mirror's cursor, the uploads each
// DCP relayed, and the audit log. The raw graph is the enclave's, in a database of its own. CHECK
// constraints repeat the domain's rules as a last line of defence.
import type { MigrationSet } from '../../storage/migrations.ts';
import { idempotencyAnswersIndexStatement, idempotencyTableStatement } from '../../storage/idempotency.ts';

export const mdsMigrations: MigrationSet = {
  service: 'mds',
  migrations: [
    {
      version: 1,
      name: 'participants alerts relayed uploads audit log',
      statements: () => [
        `CREATE TABLE mds_participants (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN ('operator', 'dcp', 'analyst', 'economist', 'auditor')),
          dcp_id TEXT,
          api_key_sha256 TEXT NOT NULL UNIQUE,
          created_at_ms BIGINT NOT NULL,
          CHECK ((role = 'dcp') = (dcp_id IS NOT NULL)))`,
        idempotencyTableStatement('mds_idempotency'),
        // What IdempotencyTable.expire scans: the answers still kept (tombstones leave the index).
        idempotencyAnswersIndexStatement('mds_idempotency_answers', 'mds_idempotency'),
        `CREATE TABLE mds_relayed_uploads (
          dcp_id TEXT NOT NULL,
          digest TEXT NOT NULL CHECK (length(digest) = 64),
          received_at_ms BIGINT NOT NULL,
          PRIMARY KEY (dcp_id, digest))`,
        // One row, locked by every copy: the largest enclave sequence mirrored so far.
        `CREATE TABLE mds_alert_cursor (
          id BIGINT PRIMARY KEY CHECK (id = 1),
          sequence BIGINT NOT NULL CHECK (sequence >= 0))`,
        'INSERT INTO mds_alert_cursor (id, sequence) VALUES (1, 0)',
        `CREATE TABLE mds_alerts (
          id TEXT PRIMARY KEY,
          position BIGINT NOT NULL UNIQUE CHECK (position >= 1),
          kind TEXT NOT NULL CHECK (kind IN ('doubleSpend', 'fakeFunding', 'counterReuse', 'unknownSigner', 'revokedSigner')),
          se_id TEXT NOT NULL,
          value BIGINT NOT NULL CHECK (value >= 0),
          raised_at_ms BIGINT NOT NULL,
          evidence_count BIGINT NOT NULL CHECK (evidence_count >= 1),
          enclave_sequence BIGINT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'revoked')),
          revocation_refusal TEXT)`,
        'CREATE INDEX mds_alerts_status ON mds_alerts (status, position)',
        'CREATE INDEX mds_alerts_kind ON mds_alerts (kind, position)',
        `CREATE TABLE mds_audit (
          sequence BIGINT PRIMARY KEY CHECK (sequence >= 1),
          at_ms BIGINT NOT NULL,
          participant_id TEXT NOT NULL,
          role TEXT NOT NULL,
          action TEXT NOT NULL,
          subject TEXT NOT NULL,
          prev_hash TEXT NOT NULL,
          hash TEXT NOT NULL)`,
        // One row, locked by every append: entries are chained one at a time, without gaps.
        `CREATE TABLE mds_audit_head (
          id BIGINT PRIMARY KEY CHECK (id = 1),
          sequence BIGINT NOT NULL CHECK (sequence >= 0),
          hash TEXT NOT NULL)`,
        `INSERT INTO mds_audit_head (id, sequence, hash) VALUES (1, 0, '${'00'.repeat(32)}')`,
      ],
    },
    {
      version: 2,
      name: 'settlement runs between DCP pools, and the pools',
      // A run per period, its place in the list, and its planned payments (one per pair of DCPs),
      // each with the ledger payment once made. docs/mds.md, "Supply and settlement".
      statements: () => [
        `CREATE TABLE mds_settlements (
          period TEXT PRIMARY KEY,
          position BIGINT NOT NULL UNIQUE CHECK (position >= 1),
          state TEXT NOT NULL CHECK (state IN ('pending', 'completed')),
          started_at_ms BIGINT NOT NULL,
          completed_at_ms BIGINT,
          CHECK ((state = 'completed') = (completed_at_ms IS NOT NULL)))`,
        "CREATE INDEX mds_settlements_pending ON mds_settlements (state) WHERE state = 'pending'",
        `CREATE TABLE mds_settlement_transfers (
          period TEXT NOT NULL REFERENCES mds_settlements (period),
          payer_dcp_id TEXT NOT NULL,
          payee_dcp_id TEXT NOT NULL,
          amount BIGINT NOT NULL CHECK (amount > 0),
          ledger_payment_id TEXT,
          PRIMARY KEY (period, payer_dcp_id, payee_dcp_id),
          CHECK (payer_dcp_id <> payee_dcp_id))`,
        `CREATE TABLE mds_settlement_pools (
          dcp_id TEXT PRIMARY KEY,
          account_id TEXT NOT NULL)`,
      ],
    },
  ],
};
