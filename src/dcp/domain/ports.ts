// What the DCP's domain needs from the world, as interfaces the domain owns: the ledger (through the
// gateway), the directory, the MDS renewal check, the clock and fault injection for crash tests.
import type { Certificate } from '../../core/certificate.ts';
import type { SignedDenyList } from '../../core/deny-list.ts';
import type { Claim } from '../../core/claim.ts';
import type { Bytes } from '../../core/bytes.ts';
import type { PrincipalId } from '../../core/ids.ts';
import type { LedgerAccount, LedgerHold, LedgerPayment, Replayable } from '../../ledger/api/types.ts';
import type { HoldOrder, PaymentOrder } from '../../ledger/api/client.ts';

export interface Clock {
  nowMs(): number;
}

/** The subset of the gateway's `LedgerClient` the DCP uses; tests may wrap it to inject faults. */
export interface LedgerPort {
  pay(idempotencyKey: string, order: PaymentOrder): Promise<Replayable<LedgerPayment>>;
  payment(paymentId: string): Promise<LedgerPayment>;
  placeHold(idempotencyKey: string, order: HoldOrder): Promise<Replayable<LedgerHold>>;
  captureHold(
    holdId: string,
  ): Promise<Replayable<{ readonly hold: LedgerHold; readonly payment: LedgerPayment }>>;
  releaseHold(holdId: string): Promise<Replayable<LedgerHold>>;
  createAccount(
    idempotencyKey: string,
    request: { readonly kind: 'dcpPool' | 'wallet'; readonly ownerId: string },
  ): Promise<Replayable<LedgerAccount>>;
  account(accountId: string): Promise<LedgerAccount>;
}

export type SecureElementStatus = 'active' | 'suspended' | 'revoked';

export interface DirectoryRecord {
  readonly seId: PrincipalId;
  readonly dcpId: PrincipalId;
  readonly status: SecureElementStatus;
}

export interface DirectoryPort {
  /** Registers a personalised SE under its wallet; idempotent for the same certificate. */
  register(certificate: Certificate, walletId: string): Promise<void>;
  /** The SE's record, or null when the directory does not know it. */
  lookup(seId: PrincipalId): Promise<DirectoryRecord | null>;
  /** The newest complete signed deny list. */
  denyList(): Promise<SignedDenyList>;
  /** The base URL a DCP published for itself, or null. */
  dcpEndpoint(dcpId: PrincipalId): Promise<string | null>;
  publishEndpoint(dcpId: PrincipalId, url: string): Promise<void>;
}

/** How the DCP reaches another DCP to queue a credit for the payee of an online transfer. */
export interface PeerDcpPort {
  credit(endpoint: string, paymentId: string): Promise<void>;
  /** The peer's DCP id (hex) and ledger pool account (GET /v1/dcp). */
  describe(endpoint: string): Promise<{ readonly dcpId: string; readonly poolAccountId: string }>;
}

/**
 * The renewal check (DESIGN §7). `async`: the DCP mints at once and the MDS finds counterfeit value
 * after the fact. A `sync` implementation asks the MDS, before anything is retired or minted, whether
 * the claimed tokens are backed by the sealed history, and gets back only yes or no with a signed
 * reason code. The call happens outside any database transaction, between the claim's checks and
 * the commit (see `DcpService.settle`).
 */
export interface RenewalCheck {
  readonly mode: 'async' | 'sync';
  check(
    claim: Claim,
    sealedUpload: Bytes,
  ): Promise<{ readonly backed: true } | { readonly backed: false; readonly reason: string }>;
}

export const asyncRenewalCheck: RenewalCheck = {
  mode: 'async',
  check: () => Promise.resolve({ backed: true }),
};

/** Crash injection for tests: called at each named point; a hook that throws simulates a crash there. */
export type FaultHook = (point: FaultPoint) => void;

export const faultPoints = [
  'load.afterIntent',
  'load.afterHold',
  'load.afterCapture',
  'load.afterCommit',
  'settle.afterCommit',
  'unload.afterPayment',
  'unload.afterCommit',
  'transfer.afterPayment',
  'transfer.afterCredit',
] as const;
export type FaultPoint = (typeof faultPoints)[number];
