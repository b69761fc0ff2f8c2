// The on-medium formats of the journaled store: value blocks, their names, and the journal.
//
//   value block   u8 keyLength | key (ASCII) | value
//   journal       "SEJ1" | u32 entryCount | entry* | SHA-256 of everything before it
//   entry         u8 operation (1 put, 2 delete) | u32 valueLength | u8 keyLength | key | value
//
// A put entry ends with exactly the bytes of the value block it writes. Integers are big-endian.
//
// The journal's checksum is SHA-256 rather than a CRC32: a torn write that leaves garbage passes a
// 32-bit check once in 2^32 tears, and replaying garbage would rewrite the purse.
import { hash } from 'node:crypto';
import { assert } from '../../core/assert.ts';
import { bytesEqual, readU32be } from '../../core/bytes.ts';

export const storeKeyBytesMax = 96;

/** True for keys of 1..96 characters from [a-z0-9/._-]. */
export function isStoreKey(key: string): boolean {
  // A loop over char codes rather than a regular expression: every key of every commit is checked,
  // and the expression cost a twentieth of a payment.
  if (key.length === 0 || key.length > storeKeyBytesMax) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const allowed =
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2f ||
      c === 0x2e ||
      c === 0x5f ||
      c === 0x2d;
    if (!allowed) return false;
  }
  return true;
}

/** One change of a commit: `body` is the whole value block to write, or null to delete it. */
export interface JournalEntry {
  readonly key: string;
  readonly block: string;
  readonly body: Uint8Array | null;
}

export const journalBlock = 'journal';
const valueBlockPrefix = 'v.';
const blockNameHashHexDigits = 32;

/**
 * A key cannot map one-to-one onto a block name: keys have 40 characters and up to 96 of them,
 * block names 39 characters and up to 64. So a value block is named by the first 128 bits of the
 * SHA-256 of its key (two of `storeBlocksMax` keys collide with odds below 2^-100) and stores the
 * key itself, from which `open` rebuilds the map and checks the name.
 */
export function valueBlockName(key: string): string {
  return valueBlockPrefix + hash('sha256', key, 'hex').slice(0, blockNameHashHexDigits);
}

export function isValueBlockName(name: string): boolean {
  return name.startsWith(valueBlockPrefix);
}

/** The value a value block holds: a view, not a copy. */
export function valueOfBody(body: Uint8Array, key: string): Uint8Array {
  return body.subarray(1 + key.length);
}

/** Decodes a value block; undefined when it is not one (only corruption or a bug leads here). */
export function decodeValueBlock(body: Uint8Array): { key: string; value: Uint8Array } | undefined {
  const keyLength = body[0];
  if (keyLength === undefined || 1 + keyLength > body.length) return undefined;
  const key = asciiAt(body, 1, keyLength);
  if (!isStoreKey(key)) return undefined;
  return { key, value: valueOfBody(body, key) };
}

const journalMagic = Uint8Array.of(0x53, 0x45, 0x4a, 0x31); // "SEJ1"
const journalHeaderBytes = 8;
const entryHeaderBytes = 5;
const checksumBytes = 32;
const operationPut = 1;
const operationDelete = 2;

/** A change to encode; `block` is `valueBlockName(key)`, passed in because the store caches it. */
export interface Change {
  readonly key: string;
  readonly block: string;
  readonly value: Uint8Array | null;
}

/**
 * The journal of a change set, and its entries. Each entry's body is a buffer of its own (not a view
 * of the journal), so that a medium or cache that keeps it does not keep the whole journal alive.
 */
export function encodeJournal(changes: readonly Change[]): { bytes: Uint8Array; entries: JournalEntry[] } {
  const entries: JournalEntry[] = [];
  let length = journalHeaderBytes + checksumBytes;
  for (const { key, block, value } of changes) {
    const body = value === null ? null : encodeValueBlock(key, value);
    entries.push({ key, block, body });
    length += entryHeaderBytes + (body?.length ?? 1 + key.length);
  }
  const bytes = new Uint8Array(length);
  bytes.set(journalMagic, 0);
  setU32be(bytes, 4, entries.length);
  let offset = journalHeaderBytes;
  for (const { key, body } of entries) {
    bytes[offset] = body === null ? operationDelete : operationPut;
    setU32be(bytes, offset + 1, body === null ? 0 : body.length - 1 - key.length);
    offset += entryHeaderBytes;
    if (body === null) offset = setKey(bytes, offset, key);
    else bytes.set(body, offset);
    offset += body?.length ?? 0;
  }
  bytes.set(hash('sha256', bytes.subarray(0, offset), 'buffer'), offset);
  return { bytes, entries };
}

function encodeValueBlock(key: string, value: Uint8Array): Uint8Array {
  const body = new Uint8Array(1 + key.length + value.length);
  body.set(value, setKey(body, 0, key));
  return body;
}

// Writes u8 keyLength | key (ASCII, checked by isStoreKey) and returns the offset after it.
function setKey(bytes: Uint8Array, offset: number, key: string): number {
  bytes[offset] = key.length;
  for (let i = 0; i < key.length; i++) bytes[offset + 1 + i] = key.charCodeAt(i);
  return offset + 1 + key.length;
}

/**
 * The entries of a complete journal, or undefined for a torn one (too short, or a checksum that
 * does not match). Once the checksum matches, the bytes are exactly what `encodeJournal` wrote, so
 * a malformed structure is a bug or a foreign format, and is asserted rather than discarded.
 */
export function decodeJournal(bytes: Uint8Array): JournalEntry[] | undefined {
  if (bytes.length < journalHeaderBytes + checksumBytes) return undefined;
  const contentEnd = bytes.length - checksumBytes;
  const checksum = hash('sha256', bytes.subarray(0, contentEnd), 'buffer');
  if (!bytesEqual(checksum, bytes.subarray(contentEnd))) return undefined;
  assert(bytesEqual(bytes.subarray(0, 4), journalMagic), 'journal has a valid checksum but no SEJ1 magic');
  const count = readU32be(bytes, 4);
  const entries: JournalEntry[] = [];
  let offset = journalHeaderBytes;
  // Bounded: every entry takes at least entryHeaderBytes + 2 bytes of a bounded journal.
  for (let index = 0; index < count; index++) {
    assert(offset + entryHeaderBytes + 1 <= contentEnd, 'journal entry header overruns the journal');
    const operation = bytes[offset]!;
    const valueLength = readU32be(bytes, offset + 1);
    const bodyStart = offset + entryHeaderBytes;
    const bodyEnd = bodyStart + 1 + bytes[bodyStart]! + valueLength;
    assert(bodyEnd <= contentEnd, 'journal entry overruns the journal');
    const decoded = decodeValueBlock(bytes.subarray(bodyStart, bodyEnd));
    assert(decoded !== undefined, 'journal entry has an invalid key');
    assert(
      operation === operationPut || operation === operationDelete,
      'journal entry has an unknown operation',
    );
    assert(operation === operationPut || valueLength === 0, 'journal delete entry carries a value');
    // A copy, as in encodeJournal: a replayed block must not keep the journal alive.
    const body = operation === operationPut ? bytes.slice(bodyStart, bodyEnd) : null;
    entries.push({ key: decoded.key, block: valueBlockName(decoded.key), body });
    offset = bodyEnd;
  }
  assert(offset === contentEnd, 'journal has bytes after its last entry');
  return entries;
}

function setU32be(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

function asciiAt(bytes: Uint8Array, offset: number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(bytes[offset + i]!);
  return text;
}
