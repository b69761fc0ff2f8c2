import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cborDepthMax, decodeCbor, encodeCbor, encodedCborLength, type CborValue } from './cbor.ts';
import { bytesEqual, fromHex, toHex } from './bytes.ts';
import { CbdcError, coreErrors, isCbdcError, type CoreErrorCode } from './errors.ts';

function hex(text: string): Uint8Array {
  const bytes = fromHex(text.replaceAll(' ', ''));
  assert.ok(bytes !== undefined, `bad hex in test: ${text}`);
  return bytes;
}

function assertRejected(bytes: Uint8Array, code: CoreErrorCode): void {
  try {
    decodeCbor(bytes);
  } catch (error) {
    assert.ok(error instanceof CbdcError, `${toHex(bytes)}: expected a CbdcError, got ${String(error)}`);
    assert.equal(error.code, code, `${toHex(bytes)}: ${error.message}`);
    assert.equal(error.definition, coreErrors[code]);
    return;
  }
  assert.fail(`${toHex(bytes)} decoded, expected ${code}`);
}

/** Numbers and bigints compare as bigints: the decoder returns a number up to 2^53 - 1, a bigint above. */
function normalise(value: CborValue): unknown {
  if (typeof value === 'number' || typeof value === 'bigint') return BigInt(value);
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === 'string') return { text: value };
  return value.map(normalise);
}

// --- round trips ------------------------------------------------------------------------------

const leaf: fc.Arbitrary<CborValue> = fc.oneof(
  fc.nat(),
  fc.maxSafeNat(),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.constantFrom(0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER),
  fc.constantFrom(2n ** 53n, 2n ** 63n, 2n ** 64n - 1n),
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 300 }),
);

/** Values nested at most cborDepthMax arrays deep (an array at the deepest level stays empty). */
function cborValue(depth: number): fc.Arbitrary<CborValue> {
  if (depth === cborDepthMax) return fc.oneof(leaf, fc.constant([]));
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(cborValue(depth + 1), { maxLength: 5 }) },
  );
}

void test('every supported value round-trips: decode(encode(v)) = v and re-encodes to the same bytes', () => {
  fc.assert(
    fc.property(cborValue(0), (value) => {
      const bytes = encodeCbor(value);
      const decoded = decodeCbor(bytes);
      assert.deepEqual(normalise(decoded), normalise(value));
      assert.ok(bytesEqual(encodeCbor(decoded), bytes));
    }),
    { numRuns: 2000 },
  );
});

void test('integers take the shortest form and keep their exact value up to 2^64 - 1', () => {
  const cases: readonly [bigint, string][] = [
    [0n, '00'],
    [23n, '17'],
    [24n, '1818'],
    [255n, '18ff'],
    [256n, '190100'],
    [65535n, '19ffff'],
    [65536n, '1a00010000'],
    [2n ** 32n - 1n, '1affffffff'],
    [2n ** 32n, '1b0000000100000000'],
    [2n ** 53n - 1n, '1b001fffffffffffff'],
    [2n ** 53n, '1b0020000000000000'],
    [2n ** 64n - 1n, '1bffffffffffffffff'],
  ];
  for (const [value, encoding] of cases) {
    assert.equal(toHex(encodeCbor(value)), encoding);
    if (value <= BigInt(Number.MAX_SAFE_INTEGER)) assert.equal(toHex(encodeCbor(Number(value))), encoding);
    const decoded = decodeCbor(hex(encoding));
    // Up to 2^53 - 1 a JavaScript number, above it a bigint: never a rounded float.
    assert.equal(typeof decoded, value <= BigInt(Number.MAX_SAFE_INTEGER) ? 'number' : 'bigint');
    assert.equal(BigInt(decoded as number | bigint), value);
  }
});

void test('strings, byte strings and arrays have their exact canonical encodings', () => {
  assert.equal(toHex(encodeCbor(new Uint8Array(0))), '40');
  assert.equal(toHex(encodeCbor(hex('aabb'))), '42aabb');
  assert.equal(toHex(encodeCbor(new Uint8Array(24))), '5818' + '00'.repeat(24));
  assert.equal(toHex(encodeCbor('')), '60');
  assert.equal(toHex(encodeCbor('é')), '62c3a9');
  assert.equal(toHex(encodeCbor([])), '80');
  assert.equal(toHex(encodeCbor([1, [2, 3n], hex('ff'), 'a'])), '8401820203' + '41ff' + '6161');
});

