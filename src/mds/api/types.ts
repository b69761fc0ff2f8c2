// The MDS's HTTP API as its clients see it (docs/mds.md): request bodies and decoded answers, amounts
// as bigint, bytes as `Uint8Array`. Defined here, not imported from the MDS's implementation, so
// that a DCP or a tool shares only the wire format (and the catalogue, errors.ts) with it.
import type { Bytes } from '../../core/bytes.ts';
import type { CoreErrorCode } from '../../core/errors.ts';
import type { MdsErrorCode } from './errors.ts';

// The bounds the MDS enforces on what a client sends. They are restated from
// src/mds/channel/protocol.ts (the enclave interface, which api/ may not import: a client stands on
// core and the http-client alone); a test in client.test.ts keeps the two equal.

/** Issuances, and retirements, one `POST /v1/reports` may carry (each). */
export const reportItemsMax = 256;
/** A sealed upload's bound: the plaintext's `uploadBytesMax` plus HPKE framing. */
export const sealedUploadBytesMax = 16 * 1024 * 1024 + 1024;
/** A claim envelope's bound. */
export const claimBytesMax = 32 * 1024;
/** Alerts one page of `GET /v1/alerts` holds at most. */
export const alertsPageMax = 256;

export type UploadState = 'stored' | 'ingested' | 'refused';
export const uploadStates = ['stored', 'ingested', 'refused'] as const satisfies readonly UploadState[];

/** What `POST /v1/uploads` answers once the pair is stored durably. */
export interface UploadAcknowledgement {
  /** Lowercase hex SHA-256 of the sealed bytes. */
  readonly digest: string;
  readonly state: UploadState;
}

export interface UploadStatus extends UploadAcknowledgement {
  /** The code ingest refused it with (an `upload*` MDS code or a core code), else null. */
  readonly refusal: MdsErrorCode | CoreErrorCode | null;
}

/** One token the DCP retired, reported in cleartext (its own record). */
export interface ReportedRetirement {
  /** 64 lowercase hex digits. */
  readonly tokenId: string;
  readonly value: bigint;
  /** 32 lowercase hex digits: the SE whose claim retired it. */
  readonly seId: string;
  /** The digest of the sealed upload that claim bound. */
  readonly uploadDigest: string;
  readonly retiredAtMs: number;
}

/**
 * A credit the DCP queued for an SE and has not minted yet (docs/mds.md, "Supply and settlement"):
 * its value is in the DCP's pool, so the MDS counts it as issued by that DCP until the issuance that
 * mints it is reported.
 */
export interface ReportedCredit {
  /** The DCP's own id of the credit (`reportedCreditIdPattern`), unique within that DCP. */
  readonly creditId: string;
  /** 32 lowercase hex digits: the SE it is queued for. */
  readonly seId: string;
  readonly kind: 'credit' | 'refund';
  readonly value: bigint;
  readonly queuedAtMs: number;
}

/** A DCP's credit id: what `ReportedCredit.creditId` and `ReportedMint.creditId` match. */
export const reportedCreditIdPattern = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The link from a credit or refund issuance of the same report to one queued credit it minted. */
export interface ReportedMint {
  readonly creditId: string;
  /** 64 lowercase hex digits: the id of an issuance in the same report. */
  readonly issuanceId: string;
}

export interface ReportsBody {
  /** Signed issuance envelopes (canonical CBOR), each signed by the reporting DCP. */
  readonly issuances: readonly Bytes[];
  readonly retirements: readonly ReportedRetirement[];
  /** Credits queued and not minted yet; at most `reportItemsMax`. */
  readonly credits?: readonly ReportedCredit[];
  /** Which queued credits the issuances of this report minted; at most `reportItemsMax`. */
  readonly mints?: readonly ReportedMint[];
}

/** How many items the MDS newly recorded; an item already recorded identically is not counted. */
export interface ReportCounts {
  readonly issuances: number;
  readonly retirements: number;
}

