// The enclave's schema (docs/mds.md, "Enclave"): the raw records only the enclave process reads. On
// PostgreSQL every table lives in the schema `mds_enclave`, which a deployment gives to the enclave's
// role alone, so the API process's role is refused on it; on SQLite the tables are in the enclave's
// own database file, which the API process never opens. The names differ only by that prefix.
//
// The graph is a set of facts keyed by content (entry ids are digests of signed bodies, token ids
// digests of their producer), written with "insert, ignore if present": merging an upload twice, or
// uploads in any order, leaves the same rows. Unique keys carry that: a spend is one (token,
// transfer) pair, a counter one (SE, counter, transfer) triple.
import type { Engine } from '../../storage/database.ts';
import type { MigrationSet } from '../../storage/migrations.ts';

export const enclaveSchema = 'mds_enclave';

/** The qualified name of an enclave table on `engine`. */
export function enclaveTable(engine: Engine, name: string): string {
  return engine === 'postgres' ? `${enclaveSchema}.${name}` : `enclave_${name}`;
}

export const enclaveMigrations: MigrationSet = {
  service: 'mds-enclave',
  migrations: [
    {
      version: 1,
      name: 'uploads entries spends tokens counters holdings reports alerts evidence',
      statements: (engine) => [
        ...(engine === 'postgres' ? [`CREATE SCHEMA IF NOT EXISTS ${enclaveSchema}`] : []),
        ...uploadTables(engine),
        ...graphTables(engine),
        ...reportAndAlertTables(engine),
      ],
    },
    {
      version: 2,
      name: 'recovery of value in flight: pending transfers, closed challenges, refund decisions',
      statements: (engine) => recoveryTables(engine),
    },
    {
      version: 3,
      name: 'issuance arrivals for the report window, deny lists, entry times',
      statements: (engine) => [...issuanceArrivalTables(engine), ...denialTables(engine)],
    },
    {
      version: 4,
      name: 'queued credits the DCPs report, and the issuances that minted them',
      statements: (engine) => queuedCreditTables(engine),
    },
  ],
};

/**
 * Queued credits (docs/mds.md, "Supply and settlement"): what a DCP reported queued for an SE and
 * not yet minted, keyed by the DCP and its own credit id, and the link from a reported credit or
 * refund issuance to each credit it minted (with the issuance's kind and SE, so a credit reported
 * after its mint is checked against it). A credit counts as issued by its DCP while no mint names it.
 */
function queuedCreditTables(engine: Engine): string[] {
  const t = (name: string) => enclaveTable(engine, name);
  return [
    `CREATE TABLE ${t('reported_credits')} (
            dcp_id TEXT NOT NULL,
            credit_id TEXT NOT NULL,
            se_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('credit', 'refund')),
            value BIGINT NOT NULL CHECK (value > 0),
            queued_at_ms BIGINT NOT NULL,
            reported_at_ms BIGINT NOT NULL,
            PRIMARY KEY (dcp_id, credit_id))`,
    `CREATE TABLE ${t('credit_mints')} (
            dcp_id TEXT NOT NULL,
            credit_id TEXT NOT NULL,
            entry_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('credit', 'refund')),
            se_id TEXT NOT NULL,
            reported_at_ms BIGINT NOT NULL,
            PRIMARY KEY (dcp_id, credit_id))`,
  ];
}

/**
 * Every DCP-signed issuance the graph holds, with when it was first merged and how its report window
 * ended (docs/mds.md, "Detectors"): `outcome` stays NULL while the window is open, then reads
 * `reported` or `raised`. owner: the SE the issuance pays (output 0); value: its outputs' sum.
 */
function issuanceArrivalTables(engine: Engine): string[] {
  const t = (name: string) => enclaveTable(engine, name);
  const index = (name: string) => (engine === 'postgres' ? name : `enclave_${name}`);
  return [
    `CREATE TABLE ${t('issuance_arrivals')} (
            entry_id TEXT PRIMARY KEY,
            dcp_id TEXT NOT NULL,
            owner TEXT NOT NULL,
            value BIGINT NOT NULL CHECK (value > 0),
            first_seen_ms BIGINT NOT NULL,
            outcome TEXT CHECK (outcome IN ('reported', 'raised')))`,
    `CREATE INDEX ${index('issuance_arrivals_open')} ON ${t('issuance_arrivals')} (outcome, first_seen_ms)`,
  ];
}

