// The directory's schema, in the SQL subset both engines share (BIGINT, TEXT; bytes as lowercase
// hex, since the two engines' binary types differ). CHECK constraints repeat the domain's rules as
// a last line of defence.
import type { MigrationSet } from '../../storage/migrations.ts';
import { idempotencyAnswersIndexStatement, idempotencyTableStatement } from '../../storage/idempotency.ts';

export const directoryMigrations: MigrationSet = {
  service: 'directory',
  migrations: [
    {
      version: 1,
      name: 'secure elements deny lists dcp endpoints',
      statements: () => [
        `CREATE TABLE directory_participants (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN ('operator', 'dcp', 'mds')),
          dcp_id TEXT,
          api_key_sha256 TEXT NOT NULL UNIQUE,
          created_at_ms BIGINT NOT NULL,
          CHECK ((role = 'dcp') = (dcp_id IS NOT NULL)))`,
        `CREATE TABLE directory_secure_elements (
          se_id TEXT PRIMARY KEY,
          dcp_id TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('card', 'phone')),
          wallet_id TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
          certificate TEXT NOT NULL,
          valid_until BIGINT NOT NULL,
          registered_at_ms BIGINT NOT NULL)`,
        // The deny set query: denied SEs whose certificate has not expired.
        `CREATE INDEX directory_secure_elements_denied ON directory_secure_elements (status, valid_until)`,
        `CREATE TABLE directory_status_changes (
          se_id TEXT NOT NULL REFERENCES directory_secure_elements (se_id),
          sequence BIGINT NOT NULL CHECK (sequence >= 1),
          status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
          reason TEXT NOT NULL,
          changed_by TEXT NOT NULL,
          changed_at_ms BIGINT NOT NULL,
          PRIMARY KEY (se_id, sequence))`,
        // One row, locked by every publication: versions are made one at a time, without gaps.
        `CREATE TABLE directory_deny_list_head (
          id BIGINT PRIMARY KEY CHECK (id = 1),
          version BIGINT NOT NULL CHECK (version >= -1))`,
        `INSERT INTO directory_deny_list_head (id, version) VALUES (1, -1)`,
        `CREATE TABLE directory_deny_lists (
          version BIGINT PRIMARY KEY CHECK (version >= 0),
          time_s BIGINT NOT NULL,
          directory_id TEXT NOT NULL,
          entry_count BIGINT NOT NULL,
          signed TEXT NOT NULL,
          created_at_ms BIGINT NOT NULL)`,
        `CREATE TABLE directory_dcp_endpoints (
          dcp_id TEXT PRIMARY KEY,
          base_url TEXT NOT NULL,
          updated_by TEXT NOT NULL,
          updated_at_ms BIGINT NOT NULL)`,
        idempotencyTableStatement('directory_idempotency'),
      ],
    },
    {
      version: 2,
      name: 'idempotency expiry',
      // What IdempotencyTable.expire scans: the answers still kept, oldest first (a partial index,
      // which both engines have; tombstones leave it).
      statements: () => [
        idempotencyAnswersIndexStatement('directory_idempotency_answers', 'directory_idempotency'),
      ],
    },
  ],
};
