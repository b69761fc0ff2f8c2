// The one interface between the MDS's API process and its enclave process (docs/mds.md, "Processes
// and the privacy boundary"). It is narrow on purpose: what crosses it is sealed bytes the API
// process cannot read going in, and acknowledgements, alerts, evidence and counts coming out, never an
// opened upload, a raw graph record or the key. Part 2 adds renewal checks (built), decisions, supply
// and indicators here, and nothing wider.
//
// Both sides import this file and nothing of each other: `src/mds/enclave/` implements `EnclavePort`
// behind a child-process channel (`node:child_process` fork with advanced serialization, so `bigint`
// and `Uint8Array` cross as they are), the API process holds a client of it. A test keeps the
// enclave's modules out of the API process's imports.
//
// Every method is idempotent or read-only, so the API process may retry any call after a timeout.
// A refusal crosses as `EnclaveRefusal` (an MDS or core error code and a message); anything else
// the enclave throws is a bug and answers `internalError`.
import type { Bytes } from '../../core/bytes.ts';
import type { CoreErrorCode } from '../../core/errors.ts';
import type { MdsErrorCode } from '../api/errors.ts';
import type { IndicatorBucket } from '../api/types.ts';

/** What the API process hands the enclave for one `POST /v1/uploads`. */
export interface StoreUploadRequest {
  /** The DCP the posting participant is bound to (hex principal id of its issuer). */
  readonly dcpId: string;
  /** The SE's signed claim, the canonical CBOR envelope as the SE signed it. */
  readonly claim: Bytes;
  /** The HPKE-sealed upload the claim binds by digest; only the enclave can open it. */
  readonly sealed: Bytes;
  readonly receivedAtMs: number;
}

export type UploadState = 'stored' | 'ingested' | 'refused';

export interface UploadStatus {
  /** Lowercase hex SHA-256 of the sealed bytes. */
  readonly digest: string;
  readonly state: UploadState;
  /** The code it was refused with (an `upload*` MDS code or a core code), else null. */
  readonly refusal: MdsErrorCode | CoreErrorCode | null;
}

export interface ReportedRetirement {
  readonly tokenId: string;
  readonly value: bigint;
  readonly seId: string;
  readonly uploadDigest: string;
  readonly retiredAtMs: number;
}

/** A credit the DCP queued and has not minted yet (src/mds/api/types.ts `ReportedCredit`). */
export interface ReportedCredit {
  readonly creditId: string;
  readonly seId: string;
  readonly kind: 'credit' | 'refund';
  readonly value: bigint;
  readonly queuedAtMs: number;
}

/** A DCP's own id of a credit: letters, digits and `_.:-`, at most 128 characters. */
export const reportedCreditIdPattern = /^[A-Za-z0-9_.:-]{1,128}$/;

/** One queued credit that an issuance of the same report minted. */
export interface ReportedMint {
  readonly creditId: string;
  readonly issuanceId: string;
}

export interface RecordReportsRequest {
  readonly dcpId: string;
  /** Signed issuance envelopes (canonical CBOR), each signed by the DCP `dcpId`. */
  readonly issuances: readonly Bytes[];
  readonly retirements: readonly ReportedRetirement[];
  /** Credits queued and not minted yet (none when absent). */
  readonly credits?: readonly ReportedCredit[];
  /** Which queued credits the issuances of this request minted (none when absent). */
  readonly mints?: readonly ReportedMint[];
}

/** How many items were newly recorded; an item already recorded identically is not counted. */
export interface ReportCounts {
  readonly issuances: number;
  readonly retirements: number;
}

export type AlertKind = 'doubleSpend' | 'fakeFunding' | 'counterReuse' | 'unknownSigner' | 'revokedSigner';

/**
 * An alert as the enclave raises it: a fact about the graph, with no status (confirming and revoking
 * are the API process's decisions, kept in its own database). The id is a digest of the kind and the
 * sorted evidence ids, so any ingest order raises the same alerts; more evidence for the same fact
 * (a third spend of a token) updates `value` and `evidenceCount` of the same id.
 */
