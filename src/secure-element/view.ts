// The applet's view of its persistent records, with RAM caches of their decoded forms (a chip keeps
// parsed keys and anchors in RAM too). A cache entry is reused only while the store returns the very
// same bytes object, so a commit invalidates it by construction. A record a command commits together
// with its value (Changes.record) starts cached: its value is what decoding its bytes gives, so the
// next command reads it without decoding (RECEIVE's entries, the state, the payment records).
import { buildTrustAnchors, type TrustAnchors } from '../core/trust.ts';
import { assert } from '../core/assert.ts';
import { coreError } from '../core/errors.ts';
import { idKey, type EntryId, type PrincipalId } from '../core/ids.ts';
import { decodeEntry, type HistoryEntry } from '../core/bundle.ts';
import { certificateFromCbor, type Certificate } from '../core/certificate.ts';
import { decodeCbor } from '../core/cbor.ts';
import type { Bytes } from '../core/bytes.ts';
import type { Signer } from '../core/crypto.ts';
import type { SignedDenyList } from '../core/deny-list.ts';
import type { Limits, SignedLimits } from '../core/limits.ts';
import type { JournaledStore } from './store/journaled-store.ts';
import type { SecureElementPlatform } from './platform.ts';
import {
  configFromCbor,
  decodeDenyListRecord,
  decodeIdentity,
  decodeIncoming,
  decodeLimitsRecord,
  decodeOutgoing,
  decodeState,
  decodeToken,
  initialState,
  recordKeys,
  recordPrefixes,
  type Config,
  type Identity,
  type IncomingRecord,
  type OutgoingRecord,
  type State,
  type TokenRecord,
} from './records.ts';
import { bytesEqual, fromHex } from '../core/bytes.ts';
import { VerifiedCertificates } from '../core/verified-certificates.ts';
import { SpentIndex } from './spent-index.ts';
import type { IdentifiedEntry } from '../core/validate-bundle.ts';

/**
 * Secure element certificates an SE remembers as verified, in RAM (VerifiedCertificates): a payee's
 * and a history's payers recur from payment to payment. 32 × about 230 bytes. A power cut empties the
 * memory with the rest of RAM, which costs only verifications again.
 */
export const verifiedCertificatesMax = 32;

interface Memo<T> {
  readonly bytes: Bytes;
  readonly value: T;
}

/** Everything a personalised SE needs at hand for a command. */
export interface Personalised {
  readonly identity: Identity;
  readonly signer: Signer;
  readonly config: Config;
  readonly anchors: TrustAnchors;
  readonly limits: Limits;
  readonly signedLimits: SignedLimits;
  readonly denyList: SignedDenyList;
  readonly denied: ReadonlySet<string>;
}

export class SecureElementView {
  readonly store: JournaledStore;
  readonly platform: SecureElementPlatform;
  readonly #memos = new Map<string, Memo<unknown>>();
  /** RAM only: a new view (power-up) starts empty, and entries are tied to the anchors they were checked under. */
  readonly verifiedCertificates = new VerifiedCertificates(verifiedCertificatesMax);
  readonly #spent = new SpentIndex((key) => this.#storedEntryInputs(key));
  /** The last personalised context, with the record bytes (identity, config, limits, deny list) it came from. */
  #personalised:
    { readonly sources: readonly (Bytes | undefined)[]; readonly context: Personalised } | undefined;

  constructor(store: JournaledStore, platform: SecureElementPlatform) {
    this.store = store;
    this.platform = platform;
  }

