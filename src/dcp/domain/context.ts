// The DCP's shared state for its operations: its keys, trust, ports, caches. Built once by the server
// (or a test) and passed to every operation module; the operations never import each other's state.
import { assert, AssertionFailed } from '../../core/assert.ts';
import { bytesEqual, fromHex, toHex, utf8, type Bytes } from '../../core/bytes.ts';
import { certificateFromCbor, type Certificate, type SecureElementKind } from '../../core/certificate.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { isCbdcError } from '../../core/errors.ts';
import { purposes, type Signer, type Verifier } from '../../core/crypto.ts';
import type { SignedDenyList } from '../../core/deny-list.ts';
import { principalIdBytes, type PrincipalId } from '../../core/ids.ts';
import { defaultLimits, limitsToCbor, type Limits, type SignedLimits } from '../../core/limits.ts';
import { requestFingerprint, type FingerprintField } from '../../core/request-digests.ts';
import { signBody } from '../../core/signed.ts';
import { isExpired, type IdempotencyRecord, type IdempotentAnswer } from '../../storage/idempotency.ts';
import { ServiceIdempotency } from '../../service-kit/idempotency.ts';
import { dcpError, isDcpErrorCode } from '../api/errors.ts';
import { deviceCacheEntriesMax, directoryCacheMsDefault, walletCacheEntriesMax } from './limits.ts';
import { NonceMaker } from './nonce.ts';
import {
  inlineRequestVerifier,
  type Clock,
  type RequestVerifier,
  type DcpStore,
  type DcpTransaction,
  type DeviceRow,
  type DirectoryPort,
  type DirectoryRecord,
  type FaultHook,
  type FaultPoint,
  type KeyKind,
  type KeyResult,
  type LedgerPort,
  type PeerDcpPort,
  type RenewalCheck,
  type WalletRow,
} from './ports.ts';
import { serviceError } from '../../service-kit/service-errors.ts';

export interface DcpTrust {
  readonly rootPublicKey: Bytes;
  readonly dcpIssuers: readonly Certificate[];
  readonly directory: Certificate;
  readonly mds: Certificate;
}

export interface DcpContextOptions {
  readonly store: DcpStore;
  readonly ledger: LedgerPort;
  readonly directory: DirectoryPort;
  readonly peers: PeerDcpPort;
  readonly clock: Clock;
  readonly verifier: Verifier;
  /** Device requests' signatures (load, claim, AUTHENTICATE); by default `verifier`, inline. */
  readonly requestVerifier?: RequestVerifier;
  readonly signer: Signer;
  /** The DCP issuer certificate (its subject id is the DCP id). */
  readonly certificate: Certificate;
  readonly trust: DcpTrust;
  /** The DCP's ledger participant and pool account. */
  readonly ledgerParticipantId: string;
  readonly poolAccountId: string;
  readonly nonceKey: Bytes;
  readonly randomBytes: (length: number) => Bytes;
  readonly newId: (prefix: string) => string;
  readonly limits?: {
    readonly version: number;
    readonly card?: Partial<Limits>;
    readonly phone?: Partial<Limits>;
  };
  readonly renewalCheck: RenewalCheck;
  readonly directoryCacheMs?: number;
  /** How long an idempotency key's answer replays (default 7 days, as every service). */
  readonly idempotencyRetentionMs?: number;
  readonly faults?: FaultHook;
}

interface DenyListCache {
  readonly list: SignedDenyList;
  readonly atMs: number;
  readonly denied: ReadonlySet<string>;
}

/** What an idempotent operation claims its key with. */
export interface KeyClaim<Kind extends KeyKind> {
  /** An SE id for device operations, the participant for administrative ones. */
  readonly scope: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly kind: Kind;
}

