// The directory's domain types. Ids of principals (secure elements, DCP issuers) are lowercase hex
// of their 16 bytes; times are milliseconds since the epoch from the injected clock, except
// certificate validity and deny list times, which are the protocol's seconds.
import type { Bytes } from '../../core/bytes.ts';
import type { SecureElementKind } from '../../core/certificate.ts';

export const roles = ['operator', 'dcp', 'mds'] as const;
/** operator: the central bank's staff; dcp: a Digital Currency Provider, bound to its issuer id;
 *  mds: the Monitoring and Detection System. */
export type Role = (typeof roles)[number];

export interface Participant {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** The DCP issuer id (hex) of a dcp participant; null for the other roles. */
  readonly dcpId: string | null;
  readonly createdAtMs: number;
}

export const statuses = ['active', 'suspended', 'revoked'] as const;
export type Status = (typeof statuses)[number];

export const secureElementKinds = ['card', 'phone'] as const satisfies readonly SecureElementKind[];

export interface StatusChange {
  readonly status: Status;
  readonly reason: string;
  /** The participant who asked for it (the registering DCP for the first entry). */
  readonly changedBy: string;
  readonly changedAtMs: number;
}

export interface SecureElementRecord {
  readonly seId: string;
  readonly dcpId: string;
  readonly kind: SecureElementKind;
  readonly walletId: string;
  readonly status: Status;
  /** The canonical CBOR envelope of the certificate. */
  readonly certificate: Bytes;
  /** The certificate's validUntil, seconds. */
  readonly validUntil: number;
  readonly registeredAtMs: number;
  /** Oldest first; the first entry is the registration. */
  readonly history: readonly StatusChange[];
}

export interface DenyListVersion {
  readonly version: number;
  /** The signed body's time, seconds. */
  readonly time: number;
  /** Hex of the directory key's principal id that signed it. */
  readonly directoryId: string;
  /** Sorted hex ids, as signed. */
  readonly entries: readonly string[];
  /** `encodeSigned` of the `SignedDenyList`. */
  readonly signed: Bytes;
}

export interface DenyListDelta {
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export interface DcpEndpoint {
  readonly dcpId: string;
  readonly baseUrl: string;
  readonly updatedAtMs: number;
}

/** The answer to an idempotent request, kept to answer replays identically. */
export type StoredResult =
  | { readonly kind: 'participant'; readonly participant: Participant }
  | { readonly kind: 'registration'; readonly secureElement: SecureElementRecord }
  | {
      readonly kind: 'statusChange';
      readonly secureElement: SecureElementRecord;
      readonly denyListVersion: number;
    }
  | { readonly kind: 'dcpEndpoint'; readonly endpoint: DcpEndpoint };

export interface Clock {
  nowMs(): number;
}

/** Makes unique participant ids, e.g. `prt_5f0c...`; injected so a seeded run replays exactly. */
export interface IdGenerator {
  next(prefix: 'prt'): string;
}

/**
 * Makes a participant's API key. Deterministic per participant id (a keyed derivation whose secret
 * the directory holds), so a replayed creation shows the same key while only its digest is stored.
 */
export interface ApiKeys {
  keyFor(participantId: string): string;
  digest(apiKey: string): string;
}