  #memo<T>(key: string, decode: (bytes: Bytes) => T): T | undefined {
    const bytes = this.store.get(key);
    if (bytes === undefined) return undefined;
    const memo = this.#memos.get(key);
    if (memo !== undefined && memo.bytes === bytes) return memo.value as T;
    const value = decode(bytes);
    this.#memos.set(key, { bytes, value });
    return value;
  }

  /** A value computed from the record at `key` (a KeyObject, a Set), recomputed when that record changes. */
  #derived<T>(key: string, name: string, compute: () => T): T {
    const bytes = this.store.get(key)!;
    const memoKey = `${key}#${name}`;
    const memo = this.#memos.get(memoKey);
    if (memo !== undefined && memo.bytes === bytes) return memo.value as T;
    const value = compute();
    this.#memos.set(memoKey, { bytes, value });
    return value;
  }

  identity(): Identity | undefined {
    return this.#memo(recordKeys.identity, decodeIdentity);
  }

  /**
   * The personalised context; throws `notPersonalised` before PERSONALISE. The same object while
   * none of the four records it is built from changes: a command asks for it several times.
   */
  personalised(): Personalised {
    const held = this.#personalised;
    const store = this.store;
    if (
      held !== undefined &&
      held.sources[0] === store.get(recordKeys.identity) &&
      held.sources[1] === store.get(recordKeys.config) &&
      held.sources[2] === store.get(recordKeys.limits) &&
      held.sources[3] === store.get(recordKeys.denyList)
    )
      return held.context;
    const context = this.#buildPersonalised();
    const sources = [
      store.get(recordKeys.identity),
      store.get(recordKeys.config),
      store.get(recordKeys.limits),
      store.get(recordKeys.denyList),
    ] as const;
    this.#personalised = { sources, context };
    return context;
  }

  #buildPersonalised(): Personalised {
    const identity = this.identity();
    const config = this.#memo(recordKeys.config, (bytes) => configFromCbor(decodeCbor(bytes)));
    if (identity === undefined || config === undefined) throw coreError('notPersonalised');
    const signer = this.#derived(recordKeys.identity, 'signer', () =>
      this.platform.signer(identity.privateScalar, identity.publicKey),
    );
    // Anchors were verified at PERSONALISE; rebuilding them after a restart verifies them again, once.
    const anchors = this.#derived(recordKeys.config, 'anchors', () =>
      buildTrustAnchors(this.platform.verifier, config.rootPublicKey, config.dcpIssuers, 0),
    );
    const signedLimits = this.#memo(recordKeys.limits, decodeLimitsRecord)!;
    const denyList = this.#memo(recordKeys.denyList, decodeDenyListRecord)!;
    const denied = this.#derived(recordKeys.denyList, 'set', () => new Set(denyList.body.entries.map(idKey)));
    return { identity, signer, config, anchors, limits: signedLimits.body, signedLimits, denyList, denied };
  }

  state(): State {
    return this.#memo(recordKeys.state, decodeState) ?? initialState;
  }

  tokens(): TokenRecord[] {
    return this.store
      .keys(recordPrefixes.token)
      .map((key) => this.#memo(key, (bytes) => decodeToken(idFromKey(key), bytes))!);
  }

  entry(id: EntryId): HistoryEntry | undefined {
    return this.#memo(recordKeys.entry(id), decodeEntry);
  }

  /**
   * True when this SE stores this very entry: same id, kind, body bytes and signature. Everything it
   * stores was verified when stored (RECEIVE, LOAD, COMPLETE SYNC) or signed by itself (PAY's change).
   */
  holds(entry: IdentifiedEntry): boolean {
    const held = this.entry(entry.id);
    return (
      held !== undefined &&
      held.kind === entry.kind &&
      bytesEqual(held.signed.signature, entry.signed.signature) &&
      bytesEqual(held.signed.bodyBytes, entry.signed.bodyBytes)
    );
  }

  /** True when a transfer this SE stores spends the token `tokenKey` (an `idKey`): one lookup. */
  storedTransferSpends(tokenKey: string): boolean {
    return this.#spent.spends(tokenKey, () => this.store.keys(recordPrefixes.entry));
  }

  /** The `idKey`s of the tokens the entry stored at `key` spends (none for an issuance). */
  #storedEntryInputs(key: string): readonly string[] {
    const entry = this.#memo(key, decodeEntry);
    assert(entry !== undefined, 'a listed entry is stored');
    return entry.kind === 'transfer' ? entry.signed.body.inputs.map(idKey) : [];
  }

  /**
   * Commits a command's changes atomically, and keeps the RAM indices in step with them. A record
   * put with its value (`Changes.record`) is remembered decoded: the next read of it decodes nothing.
   */
  commit(changes: Changes): void {
    this.store.commit(changes.map);
    this.#spent.committed(changes.map);
    for (const [key, value] of changes.values) {
      const bytes = this.store.get(key);
      if (bytes !== undefined) this.#memos.set(key, { bytes, value });
    }
  }

  certificate(seId: PrincipalId): Certificate | undefined {
    return this.#memo(recordKeys.certificate(seId), (bytes) => certificateFromCbor(decodeCbor(bytes)));
  }

  outgoing(transferId: EntryId): OutgoingRecord | undefined {
    const decode = (bytes: Bytes): OutgoingRecord => decodeOutgoing(transferId, bytes);
    return (
      this.#memo(recordKeys.outgoing(transferId, 'pending'), decode) ??
      this.#memo(recordKeys.outgoing(transferId, 'acknowledged'), decode)
    );
  }

  /** Payments debited and not yet acknowledged: at most `pendingPaymentsMax`. */
  pendingOutgoing(): OutgoingRecord[] {
    return this.#outgoingUnder(recordPrefixes.pendingOutgoing);
  }

  #outgoingUnder(prefix: string): OutgoingRecord[] {
    return this.store
      .keys(prefix)
      .map((key) => this.#memo(key, (bytes) => decodeOutgoing(idFromKey(key), bytes))!);
  }

  outgoingAll(): OutgoingRecord[] {
    return [...this.pendingOutgoing(), ...this.#outgoingUnder(recordPrefixes.acknowledgedOutgoing)];
  }

  incoming(challenge: Bytes): IncomingRecord | undefined {
    const decode = (bytes: Bytes): IncomingRecord => decodeIncoming(challenge, bytes);
    return (
      this.#memo(recordKeys.incoming(challenge, 'outstanding'), decode) ??
      this.#memo(recordKeys.incoming(challenge, 'received'), decode)
    );
  }

  /** Payment requests issued and still open: at most the limits' `challengesMax`. */
  outstandingIncoming(): IncomingRecord[] {
    return this.#incomingUnder(recordPrefixes.outstandingIncoming);
  }

  #incomingUnder(prefix: string): IncomingRecord[] {
    return this.store
      .keys(prefix)
      .map((key) => this.#memo(key, (bytes) => decodeIncoming(idFromKey(key), bytes))!);
  }

  incomingAll(): IncomingRecord[] {
    return [...this.outstandingIncoming(), ...this.#incomingUnder(recordPrefixes.closedIncoming)];
  }
}

/** The id encoded in a record key `x/<hex>`. */
export function idFromKey(key: string): Bytes {
  return fromHex(key.slice(key.indexOf('/') + 1))!;
}

/** A command's writes, committed atomically at its end. */
export class Changes {
  readonly map = new Map<string, Bytes | null>();
  /** The values of the records put by `record`: what decoding their bytes would give. */
  readonly values = new Map<string, unknown>();

  put(key: string, bytes: Bytes): this {
    this.map.set(key, bytes);
    this.values.delete(key);
    return this;
  }

  /**
   * Puts `encode(value)`, and lets the view keep `value` as the record's decoded form once committed.
   * Only for a value that its decoder gives back from those bytes, field for field (every record
   * encoder here writes all of a value's fields, and the id a decoder takes from the key is the one
   * in the key); the value is not modified afterwards.
   */
  record<T>(key: string, value: T, encode: (value: T) => Bytes): this {
    this.map.set(key, encode(value));
    this.values.set(key, value);
    return this;
  }

  remove(key: string): this {
    this.map.set(key, null);
    this.values.delete(key);
    return this;
  }
}
