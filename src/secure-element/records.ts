// The secure element's persistent records: what lives in its EEPROM, one store key each, encoded in
// canonical CBOR like everything else. Every command reads these and writes its changes in one atomic
// commit (journaled-store.ts), so a power cut leaves the SE before or after the command.
//
//   key                    record
//   identity               the key pair generated inside the SE (never leaves: no instruction reads it)
//   config                 personalisation: certificate, trust anchors, directory and MDS certificates
//   limits, deny-list      the newest signed limits and deny list installed
//   state                  counter, balance, payments since sync, trusted time, open sync session
//   t/<token id>           a token held: value, generation, the ids of its history entries, locked flag
//   e/<entry id>           a history entry (issuance or transfer) some held token descends from
//   c/<se id>              the certificate of a secure element that signed a transfer in a history
//   q/<payee id><challenge>  PAY's idempotency index: the transfer made for that request
//   o/<transfer id>        a pending outgoing payment: payee key, amount, the bundle sent
//   a/<transfer id>        an acknowledged outgoing payment, with the payee's receipt
//   r/<challenge>          an outstanding incoming payment request: amount
//   s/<challenge>          a closed incoming request: received (transfer id, receipt) or expired
//
//   l/<issuance id>        an issuance installed (LOAD, COMPLETE SYNC credits): its time, so that
//                          installing it again is a no-op until a sync makes it stale
//   x/<issuance id>        a load refused (REFUSE LOAD): its time and the signed refusal, so that
//                          neither LOAD nor COMPLETE SYNC installs it until a sync makes it stale
//   unverified-history     present while the SE may hold entries it stored unverified (RECEIVE under
//                          the lastHop policy): held entries are then verified again under full
//
// Pending and outstanding records live under their own prefixes so that the limits that count them
// read a bounded key range instead of scanning every payment since the last sync.
import { decodeCbor, encodeCbor, FieldReader, readBytesItem, type CborValue } from '../core/cbor.ts';
import { certificateFromCbor, type Certificate } from '../core/certificate.ts';
import { signedDenyListFromCbor, type SignedDenyList } from '../core/deny-list.ts';
import { signedLimitsFromCbor, type SignedLimits } from '../core/limits.ts';
import { signedToCbor } from '../core/signed.ts';
import { toHex, type Bytes } from '../core/bytes.ts';
import {
  entryIdBytes,
  nonceBytes,
  principalIdBytes,
  type EntryId,
  type PrincipalId,
  type TokenId,
} from '../core/ids.ts';
import { publicKeyBytes } from '../core/crypto.ts';

export const recordKeys = {
  identity: 'identity',
  config: 'config',
  limits: 'limits',
  denyList: 'deny-list',
  state: 'state',
  token: (id: TokenId) => `t/${toHex(id)}`,
  entry: (id: EntryId) => `e/${toHex(id)}`,
  certificate: (seId: PrincipalId) => `c/${toHex(seId)}`,
  payIndex: (payeeId: PrincipalId, challenge: Bytes) => `q/${toHex(payeeId)}${toHex(challenge)}`,
  outgoing: (transferId: EntryId, state: OutgoingState) =>
    `${state === 'pending' ? 'o' : 'a'}/${toHex(transferId)}`,
  incoming: (challenge: Bytes, state: IncomingState) =>
    `${state === 'outstanding' ? 'r' : 's'}/${toHex(challenge)}`,
  installed: (issuanceId: EntryId) => `l/${toHex(issuanceId)}`,
  refused: (issuanceId: EntryId) => `x/${toHex(issuanceId)}`,
  unverifiedHistory: 'unverified-history',
} as const;

export const recordPrefixes = {
  token: 't/',
  entry: 'e/',
  certificate: 'c/',
  pendingOutgoing: 'o/',
  acknowledgedOutgoing: 'a/',
  outstandingIncoming: 'r/',
  closedIncoming: 's/',
  installed: 'l/',
  refused: 'x/',
  payIndex: 'q/',
} as const;

function decodeRecord<T>(bytes: Bytes, name: string, arity: number, read: (reader: FieldReader) => T): T {
  return read(new FieldReader(decodeCbor(bytes), name, arity));
}

// --- identity ---------------------------------------------------------------------------------

export interface Identity {
  readonly seId: PrincipalId;
  readonly publicKey: Bytes;
  readonly privateScalar: Bytes;
}

export function encodeIdentity(identity: Identity): Bytes {
  return encodeCbor([identity.seId, identity.publicKey, identity.privateScalar]);
}

export function decodeIdentity(bytes: Bytes): Identity {
  return decodeRecord(bytes, 'identity', 3, (r) => ({
    seId: r.bytes(0, 'seId', principalIdBytes),
    publicKey: r.bytes(1, 'publicKey', publicKeyBytes),
    privateScalar: r.bytes(2, 'privateScalar', 32),
  }));
}

