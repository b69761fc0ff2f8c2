// The sealed upload (DESIGN §4, §7): everything a secure element did since its last sync, as BEGIN
// SYNC seals it to the MDS. The SE encodes it here; the MDS opens the HPKE envelope and decodes the
// plaintext with `decodeUpload`, which trusts nothing: every field is checked for type, length and
// range and named when it fails (`upload.outgoing[3].state must be an unsigned integer ≤ 1`), and
// every list and byte string is bounded. docs/protocol.md §7 documents the layout field by field.
import { checkAmount } from './amount.ts';
import { decodeCbor, encodeCbor, FieldReader, readBytesItem, type CborValue } from './cbor.ts';
import { certificateFromCbor, structureVersion, type Certificate } from './certificate.ts';
import { entryFromCbor, entryToCbor, type HistoryEntry } from './bundle.ts';
import { claimTokensMax } from './claim.ts';
import { coreError } from './errors.ts';
import { challengeBytes, entryIdBytes, principalIdBytes, type EntryId, type PrincipalId } from './ids.ts';
import { generationCeiling, historyBytesCeiling } from './limits.ts';
import { signedToCbor } from './signed.ts';
import { utf8, type Bytes } from './bytes.ts';

/**
 * HPKE `info` for uploads (RFC 9180 §5.1): binds the ciphertext to this protocol and version. The SE
 * seals with it (BEGIN SYNC, `aad` = its SE id) and the MDS enclave opens with it.
 */
export const uploadInfo = utf8('cbdc/upload/v1');

/**
 * Bounds on an upload. An SE reports what its store holds, so its store's block count (a phone's
 * 4096) bounds every list and its byte capacity (8 MiB) the whole; the plaintext re-encodes those
 * records with little framing, and 16 MiB leaves room for it.
 */
export const uploadBytesMax = 16 * 1024 * 1024;
export const uploadRecordsMax = 4096;
/** A receipt envelope is about 130 bytes; 512 is a generous bound, not a layout. */
export const uploadReceiptBytesMax = 512;

export interface UploadToken {
  readonly id: Bytes;
  readonly value: bigint;
  readonly generation: number;
}

export type UploadOutgoingState = 'pending' | 'acknowledged';

/** A payment this SE signed: its bundle, and the payee's receipt once acknowledged (else empty). */
export interface UploadOutgoing {
  readonly transferId: EntryId;
  readonly state: UploadOutgoingState;
  readonly amount: bigint;
  readonly bundle: Bytes;
  readonly receipt: Bytes;
}

/** Outstanding requests never appear: BEGIN SYNC expires them before it seals. */
export type UploadIncomingState = 'received' | 'expired';

/** A payment request this SE issued: received (transfer id and receipt) or expired (both empty). */
export interface UploadIncoming {
  readonly challenge: Bytes;
  readonly amount: bigint;
  readonly state: UploadIncomingState;
  readonly transferId: Bytes;
  readonly receipt: Bytes;
}

export interface Upload {
  readonly seId: PrincipalId;
  /** The SE's counter when it sealed: the next value it would sign. */
  readonly counter: number;
  readonly certificate: Certificate;
  /** Every token held, all of which the claim signed in the same command covers. */
  readonly tokens: readonly UploadToken[];
  /** Every history entry stored: those of the tokens held and of the tokens spent since the last sync. */
  readonly entries: readonly HistoryEntry[];
  /** The certificates of the transfer signers in those entries. */
  readonly certificates: readonly Certificate[];
  readonly outgoing: readonly UploadOutgoing[];
  readonly incoming: readonly UploadIncoming[];
  /** Ids of the issuances installed (LOAD, COMPLETE SYNC credits) and not yet reported. */
  readonly installed: readonly EntryId[];
  readonly limitsVersion: number;
  readonly denyListVersion: number;
}

const outgoingStates: readonly UploadOutgoingState[] = ['pending', 'acknowledged'];
// Numbered as the SE's incoming records are (0 is an outstanding request, never uploaded).
const incomingStateNumbers = { received: 1, expired: 2 } as const;

export function uploadToCbor(upload: Upload): CborValue {
  return [
    structureVersion,
    upload.seId,
    upload.counter,
    signedToCbor(upload.certificate),
    upload.tokens.map((token) => [token.id, token.value, token.generation]),
    upload.entries.map(entryToCbor),
    upload.certificates.map(signedToCbor),
    upload.outgoing.map((record) => [
      record.transferId,
      outgoingStates.indexOf(record.state),
      record.amount,
      record.bundle,
      record.receipt,
    ]),
    upload.incoming.map((record) => [
      record.challenge,
      record.amount,
      incomingStateNumbers[record.state],
      record.transferId,
      record.receipt,
    ]),
    [...upload.installed],
    upload.limitsVersion,
    upload.denyListVersion,
  ];
}

