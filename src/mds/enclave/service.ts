// The enclave behind the channel (docs/mds.md, "Enclave"): `EnclaveService` implements `EnclavePort`
// over the enclave's database, and `ingestNext` is one step of an ingest worker. Pure of node:*: the
// clock, the database and the cryptography (with the MDS private key inside it) are injected.
//
// An upload's life:   stored ──ingestNext──▶ ingested   (its facts merged, alerts derived)
//                        └──────────────────▶ refused    (a code recorded, nothing merged)
// Both are final; a refused upload is never retried (the same bytes would fail the same way).
import { assert } from '../../core/assert.ts';
import { bytesEqual, fromHex, toHex, type Bytes } from '../../core/bytes.ts';
import type { Certificate } from '../../core/certificate.ts';
import type { Claim } from '../../core/claim.ts';
import { VerifiedCertificates } from '../../core/verified-certificates.ts';
import type { TrustAnchors } from '../../core/trust.ts';
import type { Database, Executor } from '../../storage/database.ts';
import { columnBigint, columnOneOf, columnSafeInteger, columnText } from '../../storage/decode.ts';
import {
  alertsPageMax,
  claimBytesMax,
  sealedUploadBytesMax,
  type AlertKind,
  type AlertsPage,
  type DenyListCounts,
  type EnclaveAlert,
  type EnclavePort,
  type EnclaveStatus,
  type EvidenceItem,
  type RecordReportsRequest,
  type RenewalCheckAnswer,
  type RenewalCheckRequest,
  type ReportCounts,
  type StoreUploadRequest,
  type UploadState,
  type UploadStatus,
} from '../channel/protocol.ts';
import { mdsError } from '../api/errors.ts';
import { decodeClaim, openUpload, type EnclaveCrypto } from './open-upload.ts';
import { collectEntries, uploadFacts, type UploadFacts } from './upload-facts.ts';
import { refusalCodeOf, type RefusalCode } from './refusals.ts';
import { detect } from './detectors.ts';
import { recordReports } from './reports.ts';
import { recordDenyList } from './denials.ts';
import { issuanceReportWindowMsDefault, recordArrivals, settleIssuances } from './unreported.ts';
import { BackedRenewals } from './backing.ts';
import { checkRenewal, type VerdictSigner } from './renewal-check.ts';
import {
  EnclaveTables,
  finishUpload,
  ingestedTwin,
  insertUpload,
  knownEntries,
  mergeFacts,
  readUpload,
  takeStoredUpload,
  uploadStates,
  type StoredUpload,
} from './store.ts';

/** SE certificates whose chain ingest remembers (about 200 bytes each: a few MB at most). */
export const certificatesRememberedMax = 16_384;

export interface Clock {
  nowMs(): number;
}

export interface EnclaveDependencies {
  readonly database: Database;
  readonly crypto: EnclaveCrypto;
  readonly anchors: TrustAnchors;
  readonly clock: Clock;
  /** The directory's certificate (trust.json): the key its deny lists are checked with. */
  readonly directory: Certificate;
  /** How long a DCP has to report an issuance after it first enters the graph (unreported.ts). */
  readonly issuanceReportWindowMs?: number;
  /** Signs renewal verdicts with the MDS key, under the deployment's double-spend policy; without
   * it (tests of ingest alone) a renewal check is refused `mdsEnclaveUnavailable`. */
  readonly verdicts?: VerdictSigner;
}

export const alertKinds: readonly AlertKind[] = [
  'doubleSpend',
  'fakeFunding',
  'counterReuse',
  'unknownSigner',
  'revokedSigner',
];

export class EnclaveService implements EnclavePort {
  readonly #db: Database;
  readonly #crypto: EnclaveCrypto;
  readonly #anchors: TrustAnchors;
  readonly #clock: Clock;
  readonly #tables: EnclaveTables;
  readonly #reportWindowMs: number;
  readonly #directory: Certificate;
  readonly #memory = { certificates: new VerifiedCertificates(certificatesRememberedMax) };
  readonly #backedRenewals = new BackedRenewals();
  readonly #verdicts: VerdictSigner | undefined;