void test('text keeps a leading U+FEFF (a byte order mark is a character, not framing)', () => {
  for (const text of ['\uFEFF', '\uFEFFabc', 'a\uFEFF']) {
    const bytes = encodeCbor(text);
    assert.equal(decodeCbor(bytes), text);
  }
  assert.equal(decodeCbor(hex('63efbbbf')), '\uFEFF');
});

// --- exact refusals ---------------------------------------------------------------------------

const refusals: readonly { name: string; bytes: string; code: CoreErrorCode }[] = [
  // Non-shortest integers and lengths (RFC 8949 §4.2.1).
  { name: 'uint 1 in two bytes', bytes: '1801', code: 'cborNotCanonical' },
  { name: 'uint 23 in two bytes', bytes: '1817', code: 'cborNotCanonical' },
  { name: 'uint 255 in three bytes', bytes: '1900ff', code: 'cborNotCanonical' },
  { name: 'uint 65535 in five bytes', bytes: '1a0000ffff', code: 'cborNotCanonical' },
  { name: 'uint 2^32 - 1 in nine bytes', bytes: '1b00000000ffffffff', code: 'cborNotCanonical' },
  { name: 'byte string length 1 in two bytes', bytes: '5801aa', code: 'cborNotCanonical' },
  { name: 'text length 1 in three bytes', bytes: '79000161', code: 'cborNotCanonical' },
  { name: 'array length 1 in two bytes', bytes: '980101', code: 'cborNotCanonical' },
  { name: 'non-shortest integer inside an array', bytes: '821801' + '02', code: 'cborNotCanonical' },
  // Indefinite lengths (RFC 8949 §4.2.1: definite lengths only).
  { name: 'indefinite array', bytes: '9f01ff', code: 'cborNotCanonical' },
  { name: 'indefinite empty array', bytes: '9fff', code: 'cborNotCanonical' },
  { name: 'indefinite byte string', bytes: '5f41aaff', code: 'cborNotCanonical' },
  { name: 'indefinite text string', bytes: '7f6161ff', code: 'cborNotCanonical' },
  { name: 'indefinite map', bytes: 'bfff', code: 'cborUnsupported' },
  // Types the protocol never sends.
  { name: 'negative integer -1', bytes: '20', code: 'cborUnsupported' },
  { name: 'negative integer -25', bytes: '3818', code: 'cborUnsupported' },
  { name: 'negative integer -2^64', bytes: '3bffffffffffffffff', code: 'cborUnsupported' },
  { name: 'negative integer inside an array', bytes: '820120', code: 'cborUnsupported' },
  { name: 'empty map', bytes: 'a0', code: 'cborUnsupported' },
  { name: 'map {1: 1}', bytes: 'a10101', code: 'cborUnsupported' },
  { name: 'map inside an array', bytes: '81a0', code: 'cborUnsupported' },
  { name: 'tag 0 (date string)', bytes: 'c0656132303236', code: 'cborUnsupported' },
  { name: 'tag 2 (bignum)', bytes: 'c249010000000000000000', code: 'cborUnsupported' },
  { name: 'tag 42', bytes: 'd82a4100', code: 'cborUnsupported' },
  { name: 'tag inside an array', bytes: '81c100', code: 'cborUnsupported' },
  { name: 'half float 1.0', bytes: 'f93c00', code: 'cborUnsupported' },
  { name: 'half float 0.0', bytes: 'f90000', code: 'cborUnsupported' },
  { name: 'half float 1.5', bytes: 'f93e00', code: 'cborUnsupported' },
  { name: 'half float NaN', bytes: 'f97e00', code: 'cborUnsupported' },
  { name: 'half float infinity', bytes: 'f97c00', code: 'cborUnsupported' },
  { name: 'single float 1.0', bytes: 'fa3f800000', code: 'cborUnsupported' },
  { name: 'double float 1.0', bytes: 'fb3ff0000000000000', code: 'cborUnsupported' },
  { name: 'float inside an array', bytes: '81f93c00', code: 'cborUnsupported' },
  { name: 'false', bytes: 'f4', code: 'cborUnsupported' },
  { name: 'true', bytes: 'f5', code: 'cborUnsupported' },
  { name: 'null', bytes: 'f6', code: 'cborUnsupported' },
  { name: 'undefined', bytes: 'f7', code: 'cborUnsupported' },
  { name: 'null inside an array', bytes: '8201f6', code: 'cborUnsupported' },
  // The break stop code is major type 7 too: without indefinite lengths it is never valid.
  { name: 'lone break', bytes: 'ff', code: 'cborUnsupported' },
  { name: 'break inside a definite array', bytes: '8201ff', code: 'cborUnsupported' },
  // Not well-formed at all.
  { name: 'empty input', bytes: '', code: 'cborMalformed' },
  { name: 'reserved additional information 28', bytes: '1c', code: 'cborMalformed' },
  { name: 'truncated integer argument', bytes: '19', code: 'cborMalformed' },
  { name: 'truncated 8-byte integer', bytes: '1b00000000', code: 'cborMalformed' },
  { name: 'truncated byte string', bytes: '42aa', code: 'cborMalformed' },
  { name: 'truncated text string', bytes: '636162', code: 'cborMalformed' },
  { name: 'truncated array', bytes: '8201', code: 'cborMalformed' },
  { name: 'truncated nested array', bytes: '828101', code: 'cborMalformed' },
  { name: 'byte string claiming 2^32 - 1 bytes', bytes: '5affffffff00', code: 'cborMalformed' },
  { name: 'array claiming 2^64 - 1 items', bytes: '9bffffffffffffffff', code: 'cborMalformed' },
  { name: 'text that is not UTF-8 (0xff)', bytes: '61ff', code: 'cborMalformed' },
  { name: 'text with a truncated UTF-8 sequence', bytes: '61c3', code: 'cborMalformed' },
  { name: 'text with an overlong UTF-8 encoding', bytes: '62c0af', code: 'cborMalformed' },
  { name: 'text with an encoded surrogate', bytes: '63eda080', code: 'cborMalformed' },
  // One item, and nothing after it.
  { name: 'two integers', bytes: '0101', code: 'cborTrailingBytes' },
  { name: 'an array then a byte', bytes: '8000', code: 'cborTrailingBytes' },
  { name: 'an item then a break', bytes: '01ff', code: 'cborTrailingBytes' },
  { name: 'an item then a float', bytes: '01f93c00', code: 'cborTrailingBytes' },
];