// --- config -----------------------------------------------------------------------------------

export interface Config {
  readonly certificate: Certificate;
  readonly rootPublicKey: Bytes;
  readonly dcpIssuers: readonly Certificate[];
  readonly directory: Certificate;
  readonly mds: Certificate;
}

export const dcpIssuersMax = 32;

export function configToCbor(config: Config): CborValue {
  return [
    signedToCbor(config.certificate),
    config.rootPublicKey,
    config.dcpIssuers.map(signedToCbor),
    signedToCbor(config.directory),
    signedToCbor(config.mds),
  ];
}

export function configFromCbor(value: CborValue): Config {
  const r = new FieldReader(value, 'config', 5);
  return {
    certificate: certificateFromCbor(r.raw(0)),
    rootPublicKey: r.bytes(1, 'rootPublicKey', publicKeyBytes),
    dcpIssuers: r.array(2, 'dcpIssuers', dcpIssuersMax, (item) => certificateFromCbor(item)),
    directory: certificateFromCbor(r.raw(3)),
    mds: certificateFromCbor(r.raw(4)),
  };
}

export function encodeLimitsRecord(limits: SignedLimits): Bytes {
  return encodeCbor(signedToCbor(limits));
}
export function decodeLimitsRecord(bytes: Bytes): SignedLimits {
  return signedLimitsFromCbor(decodeCbor(bytes));
}
export function encodeDenyListRecord(list: SignedDenyList): Bytes {
  return encodeCbor(signedToCbor(list));
}
export function decodeDenyListRecord(bytes: Bytes): SignedDenyList {
  return signedDenyListFromCbor(decodeCbor(bytes));
}

// --- state ------------------------------------------------------------------------------------

/** An open sync: BEGIN SYNC signed a claim over these tokens; COMPLETE SYNC installs the renewal. */
export interface SyncSession {
  readonly dcpNonce: Bytes;
  readonly claimedTokenIds: readonly TokenId[];
  /** Records the upload reported that COMPLETE SYNC erases (closed incoming, acknowledged outgoing, loads). */
  readonly reportedKeys: readonly string[];
}

export interface State {
  /** Monotonic: incremented for every transfer and receipt signed; never reused (invariant 2). */
  readonly counter: number;
  readonly balance: bigint;
  readonly paymentsSinceSync: number;
  /** Newest DCP- or directory-signed time seen: the card's only clock. */
  readonly trustedTime: number;
  /** Time of the renewal installed by the last COMPLETE SYNC (0 before the first). */
  readonly lastSyncTime: number;
  readonly session: SyncSession | undefined;
}

export const reportedKeysMax = 4096;
export const claimedTokensMax = 256;

export const initialState: State = {
  counter: 0,
  balance: 0n,
  paymentsSinceSync: 0,
  trustedTime: 0,
  lastSyncTime: 0,
  session: undefined,
};

export function encodeState(state: State): Bytes {
  const session: CborValue =
    state.session === undefined
      ? []
      : [[state.session.dcpNonce, [...state.session.claimedTokenIds], [...state.session.reportedKeys]]];
  return encodeCbor([
    state.counter,
    state.balance,
    state.paymentsSinceSync,
    state.trustedTime,
    state.lastSyncTime,
    session,
  ]);
}

export function decodeState(bytes: Bytes): State {
  return decodeRecord(bytes, 'state', 6, (r) => {
    const sessions = r.array(5, 'session', 1, (item, where) => {
      const s = new FieldReader(item, where, 3);
      return {
        dcpNonce: s.bytes(0, 'dcpNonce', nonceBytes),
        claimedTokenIds: s.array(1, 'claimedTokenIds', claimedTokensMax, (id, w) =>
          readBytesItem(id, w, entryIdBytes),
        ),
        reportedKeys: s.array(2, 'reportedKeys', reportedKeysMax, (key, w) => {
          if (typeof key !== 'string') throw FieldReader.invalid(w, 'must be text');
          return key;
        }),
      };
    });
    return {
      counter: r.uint(0, 'counter'),
      balance: r.biguint(1, 'balance'),
      paymentsSinceSync: r.uint(2, 'paymentsSinceSync'),
      trustedTime: r.uint(3, 'trustedTime'),
      lastSyncTime: r.uint(4, 'lastSyncTime'),
      session: sessions[0],
    };
  });
}

// --- tokens -----------------------------------------------------------------------------------

export interface TokenRecord {
  readonly id: TokenId;
  readonly value: bigint;
  readonly generation: number;
  /** The token's whole history, topologically ordered, ending with the entry that produced it. */
  readonly entryIds: readonly EntryId[];
  /** Claimed by an open sync session: not spendable until COMPLETE SYNC. */
  readonly locked: boolean;
}

export const tokenHistoryEntriesMax = 512;

export function encodeToken(token: TokenRecord): Bytes {
  return encodeCbor([token.value, token.generation, [...token.entryIds], token.locked ? 1 : 0]);
}

