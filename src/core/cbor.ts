// Deterministic CBOR (RFC 8949 §4.2.1) for every signed structure, with a strict decoder.
// Structures are fixed-arity arrays (compact on a card, no key-order questions); the only item types
// are unsigned integers, byte strings, text strings and arrays. The decoder rejects everything else and
// every non-canonical encoding: after a strict decode the value is re-encoded and must give the same
// bytes (shortest integers and lengths, definite lengths only), which is exactly RFC 8949 §4.2.1.
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import { bytesEqual, type Bytes } from './bytes.ts';
import { coreError, type CbdcError, type CoreErrorCode } from './errors.ts';

/** A CBOR value this protocol carries. */
export type CborValue = bigint | number | Bytes | string | readonly CborValue[];

const decodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: true,
  rejectDuplicateMapKeys: true,
  useMaps: true,
  tags: [],
};

export function encodeCbor(value: CborValue): Bytes {
  return encode(value, rfc8949EncodeOptions);
}

/** Decodes one canonical CBOR item filling all of `bytes`, or throws a typed `CbdcError`. */
export function decodeCbor(bytes: Bytes): CborValue {
  let value: unknown;
  try {
    value = decode(bytes, decodeOptions);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message.includes('too many terminals')) throw coreError('cborTrailingBytes');
    if (message.includes('strict') || message.includes('indefinite'))
      throw coreError('cborNotCanonical', message);
    throw coreError('cborMalformed', message);
  }
  assertSupported(value, 0);
  if (!bytesEqual(encodeCbor(value), bytes)) throw coreError('cborNotCanonical');
  return value;
}

/** Bound on array nesting; our deepest structure nests 5 levels. */
export const cborDepthMax = 8;

function assertSupported(value: unknown, depth: number): asserts value is CborValue {
  if (depth > cborDepthMax) throw coreError('cborUnsupported', 'nesting too deep');
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw coreError('cborUnsupported', 'only unsigned integers');
    return;
  }
  if (typeof value === 'bigint') {
    if (value < 0n) throw coreError('cborUnsupported', 'only unsigned integers');
    return;
  }
  if (typeof value === 'string' || value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const item of value) assertSupported(item, depth + 1);
    return;
  }
  throw coreError('cborUnsupported', `type ${typeof value}`);
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