export class DcpContext {
  readonly store: DcpStore;
  readonly ledger: LedgerPort;
  readonly directory: DirectoryPort;
  readonly peers: PeerDcpPort;
  readonly clock: Clock;
  readonly verifier: Verifier;
  readonly requestVerifier: RequestVerifier;
  readonly signer: Signer;
  readonly certificate: Certificate;
  readonly dcpId: PrincipalId;
  readonly trust: DcpTrust;
  readonly ledgerParticipantId: string;
  readonly poolAccountId: string;
  readonly nonces: NonceMaker;
  readonly newId: (prefix: string) => string;
  readonly renewalCheck: RenewalCheck;
  readonly limitsByKind: Readonly<Record<SecureElementKind, SignedLimits>>;
  /** The retention of the idempotency keys and their refusals; the process schedules `expire`. */
  readonly idempotency: ServiceIdempotency;
  readonly #faults: FaultHook | undefined;
  readonly #cacheMs: number;
  readonly #devices = new Map<string, DeviceRow>();
  /** Wallets by id: a wallet row never changes once written (its account link is fixed). */
  readonly #wallets = new Map<string, WalletRow>();
  /** Parsed certificates of cached device rows (a row is immutable once active). */
  readonly #certificates = new WeakMap<DeviceRow, Certificate>();
  readonly #statuses = new Map<string, { readonly record: DirectoryRecord | null; readonly atMs: number }>();
  #denyList: DenyListCache | undefined;

  constructor(options: DcpContextOptions) {
    this.store = options.store;
    this.ledger = options.ledger;
    this.directory = options.directory;
    this.peers = options.peers;
    this.clock = options.clock;
    this.verifier = options.verifier;
    this.requestVerifier = options.requestVerifier ?? inlineRequestVerifier(options.verifier);
    this.signer = options.signer;
    this.certificate = options.certificate;
    this.dcpId = options.certificate.body.subjectId;
    this.trust = options.trust;
    this.ledgerParticipantId = options.ledgerParticipantId;
    this.poolAccountId = options.poolAccountId;
    this.nonces = new NonceMaker(options.verifier, options.nonceKey, options.randomBytes);
    this.newId = options.newId;
    this.renewalCheck = options.renewalCheck;
    this.idempotency = new ServiceIdempotency(options.clock, options.idempotencyRetentionMs);
    this.#faults = options.faults;
    this.#cacheMs = options.directoryCacheMs ?? directoryCacheMsDefault;
    const version = options.limits?.version ?? 1;
    const sign = (kind: SecureElementKind): SignedLimits =>
      signBody(
        this.signer,
        purposes.limits,
        { ...defaultLimits(this.dcpId, kind, version, this.nowSeconds()), ...options.limits?.[kind] },
        limitsToCbor,
      );
    this.limitsByKind = { card: sign('card'), phone: sign('phone') };
  }

  nowSeconds(): number {
    return Math.floor(this.clock.nowMs() / 1000);
  }

  fault(point: FaultPoint): void {
    this.#faults?.(point);
  }

