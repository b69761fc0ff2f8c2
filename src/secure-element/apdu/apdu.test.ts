import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeCommand,
  decodeResponse,
  encodeCommand,
  encodeResponse,
  isStatusWord,
  statusWords,
  type CommandApdu,
} from './apdu.ts';
import { AssertionFailed } from '../../core/assert.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import { statusWordByKind } from '../../core/errors.ts';

function hex(text: string): Uint8Array {
  const bytes = fromHex(text.replaceAll(' ', ''));
  assert.ok(bytes !== undefined, `bad hex in test: ${text}`);
  return bytes;
}

function command(data: string, le: number | undefined): CommandApdu {
  return { cla: 0x80, ins: 0x10, p1: 0x01, p2: 0x02, data: hex(data), le };
}

const cases: readonly { name: string; bytes: string; apdu: CommandApdu }[] = [
  { name: 'case 1', bytes: '80100102', apdu: command('', undefined) },
  { name: 'case 2S, Le 5', bytes: '8010010205', apdu: command('', 5) },
  { name: 'case 2S, Le 00 = 256', bytes: '8010010200', apdu: command('', 256) },
  { name: 'case 3S', bytes: '8010010203aabbcc', apdu: command('aabbcc', undefined) },
  { name: 'case 4S, Le 1', bytes: '8010010203aabbcc01', apdu: command('aabbcc', 1) },
  { name: 'case 4S, Le 00 = 256', bytes: '8010010203aabbcc00', apdu: command('aabbcc', 256) },
  {
    name: 'case 3S, 255 bytes',
    bytes: '80100102ff' + '5a'.repeat(255),
    apdu: command('5a'.repeat(255), undefined),
  },
  {
    name: 'case 4S, 255 bytes',
    bytes: '80100102ff' + '5a'.repeat(255) + 'ff',
    apdu: command('5a'.repeat(255), 255),
  },
];

for (const { name, bytes, apdu } of cases) {
  void test(`${name} encodes to its exact bytes and decodes back`, () => {
    assert.equal(toHex(encodeCommand(apdu)), bytes);
    const decoded = decodeCommand(hex(bytes));
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, apdu);
  });
}

const rejected: readonly { name: string; bytes: string }[] = [
  { name: 'empty', bytes: '' },
  { name: 'one byte', bytes: '80' },
  { name: 'three bytes', bytes: '801001' },
  { name: 'Lc 00 with data', bytes: '8010010200aa' },
  { name: 'Lc 00 then Le', bytes: '801001020000' },
  { name: 'extended Le (case 2E)', bytes: '80100102000100' },
  { name: 'extended Lc (case 3E)', bytes: '80100102 000002 aabb' },
  { name: 'extended case 4E', bytes: '80100102 000002 aabb 0000' },
  { name: 'Lc larger than the data', bytes: '8010010203aabb' },
  { name: 'Lc smaller than the data, more than one Le byte', bytes: '8010010201aabbcc' },
  { name: 'Lc 255 with 254 bytes', bytes: '80100102ff' + '00'.repeat(254) },
  { name: 'Lc 255 with 257 bytes', bytes: '80100102ff' + '00'.repeat(257) },
];

for (const { name, bytes } of rejected) {
  void test(`decodeCommand refuses ${name} as apduMalformed (6700)`, () => {
    const decoded = decodeCommand(hex(bytes));
    assert.ok(!decoded.ok);
    assert.equal(decoded.error.code, 'apduMalformed');
    assert.equal(statusWordByKind[decoded.error.definition.kind], 0x6700);
  });
}

void test('decodeCommand copies the data out of its input', () => {
  const bytes = hex('8010010201aa');
  const decoded = decodeCommand(bytes);
  assert.ok(decoded.ok);
  bytes[5] = 0xbb;
  assert.equal(toHex(decoded.value.data), 'aa');
});

void test('encodeCommand asserts the Le rules and the data limit', () => {
  assert.throws(() => encodeCommand(command('', 0)), AssertionFailed);
  assert.throws(() => encodeCommand(command('', 257)), AssertionFailed);
  assert.throws(() => encodeCommand(command('', 1.5)), AssertionFailed);
  assert.throws(() => encodeCommand(command('00'.repeat(256), undefined)), AssertionFailed);
  assert.throws(() => encodeCommand({ ...command('', undefined), cla: 256 }), AssertionFailed);
});

