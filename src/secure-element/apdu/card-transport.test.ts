import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeCommand,
  decodeResponse,
  encodeCommand,
  logicalCommandBytesMax,
  type CommandApdu,
} from './apdu.ts';
import {
  CardTransport,
  type LogicalApplet,
  type LogicalCommand,
  type LogicalResponse,
} from './card-transport.ts';
import { fromHex, toHex } from '../../core/bytes.ts';

/** An applet that records what it receives and answers with a fixed response. */
class RecordingApplet implements LogicalApplet {
  readonly received: LogicalCommand[] = [];
  constructor(public answer: (command: LogicalCommand) => LogicalResponse = () => ok(new Uint8Array(0))) {}
  process(command: LogicalCommand): LogicalResponse {
    this.received.push(command);
    return this.answer(command);
  }
}

class PowerCut extends Error {
  override readonly name = 'PowerCut';
}

function ok(data: Uint8Array): LogicalResponse {
  return { data, sw: 0x9000 };
}

function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 7 + 3) & 0xff);
}

function apdu(
  cla: number,
  ins: number,
  data: Uint8Array,
  le: number | undefined,
  p1 = 1,
  p2 = 2,
): Uint8Array {
  return encodeCommand({ cla, ins, p1, p2, data, le });
}

const getResponse = (le: number): Uint8Array => apdu(0x00, 0xc0, new Uint8Array(0), le, 0, 0);

/** Splits the response APDU into data and the status word as 4 hex digits. */
function answer(bytes: Uint8Array): { data: Uint8Array; sw: string } {
  assert.ok(bytes.length >= 2);
  return { data: bytes.subarray(0, -2), sw: toHex(bytes.subarray(-2)) };
}

function sw(bytes: Uint8Array): string {
  return answer(bytes).sw;
}

/** Sends `data` as chained APDUs of 255 bytes, asserting 9000 for every link but the last. */
function sendChained(card: CardTransport, data: Uint8Array): Uint8Array {
  let offset = 0;
  while (data.length - offset > 255) {
    assert.equal(sw(card.transmit(apdu(0x90, 0x20, data.subarray(offset, offset + 255), undefined))), '9000');
    offset += 255;
  }
  return card.transmit(apdu(0x80, 0x20, data.subarray(offset), 256));
}

void test('a single command reaches the applet as a logical command with CLA 80', () => {
  const applet = new RecordingApplet(() => ({ data: fromHex('cafe')!, sw: 0x6a80 }));
  const card = new CardTransport(applet);
  assert.equal(toHex(card.transmit(fromHex('8020030403aabbcc00')!)), 'cafe6a80');
  assert.deepEqual(applet.received, [{ cla: 0x80, ins: 0x20, p1: 3, p2: 4, data: fromHex('aabbcc') }]);
});

for (const length of [1, 255, 256, 1000, logicalCommandBytesMax]) {
  void test(`chaining delivers ${length} bytes once, after the last link`, () => {
    const applet = new RecordingApplet();
    const card = new CardTransport(applet);
    const data = pattern(length);
    assert.equal(toHex(sendChained(card, data)), '9000');
    assert.equal(applet.received.length, 1);
    assert.deepEqual(applet.received[0], { cla: 0x80, ins: 0x20, p1: 1, p2: 2, data });
  });
}

void test('a chain one byte over the limit is refused with 6700 on its last link, without the applet', () => {
  const applet = new RecordingApplet();
  const card = new CardTransport(applet);
  assert.equal(sw(sendChained(card, pattern(logicalCommandBytesMax + 1))), '6700');
  assert.equal(applet.received.length, 0);
});