export function encodeUpload(upload: Upload): Bytes {
  return encodeCbor(uploadToCbor(upload));
}

/** Decodes an opened upload's plaintext strictly; throws `CbdcError` naming the field that failed. */
export function decodeUpload(bytes: Bytes): Upload {
  if (bytes.length > uploadBytesMax)
    throw coreError('sizeLimitExceeded', `upload of ${bytes.length} bytes > ${uploadBytesMax}`);
  const r = new FieldReader(decodeCbor(bytes), 'upload', 12);
  r.version(0, structureVersion);
  return {
    seId: r.bytes(1, 'seId', principalIdBytes),
    counter: r.uint(2, 'counter'),
    certificate: certificateFromCbor(r.raw(3)),
    tokens: r.array(4, 'tokens', claimTokensMax, tokenFromCbor),
    entries: r.array(5, 'entries', uploadRecordsMax, entryFromCbor),
    certificates: r.array(6, 'certificates', uploadRecordsMax, (item) => certificateFromCbor(item)),
    outgoing: r.array(7, 'outgoing', uploadRecordsMax, outgoingFromCbor),
    incoming: r.array(8, 'incoming', uploadRecordsMax, incomingFromCbor),
    installed: r.array(9, 'installed', uploadRecordsMax, (item, where) =>
      readBytesItem(item, where, entryIdBytes),
    ),
    limitsVersion: r.uint(10, 'limitsVersion'),
    denyListVersion: r.uint(11, 'denyListVersion'),
  };
}

function tokenFromCbor(value: CborValue, where: string): UploadToken {
  const r = new FieldReader(value, where, 3);
  return {
    id: r.bytes(0, 'tokenId', entryIdBytes),
    value: checkAmount(r.biguint(1, 'value'), `${where}.value`),
    generation: r.uint(2, 'generation', generationCeiling),
  };
}

function outgoingFromCbor(value: CborValue, where: string): UploadOutgoing {
  const r = new FieldReader(value, where, 5);
  const stateIndex = r.uint(1, 'state', outgoingStates.length - 1);
  const state: UploadOutgoingState = stateIndex === 0 ? 'pending' : 'acknowledged';
  const receipt = boundedBytes(r, 4, 'receipt', where, uploadReceiptBytesMax);
  if ((state === 'pending') !== (receipt.length === 0))
    throw FieldReader.invalid(`${where}.receipt`, 'must be empty exactly while pending');
  return {
    transferId: r.bytes(0, 'transferId', entryIdBytes),
    state,
    amount: checkAmount(r.biguint(2, 'amount'), `${where}.amount`),
    bundle: boundedBytes(r, 3, 'bundle', where, historyBytesCeiling),
    receipt,
  };
}

function incomingFromCbor(value: CborValue, where: string): UploadIncoming {
  const r = new FieldReader(value, where, 5);
  const stateNumber = r.uint(2, 'state', incomingStateNumbers.expired);
  if (stateNumber < incomingStateNumbers.received)
    throw FieldReader.invalid(`${where}.state`, 'must be 1 (received) or 2 (expired)');
  const state: UploadIncomingState = stateNumber === incomingStateNumbers.received ? 'received' : 'expired';
  const received = state === 'received';
  const transferId = r.bytes(3, 'transferId', received ? entryIdBytes : 0);
  const receipt = boundedBytes(r, 4, 'receipt', where, received ? uploadReceiptBytesMax : 0);
  if (received && receipt.length === 0)
    throw FieldReader.invalid(`${where}.receipt`, 'must not be empty when received');
  return {
    challenge: r.bytes(0, 'challenge', challengeBytes),
    amount: checkAmount(r.biguint(1, 'amount'), `${where}.amount`),
    state,
    transferId,
    receipt,
  };
}

function boundedBytes(r: FieldReader, index: number, name: string, where: string, lengthMax: number): Bytes {
  const value = r.bytes(index, name);
  if (value.length > lengthMax) {
    throw coreError('sizeLimitExceeded', `${where}.${name} of ${value.length} bytes > ${lengthMax}`);
  }
  return value;
}