for (const { name, bytes, code } of refusals) {
  void test(`refuses ${name} with ${code}`, () => {
    assertRejected(hex(bytes), code);
  });
}

void test('every major type 7 head (simple values, floats, break) is refused with cborUnsupported', () => {
  const argumentBytes = (head: number): number =>
    head === 0xf8 ? 1 : head === 0xf9 ? 2 : head === 0xfa ? 4 : head === 0xfb ? 8 : 0;
  for (let head = 0xe0; head <= 0xff; head++) {
    const item = new Uint8Array(1 + argumentBytes(head)).fill(0x20);
    item[0] = head;
    assertRejected(item, 'cborUnsupported');
    assertRejected(Uint8Array.of(0x81, ...item), 'cborUnsupported');
  }
});

void test(`nesting: ${cborDepthMax + 1} arrays deep are accepted, one more is refused`, () => {
  const nested = (arrays: number, inner: string): Uint8Array => hex('81'.repeat(arrays - 1) + inner);
  // cborDepthMax + 1 arrays (depths 0..cborDepthMax), the innermost empty.
  assert.deepEqual(decodeCbor(nested(cborDepthMax + 1, '80')), JSON.parse('['.repeat(9) + ']'.repeat(9)));
  // cborDepthMax arrays around an integer, which sits at depth cborDepthMax.
  assert.deepEqual(decodeCbor(nested(cborDepthMax, '8101')), JSON.parse('['.repeat(8) + '1' + ']'.repeat(8)));
  assertRejected(nested(cborDepthMax + 2, '80'), 'cborUnsupported');
  assertRejected(nested(cborDepthMax + 1, '8101'), 'cborUnsupported');
  assertRejected(nested(cborDepthMax + 1, '8140'), 'cborUnsupported');
  // Depth is counted per path: wide siblings at the limit are fine.
  const path = (leafByte: string): string => '81'.repeat(cborDepthMax - 1) + leafByte;
  const wide = hex('82' + path('01') + path('02'));
  assert.equal(toHex(encodeCbor(decodeCbor(wide))), toHex(wide));
});

