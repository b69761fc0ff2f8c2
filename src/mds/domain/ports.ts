// What the MDS API process's domain needs: its own store (src/mds/store/sql-store.ts), the enclave
// (the channel's `EnclavePort`, src/mds/channel/protocol.ts) and the directory that revokes a blamed
// SE (src/mds/adapters/directory.ts). The domain never sees SQL, HTTP or the child process.
import type {
  ParticipantServiceStore,
  ParticipantServiceTransaction,
} from '../../service-kit/participant-service.ts';
import type { Bytes } from '../../core/bytes.ts';
import type { EnclaveAlert } from '../channel/protocol.ts';
import type { IdempotencyRecord } from '../../storage/idempotency.ts';
import type {
  AlertKind,
  AlertRecord,
  AlertStatus,
  AuditEntry,
  AuditHead,
  Participant,
  StoredResult,
} from './types.ts';

/**
 * One transaction. Row locks are taken in one order: the idempotency key, the alert cursor, the
 * alert, then the audit head; so two writers never wait on each other in a cycle.
 */
export interface MdsTransaction extends ParticipantServiceTransaction<Participant, StoredResult> {
  /** Records that this DCP posted the upload (nothing if it did already). */
  recordRelayedUpload(dcpId: string, digest: string, receivedAtMs: number): Promise<void>;

  /** Locks the mirror's cursor: the largest enclave sequence copied so far (0 before any). */
  lockAlertCursor(): Promise<number>;
  setAlertCursor(sequence: number): Promise<void>;
  /** Inserts a new alert as open, or updates the enclave's figures of a known one (its status stays). */
  mirrorAlert(alert: EnclaveAlert): Promise<'inserted' | 'updated'>;
  lockAlert(id: string): Promise<AlertRecord | null>;
  setAlertStatus(id: string, status: AlertStatus, revocationRefusal: string | null): Promise<void>;

  /** Locks the audit head: the newest entry's sequence and hash. */
  lockAuditHead(): Promise<AuditHead>;
  /** Inserts the entry and moves the head to it. */
  appendAuditEntry(entry: AuditEntry): Promise<void>;
}

export interface AlertQuery {
  readonly kind?: AlertKind;
  readonly status?: AlertStatus;
  /** Alerts mirrored after this position. */
  readonly afterPosition: number;
  readonly limit: number;
}

export interface AlertCounts {
  /** Alerts by kind, then status (every kind and status present, zeros included). */
  readonly byKind: Readonly<Record<AlertKind, Readonly<Record<AlertStatus, number>>>>;
  /** Confirmed alerts whose revocation the directory has still to answer. */
  readonly revocationsPending: number;
}

export interface MdsStore extends ParticipantServiceStore<Participant, MdsTransaction> {
  /** The committed record of an idempotency key, read before a call to the enclave; null if unused. */
  idempotencyRecord(
    participantId: string,
    key: string,
  ): Promise<Required<IdempotencyRecord<StoredResult>> | null>;
  isRelayedUpload(dcpId: string, digest: string): Promise<boolean>;
  /** The mirror's cursor, unlocked: where the next copy starts. */
  alertCursor(): Promise<number>;
  findAlert(id: string): Promise<AlertRecord | null>;
  alerts(query: AlertQuery): Promise<readonly AlertRecord[]>;
  /** Confirmed alerts without a recorded refusal (those the directory has still to revoke), oldest first. */
  revocationsPending(limit: number): Promise<readonly AlertRecord[]>;
  alertCounts(): Promise<AlertCounts>;
  auditHead(): Promise<AuditHead>;
  /** Entries with sequence > afterSequence, ascending, at most `limit`. */
  auditEntries(afterSequence: number, limit: number): Promise<readonly AuditEntry[]>;
}

/**
 * What the directory answered a revocation: revoked now or before (both leave the SE on the deny
 * list), or refused with a code retrying would not change (e.g. an SE it never registered).
 * A directory that does not answer throws `mdsDirectoryUnavailable`.
 */
export type RevocationOutcome =
  | { readonly kind: 'revoked' }
  | { readonly kind: 'refused'; readonly code: string; readonly message: string };

export interface RevocationPort {
  /** Asks the directory to revoke `seId`; `idempotencyKey` makes a retry a replay. */
  revoke(seId: string, reason: string, idempotencyKey: string): Promise<RevocationOutcome>;
}

/**
 * The directory's current signed deny list, for the enclave's `revokedSigner` detector: its version
 * and its canonical CBOR envelope (the API process cannot forge it: the enclave checks the
 * directory's signature). A directory that does not answer throws `mdsDirectoryUnavailable`.
 */
export interface DenyListPort {
  latest(): Promise<{ readonly version: number; readonly signed: Bytes }>;
}