void test('a chain is refused with 6700 on the non-final link that passes the limit', () => {
  const applet = new RecordingApplet();
  const card = new CardTransport(applet);
  const link = apdu(0x90, 0x20, pattern(255), undefined);
  const linksWithinLimit = Math.floor(logicalCommandBytesMax / 255);
  for (let index = 0; index < linksWithinLimit; index++) assert.equal(sw(card.transmit(link)), '9000');
  assert.equal(sw(card.transmit(link)), '6700');
  // The chain is gone: the next final link is a fresh command of its own.
  assert.equal(sw(card.transmit(apdu(0x80, 0x20, pattern(3), 256))), '9000');
  assert.deepEqual(
    applet.received.map((command) => command.data),
    [pattern(3)],
  );
});

const chainBreakers: readonly { name: string; bytes: Uint8Array }[] = [
  { name: 'INS', bytes: apdu(0x80, 0x21, pattern(2), 256) },
  { name: 'P1', bytes: apdu(0x80, 0x20, pattern(2), 256, 9, 2) },
  { name: 'P2', bytes: apdu(0x80, 0x20, pattern(2), 256, 1, 9) },
  { name: 'CLA (secure messaging)', bytes: apdu(0x8c, 0x20, pattern(2), 256) },
  { name: 'CLA (GET RESPONSE)', bytes: getResponse(256) },
];

for (const { name, bytes } of chainBreakers) {
  void test(`a link that changes ${name} abandons the chain with 6883 and no applet call`, () => {
    const applet = new RecordingApplet();
    const card = new CardTransport(applet);
    assert.equal(sw(card.transmit(apdu(0x90, 0x20, pattern(255), undefined))), '9000');
    assert.equal(sw(card.transmit(bytes)), '6883');
    assert.equal(applet.received.length, 0);
    // Nothing of the abandoned chain survives.
    assert.equal(sw(card.transmit(apdu(0x80, 0x20, pattern(2), 256))), '9000');
    assert.deepEqual(applet.received[0]?.data, pattern(2));
  });
}

void test('a non-final link without data or with an Le is refused with 6700', () => {
  const applet = new RecordingApplet();
  const card = new CardTransport(applet);
  assert.equal(sw(card.transmit(apdu(0x90, 0x20, new Uint8Array(0), undefined))), '6700');
  assert.equal(sw(card.transmit(apdu(0x90, 0x20, pattern(4), 256))), '6700');
  assert.equal(applet.received.length, 0);
});

void test('a malformed APDU mid-chain answers 6700 and drops the chain', () => {
  const applet = new RecordingApplet();
  const card = new CardTransport(applet);
  assert.equal(sw(card.transmit(apdu(0x90, 0x20, pattern(255), undefined))), '9000');
  assert.equal(toHex(card.transmit(fromHex('9020010200aa')!)), '6700');
  assert.equal(sw(card.transmit(apdu(0x80, 0x20, pattern(1), 256))), '9000');
  assert.deepEqual(applet.received[0]?.data, pattern(1));
});

/** Reads an answer of `length` bytes with Le 256, returning the status word of every APDU. */
function readAnswer(length: number): { data: Uint8Array; statusWords: string[] } {
  const card = new CardTransport(new RecordingApplet(() => ok(pattern(length))));
  let response = answer(card.transmit(apdu(0x80, 0x30, new Uint8Array(0), 256)));
  const chunks = [response.data];
  const statusWords = [response.sw];
  while (response.sw.startsWith('61') && statusWords.length <= 300) {
    const le = parseInt(response.sw.slice(2), 16);
    response = answer(card.transmit(getResponse(le === 0 ? 256 : le)));
    chunks.push(response.data);
    statusWords.push(response.sw);
  }
  return { data: Uint8Array.from(chunks.flatMap((chunk) => [...chunk])), statusWords };
}

const answers: readonly { length: number; statusWords: string[] }[] = [
  { length: 0, statusWords: ['9000'] },
  { length: 255, statusWords: ['9000'] },
  { length: 256, statusWords: ['9000'] },
  { length: 257, statusWords: ['6101', '9000'] },
  // 5000 = 19 × 256 + 136: 18 chunks leave 256 or more (6100), the 19th leaves 136 (6188).
  { length: 5000, statusWords: [...Array<string>(18).fill('6100'), '6188', '9000'] },
];