/** Sealed uploads as stored, and what ingest recorded of each. */
function uploadTables(engine: Engine): string[] {
  const t = (name: string) => enclaveTable(engine, name);
  const index = (name: string) => (engine === 'postgres' ? name : `enclave_${name}`);
  return [
    // plaintext_sha256 and se_counter are filled when the upload opens: the replay rule.
    `CREATE TABLE ${t('uploads')} (
            digest TEXT PRIMARY KEY,
            dcp_id TEXT NOT NULL,
            claim TEXT NOT NULL,
            sealed TEXT NOT NULL,
            se_id TEXT NOT NULL,
            se_counter BIGINT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('stored', 'ingested', 'refused')),
            refusal TEXT,
            plaintext_sha256 TEXT,
            received_at_ms BIGINT NOT NULL,
            ingested_at_ms BIGINT)`,
    `CREATE INDEX ${index('uploads_state')} ON ${t('uploads')} (state, received_at_ms)`,
    `CREATE INDEX ${index('uploads_plaintext')} ON ${t('uploads')} (se_id, plaintext_sha256)`,
  ];
}

/** The token graph: entries, spends, tokens, counters, and what each upload claimed. */
function graphTables(engine: Engine): string[] {
  const t = (name: string) => enclaveTable(engine, name);
  const index = (name: string) => (engine === 'postgres' ? name : `enclave_${name}`);
  return [
    // signer: the DCP id of an issuance, the payer of a transfer. backed: an issuance signed by
    // a DCP issuer of trust.json; a transfer whose signer's certificate chains to one.
    // value: the sum of the entry's outputs; paid: a transfer's payment (output 0), an issuance's value.
    `CREATE TABLE ${t('entries')} (
            entry_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('transfer', 'issuance')),
            signer TEXT NOT NULL,
            backed BIGINT NOT NULL CHECK (backed IN (0, 1)),
            value BIGINT NOT NULL CHECK (value > 0),
            paid BIGINT NOT NULL CHECK (paid > 0),
            envelope TEXT NOT NULL)`,
    `CREATE INDEX ${index('entries_signer')} ON ${t('entries')} (signer, kind)`,
    `CREATE TABLE ${t('spends')} (
            token_id TEXT NOT NULL,
            transfer_id TEXT NOT NULL,
            PRIMARY KEY (token_id, transfer_id))`,
    `CREATE TABLE ${t('tokens')} (
            token_id TEXT PRIMARY KEY,
            value BIGINT NOT NULL CHECK (value > 0),
            owner TEXT NOT NULL,
            parent_entry TEXT NOT NULL,
            generation BIGINT NOT NULL)`,
    `CREATE TABLE ${t('counters')} (
            se_id TEXT NOT NULL,
            counter BIGINT NOT NULL,
            transfer_id TEXT NOT NULL,
            PRIMARY KEY (se_id, counter, transfer_id))`,
    `CREATE TABLE ${t('holdings')} (
            upload_digest TEXT NOT NULL,
            token_id TEXT NOT NULL,
            value BIGINT NOT NULL CHECK (value > 0),
            PRIMARY KEY (upload_digest, token_id))`,
  ];
}

/** The DCPs' reports, and the alerts with their evidence. */
function reportAndAlertTables(engine: Engine): string[] {
  const t = (name: string) => enclaveTable(engine, name);
  return [
    `CREATE TABLE ${t('reported_issuances')} (
            entry_id TEXT PRIMARY KEY,
            dcp_id TEXT NOT NULL,
            envelope TEXT NOT NULL,
            reported_at_ms BIGINT NOT NULL)`,
    `CREATE TABLE ${t('reported_retirements')} (
            token_id TEXT PRIMARY KEY,
            dcp_id TEXT NOT NULL,
            value BIGINT NOT NULL CHECK (value > 0),
            se_id TEXT NOT NULL,
            upload_digest TEXT NOT NULL,
            retired_at_ms BIGINT NOT NULL,
            reported_at_ms BIGINT NOT NULL)`,
    // subject: what the alert is about (a token, an SE counter, a transfer, an SE); the id is
    // the digest of kind and subject, so more evidence updates the same alert.
    `CREATE TABLE ${t('alerts')} (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('doubleSpend', 'fakeFunding', 'counterReuse', 'unknownSigner', 'revokedSigner')),
            se_id TEXT NOT NULL,
            value BIGINT NOT NULL CHECK (value >= 0),
            evidence_count BIGINT NOT NULL,
            raised_at_ms BIGINT NOT NULL,
            sequence BIGINT NOT NULL UNIQUE)`,
    `CREATE TABLE ${t('evidence')} (
            alert_id TEXT NOT NULL,
            entry_id TEXT NOT NULL,
            PRIMARY KEY (alert_id, entry_id))`,
    // One row: the last alert sequence. Raising takes it FOR UPDATE, which also orders the
    // detectors of concurrent ingest workers (each sees the facts of those before it).
    `CREATE TABLE ${t('alert_sequence')} (
            name TEXT PRIMARY KEY,
            value BIGINT NOT NULL)`,
    `INSERT INTO ${t('alert_sequence')} (name, value) VALUES ('alerts', 0)`,
  ];
}

