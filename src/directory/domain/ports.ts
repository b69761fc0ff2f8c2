// What the directory's domain needs from storage. `src/directory/store/sql-store.ts` implements it
// over the shared storage layer; the domain never sees SQL.
import type {
  ParticipantServiceStore,
  ParticipantServiceTransaction,
} from '../../service-kit/participant-service.ts';
import type { Bytes } from '../../core/bytes.ts';
import type {
  DcpEndpoint,
  DenyListVersion,
  Participant,
  SecureElementRecord,
  Status,
  StatusChange,
  StoredResult,
} from './types.ts';

/**
 * One transaction. Row locks are taken in one order: the idempotency key, then the secure element,
 * then the deny list head; so two writers never wait on each other in a cycle.
 */
export interface DirectoryTransaction extends ParticipantServiceTransaction<Participant, StoredResult> {
  /** Reads and locks a secure element with its history; null if unknown. */
  lockSecureElement(seId: string): Promise<SecureElementRecord | null>;
  /** Inserts the record and its history (the registration entry); false if the id is taken. */
  insertSecureElement(record: SecureElementRecord): Promise<boolean>;
  replaceCertificate(seId: string, certificate: Bytes, validUntil: number): Promise<void>;
  /** Sets the status and appends `change` as history entry number `sequence` (1-based). */
  appendStatusChange(seId: string, status: Status, change: StatusChange, sequence: number): Promise<void>;

  /** Locks the deny list head; -1 before version 0 was published. */
  lockDenyListHead(): Promise<number>;
  /** Denied (suspended or revoked) secure elements whose certificate is valid at `nowSeconds`, sorted by id; at most `limit`. */
  deniedSecureElements(nowSeconds: number, limit: number): Promise<readonly string[]>;
  /** Inserts the version and moves the head to it. */
  insertDenyList(list: DenyListVersion, nowMs: number): Promise<void>;
  latestDenyList(): Promise<DenyListVersion | null>;

  upsertDcpEndpoint(endpoint: DcpEndpoint, updatedBy: string): Promise<void>;
}

export interface DirectoryStore extends ParticipantServiceStore<Participant, DirectoryTransaction> {
  findSecureElement(seId: string): Promise<SecureElementRecord | null>;
  latestDenyList(): Promise<DenyListVersion | null>;
  denyList(version: number): Promise<DenyListVersion | null>;
  dcpEndpoint(dcpId: string): Promise<DcpEndpoint | null>;
}