export type AlertKind = 'doubleSpend' | 'fakeFunding' | 'counterReuse' | 'unknownSigner' | 'revokedSigner';
export const alertKinds = [
  'doubleSpend',
  'fakeFunding',
  'counterReuse',
  'unknownSigner',
  'revokedSigner',
] as const satisfies readonly AlertKind[];
export type AlertStatus = 'open' | 'confirmed' | 'revoked';
export const alertStatuses = ['open', 'confirmed', 'revoked'] as const satisfies readonly AlertStatus[];

export interface MdsAlert {
  /** A digest of the kind and the evidence: any ingest order yields the same id. */
  readonly id: string;
  readonly kind: AlertKind;
  /** The SE to blame. */
  readonly seId: string;
  /** The value at stake, in minor units. */
  readonly value: bigint;
  readonly status: AlertStatus;
  readonly raisedAtMs: number;
  readonly evidenceCount: number;
}

export interface AlertsPage {
  readonly alerts: readonly MdsAlert[];
  /** Pass as `after` for the next page; null at the end. */
  readonly next: string | null;
}

export interface AlertsQuery {
  readonly kind?: AlertKind;
  readonly status?: AlertStatus;
  readonly limit?: number;
  readonly after?: string;
}

export interface EvidenceItem {
  readonly entryId: string;
  readonly kind: 'transfer' | 'issuance';
  /** The entry's signed envelope, canonical CBOR. */
  readonly entry: Bytes;
}

export interface AlertEvidence {
  readonly alert: MdsAlert;
  readonly evidence: readonly EvidenceItem[];
  /** The audit entry this read appended. */
  readonly auditSequence: number;
}

/** One link of the hash-chained audit log: who read which alert's evidence, in which role. */
export interface AuditEntry {
  readonly sequence: number;
  readonly atMs: number;
  readonly participantId: string;
  readonly role: MdsRole;
  readonly alertId: string;
  /** Hex SHA-256 of the previous entry (64 zeros for the first). */
  readonly previousDigest: string;
  readonly digest: string;
}

export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  readonly next: string | null;
}

export interface AuditVerification {
  readonly entries: number;
  /** The sequence of the first entry whose link does not hold, or null when the chain holds. */
  readonly firstBroken: number | null;
}

export interface MdsStatus {
  readonly uploads: Readonly<Record<UploadState, number>>;
  readonly alerts: Readonly<Record<AlertKind, Readonly<Record<AlertStatus, number>>>>;
}

export type MdsRole = 'operator' | 'dcp' | 'analyst' | 'economist' | 'auditor';
export const mdsRoles = [
  'operator',
  'dcp',
  'analyst',
  'economist',
  'auditor',
] as const satisfies readonly MdsRole[];

export interface ParticipantBody {
  readonly name: string;
  readonly role: MdsRole;
  readonly apiKeySha256: string;
  /** Role `dcp` only: the DCP (hex principal id of its issuer) everything it posts is attributed to. */
  readonly dcpId?: string;
}

export interface MdsParticipant {
  readonly id: string;
  readonly name: string;
  readonly role: MdsRole;
  readonly dcpId: string | null;
}

export type { Replayable } from '../../http-client/json-caller.ts';

// Recovery of value in flight (docs/mds.md, "Recovery of value in flight").

/** Refund orders one page of `GET /v1/refunds` holds at most. */
export const refundsPageMax = 256;
/** Items each list of `GET /v1/recoveries` holds at most (the totals count them all). */
export const recoveriesListMax = 256;

/**
 * What the payer's DCP is told of a refund decision, and nothing more: refund this SE this amount,
 * retiring this undelivered payment token (an opaque id, so the retirement is reported like any).
 */
export interface RefundOrder {
  /** 64 lowercase hex digits: deterministic, a digest of the undelivered transfer's id. */
  readonly decisionId: string;
  /** 32 lowercase hex digits: the payer SE to refund. */
  readonly seId: string;
  readonly value: bigint;
  /** 64 lowercase hex digits: the payment token never delivered, which the DCP retires. */
  readonly tokenId: string;
  /** The upload this DCP forwarded that reported the payment pending: the retirement names it. */
  readonly uploadDigest: string;
}