/**
 * Recovery of value in flight (src/mds/enclave/recovery.ts): facts keyed by content like the graph's,
 * and the refund decisions, one per undelivered transfer (its id is a digest of the transfer id).
 */
function recoveryTables(engine: Engine): string[] {
  const t = (name: string) => enclaveTable(engine, name);
  const index = (name: string) => (engine === 'postgres' ? name : `enclave_${name}`);
  return [
    // dcp_id, upload_digest, since_ms: of the first upload ingested that reported it pending.
    `CREATE TABLE ${t('pending_transfers')} (
            transfer_id TEXT PRIMARY KEY,
            payer_id TEXT NOT NULL,
            payee_id TEXT NOT NULL,
            challenge TEXT NOT NULL,
            value BIGINT NOT NULL CHECK (value > 0),
            token_id TEXT NOT NULL,
            dcp_id TEXT NOT NULL,
            upload_digest TEXT NOT NULL,
            since_ms BIGINT NOT NULL)`,
    `CREATE INDEX ${index('pending_transfers_challenge')} ON ${t('pending_transfers')} (payee_id, challenge)`,
    `CREATE TABLE ${t('acknowledged_transfers')} (
            transfer_id TEXT PRIMARY KEY)`,
    // Every upload that reported a challenge closed: a set, so evidence does not depend on order.
    `CREATE TABLE ${t('closed_challenges')} (
            payee_id TEXT NOT NULL,
            challenge TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('received', 'expired')),
            upload_digest TEXT NOT NULL,
            PRIMARY KEY (payee_id, challenge, state, upload_digest))`,
    `CREATE INDEX ${index('holdings_token')} ON ${t('holdings')} (token_id)`,
    `CREATE TABLE ${t('refunds')} (
            decision_id TEXT PRIMARY KEY,
            transfer_id TEXT NOT NULL UNIQUE,
            se_id TEXT NOT NULL,
            dcp_id TEXT NOT NULL,
            value BIGINT NOT NULL CHECK (value > 0),
            token_id TEXT NOT NULL,
            upload_digest TEXT NOT NULL,
            payee_id TEXT NOT NULL,
            challenge TEXT NOT NULL,
            decided_at_ms BIGINT NOT NULL,
            sequence BIGINT NOT NULL UNIQUE,
            executed_at_ms BIGINT)`,
    `CREATE INDEX ${index('refunds_dcp')} ON ${t('refunds')} (dcp_id, executed_at_ms, sequence)`,
    `INSERT INTO ${t('alert_sequence')} (name, value) VALUES ('refunds', 0)`,
  ];
}

/**
 * What the directory's signed deny lists said (docs/mds.md, "Detectors", `revokedSigner`): for each
 * denied SE, the first list that named it (its version and time, seconds). `advisory_time` on
 * entries: a transfer's advisory time (the payer's clock), an issuance's time (the DCP's).
 */
function denialTables(engine: Engine): string[] {
  const t = (name: string) => enclaveTable(engine, name);
  return [
    `ALTER TABLE ${t('entries')} ADD COLUMN advisory_time BIGINT NOT NULL DEFAULT 0`,
    `CREATE TABLE ${t('denials')} (
            se_id TEXT PRIMARY KEY,
            list_version BIGINT NOT NULL,
            listed_at BIGINT NOT NULL)`,
  ];
}
