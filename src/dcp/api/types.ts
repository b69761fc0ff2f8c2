// The DCP's wire format (docs/dcp.md): the JSON bodies a device, an agent or a peer DCP posts, and
// the answers as `DcpClient` hands them over, decoded (signed structures as core types, amounts as
// bigint). Defined here, beside the client, so that the server's schemas (src/dcp/http/schemas.ts)
// and every caller share one description; the server checks its schemas against these types.
import type { Bytes } from '../../core/bytes.ts';
import type { Certificate, SecureElementKind } from '../../core/certificate.ts';
import type { SignedDenyList } from '../../core/deny-list.ts';
import type { Issuance } from '../../core/issuance.ts';
import type { SignedLimits } from '../../core/limits.ts';

export type { Replayable } from '../../http-client/json-caller.ts';

export type ParticipantRole = 'operator' | 'agent';
export const participantRoles = ['operator', 'agent'] as const satisfies readonly ParticipantRole[];
export type SettleKind = 'renewal' | 'unload' | 'transfer';
export const settleKinds = ['renewal', 'unload', 'transfer'] as const satisfies readonly SettleKind[];
export type RenewalCheckMode = 'async' | 'sync';

// Bodies, as posted: binary structures as hex of canonical CBOR, amounts as decimal strings. Type
// aliases rather than interfaces, so that a body is a JSON record to `JsonCaller`.

export type ParticipantBody = {
  readonly name: string;
  readonly role: ParticipantRole;
  readonly apiKeySha256: string;
};

export type WalletBody = {
  readonly name: string;
  readonly accountId?: string;
};

export type PersonaliseBody = {
  readonly kind: SecureElementKind;
  /** INITIALISE's public key, hex of the uncompressed P-256 point. */
  readonly publicKey: string;
};

export type NonceBody = {
  readonly seId: string;
};

export type LoadBody = {
  readonly seId: string;
  readonly amount: string;
  /** The SE's balance before the load, as the device read it (GET DATA) and signed it. */
  readonly balance: string;
  /** The SE's AUTHENTICATE answer over `loadRequestDigest` (src/core/request-digests.ts). */
  readonly deviceRequest: string;
};

/** A load its SE refused: hex of the SE's load refusal envelope (REFUSE LOAD, src/core/load-refusal.ts). */
export type LoadRefusalBody = {
  readonly refusal: string;
};

export type RenewalBody = {
  readonly claim: string;
  readonly sealedUpload: string;
};

export type UnloadBody = RenewalBody & {
  readonly amount: string;
  readonly deviceRequest: string;
};

export type TransferBody = UnloadBody & {
  readonly payeeSeId: string;
};

export type CreditBody = {
  /** The ledger payment into the payee DCP's pool (reference `xfer:<operation>:<payeeSeId>`). */
  readonly paymentId: string;
};

/** A settlement as a device posts it: its kind names the route and the body's shape. */
export type SettleSubmission =
  | { readonly kind: 'renewal'; readonly body: RenewalBody }
  | { readonly kind: 'unload'; readonly body: UnloadBody }
  | { readonly kind: 'transfer'; readonly body: TransferBody };

// Answers, decoded.

export interface DcpDescription {
  /** Hex of the DCP's 16-byte id (its issuer certificate's subject). */
  readonly dcpId: string;
  readonly certificate: Certificate;
  readonly poolAccountId: string;
  readonly renewalCheck: RenewalCheckMode;
}

export interface DcpParticipant {
  readonly id: string;
  readonly name: string;
  readonly role: ParticipantRole;
}

export interface DcpWallet {
  readonly id: string;
  readonly name: string;
  readonly accountId: string;
}

export interface DcpWalletBalance extends DcpWallet {
  readonly balance: bigint;
  readonly available: bigint;
}

/** Everything PERSONALISE takes, and the ids it was made for. */
export interface Personalisation {
  readonly seId: string;
  readonly walletId: string;
  readonly certificate: Certificate;
  readonly rootPublicKey: Bytes;
  readonly dcpIssuers: readonly Certificate[];
  readonly directory: Certificate;
  readonly mds: Certificate;
  readonly limits: SignedLimits;
  readonly denyList: SignedDenyList;
}

export interface DcpNonce {
  readonly nonce: Bytes;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export interface LoadAnswer {
  readonly operationId: string;
  readonly issuance: Issuance;
}

/** A refused load returned: its value paid from the pool back to the wallet. */
export interface LoadRefusalAnswer {
  readonly operationId: string;
  readonly loadOperationId: string;
  /** Hex of the refused issuance's id. */
  readonly issuanceId: string;
  readonly amount: bigint;
}

export interface SettleAnswer {
  readonly operationId: string;
  readonly kind: SettleKind;
  readonly renewal: Issuance;
  readonly credits: readonly Issuance[];
  /** The SE's open loads, delivered again with the renewal (COMPLETE SYNC installs or skips each). */
  readonly loads: readonly Issuance[];
  /** What left the SE: 0 for a renewal. */
  readonly amount: bigint;
  readonly limits: { readonly card: SignedLimits; readonly phone: SignedLimits };
  readonly denyList: SignedDenyList;
}

export interface DeviceUpdates {
  readonly limits: SignedLimits;
  readonly denyList: SignedDenyList;
}

export interface CreditAnswer {
  readonly seId: string;
  readonly amount: bigint;
}

/** `GET /v1/supply`, minor units (docs/dcp.md, "Invariant"). */
export interface DcpSupply {
  readonly minted: bigint;
  readonly queued: bigint;
  readonly issued: bigint;
  readonly retired: bigint;
  readonly outstanding: bigint;
  readonly poolBalance: bigint;
  /** Net value settlement between DCP pools moved into the pool (negative: out of it). */
  readonly settled: bigint;
  readonly inFlight: bigint;
}
