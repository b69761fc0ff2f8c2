// What the DCP's domain needs from the world, as interfaces the domain owns: its store (rows and
// transactions, implemented in store/sql-store.ts), the ledger (through the gateway), the directory,
// peer DCPs, the MDS renewal check, the clock and fault injection for crash tests.
import type { Certificate, SecureElementKind } from '../../core/certificate.ts';
import type { SignedDenyList } from '../../core/deny-list.ts';
import type { Claim } from '../../core/claim.ts';
import type { Bytes } from '../../core/bytes.ts';
import type { Purpose, Verifier } from '../../core/crypto.ts';
import type { PrincipalId } from '../../core/ids.ts';
import type { LedgerAccount, LedgerHold, LedgerPayment, Replayable } from '../../ledger/api/types.ts';
import type { HoldOrder, PaymentOrder } from '../../ledger/api/client.ts';
import type { IdempotencyKeys, IdempotencyRecord } from '../../storage/idempotency.ts';
import type { ExpiringIdempotencyStore } from '../../service-kit/idempotency.ts';
import type { ParticipantRole, SettleKind } from '../api/types.ts';

export type { ParticipantRole, SettleKind } from '../api/types.ts';

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

/**
 * How the directory answered a registration: registered, or refused for good, with the DCP code the
 * refusal means (the directory's own code in the message). Not answering is thrown, not returned.
 */
export type RegistrationOutcome =
  | 'registered'
  | {
      readonly refused:
        'publicKeyAlreadyRegistered' | 'deviceRevoked' | 'deviceSuspended' | 'dcpDirectoryRefused';
      readonly message: string;
    };

