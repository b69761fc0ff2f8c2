// The enclave behind the channel (docs/mds.md, "Enclave"): `EnclaveService` implements `EnclavePort`
// over the enclave's database, and `ingestNext` is one step of an ingest worker. Pure of node:*: the
// clock, the database and the cryptography (with the MDS private key inside it) are injected.
//
// An upload's life:   stored ──ingestNext──▶ ingested   (its facts merged, alerts derived)
//                        └──────────────────▶ refused    (a code recorded, nothing merged)
// Both are final; a refused upload is never retried (the same bytes would fail the same way).
import { assert } from '../../core/assert.ts';
import { present } from './present.ts';
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
  type EnclaveSupply,
  type IndicatorBucket,
  type IndicatorsRequest,
  type EvidenceItem,
  type RecordReportsRequest,
  type RenewalCheckAnswer,
  type RenewalCheckRequest,
  type ReportCounts,
  type StoreUploadRequest,
  type UploadState,
  type UploadStatus,
  type EnclaveRecoveries,
  type RefundExecution,
  type RefundsChunk,
} from '../channel/protocol.ts';
import { mdsError } from '../api/errors.ts';
import { decodeClaim, openUpload, type EnclaveCrypto } from './open-upload.ts';
import {
  collectEntries,
  uploadFacts,
  type CollectedEntries,
  type EntryFact,
  type UploadFacts,
} from './upload-facts.ts';
import { batchFacts, preferredEntry, type AcceptedUpload, type BatchFacts } from './batch-facts.ts';
import type { Upload } from '../../core/upload.ts';
import { refusalCodeOf, type RefusalCode } from './refusals.ts';
import { detect, lockAlertSequence } from './detectors.ts';
import { recordReports } from './reports.ts';
import { recoveryFacts, type RecoveryFacts } from './recovery-facts.ts';
import {
  executeRefund,
  mergeRecovery,
  recoveries,
  recoveryFigures,
  RecoveryTables,
  refundsFor,
} from './recovery.ts';
import { recordDenyList } from './denials.ts';
import { issuanceReportWindowMsDefault, recordArrivals, settleIssuances } from './unreported.ts';
import { computeSupply } from './supply.ts';
import { bucketIndicators, loadIndicatorFacts } from './indicators.ts';
import { checkIndicatorsRange } from '../channel/indicator-range.ts';
import { BackedRenewals } from './backing.ts';
import { checkRenewal, type VerdictSigner } from './renewal-check.ts';
import {
  EnclaveTables,
  finishUploads,
  ingestedTwins,
  insertUpload,
  knownEntries,
  mergeFacts,
  readUpload,
  takeStoredUploads,
  twinKey,
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
  readonly #recoveryTables: RecoveryTables;
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
    this.#recoveryTables = new RecoveryTables(dependencies.database.engine);
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

  supply(): Promise<EnclaveSupply> {
    return this.#db.transaction((tx) =>
      computeSupply(tx, this.#tables, this.#crypto.verifier, (reader) =>
        recoveryFigures(reader, this.#recoveryTables),
      ),
    );
  }

  async indicators(request: IndicatorsRequest): Promise<readonly IndicatorBucket[]> {
    checkIndicatorsRange(request);
    const facts = await this.#db.transaction((tx) =>
      loadIndicatorFacts(tx, this.#tables, this.#crypto, this.#anchors, request),
    );
    return bucketIndicators(facts, request);
  }

  refundsFor(dcpId: string, after: number, limit: number): Promise<RefundsChunk> {
    return refundsFor(this.#db, this.#recoveryTables, dcpId, after, limit);
  }

  executeRefund(
    dcpId: string,
    decisionId: string,
    executedAtMs: number,
  ): Promise<RefundExecution | undefined> {
    return this.#db.transaction((tx) =>
      executeRefund(tx, this.#recoveryTables, dcpId, decisionId, executedAtMs),
    );
  }

  recoveries(): Promise<EnclaveRecoveries> {
    return recoveries(this.#db, this.#recoveryTables);
  }

  /** One ingest step of one upload (`ingestBatch` of 1); undefined when none waits. */
  async ingestNext(): Promise<UploadStatus | undefined> {
    return (await this.ingestBatch(1))[0];
  }

  /**
   * One ingest step: takes up to `uploadsMax` of the oldest stored uploads (skipping those other
   * workers hold) and, in one transaction, decides each in order (open, verify: no lock taken), then
   * merges the accepted ones as one set, runs the detectors over it, and records every outcome.
   * One commit per batch instead of per upload, and the detectors' lock is held only for the SQL at
   * the end, not while signatures are verified. Empty when none waits.
   */
  ingestBatch(uploadsMax = ingestBatchUploadsMax): Promise<UploadStatus[]> {
    const bounded = Math.max(1, Math.min(uploadsMax, ingestBatchUploadsMax));
    return this.#db.transaction(async (tx) => {
      const taken = await takeStoredUploads(tx, this.#tables, bounded);
      return this.#ingestTaken(tx, taken);
    });
  }

  /** Ingests one upload by digest now (a renewal check's), waiting for a worker that holds it. */
  ingestUpload(digest: string): Promise<UploadStatus | undefined> {
    return this.#db.transaction(async (tx) => {
      const held = await readUpload(tx, this.#tables, digest, tx.engine === 'postgres' ? ' FOR UPDATE' : '');
      if (held?.status.state !== 'stored') return held?.status;
      return (await this.#ingestTaken(tx, [held]))[0];
    });
  }

  /**
   * Decides each upload in order (open, verify: no lock taken), then merges the accepted ones' facts
   * as one set and runs the detectors once over it, and records every outcome, all in the caller's
   * transaction. The batch's lookups (replays, entries already in the graph) are one query each.
   * In a pipeline (`#startBatch`), the batch ahead's facts count as held when deciding, and nothing
   * is written before the batch ahead committed: from there on the batches run one after the other.
   */
  async #ingestTaken(
    tx: Executor,
    taken: readonly StoredUpload[],
    link?: PipelineLink,
  ): Promise<UploadStatus[]> {
    const opened: (Refused | Opened)[] = [];
    for (const stored of taken) {
      // In a pipeline, between uploads the batch ahead sends its next statement (`nextTurn`).
      if (link?.ahead !== undefined) await nextTurn();
      opened.push(this.#open(stored));
    }
    const decided = await this.#decideAll(tx, opened, link?.ahead);
    const accepted: AcceptedUpload[] = [];
    const twins: string[] = [];
    for (const [index, stored] of taken.entries()) {
      const decision = present(decided[index], 'one decision per upload');
      if (decision.state !== 'accepted') continue;
      accepted.push({ digest: stored.digest, dcpId: stored.dcpId, ...decision });
      twins.push(twinKey(stored.seId, decision.plaintextSha256));
    }
    const facts = batchFacts(accepted);
    link?.onDecided({
      entries: new Map(facts.entries.map((entry) => [entry.id, entry])),
      twins: new Set(twins),
    });
    await link?.ahead?.committed;
    const nowMs = this.#clock.nowMs();
    // The detectors' lock before the first write: concurrent workers then merge one after the
    // other (each upserting rows the other's uploads share would otherwise wait on, or deadlock
    // with, the other's uncommitted inserts), while their opening and verifying ran side by side.
    if (accepted.length > 0) await this.#merge(tx, accepted, facts, nowMs);
    const outcomes = taken.map((stored, index) => {
      const decision = present(decided[index], 'one decision per upload');
      return {
        digest: stored.digest,
        state: decision.state === 'accepted' ? ('ingested' as const) : decision.state,
        refusal: decision.state === 'accepted' ? null : decision.refusal,
        plaintextSha256: decision.plaintextSha256,
      };
    });
    await finishUploads(tx, this.#tables, outcomes, nowMs);
    return outcomes.map(({ digest, state, refusal }) => ({ digest, state, refusal }));
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

  /**
   * Settles the issuances whose report window has ended (unreported.ts): the ingest workers call it
   * when idle. Returns how many were settled, at most `issuancesSettledMax`.
   */
  settleIssuances(): Promise<number> {
    return this.#db.transaction((tx) =>
      settleIssuances(tx, this.#tables, this.#crypto.verifier, this.#reportWindowMs, this.#clock.nowMs()),
    );
  }

  /**
   * Ingests until no stored upload is left, at most `uploadsMax` (and while `keepGoing` says so);
   * returns how many were taken. On PostgreSQL the batches are pipelined (`#startBatch`); SQLite runs
   * one writer and its transactions in turn, so there one batch follows the other.
   */
  async ingestAll(uploadsMax: number, keepGoing: () => boolean = () => true): Promise<number> {
    if (this.#db.engine === 'postgres') return this.#ingestPipelined(uploadsMax, keepGoing);
    let taken = 0;
    while (taken < uploadsMax && keepGoing()) {
      const statuses = await this.ingestBatch(uploadsMax - taken);
      if (statuses.length === 0) break;
      taken += statuses.length;
    }
    return taken;
  }

  /**
   * Batches two at a time: once a batch has decided, the next is taken (`SKIP LOCKED` passes over
   * this one's uploads), opened and verified while this one merges and commits, which on PostgreSQL
   * is mostly waiting for round trips. At most two are in flight (the loop waits for the one ahead to commit before it
   * starts another), so a batch's lookups see every earlier batch committed but the one ahead, whose
   * facts it takes from memory (`Brought`), and it writes only once that one committed. A failure of
   * the batch ahead fails the next before it writes: both roll back, their uploads stay stored.
   */
  async #ingestPipelined(uploadsMax: number, keepGoing: () => boolean): Promise<number> {
    let taken = 0;
    let ahead: InFlightBatch | undefined;
    const commits: Promise<unknown>[] = [];
    let failure: { readonly error: unknown } | undefined;
    try {
      while (taken < uploadsMax && keepGoing()) {
        const batch = this.#startBatch(uploadsMax - taken, ahead);
        commits.push(batch.committed);
        const count = await batch.taken;
        if (count === 0) break;
        taken += count;
        await ahead?.committed;
        // The next batch is taken once this one has decided: its opening then fills this one's
        // round trips, and its lookups come as late as they can (what other workers committed by
        // then is not verified again).
        await batch.brought;
        ahead = batch;
      }
    } catch (error) {
      failure = { error };
    }
    const rejected = (await Promise.allSettled(commits)).find((result) => result.status === 'rejected');
    if (failure !== undefined) throw failure.error;
    if (rejected !== undefined) throw rejected.reason;
    return taken;
  }

  /** One batch of a pipeline, in its own transaction, after `ahead` (see `#ingestPipelined`). */
  #startBatch(uploadsMax: number, ahead: InFlightBatch | undefined): InFlightBatch {
    const taken = deferred<number>();
    const brought = deferred<Brought>();
    const bounded = Math.max(1, Math.min(uploadsMax, ingestBatchUploadsMax));
    const committed = this.#db.transaction(async (tx) => {
      const stored = await takeStoredUploads(tx, this.#tables, bounded);
      taken.resolve(stored.length);
      if (stored.length === 0) return [];
      return this.#ingestTaken(tx, stored, { ahead, onDecided: brought.resolve });
    });
    committed.catch((error: unknown) => {
      taken.reject(error);
      brought.reject(error);
    });
    // Observed through `committed` when the batch after this one is never started.
    brought.promise.catch(() => undefined);
    return { taken: taken.promise, brought: brought.promise, committed };
  }

  /** Merges a batch's accepted uploads: past every check, so nothing below refuses. */
  async #merge(
    tx: Executor,
    accepted: readonly AcceptedUpload[],
    facts: BatchFacts,
    nowMs: number,
  ): Promise<void> {
    const sequence = await lockAlertSequence(tx, this.#tables);
    await mergeFacts(tx, this.#tables, facts);
    await recordArrivals(tx, this.#tables, facts, nowMs);
    await detect(tx, this.#tables, this.#crypto.verifier, facts, { sequence, nowMs });
    // After the detectors: they hold the alert sequence lock until commit (recovery.ts, header).
    const merges = accepted.map((upload) => ({
      source: { dcpId: upload.dcpId, uploadDigest: upload.digest, nowMs },
      facts: upload.recovery,
    }));
    await mergeRecovery(tx, this.#recoveryTables, this.#crypto.verifier, merges, nowMs);
  }

  /**
   * Rules 1 to 3 and the gathering of rule 5 (docs/mds.md, "Storing and ingesting"): opens, decodes
   * and checks an upload against its claim, and collects its entries. Pure: writes and reads nothing.
   */
  #open(stored: StoredUpload): Refused | Opened {
    let plaintextSha256: string | null = null;
    try {
      // The claim was decoded when stored; decoding again cannot fail on the same bytes.
      const claim: Claim = decodeClaim(stored.claim);
      const opened = openUpload(this.#crypto, this.#anchors, claim, stored.sealed, this.#memory.certificates);
      plaintextSha256 = toHex(opened.plaintextSha256);
      // Gathering before the replay rule changes no outcome: a replay's plaintext is that of an
      // upload already accepted, so it gathers exactly as that one did.
      const collected = collectEntries(this.#crypto, opened.upload);
      return { state: 'opened', upload: opened.upload, plaintextSha256, collected, seId: stored.seId };
    } catch (error) {
      return refusal(error, plaintextSha256);
    }
  }

  /**
   * The rest of the rules, upload by upload in batch order, after one lookup for the whole batch of
   * the replays and of the entries the graph holds. An upload sees what the earlier ones of the
   * batch bring (their entries, their plaintexts) as if they had been committed before it.
   */
  async #decideAll(
    tx: Executor,
    opened: readonly (Refused | Opened)[],
    ahead?: InFlightBatch,
  ): Promise<(Refused | Accepted)[]> {
    const candidates = opened.filter((upload): upload is Opened => upload.state === 'opened');
    if (candidates.length === 0) return opened.map((upload) => upload as Refused);
    const replays = await ingestedTwins(tx, this.#tables, candidates);
    const ids = new Set(candidates.flatMap((upload) => [...upload.collected.entries.keys()]));
    const known = new Map(await knownEntries(tx, this.#tables, [...ids]));
    if (ahead !== undefined) heldAfter(await ahead.brought, replays, known);
    const plaintexts = new Set<string>();
    const decided: (Refused | Accepted)[] = [];
    for (const upload of opened) {
      // In a pipeline, between uploads the batch ahead sends its next statement (`nextTurn`).
      if (ahead !== undefined) await nextTurn();
      decided.push(this.#decide(upload, replays, known, plaintexts));
    }
    return decided;
  }

  /** One upload's decision in its batch (`#decideAll`); records what it brings in `known`, `plaintexts`. */
  #decide(
    upload: Refused | Opened,
    replays: ReadonlySet<string>,
    known: Map<string, { readonly envelope: string; readonly backed: boolean }>,
    plaintexts: Set<string>,
  ): Refused | Accepted {
    if (upload.state === 'refused') return upload;
    try {
      const twin = twinKey(upload.seId, upload.plaintextSha256);
      if (plaintexts.has(twin) || replays.has(twin))
        throw mdsError('uploadReplayed', 'the same upload was ingested under another digest');
      const facts = uploadFacts(
        this.#crypto,
        this.#anchors,
        upload.upload,
        upload.collected,
        known,
        this.#memory,
      );
      const recovery = recoveryFacts(upload.upload, upload.collected);
      plaintexts.add(twin);
      // Entries this upload brings are merged before the later ones': known to them, not again.
      for (const entry of facts.entries)
        if (!known.has(entry.id)) known.set(entry.id, { envelope: entry.envelope, backed: entry.backed });
      return { state: 'accepted', facts, recovery, plaintextSha256: upload.plaintextSha256 };
    } catch (error) {
      return refusal(error, upload.plaintextSha256);
    }
  }
}

/** A typed refusal as the upload's outcome; anything else thrown is a bug and propagates. */
function refusal(error: unknown, plaintextSha256: string | null): Refused {
  const code = refusalCodeOf(error);
  if (code === undefined) throw error;
  return { state: 'refused', refusal: code, plaintextSha256 };
}

/**
 * Uploads one ingest transaction takes at most: bounds its length, its statements' sizes and what a
 * failure rolls back. 16, not 4: a batch's merge costs about the same number of statements whatever
 * its size (batch-facts.ts), and each commit holds the detectors' lock through its flush, so fewer,
 * larger batches cut both the round trips per upload and the time workers wait on each other
 * (bench/mds.bench.ts: 4 → 16 raised both engines' ingest rate by about a quarter; 32 gained nothing).
 */
export const ingestBatchUploadsMax = 16;

interface Refused {
  readonly state: 'refused';
  readonly refusal: RefusalCode;
  readonly plaintextSha256: string | null;
}

/** An upload past rules 1 to 3, its entries gathered. */
interface Opened {
  readonly state: 'opened';
  readonly seId: string;
  readonly upload: Upload;
  readonly plaintextSha256: string;
  readonly collected: CollectedEntries;
}

interface Accepted {
  readonly state: 'accepted';
  readonly facts: UploadFacts;
  readonly recovery: RecoveryFacts;
  readonly plaintextSha256: string;
}

/** What a batch brings to the graph once committed: its entries as merged, its uploads' twin keys. */
interface Brought {
  readonly entries: ReadonlyMap<string, EntryFact>;
  readonly twins: ReadonlySet<string>;
}

/** A batch of a pipeline: how many uploads it took, what it brings once decided, and its commit. */
interface InFlightBatch {
  readonly taken: Promise<number>;
  readonly brought: Promise<Brought>;
  readonly committed: Promise<unknown>;
}

interface PipelineLink {
  readonly ahead: InFlightBatch | undefined;
  readonly onDecided: (brought: Brought) => void;
}

/**
 * The graph as it will be once the batch ahead commits: its twins are replays, and each entry it
 * brings is held as `mergeFacts`' upsert will leave it against the row read now (`preferredEntry`).
 */
function heldAfter(
  brought: Brought,
  replays: Set<string>,
  known: Map<string, { readonly envelope: string; readonly backed: boolean }>,
): void {
  for (const twin of brought.twins) replays.add(twin);
  for (const [id, entry] of brought.entries) {
    const held = known.get(id);
    if (held === undefined || preferredEntry(entry, held)) known.set(id, entry);
  }
}

/**
 * Lets pending I/O callbacks run (a macrotask, not a microtask): a pipelined batch opens and decides
 * one upload per turn, so the batch ahead, waiting on its round trips, sends each next statement as
 * soon as the answer is in rather than after the whole batch's signatures.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function deferred<T>(): {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
} {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((onValue, onError) => {
    resolve = onValue;
    reject = onError;
  });
  return { promise, resolve, reject };
}

function hexBytes(hex: string): Bytes {
  const bytes = fromHex(hex);
  assert(bytes !== undefined, 'a stored envelope is hex');
  return bytes;
}