export interface EnclaveAlert {
  readonly id: string;
  readonly kind: AlertKind;
  /** The SE to blame (hex principal id). */
  readonly seId: string;
  /** The value at stake, in minor units. */
  readonly value: bigint;
  readonly raisedAtMs: number;
  readonly evidenceCount: number;
  /** Increases on every raise or update: the API process copies alerts by this cursor. */
  readonly sequence: number;
}

export interface AlertsPage {
  readonly alerts: readonly EnclaveAlert[];
  /** The largest sequence in `alerts`, or the `after` asked for when none. */
  readonly sequence: number;
}

export interface EvidenceItem {
  /** Hex id of the history entry (transfer or issuance id). */
  readonly entryId: string;
  readonly kind: 'transfer' | 'issuance';
  /** The entry's signed envelope, canonical CBOR. */
  readonly entry: Bytes;
}

export interface EnclaveStatus {
  readonly uploads: Readonly<Record<UploadState, number>>;
  readonly alerts: Readonly<Record<AlertKind, number>>;
}

/** What recording one deny list changed: its version, and how many SEs it newly named. */
export interface DenyListCounts {
  readonly version: number;
  readonly denied: number;
}

/**
 * A DCP's renewal check (docs/mds.md, "Renewal check"): the same pair as `storeUpload`, which the
 * enclave stores and ingests first (so check and ingest agree), then judges.
 */
export type RenewalCheckRequest = StoreUploadRequest;

/**
 * The enclave's verdict: the signed envelope (canonical CBOR of `src/core/renewal-verdict.ts`, signed
 * by the MDS key) and nothing else. The API process decodes it for its answer; it never sees why.
 */
export interface RenewalCheckAnswer {
  readonly verdict: Bytes;
}

export interface EnclavePort {
  /** Stores the pair durably, then answers; the same pair again answers its current status. */
  storeUpload(request: StoreUploadRequest): Promise<UploadStatus>;
  /** The status of an upload this DCP posted, or undefined (`uploadUnknown`). */
  uploadStatus(dcpId: string, digest: string): Promise<UploadStatus | undefined>;
  recordReports(request: RecordReportsRequest): Promise<ReportCounts>;
  /** Alerts raised or updated after `after` (a sequence), oldest first, at most `limit`. */
  alertsAfter(after: number, limit: number): Promise<AlertsPage>;
  /** The evidence of one alert, or undefined (`alertUnknown`). The API process audits before asking. */
  evidence(alertId: string): Promise<readonly EvidenceItem[] | undefined>;
  status(): Promise<EnclaveStatus>;
  /** Refunds decided for SEs of this DCP and not yet executed, after `after` (a sequence), oldest first. */
  refundsFor(dcpId: string, after: number, limit: number): Promise<RefundsChunk>;
  /** Records a refund executed by its DCP (once; a replay answers the first time), or undefined. */
  executeRefund(
    dcpId: string,
    decisionId: string,
    executedAtMs: number,
  ): Promise<RefundExecution | undefined>;
  /** Value in flight and refunds, totals and the first `recoveriesListMax` of each. */
  recoveries(): Promise<EnclaveRecoveries>;
  /**
   * Records a deny list the directory signed (canonical CBOR, as the directory serves it), for the
   * `revokedSigner` detector; `denyListInvalid` when it is not the directory's. Idempotent.
   */
  recordDenyList(list: Bytes): Promise<DenyListCounts>;
  /** Per DCP: reported issued and retired value, attributed backing, observed and in flight. */
  supply(): Promise<EnclaveSupply>;
  /** Indicators per bucket, every cell over fewer than `secureElementsMin` SEs suppressed inside. */
  indicators(request: IndicatorsRequest): Promise<readonly IndicatorBucket[]>;
  /** Stores and ingests the upload (idempotent), then answers whether the claim is backed, signed. */
  checkRenewal(request: RenewalCheckRequest): Promise<RenewalCheckAnswer>;
}