export interface DirectoryPort {
  /** Registers a personalised SE under its wallet; idempotent for the same certificate. */
  register(certificate: Certificate, walletId: string): Promise<RegistrationOutcome>;
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
 * The renewal check (DESIGN §7; docs/dcp.md, "Renewal check and the unload gate"). `async`: the DCP
 * mints at once and the MDS finds counterfeit value after the fact. `sync`: before anything is
 * retired or minted the DCP asks the MDS whether the claimed tokens are backed by the sealed history
 * and gets back only a signed yes or no with a reason code. In either mode an unload or transfer of
 * value this DCP did not mint to that same SE asks the same question first (the unload gate). The
 * call happens outside any database transaction, between the claim's checks and the commit.
 */
export type RenewalCheckMode = 'async' | 'sync';

export interface RenewalVerdictSummary {
  readonly backed: boolean;
  /** `backed`, `doubleSpendHonoured`, or the MDS code that refused it. */
  readonly reason: string;
  readonly policy: 'honour' | 'refuse';
}

export interface RenewalCheck {
  readonly mode: RenewalCheckMode;
  /**
   * The MDS's verdict on the claim, its signature and binding verified; throws
   * `renewalCheckUnavailable` or `renewalCheckAnswerInvalid` (nothing is retired then).
   */
  ask(claim: Claim, sealedUpload: Bytes): Promise<RenewalVerdictSummary>;
}

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

// The store.

export interface ParticipantRow {
  readonly id: string;
  readonly name: string;
  readonly role: ParticipantRole;
}

export interface WalletRow {
  readonly id: string;
  readonly name: string;
  readonly accountId: string;
  readonly createdAtMs: number;
}

/**
 * Verifies the signatures of device requests (a load's AUTHENTICATE, a claim, an unload's or
 * transfer's AUTHENTICATE), possibly on other threads (adapters/verify-pool.ts): as
 * `Verifier.verify`, false for a bad signature; a typed DCP error (`dcpVerifierUnavailable`) when
 * it could not run the verify at all.
 */
export interface RequestVerifier {
  verify(publicKey: Bytes, purpose: Purpose, message: Bytes, signature: Bytes): Promise<boolean>;
}

/** The request verifier on the caller's thread (tests, and a DCP started without workers). */
export function inlineRequestVerifier(verifier: Verifier): RequestVerifier {
  return {
    verify: (publicKey, purpose, message, signature) =>
      Promise.resolve(verifier.verify(publicKey, purpose, message, signature)),
  };
}

export interface DeviceRow {
  /** Hex of the 16-byte SE id. */
  readonly seId: string;
  readonly walletId: string;
  readonly kind: SecureElementKind;
  /** The uncompressed P-256 point INITIALISE gave. */
  readonly publicKey: Bytes;
  /** Hex of the signed certificate, as PERSONALISE takes it. */
  readonly certificate: string;
  readonly state: 'registering' | 'active';
  /**
   * The newest time (seconds) stamped on an issuance for this SE: stamps never go back. Current only
   * in a row read under the device's lock (a cached row keeps the value it was read with).
   */
  readonly lastTime: number;
  /** The newest last sync time a settled claim of the SE showed (0 before its first); as `lastTime`. */
  readonly syncedThrough: number;
}

/** An SE's loads as the load guard counts them (load.ts), in one read under the device's lock. */
export interface LoadsUnseen {
  /** Loads open: not yet minted, or minted after the last sync a claim showed and not claimed or refused. */
  readonly open: number;
  /** The value of the loads not yet seen installed. */
  readonly value: bigint;
}

/** What a load answered, as stored with its operation: hex of the signed issuance. */
export interface LoadResult {
  readonly operationId: string;
  readonly issuance: string;
}

/** What a settlement answered, as stored with its operation: hex of the signed issuances. */
export interface SettleResult {
  readonly operationId: string;
  readonly kind: SettleKind;
  readonly renewal: string;
  readonly credits: readonly string[];
  /** The SE's open loads, delivered again so that this sync cannot leave one stale (settle.ts). */
  readonly loads: readonly string[];
  /** Decimal minor units: what left the SE (0 for a renewal). */
  readonly amount: string;
}

interface OperationCommon {
  readonly id: string;
  /** Hex of the SE that asked. */
  readonly seId: string;
  readonly amount: bigint;
}

/** pending --hold--> held --capture + mint--> done (a refused hold deletes the row). */
export type LoadOperation = OperationCommon & { readonly kind: 'load'; readonly accountId: string } & (
    | { readonly state: 'pending' }
    | { readonly state: 'held'; readonly holdId: string }
    | { readonly state: 'done'; readonly holdId: string; readonly answer: LoadResult }
  );

/** Done in its one commit: no ledger movement. */
export type RenewalOperation = OperationCommon & {
  readonly kind: 'renewal';
  readonly state: 'done';
  readonly answer: SettleResult;
};

/** pending --pay pool → wallet account--> done. */
export type UnloadOperation = OperationCommon & {
  readonly kind: 'unload';
  /** The wallet's ledger account. */
  readonly accountId: string;
  readonly answer: SettleResult;
} & ({ readonly state: 'pending' } | { readonly state: 'done'; readonly paymentId: string });

/**
 * To a device of this DCP (`local`): done in its commit, the payee's credit queued there. To a
 * device of another DCP (`peer`): pending --pay pool → payee pool--> paid --payee DCP credit--> done.
 */
export type TransferOperation = OperationCommon & {
  readonly kind: 'transfer';
  readonly payeeSeId: string;
  readonly answer: SettleResult;
} & (
    | { readonly route: 'local'; readonly state: 'done' }
    | ({
        readonly route: 'peer';
        readonly payeeEndpoint: string;
        /** The payee DCP's pool account. */
        readonly accountId: string;
      } & (
        | { readonly state: 'pending' }
        | { readonly state: 'paid'; readonly paymentId: string }
        | { readonly state: 'done'; readonly paymentId: string }
      ))
  );

/** What returning a refused load answered, as stored with its operation. */
export interface RefusalResult {
  readonly operationId: string;
  /** The load whose issuance the SE refused. */
  readonly loadOperationId: string;
  /** Hex of the refused issuance's id. */
  readonly issuanceId: string;
  /** Decimal minor units: what goes back to the wallet. */
  readonly amount: string;
}

/** The id of the operation that returns a refused load: one per load, so one return per issuance. */
export const refusalOperationPrefix = 'refusal-';
export function refusalOperationId(loadOperationId: string): string {
  return `${refusalOperationPrefix}${loadOperationId}`;
}

/**
 * pending --pay pool → wallet account--> done: a load its SE refused (REFUSE LOAD), returned. Its
 * first commit retires the load's token, so the pool invariant holds with the value in flight.
 */
export type RefusalOperation = OperationCommon & {
  readonly kind: 'refusal';
  /** The wallet's ledger account the load was paid from. */
  readonly accountId: string;
  readonly answer: RefusalResult;
} & ({ readonly state: 'pending' } | { readonly state: 'done'; readonly paymentId: string });

/** A row of `dcp_operations`: a union discriminated by kind and state, each with what it needs. */
export type Operation =
  LoadOperation | RenewalOperation | UnloadOperation | TransferOperation | RefusalOperation;
export type OperationKind = Operation['kind'];
export type OperationState = Operation['state'];
/** An operation the outbox still drives. */
export type OpenOperation = Exclude<Operation, { readonly state: 'done' }>;

export interface IssuanceRow {
  readonly id: string;
  readonly requestReference: string;
  readonly kind: 'load' | 'renewal' | 'credit' | 'refund';
  readonly seId: string;
  readonly value: bigint;
  readonly operationId: string;
  readonly signed: string;
  /** The time (seconds) stamped on it. */
  readonly time: number;
  readonly tokens: readonly { readonly tokenId: string; readonly value: bigint; readonly vouched: bigint }[];
}

/** What the DCP keeps of an issuance it signed, as a load refusal needs it. */
export interface IssuanceFound {
  readonly kind: IssuanceRow['kind'];
  readonly seId: string;
  readonly value: bigint;
  readonly operationId: string;
}

export interface CreditRow {
  readonly id: string;
  readonly kind: 'credit' | 'refund';
  readonly value: bigint;
}

export interface Supply {
  readonly minted: bigint;
  readonly queued: bigint;
  readonly retired: bigint;
}

/** What an idempotency key names: the participant, wallet, device or operation it created. */
/** A refusal takes no key: the issuance it names is its idempotency (refusal.ts). */
export type KeyKind = 'participant' | 'wallet' | 'personalisation' | Exclude<OperationKind, 'refusal'>;
export const keyKinds = [
  'participant',
  'wallet',
  'personalisation',
  'load',
  'renewal',
  'unload',
  'transfer',
] as const satisfies readonly KeyKind[];
export type KeyResult = { readonly [K in KeyKind]: { readonly kind: K; readonly id: string } }[KeyKind];

/** Reads outside a transaction (no locks). */
export interface DcpReader {
  /**
   * The record of an idempotency key, read before the checks so that a replay skips them; its
   * result is null for a tombstone (the key expired and its answer was dropped).
   */
  findKey(scope: string, key: string): Promise<IdempotencyRecord<KeyResult> | null>;
  findParticipantByKeyDigest(apiKeySha256: string): Promise<ParticipantRow | null>;
  findWallet(id: string): Promise<WalletRow | null>;
  findDevice(seId: string): Promise<DeviceRow | null>;
  findOperation(id: string): Promise<Operation | null>;
  findIssuance(id: string): Promise<IssuanceFound | null>;
  findToken(tokenId: string): Promise<MintedToken | null>;
}

/**
 * A token this DCP minted: to whom, its value, and how much of it is **vouched** — known backed
 * without the MDS (docs/dcp.md, "Renewal check and the unload gate"): all of a load's, credit's or
 * refund's, all of a renewal output whose claim the MDS said yes to, and otherwise the vouched value
 * its claim held beyond what left the SE.
 */
export interface MintedToken {
  readonly seId: string;
  readonly value: bigint;
  readonly vouched: bigint;
}

/**
 * One transaction. Locks are taken in one order: idempotency key, then devices by id, then the
 * operation. Keys are scoped: device operations by the SE id, administrative ones by the participant.
 */
export interface DcpTransaction {
  readonly idempotencyKeys: IdempotencyKeys<KeyResult>;
  /**
   * Claims a key with its answer in one statement, for an operation whose answer (its id) is known
   * before it writes; false, writing nothing, when the key is taken (`findKey` then reads it).
   */
  claimKeyAnswered(
    claim: { readonly scope: string; readonly key: string; readonly fingerprint: string },
    result: KeyResult,
    nowMs: number,
  ): Promise<boolean>;
  /** The key's record as this transaction sees it (after a claim that found it taken). */
  findKey(scope: string, key: string): Promise<IdempotencyRecord<KeyResult> | null>;
  /** Frees a key whose operation was refused and deleted (a refused load). */
  releaseKey(scope: string, key: string): Promise<void>;
  /** False when another participant has this key digest. */
  insertParticipant(participant: ParticipantRow, apiKeySha256: string, nowMs: number): Promise<boolean>;
  insertWallet(wallet: WalletRow): Promise<void>;
  /** False when a device with this SE id or public key exists. */
  insertDevice(device: DeviceRow, nowMs: number): Promise<boolean>;
  findDevice(seId: string, lock?: boolean): Promise<DeviceRow | null>;
  /** Locks the devices that exist, in id order. */
  lockDevices(seIds: readonly string[]): Promise<ReadonlyMap<string, DeviceRow>>;
  setDeviceState(seId: string, state: DeviceRow['state']): Promise<void>;
  /**
   * The SE's loads as the load guard counts them (load.ts), read under the device's lock (`device`,
   * whose `syncedThrough` it uses): how many are open (not yet minted, or minted after that last sync
   * and not claimed or refused), and the value of those not yet seen installed (open, or done at or
   * after `sinceMs` and after the SE's newest claim).
   */
  loadsUnseen(device: DeviceRow, sinceMs: number): Promise<LoadsUnseen>;
  /** Removes a device whose registration the directory refused; an active device is never removed. */
  deleteRegisteringDevice(seId: string): Promise<void>;
  /** A settlement's write of the device row: its new last issuance time and last sync shown. */
  setDeviceTimes(seId: string, lastTime: number, syncedThrough: number): Promise<void>;
  /**
   * Locks the device and stamps its next issuance time (`nextIssuanceTime` of `nowSeconds` and its
   * last time) in one write; the time set, or null when there is no such device.
   */
  stampIssuanceTime(seId: string, nowSeconds: number): Promise<number | null>;
  /**
   * The SE's loads open since `afterTime` (settle.ts): load issuances stamped later whose token no
   * claim or refusal retired, oldest first, signed hex, at most `limit`.
   */
  loadsOpen(seId: string, afterTime: number, limit: number): Promise<string[]>;
  /** Marks a nonce used; false if it was used before. */
  useNonce(nonce: string, expiresAtMs: number): Promise<boolean>;
  forgetExpiredNonces(nowMs: number): Promise<number>;
  insertOperation(operation: Operation, nowMs: number): Promise<void>;
  findOperation(id: string, lock?: boolean): Promise<Operation | null>;
  /** Writes the operation's state and what that state carries (hold, payment, answer). */
  updateOperation(operation: Operation, nowMs: number): Promise<void>;
  deleteOperation(id: string): Promise<void>;
  insertIssuance(issuance: IssuanceRow, nowMs: number): Promise<void>;
  findToken(tokenId: string): Promise<MintedToken | null>;
  /** The issuance this DCP signed with this id (hex), or null. */
  findIssuance(id: string): Promise<IssuanceFound | null>;
  /**
   * Retires a token, naming the upload whose claim retired it (the MDS's report carries it); false
   * if it was retired before (the unique key decides, even under races).
   */
  retireToken(
    token: {
      readonly tokenId: string;
      readonly seId: string;
      readonly value: bigint;
      readonly operationId: string;
      readonly uploadDigest: string;
    },
    nowMs: number,
  ): Promise<boolean>;
  /** Queues a credit; false if one with this id was queued before. */
  queueCredit(
    id: string,
    seId: string,
    kind: CreditRow['kind'],
    value: bigint,
    nowMs: number,
  ): Promise<boolean>;
  queuedCredits(seId: string, limit: number): Promise<CreditRow[]>;
  markCreditMinted(id: string, issuanceId: string): Promise<void>;
  /** Keeps the sealed upload and the claim that binds it for the MDS (state `pending`). */
  insertUpload(
    upload: Omit<PendingUpload, 'attempts'> & { readonly operationId: string },
    nowMs: number,
  ): Promise<void>;
}

export interface DcpStore extends ExpiringIdempotencyStore {
  /** Runs `body` in a transaction and resolves once it is committed. */
  transaction<T>(body: (tx: DcpTransaction) => Promise<T>): Promise<T>;
  readonly reader: DcpReader;
  ping(): Promise<void>;
  supply(): Promise<Supply>;
  /** Operations not done, oldest first. */
  openOperations(limit: number): Promise<Operation[]>;
  /**
   * Writes `next` over its operation's row when the row is still in state `from` (one committed
   * statement, the outbox's steps that write nothing else); otherwise answers the row as it is
   * (null when it was deleted).
   */
  advanceOperation(next: Operation, from: Operation['state'], nowMs: number): Promise<Operation | null>;
  registeringDevices(limit: number): Promise<DeviceRow[]>;
  countIssuances(operationId: string): Promise<number>;
  readonly mdsOutbox: MdsOutboxStore;
}

// The MDS forwarding (forwarding.ts): the outbox of sealed uploads and the DCP's reports.

/** A sealed upload waiting for the MDS, with the SE's claim that binds it (hex, as stored). */
export interface PendingUpload {
  readonly digest: string;
  readonly seId: string;
  /** Hex of the claim envelope, canonical CBOR as the SE signed it. */
  readonly claim: string;
  /** Hex of the sealed bytes. */
  readonly sealed: string;
  /** Deliveries tried so far without an acknowledgement. */
  readonly attempts: number;
}

/**
 * An issuance this DCP signed, to report: its id and hex of the signed envelope, and for a credit or
 * refund issuance the ids of the queued credits it minted (the link travels with the issuance, so
 * the MDS never counts an issuance and the credit it minted both).
 */
export interface IssuanceReport {
  readonly id: string;
  readonly signed: string;
  readonly credits: readonly string[];
}

/**
 * A credit this DCP queued and has not minted yet (a refund, an online transfer's credit): the pool
 * holds its value already, so the MDS counts it as issued by this DCP until its issuance is reported.
 */
export interface CreditReport {
  readonly creditId: string;
  readonly seId: string;
  readonly kind: CreditRow['kind'];
  readonly value: bigint;
  readonly queuedAtMs: number;
}

/** A token this DCP retired, to report, with the upload whose claim retired it. */
export interface RetirementReport {
  readonly tokenId: string;
  readonly value: bigint;
  readonly seId: string;
  readonly uploadDigest: string;
  readonly retiredAtMs: number;
}

export interface ReportBatch {
  readonly issuances: readonly IssuanceReport[];
  readonly retirements: readonly RetirementReport[];
  readonly credits: readonly CreditReport[];
}

/** What the forwarding has not delivered, by state (the /metrics gauges). */
export interface ForwardingFigures {
  readonly uploads: Readonly<Record<'pending' | 'refused' | 'unforwardable', number>>;
  readonly issuances: Readonly<Record<'pending' | 'refused', number>>;
  readonly retirements: Readonly<Record<'pending' | 'refused' | 'unreportable', number>>;
  /** Queued credits (not minted) whose report is pending or was refused. */
  readonly credits: Readonly<Record<'pending' | 'refused', number>>;
}

/** The store's side of the forwarding; each write is one statement, outside any operation's transaction. */
export interface MdsOutboxStore {
  /** Pending uploads whose next attempt is due at `nowMs`, oldest first. */
  dueUploads(nowMs: number, limit: number): Promise<PendingUpload[]>;
  markUploadForwarded(digest: string, nowMs: number): Promise<void>;
  /** The MDS refused it for good: kept with the code, counted, not tried again. */
  markUploadRefused(digest: string, refusal: string): Promise<void>;
  /** The MDS did not acknowledge it: try again at `nextAttemptAtMs`. */
  postponeUpload(digest: string, attempts: number, nextAttemptAtMs: number): Promise<void>;
  /**
   * Issuances, retirements and queued credits not yet reported, oldest first, at most `limit` of each
   * and at most `limit` credit ids named by the issuances together.
   */
  unreported(limit: number): Promise<ReportBatch>;
  markReported(batch: ReportBatch): Promise<void>;
  markReportRefused(batch: ReportBatch, refusal: string): Promise<void>;
  figures(): Promise<ForwardingFigures>;
}

/**
 * How the MDS answered a delivery: acknowledged (stored durably, or recorded), or refused for good
 * with its code (the content is at fault; sending it again meets the same refusal). Not answering,
 * an answer that does not decode and a refusal about the DCP itself (its key, its role) are thrown:
 * they are retried later, with backoff, once an operator has looked.
 */
export type MdsDelivery = 'acknowledged' | { readonly refused: string; readonly message: string };

/**
 * A refund the MDS decided for an SE of this DCP (refunds.ts): refund `value` to `seId`, retiring the
 * undelivered payment token `tokenId` under the upload `uploadDigest` this DCP forwarded.
 */
export interface RefundOrder {
  readonly decisionId: string;
  readonly seId: string;
  readonly value: bigint;
  readonly tokenId: string;
  readonly uploadDigest: string;
}

/** The MDS's refund orders as the DCP reads and acknowledges them (adapters/mds.ts). */
export interface MdsRefundsPort {
  /** Orders not yet executed, oldest first, at most `limit`. */
  refunds(limit: number): Promise<readonly RefundOrder[]>;
  /** Idempotent by the decision id. */
  refundExecuted(decisionId: string): Promise<void>;
}

/** The MDS as the DCP's forwarding needs it (adapters/mds.ts over `MdsClient`). */
export interface MdsPort {
  forwardUpload(upload: PendingUpload): Promise<MdsDelivery>;
  /**
   * At most `reportItemsMax` issuances, retirements, queued credits and credit ids the issuances name;
   * `key` names the batch's content.
   */
  report(key: string, batch: ReportBatch): Promise<MdsDelivery>;
}
