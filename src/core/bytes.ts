// Byte helpers shared by every component. Pure: no I/O.

export type Bytes = Uint8Array;

export function concatBytes(...parts: readonly Bytes[]): Bytes {
  let length = 0;
  for (let i = 0; i < parts.length; i++) length += parts[i]?.length ?? 0;
  const out = new Uint8Array(length);
  let offset = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? out.subarray(0, 0);
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function bytesEqual(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Lexicographic order, shorter first on a common prefix (RFC 8949 §4.2.1 key order on encodings). */
export function compareBytes(a: Bytes, b: Bytes): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** The two hex digits of every byte value: ids are rendered as Map keys on hot paths. */
const hexByte = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** ASCII codes of the hex digits, and a scratch buffer of digits for ids and keys up to 64 bytes. */
const hexDigitCodes = Uint8Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));
const hexScratch = new Uint8Array(128);
/** The scratch buffer's prefixes, by length: rendering an id allocates no view. */
const hexScratchViews = Array.from({ length: hexScratch.length + 1 }, (_, length) =>
  hexScratch.subarray(0, length),
);
/** Digits are ASCII, which latin1 decodes one byte to one character: one flat string, no rope. */
const asciiDecoder = new TextDecoder('latin1');

export function toHex(bytes: Bytes): string {
  // Ids and keys, the hot path (record keys, Map keys), take one string allocation; longer input,
  // for logs, the general way.
  if (bytes.length > hexScratch.length / 2) {
    let out = '';
    for (const byte of bytes) out += hexByte[byte]!;
    return out;
  }
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    hexScratch[2 * i] = hexDigitCodes[byte >> 4] ?? 0;
    hexScratch[2 * i + 1] = hexDigitCodes[byte & 0x0f] ?? 0;
  }
  return asciiDecoder.decode(hexScratchViews[2 * bytes.length]);
}

/** Hex digit values by character code, −1 for anything that is not a hex digit. */
const hexValue = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let digit = 0; digit < 16; digit++) {
    table[digit.toString(16).charCodeAt(0)] = digit;
    table[digit.toString(16).toUpperCase().charCodeAt(0)] = digit;
  }
  return table;
})();

/**
 * Strict: even length, lowercase or uppercase hex digits only. Returns undefined on anything else.
 * A table lookup per digit: services decode every id and signed structure from hex on their hot path.
 */
export function fromHex(hex: string): Bytes | undefined {
  if (hex.length % 2 !== 0) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const high = hexValue[hex.charCodeAt(2 * i)] ?? -1;
    const low = hexValue[hex.charCodeAt(2 * i + 1)] ?? -1;
    if (high < 0 || low < 0) return undefined;
    out[i] = (high << 4) | low;
  }
  return out;
}

export function utf8(text: string): Bytes {
  return new TextEncoder().encode(text);
}

export function u16be(value: number): Bytes {
  return Uint8Array.of((value >> 8) & 0xff, value & 0xff);
}

export function u32be(value: number): Bytes {
  return Uint8Array.of((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

export function readU16be(bytes: Bytes, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

export function readU32be(bytes: Bytes, offset: number): number {
  return (
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0
  );
}
