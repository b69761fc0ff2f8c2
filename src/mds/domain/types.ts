// The MDS API process's domain types (docs/mds.md). Its database holds only what it owns:
// participants, idempotency keys, the audit log, the statuses of the alerts it mirrors from the
// enclave, and the ids of the uploads it relayed. Ids of principals (secure elements, DCP issuers)
// are lowercase hex of their 16 bytes; times are milliseconds since the epoch from the injected clock.
import type { AlertKind, ReportCounts, UploadStatus } from '../channel/protocol.ts';

export type { AlertKind } from '../channel/protocol.ts';

export const roles = ['operator', 'dcp', 'analyst', 'economist', 'auditor'] as const;
/**
 * operator: the central bank's staff running the MDS; dcp: a Digital Currency Provider, bound to its
 * issuer id (ingest, reports); analyst: the fraud analyst (alerts, evidence, confirmation);
 * economist: indicators only (part 2); auditor: the audit log.
 */
export type Role = (typeof roles)[number];

export interface Participant {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** The DCP issuer id (hex) of a dcp participant; null for the other roles. */
  readonly dcpId: string | null;
  readonly createdAtMs: number;
}

export const alertKinds = [
  'doubleSpend',
  'fakeFunding',
  'counterReuse',
  'unknownSigner',
  'revokedSigner',
] as const satisfies readonly AlertKind[];

/** open → confirmed (by hand or by policy) → revoked (the directory revoked the blamed SE). */
export const alertStatuses = ['open', 'confirmed', 'revoked'] as const;
export type AlertStatus = (typeof alertStatuses)[number];

/** An alert as the API process mirrors it: the enclave's fact, and the API process's decision. */
export interface AlertRecord {
  readonly id: string;
  readonly kind: AlertKind;
  readonly seId: string;
  readonly value: bigint;
  readonly raisedAtMs: number;
  readonly evidenceCount: number;
  readonly status: AlertStatus;
  /** The order in which the API process first mirrored it: the list's cursor. */
  readonly position: number;
  /** The directory's refusal of the revocation (a code), which retrying would not change; else null. */
  readonly revocationRefusal: string | null;
}

/**
 * What a participant did that the audit log keeps: every read of an alert's evidence, and every
 * confirmation by an analyst. What the response policy does by itself is no participant's act: the
 * alert's status records it.
 */
export const auditActions = ['evidenceRead', 'alertConfirmed'] as const;
export type AuditAction = (typeof auditActions)[number];

export interface AuditEvent {
  readonly participantId: string;
  readonly role: Role;
  readonly action: AuditAction;
  /** What was acted on: an alert id. */
  readonly subject: string;
}

export interface AuditEntry extends AuditEvent {
  /** 1, 2, 3... without gaps. */
  readonly sequence: number;
  readonly atMs: number;
  /** Lowercase hex SHA-256: the previous entry's hash (32 zero bytes before the first). */
  readonly prevHash: string;
  /** Lowercase hex SHA-256 over prevHash ‖ the canonical encoding of the entry (audit.ts). */
  readonly hash: string;
}

/** The newest entry's sequence and hash (0 and the zero hash for an empty log). */
export interface AuditHead {
  readonly sequence: number;
  readonly hash: string;
}

/** The answer to an idempotent request, kept to answer replays identically. */
export type StoredResult =
  | { readonly kind: 'participant'; readonly participant: Participant }
  | { readonly kind: 'upload'; readonly upload: UploadStatus }
  | { readonly kind: 'reports'; readonly counts: ReportCounts }
  | { readonly kind: 'confirm'; readonly alertId: string };

export interface Clock {
  nowMs(): number;
}

/** Makes unique participant ids, e.g. `prt_5f0c...`; injected so a seeded run replays exactly. */
export interface IdGenerator {
  next(prefix: 'prt'): string;
}

/** SHA-256, injected (crypto's NodeVerifier has it): the domain imports no `node:*`. */
export interface Hasher {
  sha256(data: Uint8Array): Uint8Array;
}