export function decodeToken(id: TokenId, bytes: Bytes): TokenRecord {
  return decodeRecord(bytes, 'token', 4, (r) => ({
    id,
    value: r.biguint(0, 'value'),
    generation: r.uint(1, 'generation'),
    entryIds: r.array(2, 'entryIds', tokenHistoryEntriesMax, (item, where) =>
      readBytesItem(item, where, entryIdBytes),
    ),
    locked: r.uint(3, 'locked', 1) === 1,
  }));
}

// --- payments ---------------------------------------------------------------------------------

export type OutgoingState = 'pending' | 'acknowledged';

export interface OutgoingRecord {
  readonly transferId: EntryId;
  readonly state: OutgoingState;
  readonly payeePublicKey: Bytes;
  readonly amount: bigint;
  readonly bundle: Bytes;
  /** The payee's signed receipt once acknowledged; empty while pending. */
  readonly receipt: Bytes;
}

export function encodeOutgoing(record: OutgoingRecord): Bytes {
  return encodeCbor([
    record.state === 'pending' ? 0 : 1,
    record.payeePublicKey,
    record.amount,
    record.bundle,
    record.receipt,
  ]);
}

export function decodeOutgoing(transferId: EntryId, bytes: Bytes): OutgoingRecord {
  return decodeRecord(bytes, 'outgoing', 5, (r) => ({
    transferId,
    state: r.uint(0, 'state', 1) === 0 ? 'pending' : 'acknowledged',
    payeePublicKey: r.bytes(1, 'payeePublicKey', publicKeyBytes),
    amount: r.biguint(2, 'amount'),
    bundle: r.bytes(3, 'bundle'),
    receipt: r.bytes(4, 'receipt'),
  }));
}

export type IncomingState = 'outstanding' | 'received' | 'expired';
const incomingStates: readonly IncomingState[] = ['outstanding', 'received', 'expired'];

export interface IncomingRecord {
  readonly challenge: Bytes;
  readonly amount: bigint;
  readonly state: IncomingState;
  /** The transfer stored for this request; empty unless received. */
  readonly transferId: Bytes;
  /** The receipt returned; RECEIVE replays it for the same bundle. */
  readonly receipt: Bytes;
  /**
   * H(the bundle received); empty unless received. Only a byte-identical bundle is a replay: the
   * transfer id covers the body, not the signature, so a twin with another signature must be
   * verified as new.
   */
  readonly bundleDigest: Bytes;
}

export function encodeIncoming(record: IncomingRecord): Bytes {
  return encodeCbor([
    record.amount,
    incomingStates.indexOf(record.state),
    record.transferId,
    record.receipt,
    record.bundleDigest,
  ]);
}

export function decodeIncoming(challenge: Bytes, bytes: Bytes): IncomingRecord {
  return decodeRecord(bytes, 'incoming', 5, (r) => ({
    challenge,
    amount: r.biguint(0, 'amount'),
    state: incomingStates[r.uint(1, 'state', 2)]!,
    transferId: r.bytes(2, 'transferId'),
    receipt: r.bytes(3, 'receipt'),
    bundleDigest: r.bytes(4, 'bundleDigest'),
  }));
}

// --- installed issuances ----------------------------------------------------------------------

/**
 * Issuances recorded as installed or refused at any time (`l/` and `x/` together). LOAD leaves room for one COMPLETE SYNC's credits
 * (`loadedIssuancesMax` = this − syncCreditsMax), and COMPLETE SYNC erases every record its upload
 * reported that the new last sync time makes stale, so with a DCP that stamps issuances in order the
 * record holds at most the LOADs since the last BEGIN SYNC and the last sync's credits.
 */
export const installedIssuancesMax = 64;
/** Credits and refunds one COMPLETE SYNC may deliver besides the renewal. */
export const syncCreditsMax = 16;
export const loadedIssuancesMax = installedIssuancesMax - syncCreditsMax;

/** `l/<issuance id>`: `[time]`, the issuance's own time (when the record may go). */
export function encodeInstalled(time: number): Bytes {
  return encodeCbor([time]);
}

export function decodeInstalled(bytes: Bytes): number {
  return decodeRecord(bytes, 'installed', 1, (r) => r.uint(0, 'time'));
}

/** `x/<issuance id>`: `[time, signed refusal]`, the issuance's time and REFUSE LOAD's answer. */
export interface RefusedRecord {
  readonly time: number;
  readonly refusal: Bytes;
}

export function encodeRefused(record: RefusedRecord): Bytes {
  return encodeCbor([record.time, record.refusal]);
}

export function decodeRefused(bytes: Bytes): RefusedRecord {
  return decodeRecord(bytes, 'refused', 2, (r) => ({
    time: r.uint(0, 'time'),
    refusal: r.bytes(1, 'refusal'),
  }));
}