void test('hostile nesting is refused by the depth bound, never by exhausting the stack', () => {
  for (const arrays of [100, 16_384, 200_000]) {
    assertRejected(hex('81'.repeat(arrays) + '00'), 'cborUnsupported');
  }
  // Also when the nesting is truncated (the bound is met before the missing bytes).
  assertRejected(hex('81'.repeat(100_000)), 'cborUnsupported');
});

// --- any bytes: a canonical value or a CbdcError ----------------------------------------------

function decodesCanonicallyOrRefuses(bytes: Uint8Array): void {
  let decoded: CborValue;
  try {
    decoded = decodeCbor(bytes);
  } catch (error) {
    assert.ok(error instanceof CbdcError, `${toHex(bytes)}: ${String(error)}`);
    return;
  }
  assert.ok(bytesEqual(encodeCbor(decoded), bytes), `${toHex(bytes)} decoded but re-encodes differently`);
}

void test('any byte string decodes to a value that re-encodes to exactly those bytes, or throws a CbdcError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), decodesCanonicallyOrRefuses), { numRuns: 5000 });
});

void test('near-valid items (a valid encoding with one byte changed, cut or added) decode canonically or refuse', () => {
  const mutated = cborValue(0)
    .map(encodeCbor)
    .chain((bytes) =>
      fc.oneof(
        fc
          .record({ index: fc.nat({ max: bytes.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) })
          .map(({ index, byte }) => {
            const copy = bytes.slice();
            copy[index] = byte;
            return copy;
          }),
        fc.nat({ max: bytes.length }).map((length) => bytes.slice(0, length)),
        fc.uint8Array({ minLength: 1, maxLength: 4 }).map((extra) => Uint8Array.of(...bytes, ...extra)),
      ),
    );
  fc.assert(fc.property(mutated, decodesCanonicallyOrRefuses), { numRuns: 3000 });
});

void test('the encoder refuses what the decoder would refuse: negative, fractional, too large, too deep', () => {
  const refused = (value: unknown): string => {
    try {
      encodeCbor(value as CborValue);
    } catch (error) {
      if (isCbdcError(error)) return error.code;
      assert.fail(String(error));
    }
    return 'encoded';
  };
  for (const value of [-1, -1n, 1.5, Number.NaN, Infinity, 2 ** 53, 2n ** 64n]) {
    assert.equal(refused(value), 'cborUnsupported', String(value));
  }
  let deep: CborValue = [];
  for (let level = 0; level < cborDepthMax; level++) deep = [deep];
  assert.equal(refused(deep), 'encoded'); // cborDepthMax + 1 arrays
  assert.equal(refused([deep]), 'cborUnsupported');
});

void test('encodedCborLength is the length of the encoding, and refuses what encodeCbor refuses', () => {
  const values: CborValue[] = [
    0,
    23,
    24,
    0xffff,
    0x10000,
    Number.MAX_SAFE_INTEGER,
    (1n << 64n) - 1n,
    new Uint8Array(300),
    'payé',
    [],
    [1, [2, [3, new Uint8Array(24)]], 'x'.repeat(256)],
  ];
  for (const value of values) assert.equal(encodedCborLength(value), encodeCbor(value).length);
  assert.throws(
    () => encodedCborLength(-1),
    (error: unknown) => error instanceof CbdcError && error.code === 'cborUnsupported',
  );
  assert.throws(
    () => encodedCborLength(1n << 64n),
    (error: unknown) => error instanceof CbdcError && error.code === 'cborUnsupported',
  );
});