for (const { length, statusWords } of answers) {
  void test(`an answer of ${length} bytes comes back with status words ${statusWords.join(' ')}`, () => {
    const read = readAnswer(length);
    assert.deepEqual(read.statusWords, statusWords);
    assert.deepEqual(read.data, pattern(length));
  });
}

void test('Ne is honoured: Le 16 gets 16 bytes and 6118, an absent Le gets none and 61xx', () => {
  const card = new CardTransport(new RecordingApplet(() => ok(pattern(40))));
  const first = answer(card.transmit(apdu(0x80, 0x30, new Uint8Array(0), 16)));
  assert.deepEqual(first, { data: pattern(16), sw: '6118' });
  const rest = answer(card.transmit(getResponse(256)));
  assert.deepEqual(rest, { data: pattern(40).subarray(16), sw: '9000' });
  const none = answer(card.transmit(apdu(0x80, 0x30, new Uint8Array(0), undefined)));
  assert.deepEqual(none, { data: new Uint8Array(0), sw: '6128' });
  assert.deepEqual(answer(card.transmit(getResponse(0x28))), { data: pattern(40), sw: '9000' });
});

void test('the final chunk carries the applet status word, not 9000', () => {
  const card = new CardTransport(new RecordingApplet(() => ({ data: pattern(300), sw: 0x6985 })));
  assert.equal(sw(card.transmit(apdu(0x80, 0x30, new Uint8Array(0), 256))), '612c');
  assert.deepEqual(answer(card.transmit(getResponse(0x2c))), {
    data: pattern(300).subarray(256),
    sw: '6985',
  });
});

void test('any other command discards a pending answer; GET RESPONSE with nothing pending is 6985', () => {
  const applet = new RecordingApplet(() => ok(pattern(300)));
  const card = new CardTransport(applet);
  assert.equal(toHex(card.transmit(getResponse(256))), '6985');
  assert.equal(sw(card.transmit(apdu(0x80, 0x30, new Uint8Array(0), 256))), '612c');
  applet.answer = () => ok(new Uint8Array(0));
  assert.equal(toHex(card.transmit(apdu(0x80, 0x31, new Uint8Array(0), 256))), '9000');
  assert.equal(toHex(card.transmit(getResponse(256))), '6985');
});

void test('GET RESPONSE must be 00 C0 0000 with an Le and no data', () => {
  const refusals: readonly [Uint8Array, string][] = [
    [apdu(0x10, 0xc0, new Uint8Array(0), 256, 0, 0), '6884'],
    [apdu(0x00, 0xc0, new Uint8Array(0), 256, 1, 0), '6b00'],
    [apdu(0x00, 0xc0, new Uint8Array(0), 256, 0, 1), '6b00'],
    [apdu(0x00, 0xc0, new Uint8Array(0), undefined, 0, 0), '6700'],
    [apdu(0x00, 0xc0, pattern(1), 256, 0, 0), '6700'],
    [apdu(0x00, 0xa4, new Uint8Array(0), 256, 0, 0), '6d00'],
  ];
  for (const [bytes, expected] of refusals) {
    const card = new CardTransport(new RecordingApplet(() => ok(pattern(300))));
    assert.equal(sw(card.transmit(apdu(0x80, 0x30, new Uint8Array(0), 256))), '612c');
    assert.equal(toHex(card.transmit(bytes)), expected, toHex(bytes));
    // A refused GET RESPONSE consumed the pending answer too.
    assert.equal(toHex(card.transmit(getResponse(0x2c))), '6985');
  }
});

void test('classes other than 80 (with the chaining bit) and 00 are refused with 6E00', () => {
  for (const cla of [0x01, 0x04, 0x0c, 0x40, 0x81, 0x84, 0xa0, 0xc0, 0xe0, 0xff]) {
    const applet = new RecordingApplet();
    assert.equal(toHex(new CardTransport(applet).transmit(apdu(cla, 0x20, pattern(2), 256))), '6e00');
    assert.equal(applet.received.length, 0);
  }
});