  constructor(dependencies: EnclaveDependencies) {
    this.#db = dependencies.database;
    this.#crypto = dependencies.crypto;
    this.#anchors = dependencies.anchors;
    this.#clock = dependencies.clock;
    this.#verdicts = dependencies.verdicts;
    this.#tables = new EnclaveTables(dependencies.database.engine);
    this.#directory = dependencies.directory;
    this.#reportWindowMs = dependencies.issuanceReportWindowMs ?? issuanceReportWindowMsDefault;
    if (!Number.isSafeInteger(this.#reportWindowMs) || this.#reportWindowMs < 0)
      throw new RangeError('issuanceReportWindowMs must be a non-negative integer');
  }

  async storeUpload(request: StoreUploadRequest): Promise<UploadStatus> {
    if (request.sealed.length > sealedUploadBytesMax)
      throw mdsError(
        'uploadBytesLimitExceeded',
        `sealed upload of ${request.sealed.length} bytes > ${sealedUploadBytesMax}`,
      );
    if (request.claim.length > claimBytesMax)
      throw mdsError('uploadBytesLimitExceeded', `claim of ${request.claim.length} bytes > ${claimBytesMax}`);
    const claim = decodeClaim(request.claim);
    const digest = this.#crypto.verifier.sha256(request.sealed);
    if (!bytesEqual(claim.body.uploadDigest, digest))
      throw mdsError('uploadClaimInvalid', 'the claim binds another upload digest');
    const upload = {
      digest: toHex(digest),
      dcpId: request.dcpId,
      claim: request.claim,
      sealed: request.sealed,
      seId: toHex(claim.body.seId),
      counter: claim.body.counter,
      receivedAtMs: request.receivedAtMs,
    };
    return this.#db.transaction(async (tx) => {
      if (await insertUpload(tx, this.#tables, upload))
        return { digest: upload.digest, state: 'stored', refusal: null };
      const held = await readUpload(tx, this.#tables, upload.digest);
      if (held === undefined || held.dcpId !== request.dcpId || !bytesEqual(held.claim, request.claim))
        throw mdsError(
          'uploadConflict',
          `upload ${upload.digest} was posted with another claim or by another DCP`,
        );
      return held.status;
    });
  }

  async uploadStatus(dcpId: string, digest: string): Promise<UploadStatus | undefined> {
    const held = await readUpload(this.#db, this.#tables, digest);
    return held?.dcpId === dcpId ? held.status : undefined;
  }

  recordReports(request: RecordReportsRequest): Promise<ReportCounts> {
    return recordReports(
      this.#db,
      this.#tables,
      this.#crypto.verifier,
      this.#anchors,
      request,
      this.#clock.nowMs(),
    );
  }

  recordDenyList(list: Bytes): Promise<DenyListCounts> {
    return recordDenyList(
      this.#db,
      this.#tables,
      this.#crypto.verifier,
      this.#directory,
      list,
      this.#clock.nowMs(),
    );
  }

  async alertsAfter(after: number, limit: number): Promise<AlertsPage> {
    const bounded = Math.max(1, Math.min(limit, alertsPageMax));
    const rows = await this.#db.all(
      `SELECT * FROM ${this.#tables.alerts} WHERE sequence > ? ORDER BY sequence LIMIT ?`,
      [after, bounded],
    );
    const alerts: EnclaveAlert[] = rows.map((row) => ({
      id: columnText(row, 'id'),
      kind: columnOneOf(row, 'kind', alertKinds),
      seId: columnText(row, 'se_id'),
      value: columnBigint(row, 'value'),
      raisedAtMs: columnSafeInteger(row, 'raised_at_ms'),
      evidenceCount: columnSafeInteger(row, 'evidence_count'),
      sequence: columnSafeInteger(row, 'sequence'),
    }));
    return { alerts, sequence: alerts.at(-1)?.sequence ?? after };
  }

  async evidence(alertId: string): Promise<readonly EvidenceItem[] | undefined> {
    const alert = await this.#db.all(`SELECT id FROM ${this.#tables.alerts} WHERE id = ?`, [alertId]);
    if (alert.length === 0) return undefined;
    const rows = await this.#db.all(
      `SELECT v.entry_id, e.kind, e.envelope FROM ${this.#tables.evidence} v JOIN ${this.#tables.entries} e ON e.entry_id = v.entry_id
       WHERE v.alert_id = ? ORDER BY v.entry_id`,
      [alertId],
    );
    return rows.map((row) => ({
      entryId: columnText(row, 'entry_id'),
      kind: columnOneOf(row, 'kind', ['transfer', 'issuance'] as const),
      entry: hexBytes(columnText(row, 'envelope')),
    }));
  }

  async status(): Promise<EnclaveStatus> {
    const uploads = Object.fromEntries(uploadStates.map((state) => [state, 0])) as Record<
      UploadState,
      number
    >;
    const alerts = Object.fromEntries(alertKinds.map((kind) => [kind, 0])) as Record<AlertKind, number>;
    for (const row of await this.#db.all(
      `SELECT state, COUNT(*) AS n FROM ${this.#tables.uploads} GROUP BY state`,
    ))
      uploads[columnOneOf(row, 'state', uploadStates)] = columnSafeInteger(row, 'n');
    for (const row of await this.#db.all(
      `SELECT kind, COUNT(*) AS n FROM ${this.#tables.alerts} GROUP BY kind`,
    ))
      alerts[columnOneOf(row, 'kind', alertKinds)] = columnSafeInteger(row, 'n');
    return { uploads, alerts };
  }