/** `GET /v1/refunds?after=&limit=` (role dcp): the refunds this DCP has still to execute. */
export interface RefundsPage {
  readonly refunds: readonly RefundOrder[];
  /** Pass as `after` for the next page; null at the end. */
  readonly next: string | null;
}

/** `POST /v1/refunds/{decisionId}/executed` (role dcp): the DCP issued the refund. */
export interface RefundExecution {
  readonly decisionId: string;
  /** When the MDS first recorded the execution (a replay answers the same). */
  readonly executedAtMs: number;
}

/** A pending transfer whose payee has not yet shown, by an upload, whether it was delivered. */
export interface InFlightTransfer {
  /** 64 lowercase hex digits. */
  readonly transferId: string;
  readonly payerSeId: string;
  /** The payment's value (output 0), minor units. */
  readonly value: bigint;
  /** When the MDS first ingested an upload reporting it pending. */
  readonly sinceMs: number;
}

/** A refund the MDS decided, and whether the payer's DCP executed it. */
export interface RecoveryRefund {
  readonly decisionId: string;
  readonly transferId: string;
  readonly payerSeId: string;
  readonly value: bigint;
  readonly decidedAtMs: number;
  readonly executedAtMs: number | null;
}

/** `GET /v1/recoveries` (roles operator, analyst): value in flight and refunds, totals and lists. */
export interface RecoveriesView {
  readonly inFlight: {
    readonly count: number;
    readonly value: bigint;
    /** Oldest first, at most recoveriesListMax. */
    readonly transfers: readonly InFlightTransfer[];
  };
  readonly refunds: {
    readonly count: number;
    readonly value: bigint;
    readonly executedCount: number;
    readonly executedValue: bigint;
    /** Newest decision first, at most recoveriesListMax. */
    readonly decisions: readonly RecoveryRefund[];
  };
}

// Supply, attribution and settlement between DCPs (docs/mds.md, "Supply and settlement").

/** Settlement runs one page of `GET /v1/settlements` holds at most. */
export const settlementsPageMax = 100;
/**
 * A settlement period's name: what `POST /v1/settlements` is idempotent on. At most 40 characters,
 * so the ledger key `settlement-<period>-<payer>-<payee>` stays within the ledger's 128.
 */
export const settlementPeriodPattern = /^[A-Za-z0-9_.:-]{1,40}$/;

/**
 * One DCP's figures, minor units, as the MDS knows them from the DCPs' reports and the uploads it
 * ingested. `issued` and `retired` are the DCP's own reports; `retiredBacked` is the value of every
 * retired token (at any DCP) that this DCP's issuances back, by the attribution rule; so
 * `attributedOutstanding` = issued − retiredBacked, and `issued − retired` is the DCP's own books.
 */
export interface DcpSupply {
  /** Hex principal id of the DCP's issuer. */
  readonly dcpId: string;
  /**
   * The value of the issuances the DCP reported, plus `queued`: the credits it reported queued and
   * not yet minted (its own books count them issued from the moment they are queued).
   */
  readonly issued: bigint;
  readonly queued: bigint;
  readonly retired: bigint;
  readonly retiredBacked: bigint;
  readonly attributedOutstanding: bigint;
  /** Value of tokens seen in uploads, neither spent nor retired since, attributed to this DCP. */
  readonly observedOffline: bigint;
  /** Payments of this DCP's SEs not yet shown delivered by an upload of their payee. */
  readonly inFlight: bigint;
  /** Refunds of value in flight this DCP's SEs were decided. */
  readonly refunded: bigint;
  /** Net value settlement runs moved into this DCP's pool so far (negative: out of it). */
  readonly settled: bigint;
  /** The pool account's balance on the ledger, read with the `settlement` role; null if unread. */
  readonly poolBalance: bigint | null;
}