/** A refund decision as its DCP is told it: refund this SE this value, retiring this token. */
export interface EnclaveRefund {
  readonly decisionId: string;
  readonly seId: string;
  readonly value: bigint;
  readonly tokenId: string;
  /** The upload (posted by this DCP) that reported the transfer pending: the retirement names it. */
  readonly uploadDigest: string;
  readonly sequence: number;
}

export interface RefundsChunk {
  readonly refunds: readonly EnclaveRefund[];
  /** The largest sequence in `refunds`, or the `after` asked for when none. */
  readonly sequence: number;
}

export interface RefundExecution {
  readonly decisionId: string;
  readonly executedAtMs: number;
}

export interface InFlightTransfer {
  readonly transferId: string;
  readonly payerSeId: string;
  readonly value: bigint;
  readonly sinceMs: number;
}

export interface RecoveryRefund {
  readonly decisionId: string;
  readonly transferId: string;
  readonly payerSeId: string;
  readonly value: bigint;
  readonly decidedAtMs: number;
  readonly executedAtMs: number | null;
}

export interface EnclaveRecoveries {
  readonly inFlight: {
    readonly count: number;
    readonly value: bigint;
    readonly transfers: readonly InFlightTransfer[];
  };
  readonly refunds: {
    readonly count: number;
    readonly value: bigint;
    readonly executedCount: number;
    readonly executedValue: bigint;
    readonly decisions: readonly RecoveryRefund[];
  };
}

/** A refusal crossing the channel: the code is one of the MDS catalogue or of core. */
export interface EnclaveRefusal {
  readonly code: MdsErrorCode | CoreErrorCode;
  readonly message: string;
}

/** Bounds on what crosses: a page of alerts, items of one report. */
export const alertsPageMax = 256;
export const reportItemsMax = 256;
/** A sealed upload's bound (the plaintext's `uploadBytesMax` plus HPKE framing) and a claim's. */
export const sealedUploadBytesMax = 16 * 1024 * 1024 + 1024;
export const claimBytesMax = 32 * 1024;
/** Refund orders per `refundsFor` answer, and items per list of `recoveries`. */
export const refundsPageMax = 256;
export const recoveriesListMax = 256;
/** A signed deny list's bound: `denyListEntriesMax` ids of 16 bytes (hex-free CBOR) and framing. */
export const denyListBytesMax = 64 * 1024;

/** DCPs one supply answer carries at most. */
export const supplyDcpsMax = 256;

/** One DCP's figures as the enclave knows them (docs/mds.md, "Supply and settlement"). */
export interface EnclaveDcpSupply {
  readonly dcpId: string;
  /** The value of the issuances the DCP reported, plus `queued`. */
  readonly issued: bigint;
  /** The credits the DCP reported queued that no reported issuance has minted yet. */
  readonly queued: bigint;
  /** The value of the tokens the DCP reported retired. */
  readonly retired: bigint;
  /** The value of every retired token (at any DCP) that this DCP's issuances back. */
  readonly retiredBacked: bigint;
  readonly observedOffline: bigint;
  readonly inFlight: bigint;
  readonly refunded: bigint;
}

export interface EnclaveSupply {
  readonly dcps: readonly EnclaveDcpSupply[];
  /** Value no DCP issuance backs: seen offline, and retired by a DCP. */
  readonly unbackedObservedOffline: bigint;
  readonly unbackedRetired: bigint;
  /** The values of the fakeFunding, doubleSpend and counterReuse alerts. */
  readonly createdByFraud: bigint;
}

/** Buckets one indicators answer carries at most. */
export const indicatorBucketsMax = 168;

export interface IndicatorsRequest {
  readonly fromMs: number;
  readonly toMs: number;
  readonly bucketMs: number;
  /** k: a cell over fewer distinct SEs is suppressed. */
  readonly secureElementsMin: number;
}

// The buckets cross as the API answers them (src/mds/api/types.ts), suppression applied already.
export type { IndicatorBin, IndicatorBucket, IndicatorCell } from '../api/types.ts';