void test('reset drops an open chain and a pending answer', () => {
  const applet = new RecordingApplet(() => ok(pattern(300)));
  const card = new CardTransport(applet);
  assert.equal(sw(card.transmit(apdu(0x80, 0x30, new Uint8Array(0), 256))), '612c');
  card.reset();
  assert.equal(toHex(card.transmit(getResponse(0x2c))), '6985');
  assert.equal(sw(card.transmit(apdu(0x90, 0x20, pattern(255), undefined))), '9000');
  card.reset();
  card.transmit(apdu(0x80, 0x20, pattern(5), 256));
  assert.deepEqual(applet.received[1]?.data, pattern(5));
});

void test('a PowerCut from the applet propagates untouched; other exceptions answer 6F00', () => {
  const cut = new PowerCut('tear');
  const card = new CardTransport(
    new RecordingApplet((command) => {
      if (command.ins === 0x01) throw cut;
      throw new TypeError('applet bug');
    }),
  );
  assert.throws(
    () => card.transmit(apdu(0x80, 0x01, new Uint8Array(0), 256)),
    (error) => error === cut,
  );
  assert.equal(toHex(card.transmit(apdu(0x80, 0x02, new Uint8Array(0), 256))), '6f00');
});

void test('an applet answer the transport cannot carry is turned into 6F00', () => {
  const bad: readonly LogicalResponse[] = [
    { data: new Uint8Array(0), sw: 0x6100 },
    { data: new Uint8Array(0), sw: 0x6c10 },
    { data: new Uint8Array(0), sw: 0x6000 },
    { data: new Uint8Array(0), sw: 0x10000 },
    { data: new Uint8Array(65537), sw: 0x9000 },
  ];
  for (const response of bad) {
    const card = new CardTransport(new RecordingApplet(() => response));
    assert.equal(toHex(card.transmit(apdu(0x80, 0x02, new Uint8Array(0), 256))), '6f00');
  }
});

const fuzzInput = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  // Near-valid APDUs with a supported class, so that the applet path is exercised too.
  fc
    .tuple(
      fc.constantFrom(0x00, 0x10, 0x80, 0x90, 0x84),
      fc.constantFrom(0xc0, 0x20),
      fc.uint8Array({ minLength: 2, maxLength: 2 }),
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 257 }),
    )
    .map(([cla, ins, [p1, p2], lc, rest]) =>
      Uint8Array.of(cla, ins, p1!, p2!, lc, ...rest.subarray(0, lc + 1)),
    ),
);

function expectedDelivery(bytes: Uint8Array): CommandApdu | undefined {
  const decoded = decodeCommand(bytes);
  return decoded.ok && decoded.value.cla === 0x80 ? decoded.value : undefined;
}

void test('fuzz: any bytes get a status word, never an exception, and reach the applet only when valid', () => {
  fc.assert(
    fc.property(fuzzInput, fc.integer({ min: 0, max: 600 }), (bytes, answerBytes) => {
      const applet = new RecordingApplet(() => ok(pattern(answerBytes)));
      const response = new CardTransport(applet).transmit(bytes);
      assert.ok(decodeResponse(response).ok);
      const expected = expectedDelivery(bytes);
      if (expected === undefined) {
        assert.equal(applet.received.length, 0);
        return;
      }
      const { cla, ins, p1, p2, data } = expected;
      assert.deepEqual(applet.received, [{ cla, ins, p1, p2, data }]);
    }),
    { numRuns: 2000 },
  );
});

void test('fuzz: a sequence of arbitrary APDUs on one card never throws', () => {
  fc.assert(
    fc.property(fc.array(fuzzInput, { maxLength: 20 }), (sequence) => {
      const card = new CardTransport(new RecordingApplet(() => ok(pattern(700))));
      for (const bytes of sequence) assert.ok(decodeResponse(card.transmit(bytes)).ok);
    }),
  );
});