  /** A personalised device, cached once active (its key and kind never change). */
  async device(seId: string): Promise<DeviceRow> {
    const cached = this.#devices.get(seId);
    if (cached !== undefined) return cached;
    const device = await this.store.reader.findDevice(seId);
    if (device === null) throw dcpError('deviceNotFound', `secure element ${seId}`);
    if (device.state === 'active') {
      if (this.#devices.size >= deviceCacheEntriesMax) this.#devices.clear();
      this.#devices.set(seId, device);
    }
    return device;
  }

  /** A wallet, cached once read (wallets are never changed or removed). */
  async wallet(id: string): Promise<WalletRow | null> {
    const cached = this.#wallets.get(id);
    if (cached !== undefined) return cached;
    const wallet = await this.store.reader.findWallet(id);
    if (wallet === null) return null;
    if (this.#wallets.size >= walletCacheEntriesMax) this.#wallets.clear();
    this.#wallets.set(id, wallet);
    return wallet;
  }

  /** The directory's record of an SE, fresh within the cache time. */
  async directoryRecord(seId: PrincipalId): Promise<DirectoryRecord | null> {
    const key = toHex(seId);
    const now = this.clock.nowMs();
    const cached = this.#statuses.get(key);
    if (cached !== undefined && this.#fresh(cached.atMs, now)) return cached.record;
    const record = await this.callDirectory(() => this.directory.lookup(seId));
    if (this.#statuses.size >= deviceCacheEntriesMax) this.#statuses.clear();
    this.#statuses.set(key, { record, atMs: now });
    return record;
  }

  /**
   * Refuses a device whose certificate has expired, or that the directory lists as suspended or
   * revoked (DESIGN §8: the directory is the register of status). The expiry check comes first: the
   * directory drops an SE from the deny list once its certificate has expired (installing the list
   * moves every SE's trusted time past it), so from then on only the expiry keeps a revoked SE out.
   *
   * The deny list is the directory's whole deny set (every suspended or revoked SE,
   * docs/directory.md), as fresh as a per-SE lookup (both are cached `directoryCacheMs`): an SE whose
   * registration this DCP finished (an active device) and that is not on it is active, with no
   * directory call per operation. Any other SE is looked up, which also names the status of a
   * listed one.
   */
  async requireActive(seId: PrincipalId): Promise<void> {
    const key = toHex(seId);
    const device = await this.device(key);
    const validUntil = this.#certificateOf(device).body.validUntil;
    if (this.nowSeconds() > validUntil)
      throw dcpError('deviceCertificateExpired', `valid until ${validUntil}`);
    if (this.#devices.has(key) && !(await this.#freshDenyList()).denied.has(key)) return;
    const record = await this.directoryRecord(seId);
    if (record === null) throw dcpError('deviceNotFound', 'the directory does not know the secure element');
    // A device row this DCP has not finished registering may name another DCP's SE (the directory
    // refuses the registration then): its record says nothing about this DCP's device.
    if (!bytesEqual(record.dcpId, this.dcpId))
      throw dcpError('deviceNotFound', 'the directory registers the secure element for another DCP');
    if (record.status === 'suspended') throw dcpError('deviceSuspended');
    if (record.status === 'revoked') throw dcpError('deviceRevoked');
  }

  #certificateOf(device: DeviceRow): Certificate {
    let certificate = this.#certificates.get(device);
    if (certificate === undefined) {
      certificate = storedCertificate(device.certificate);
      this.#certificates.set(device, certificate);
    }
    return certificate;
  }

  async denyList(): Promise<SignedDenyList> {
    return (await this.#freshDenyList()).list;
  }

  async #freshDenyList(): Promise<DenyListCache> {
    const now = this.clock.nowMs();
    if (this.#denyList !== undefined && this.#fresh(this.#denyList.atMs, now)) return this.#denyList;
    const list = await this.callDirectory(() => this.directory.denyList());
    if (this.#denyList === undefined || list.body.version >= this.#denyList.list.body.version)
      this.#denyList = { list, atMs: now, denied: new Set(list.body.entries.map(toHex)) };
    return this.#denyList;
  }

  /**
   * Whether something fetched at `atMs` is still fresh. An entry from the future is stale: after the
   * clock steps back (NTP, or a test), a bare `now - atMs < cacheMs` would keep a deny list or a
   * status for as long as the step, and a revoked SE would pass.
   */
  #fresh(atMs: number, now: number): boolean {
    const age = now - atMs;
    return age >= 0 && age < this.#cacheMs;
  }

  /**
   * A call to the directory (or to a peer): its port answers in DCP codes (adapters/directory.ts);
   * any other failure is the directory not answering.
   */
  async callDirectory<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if ((isCbdcError(error) && isDcpErrorCode(error.code)) || error instanceof AssertionFailed) throw error;
      throw dcpError('dcpDirectoryUnavailable', error instanceof Error ? error.message : String(error));
    }
  }

  /** The request's fingerprint: the SHA-256 of its canonical text (requests carry sealed uploads). */
  fingerprint(operation: string, fields: readonly FingerprintField[]): string {
    return toHex(this.verifier.sha256(utf8(requestFingerprint(operation, fields))));
  }

  /**
   * What an earlier request under this key created, or null; another request under it is refused,
   * and so is any request under a key past its retention (a tombstone included): an expired key is
   * never run again. Read before the checks, so that a replay answers even after its nonce expired.
   */
  async earlier(scope: string, key: string, fingerprint: string): Promise<KeyResult | null> {
    return this.earlierOf(await this.store.reader.findKey(scope, key), key, fingerprint);
  }

  /** As `earlier`, over a record the caller read already (`findKey`). */
  earlierOf(record: IdempotencyRecord<KeyResult> | null, key: string, fingerprint: string): KeyResult | null {
    if (record === null) return null;
    if (this.keyExpired(record)) throw this.idempotency.expired(key);
    if (record.fingerprint !== fingerprint) throw serviceError('idempotencyKeyReusedWithDifferentRequest');
    assert(record.result !== null, 'an unexpired key has its result');
    return record.result;
  }

  /** Whether a key's record is past the retention: it may neither replay nor be released. */
  keyExpired(record: IdempotencyRecord<KeyResult>): boolean {
    return isExpired(record, this.clock.nowMs(), this.idempotency.retentionMs);
  }

  /**
   * As `idempotent`, for an operation whose answer is known before it runs (its id): the key is
   * claimed with that answer in one statement, then `execute` writes the rest; a throw rolls both
   * back. One statement fewer than claim-then-complete, in the transaction that holds the locks.
   */
  async idempotentAnswered<Kind extends KeyKind>(
    tx: DcpTransaction,
    claim: KeyClaim<Kind>,
    answer: Extract<KeyResult, { readonly kind: Kind }>,
    execute: () => Promise<void>,
  ): Promise<IdempotentAnswer<Extract<KeyResult, { readonly kind: Kind }>>> {
    const nowMs = this.clock.nowMs();
    if (await tx.claimKeyAnswered(claim, answer, nowMs)) {
      await execute();
      return { value: answer, replayed: false };
    }
    const earlier = await tx.findKey(claim.scope, claim.key);
    assert(earlier !== null, 'a conflicting idempotency claim is committed');
    return this.idempotency.replay<KeyResult, Kind>(earlier, {
      participantId: claim.scope,
      key: claim.key,
      fingerprint: claim.fingerprint,
      kind: claim.kind,
      nowMs,
    });
  }

  /**
   * Claims the key inside `tx` and runs `execute` (src/service-kit/idempotency.ts); when another
   * request with the key committed first, its result, marked replayed, and `execute` does not run.
   */
  idempotent<Kind extends KeyKind>(
    tx: DcpTransaction,
    claim: KeyClaim<Kind>,
    execute: () => Promise<Extract<KeyResult, { readonly kind: Kind }>>,
  ): Promise<IdempotentAnswer<Extract<KeyResult, { readonly kind: Kind }>>> {
    return this.idempotency.run(
      tx.idempotencyKeys,
      {
        participantId: claim.scope,
        key: claim.key,
        fingerprint: claim.fingerprint,
        kind: claim.kind,
        nowMs: this.clock.nowMs(),
      },
      execute,
    );
  }
}

/** Hex → bytes for a request field, naming it on failure. */
export function hexField(hex: string, field: string): Bytes {
  const bytes = fromHex(hex);
  if (bytes === undefined) throw serviceError('requestInvalid', `${field} is not hex`);
  return bytes;
}

/** Decodes a CBOR structure from a request field; any decoding refusal names the field. */
export function decodeField<T>(
  hex: string,
  field: string,
  decode: (value: ReturnType<typeof decodeCbor>) => T,
): T {
  try {
    return decode(decodeCbor(hexField(hex, field)));
  } catch (error) {
    if (isCbdcError(error) && error.code !== 'requestInvalid')
      throw serviceError('requestInvalid', `${field}: ${error.message}`);
    throw error;
  }
}

/** A 16-byte SE id of a request field (hex), naming the field on failure. */
export function seIdField(hex: string, field: string): PrincipalId {
  const bytes = hexField(hex, field);
  if (bytes.length !== principalIdBytes) throw serviceError('requestInvalid', `${field} has 16 bytes`);
  return bytes;
}

/** A stored id or certificate: the store wrote it, so one that does not decode is a bug. */
export function storedSeId(hex: string): PrincipalId {
  const bytes = fromHex(hex);
  if (bytes?.length !== principalIdBytes) throw new AssertionFailed(`stored SE id ${hex} is not 16 bytes`);
  return bytes;
}

export function storedCertificate(hex: string): Certificate {
  const bytes = fromHex(hex);
  if (bytes === undefined) throw new AssertionFailed('a stored certificate is not hex');
  return certificateFromCbor(decodeCbor(bytes));
}