  /**
   * One ingest step: takes the oldest stored upload (skipping those other workers hold), opens,
   * verifies and merges it, or records its refusal, in one transaction. Undefined when none waits.
   */
  ingestNext(): Promise<UploadStatus | undefined> {
    return this.#db.transaction(async (tx) => {
      const stored = await takeStoredUpload(tx, this.#tables);
      return stored === undefined ? undefined : this.#ingestHeld(tx, stored);
    });
  }

  /**
   * Settles the issuances whose report window has ended (unreported.ts): the ingest workers call it
   * when idle. Returns how many were settled, at most `issuancesSettledMax`.
   */
  settleIssuances(): Promise<number> {
    return this.#db.transaction((tx) =>
      settleIssuances(tx, this.#tables, this.#crypto.verifier, this.#reportWindowMs, this.#clock.nowMs()),
    );
  }

  /** Ingests one upload by digest now (a renewal check's), waiting for a worker that holds it. */
  ingestUpload(digest: string): Promise<UploadStatus | undefined> {
    return this.#db.transaction(async (tx) => {
      const held = await readUpload(tx, this.#tables, digest, tx.engine === 'postgres' ? ' FOR UPDATE' : '');
      if (held?.status.state !== 'stored') return held?.status;
      return this.#ingestHeld(tx, held);
    });
  }

  /**
   * A DCP's renewal check: the pair is stored and ingested first, exactly as `storeUpload` and a
   * worker would (so the check and the graph agree), then judged (backing.ts) and signed.
   */
  async checkRenewal(request: RenewalCheckRequest): Promise<RenewalCheckAnswer> {
    if (this.#verdicts === undefined)
      throw mdsError('mdsEnclaveUnavailable', 'this enclave was started without a verdict key');
    return checkRenewal(
      {
        store: (pair) => this.storeUpload(pair),
        ingest: (digest) => this.ingestUpload(digest),
        ingestPending: (uploadsMax) => this.ingestAll(uploadsMax),
        read: (decide) => this.#db.transaction((tx) => decide(tx, this.#tables, this.#backedRenewals)),
        signer: this.#verdicts,
        clock: this.#clock,
      },
      request,
    );
  }

  async #ingestHeld(tx: Executor, stored: StoredUpload): Promise<UploadStatus> {
    const outcome = await this.#ingest(tx, stored);
    await finishUpload(tx, this.#tables, stored.digest, outcome, this.#clock.nowMs());
    return { digest: stored.digest, state: outcome.state, refusal: outcome.refusal };
  }

  /** Ingests until no stored upload is left, at most `uploadsMax`; returns how many were taken. */
  async ingestAll(uploadsMax: number): Promise<number> {
    let taken = 0;
    while (taken < uploadsMax && (await this.ingestNext()) !== undefined) taken++;
    return taken;
  }

  async #ingest(tx: Executor, stored: StoredUpload): Promise<IngestOutcome> {
    const decided = await this.#decide(tx, stored);
    if (decided.state === 'refused') return decided;
    // Past every check: nothing below refuses, so a refused upload never has a fact merged.
    await mergeFacts(tx, this.#tables, stored.digest, decided.facts);
    await recordArrivals(tx, this.#tables, decided.facts, this.#clock.nowMs());
    await detect(tx, this.#tables, this.#crypto.verifier, decided.facts, this.#clock.nowMs());
    return { state: 'ingested', refusal: null, plaintextSha256: decided.plaintextSha256 };
  }

  /** Opens and checks an upload (docs/mds.md, "Storing and ingesting", rules 1 to 9); writes nothing. */
  async #decide(tx: Executor, stored: StoredUpload): Promise<Refused | Accepted> {
    let plaintextSha256: string | null = null;
    try {
      // The claim was decoded when stored; decoding again cannot fail on the same bytes.
      const claim: Claim = decodeClaim(stored.claim);
      const opened = openUpload(this.#crypto, this.#anchors, claim, stored.sealed, this.#memory.certificates);
      plaintextSha256 = toHex(opened.plaintextSha256);
      if (await ingestedTwin(tx, this.#tables, stored.seId, plaintextSha256))
        throw mdsError('uploadReplayed', 'the same upload was ingested under another digest');
      const collected = collectEntries(this.#crypto, opened.upload);
      const known = await knownEntries(tx, this.#tables, [...collected.entries.keys()]);
      const facts = uploadFacts(this.#crypto, this.#anchors, opened.upload, collected, known, this.#memory);
      return { state: 'accepted', facts, plaintextSha256 };
    } catch (error) {
      const code = refusalCodeOf(error);
      if (code === undefined) throw error;
      return { state: 'refused', refusal: code, plaintextSha256 };
    }
  }
}

interface IngestOutcome {
  readonly state: 'ingested' | 'refused';
  readonly refusal: RefusalCode | null;
  readonly plaintextSha256: string | null;
}

interface Refused extends IngestOutcome {
  readonly state: 'refused';
  readonly refusal: RefusalCode;
}

interface Accepted {
  readonly state: 'accepted';
  readonly facts: UploadFacts;
  readonly plaintextSha256: string;
}

function hexBytes(hex: string): Bytes {
  const bytes = fromHex(hex);
  assert(bytes !== undefined, 'a stored envelope is hex');
  return bytes;
}