/** `GET /v1/supply` (roles operator, analyst). */
export interface SupplyReport {
  readonly atMs: number;
  readonly dcps: readonly DcpSupply[];
  readonly total: {
    readonly issued: bigint;
    readonly retired: bigint;
    readonly outstanding: bigint;
    readonly observedOffline: bigint;
    readonly inFlight: bigint;
    readonly refunded: bigint;
    /** Value the MDS found made up: the values of its fakeFunding, doubleSpend and counterReuse alerts. */
    readonly createdByFraud: bigint;
    /** The pools' balances summed; null if any was unread. */
    readonly poolBalance: bigint | null;
  };
}

export interface SettlementBody {
  readonly period: string;
}

/** One movement of a settlement run: `amount` from the payer DCP's pool to the payee DCP's pool. */
export interface SettlementTransfer {
  readonly payerDcpId: string;
  readonly payeeDcpId: string;
  readonly amount: bigint;
  /** The ledger payment, once made. */
  readonly ledgerPaymentId: string | null;
}

export type SettlementState = 'pending' | 'completed';
export const settlementStates = ['pending', 'completed'] as const satisfies readonly SettlementState[];

/** One settlement run: what it moved, per pair of DCPs, to bring every pool to its attributed outstanding. */
export interface SettlementRun {
  readonly period: string;
  readonly state: SettlementState;
  readonly startedAtMs: number;
  readonly completedAtMs: number | null;
  readonly transfers: readonly SettlementTransfer[];
}

export interface SettlementsPage {
  /** Newest first. */
  readonly runs: readonly SettlementRun[];
  readonly next: string | null;
}

// Indicators (docs/mds.md, "Indicators"), role economist (and operator).

/** Buckets one `GET /v1/indicators` answers at most. */
export const indicatorBucketsMax = 168;
/** The default k: a cell over fewer distinct SEs is suppressed. */
export const indicatorSecureElementsMinDefault = 10;

/** A figure over at least k distinct SEs, or suppressed — never shown as zero. */
export type IndicatorCell =
  { readonly suppressed: true } | { readonly suppressed: false; readonly value: bigint };

/** A histogram bin: what falls at or below `upTo` (and above the previous bin's `upTo`); the last bin has `upTo` null. */
export interface IndicatorBin {
  readonly upTo: bigint | null;
  readonly count: IndicatorCell;
}

/** One time bucket, by MDS ingest time (offline clocks are advisory). */
export interface IndicatorBucket {
  readonly startMs: number;
  readonly endMs: number;
  /** Value held offline at the bucket's end: claimed at each SE's latest sync so far. */
  readonly offlineValueOutstanding: IndicatorCell;
  readonly payments: {
    readonly count: IndicatorCell;
    readonly value: IndicatorCell;
    /** value ÷ count, rounded down. */
    readonly average: IndicatorCell;
  };
  /** Payments' value over offline value outstanding, in parts per million. */
  readonly velocityPpm: IndicatorCell;
  /** Payments by generation (hops from an issuance) of their payment token. */
  readonly generations: readonly IndicatorBin[];
  readonly devices: { readonly card: IndicatorCell; readonly phone: IndicatorCell };
  /** Time between an SE's successive syncs, milliseconds. */
  readonly renewalIntervalsMs: readonly IndicatorBin[];
  /** Balances claimed at sync, minor units. */
  readonly balances: readonly IndicatorBin[];
  readonly fraud: { readonly alerts: IndicatorCell; readonly value: IndicatorCell };
  readonly recovery: { readonly refunds: IndicatorCell; readonly value: IndicatorCell };
}

export interface IndicatorsQuery {
  readonly fromMs: number;
  readonly toMs: number;
  readonly bucketMs: number;
}

/** `GET /v1/indicators?fromMs=&toMs=&bucketMs=`. */
export interface IndicatorsReport {
  /** The k this answer was suppressed with. */
  readonly secureElementsMin: number;
  readonly bucketMs: number;
  readonly buckets: readonly IndicatorBucket[];
}
