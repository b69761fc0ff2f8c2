// Deterministic CBOR (RFC 8949 §4.2.1) for every signed structure, with a strict decoder.
// Structures are fixed-arity arrays (compact on a card, no key-order questions); the only item types
// are unsigned integers (major type 0), byte strings (2), text strings (3) and arrays (4). The
// decoder rejects every other type and every non-canonical encoding — an argument not in its
// shortest form, indefinite lengths — while it reads, so a decoded value re-encodes to exactly the
// bytes it came from. Byte strings are returned as views into the input (no copy).
import { coreError, type CbdcError, type CoreErrorCode } from './errors.ts';
import type { Bytes } from './bytes.ts';

/** A CBOR value this protocol carries. Integers up to 2^53 − 1 decode as numbers, larger as bigints. */
export type CborValue = bigint | number | Bytes | string | readonly CborValue[];

/** Bound on array nesting; our deepest structure nests 6 levels. */
export const cborDepthMax = 8;

const majorUnsigned = 0;
const majorBytes = 2;
const majorText = 3;
const majorArray = 4;
const uint64Max = (1n << 64n) - 1n;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// --- encoding -----------------------------------------------------------------------------------

/** The length `encodeCbor(value)` would have, without encoding it; throws the same errors. */
export function encodedCborLength(value: CborValue): number {
  return encodedLength(value, 0);
}

export function encodeCbor(value: CborValue): Bytes {
  const writer = new Writer(encodedLength(value, 0));
  writer.item(value);
  return writer.bytes;
}

function headLength(argument: number | bigint): number {
  if (argument < 24) return 1;
  if (argument < 0x100) return 2;
  if (argument < 0x10000) return 3;
  if (argument < 0x100000000) return 5;
  return 9;
}

function unsignedOnly(): CbdcError<CoreErrorCode> {
  return coreError('cborUnsupported', 'only unsigned integers up to 2^64 − 1');
}

function encodedLength(value: CborValue, depth: number): number {
  if (depth > cborDepthMax) throw coreError('cborUnsupported', 'nesting too deep');
  // A safe integer is below 2^53, so only a bigint needs the 2^64 bound (no BigInt per number).
  if (typeof value === 'number') {
    if (value < 0 || !Number.isSafeInteger(value)) throw unsignedOnly();
    return headLength(value);
  }
  if (typeof value === 'bigint') {
    if (value < 0n || value > uint64Max) throw unsignedOnly();
    return headLength(value);
  }
  if (value instanceof Uint8Array) return headLength(value.length) + value.length;
  if (typeof value === 'string') {
    const length = textEncoder.encode(value).length;
    return headLength(length) + length;
  }
  // Indexed loops here and in Writer.item: no iterator per array on the hot path.
  let length = headLength(value.length);
  for (let i = 0; i < value.length; i++) length += encodedLength(value[i] as CborValue, depth + 1);
  return length;
}