const commandApdu = fc
  .record({
    cla: fc.integer({ min: 0, max: 255 }),
    ins: fc.integer({ min: 0, max: 255 }),
    p1: fc.integer({ min: 0, max: 255 }),
    p2: fc.integer({ min: 0, max: 255 }),
    data: fc.uint8Array({ maxLength: 255 }),
    le: fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }),
  })
  // fast-check builds records without a prototype; decoded APDUs are plain objects.
  .map((apdu): CommandApdu => ({ ...apdu }));

void test('every short command APDU round-trips', () => {
  fc.assert(
    fc.property(commandApdu, (apdu) => {
      const decoded = decodeCommand(encodeCommand(apdu));
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.value, apdu);
    }),
  );
});

void test('decoding is canonical: whatever decodes re-encodes to the same bytes', () => {
  const nearlyValid = fc
    .tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ maxLength: 260 }))
    .map(([header, rest]) => Uint8Array.of(...header, rest.length, ...rest));
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), nearlyValid), (bytes) => {
      const decoded = decodeCommand(bytes);
      if (decoded.ok) assert.equal(toHex(encodeCommand(decoded.value)), toHex(bytes));
    }),
  );
});

void test('responses encode as data then SW1 SW2 and decode back', () => {
  assert.equal(toHex(encodeResponse({ data: new Uint8Array(0), sw: 0x9000 })), '9000');
  assert.equal(toHex(encodeResponse({ data: hex('0102'), sw: 0x6185 })), '01026185');
  const decoded = decodeResponse(hex('0102036a80'));
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.value, { data: hex('010203'), sw: 0x6a80 });
  const full = decodeResponse(new Uint8Array(258).fill(0x90));
  assert.ok(full.ok);
  assert.equal(full.value.data.length, 256);
});

void test('decodeResponse refuses a missing status word, a bad SW1 and more than 256 data bytes', () => {
  for (const bytes of ['', '90', '6000', '0102', '1234', 'a000', '7000']) {
    const decoded = decodeResponse(hex(bytes));
    assert.ok(!decoded.ok, bytes);
    assert.equal(decoded.error.code, 'apduMalformed');
  }
  assert.ok(!decodeResponse(new Uint8Array(259).fill(0x90)).ok);
  assert.throws(() => encodeResponse({ data: new Uint8Array(257), sw: 0x9000 }), AssertionFailed);
  assert.throws(() => encodeResponse({ data: new Uint8Array(0), sw: 0x6000 }), AssertionFailed);
});

void test('status words have their ISO 7816-4 values and agree with the error kinds', () => {
  assert.equal(statusWords.moreData(1), 0x6101);
  assert.equal(statusWords.moreData(255), 0x61ff);
  assert.equal(statusWords.moreData(256), 0x6100);
  assert.equal(statusWords.moreData(5000), 0x6100);
  assert.throws(() => statusWords.moreData(0), AssertionFailed);
  assert.equal(statusWords.wrongLe(16), 0x6c10);
  assert.equal(statusWords.wrongLe(256), 0x6c00);
  assert.equal(statusWords.wrongLength, statusWordByKind.wrongLength);
  assert.equal(statusWords.wrongData, statusWordByKind.wrongData);
  assert.equal(statusWords.conditionsNotSatisfied, statusWordByKind.conditionsNotSatisfied);
  assert.equal(statusWords.securityNotSatisfied, statusWordByKind.securityNotSatisfied);
  assert.equal(statusWords.notEnoughMemory, statusWordByKind.notEnoughMemory);
  assert.equal(statusWords.fileNotFound, statusWordByKind.notFound);
  assert.equal(statusWords.unknown, statusWordByKind.unavailable);
  for (const sw of [0x9000, 0x6100, 0x6fff, 0x9fff]) assert.ok(isStatusWord(sw), sw.toString(16));
  for (const sw of [0x6000, 0x5fff, 0xa000, 0x10000, -1, 144.5]) assert.ok(!isStatusWord(sw), String(sw));
});