class Writer {
  readonly bytes: Uint8Array;
  #offset = 0;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
  }

  head(major: number, argument: number | bigint): void {
    const top = major << 5;
    const out = this.bytes;
    if (argument < 24) {
      out[this.#offset++] = top | Number(argument);
    } else if (argument < 0x100) {
      out[this.#offset++] = top | 24;
      out[this.#offset++] = Number(argument);
    } else if (argument < 0x10000) {
      const n = Number(argument);
      out[this.#offset++] = top | 25;
      out[this.#offset++] = n >> 8;
      out[this.#offset++] = n & 0xff;
    } else if (argument < 0x100000000) {
      const n = Number(argument);
      out[this.#offset++] = top | 26;
      out[this.#offset++] = n >>> 24;
      out[this.#offset++] = (n >>> 16) & 0xff;
      out[this.#offset++] = (n >>> 8) & 0xff;
      out[this.#offset++] = n & 0xff;
    } else {
      let n = BigInt(argument);
      out[this.#offset] = top | 27;
      for (let i = 8; i >= 1; i--) {
        out[this.#offset + i] = Number(n & 0xffn);
        n >>= 8n;
      }
      this.#offset += 9;
    }
  }

  item(value: CborValue): void {
    if (typeof value === 'number' || typeof value === 'bigint') {
      this.head(majorUnsigned, value);
    } else if (value instanceof Uint8Array) {
      this.head(majorBytes, value.length);
      this.bytes.set(value, this.#offset);
      this.#offset += value.length;
    } else if (typeof value === 'string') {
      const text = textEncoder.encode(value);
      this.head(majorText, text.length);
      this.bytes.set(text, this.#offset);
      this.#offset += text.length;
    } else {
      this.head(majorArray, value.length);
      for (let i = 0; i < value.length; i++) this.item(value[i] as CborValue);
    }
  }
}

// --- decoding -----------------------------------------------------------------------------------

/** Decodes one canonical CBOR item filling all of `bytes`, or throws a typed `CbdcError`. */
export function decodeCbor(bytes: Bytes): CborValue {
  const reader = new Reader(bytes);
  const value = reader.item(0);
  if (reader.offset !== bytes.length)
    throw coreError('cborTrailingBytes', `${bytes.length - reader.offset} bytes after the item`);
  return value;
}

/** Smallest argument of each additional-information size: below it, the form is not the shortest. */
const argumentMinimum = [24, 0x100, 0x10000, 0x100000000] as const;
/** 2^53 / 2^32: an 8-byte argument whose high 32 bits are below it is a safe integer. */
const safeHighWordLimit = 2 ** 21;

class Reader {
  readonly #bytes: Bytes;
  offset = 0;
  // The head last read, in fields rather than an object per item: decoding allocates only values.
  #major = 0;
  #argument: number | bigint = 0;

  constructor(bytes: Bytes) {
    this.#bytes = bytes;
  }

  #take(length: number): Bytes {
    if (length > this.#bytes.length - this.offset) throw coreError('cborMalformed', 'truncated');
    const slice = this.#bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  /** The next `size` bytes (1, 2 or 4) as a big-endian unsigned number, read in place. */
  #number(size: number): number {
    if (size > this.#bytes.length - this.offset) throw coreError('cborMalformed', 'truncated');
    const bytes = this.#bytes;
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + (bytes[this.offset + i] ?? 0);
    this.offset += size;
    return n;
  }

  /**
   * Reads an item head into #major and #argument, checking the shortest form (RFC 8949 §4.2.1).
   * Arguments up to 2^53 − 1 are numbers, larger ones bigints.
   */
  #head(): void {
    const initial = this.#number(1);
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major !== majorUnsigned && major !== majorBytes && major !== majorText && major !== majorArray) {
      throw coreError('cborUnsupported', `major type ${major}`);
    }
    this.#major = major;
    if (info < 24) {
      this.#argument = info;
      return;
    }
    if (info === 31) throw coreError('cborNotCanonical', 'indefinite length');
    if (info > 27) throw coreError('cborMalformed', `reserved additional information ${info}`);
    let argument: number | bigint;
    if (info === 27) {
      const high = this.#number(4);
      const low = this.#number(4);
      argument = high < safeHighWordLimit ? high * 0x100000000 + low : (BigInt(high) << 32n) | BigInt(low);
    } else {
      argument = this.#number(1 << (info - 24));
    }
    if (argument < (argumentMinimum[info - 24] ?? 0))
      throw coreError('cborNotCanonical', 'argument not in its shortest form');
    this.#argument = argument;
  }

  #length(argument: number | bigint): number {
    if (typeof argument === 'bigint' || argument > this.#bytes.length - this.offset) {
      throw coreError('cborMalformed', 'length beyond the input');
    }
    return argument;
  }

  item(depth: number): CborValue {
    if (depth > cborDepthMax) throw coreError('cborUnsupported', 'nesting too deep');
    this.#head();
    const argument = this.#argument;
    switch (this.#major) {
      case majorUnsigned:
        return argument;
      case majorBytes:
        return this.#take(this.#length(argument));
      case majorText:
        try {
          return textDecoder.decode(this.#take(this.#length(argument)));
        } catch (error) {
          if (error instanceof TypeError) throw coreError('cborMalformed', 'text is not UTF-8');
          throw error;
        }
      default: {
        // Each item takes at least one byte: a count beyond the remaining bytes is malformed.
        const count = this.#length(argument);
        const items: CborValue[] = [];
        for (let i = 0; i < count; i++) items.push(this.item(depth + 1));
        return items;
      }
    }
  }
}

/**
 * Reads a fixed-arity array field by field, naming the structure and field in every error:
 * `fieldInvalid: transfer.payerCounter must be an unsigned integer`.
 */
export class FieldReader {
  readonly #items: readonly CborValue[];
  readonly #structure: string;

  constructor(value: CborValue, structure: string, arity: number) {
    if (!Array.isArray(value)) throw FieldReader.invalid(structure, 'must be an array');
    const items = value as readonly CborValue[];
    if (items.length !== arity)
      throw FieldReader.invalid(structure, `must have ${arity} fields, has ${items.length}`);
    this.#items = items;
    this.#structure = structure;
  }

  static invalid(where: string, why: string): CbdcError<CoreErrorCode> {
    return coreError('fieldInvalid', `${where} ${why}`);
  }

  #field(index: number): CborValue {
    return this.#items[index]!;
  }

  #fail(name: string, why: string): CbdcError<CoreErrorCode> {
    return FieldReader.invalid(`${this.#structure}.${name}`, why);
  }

  /** An unsigned integer that fits a JavaScript number (counters, versions, times, indexes). */
  uint(index: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.#field(index);
    if (typeof value !== 'number' || value > max)
      throw this.#fail(name, `must be an unsigned integer ≤ ${max}`);
    return value;
  }

  /** A structure's version: exactly `expected` (0 or 2 would be another format, not an older or newer 1). */
  version(index: number, expected: number): number {
    const value = this.#field(index);
    if (value !== expected) throw this.#fail('version', `must be ${expected}`);
    return expected;
  }

  /** An unsigned integer as bigint (money). */
  biguint(index: number, name: string): bigint {
    const value = this.#field(index);
    if (typeof value === 'number') return BigInt(value);
    if (typeof value === 'bigint') return value;
    throw this.#fail(name, 'must be an unsigned integer');
  }

  bytes(index: number, name: string, length?: number): Bytes {
    const value = this.#field(index);
    if (!(value instanceof Uint8Array)) throw this.#fail(name, 'must be a byte string');
    if (length !== undefined && value.length !== length) throw this.#fail(name, `must be ${length} bytes`);
    return value;
  }

  text(index: number, name: string, lengthMax: number): string {
    const value = this.#field(index);
    if (typeof value !== 'string' || value.length > lengthMax)
      throw this.#fail(name, `must be text ≤ ${lengthMax}`);
    return value;
  }

  /** An array of at most `lengthMax` items, each read by `item`. */
  array<T>(
    index: number,
    name: string,
    lengthMax: number,
    item: (value: CborValue, where: string) => T,
  ): T[] {
    const value = this.#field(index);
    if (!Array.isArray(value)) throw this.#fail(name, 'must be an array');
    const items = value as readonly CborValue[];
    if (items.length > lengthMax)
      throw coreError('sizeLimitExceeded', `${this.#structure}.${name} has more than ${lengthMax} items`);
    return items.map((entry, position) => item(entry, `${this.#structure}.${name}[${position}]`));
  }

  raw(index: number): CborValue {
    return this.#field(index);
  }
}

/** Reads a bare byte string item of an array (for lists of ids). */
export function readBytesItem(value: CborValue, where: string, length: number): Bytes {
  if (!(value instanceof Uint8Array) || value.length !== length)
    throw FieldReader.invalid(where, `must be ${length} bytes`);
  return value;
}
