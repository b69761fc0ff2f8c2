import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeCommand, encodeResponse, logicalCommandBytesMax, logicalResponseBytesMax } from './apdu.ts';
import { CardTransport, type LogicalCommand, type LogicalResponse } from './card-transport.ts';
import { exchange, getResponseRoundsMax, type Transmit } from './terminal.ts';
import { AssertionFailed } from '../../core/assert.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import { CbdcError } from '../../core/errors.ts';

function pattern(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 13 + seed) & 0xff);
}

function command(data: Uint8Array): LogicalCommand {
  return { cla: 0x80, ins: 0x40, p1: 0x05, p2: 0x06, data };
}

/** A card whose applet records commands, behind a transmit that records every APDU. */
function recordedCard(answer: LogicalResponse) {
  const received: LogicalCommand[] = [];
  const apdus: string[] = [];
  const card = new CardTransport({
    process: (logical) => {
      received.push(logical);
      return answer;
    },
  });
  const transmit: Transmit = (bytes) => {
    apdus.push(toHex(bytes.subarray(0, 5)));
    return card.transmit(bytes);
  };
  return { received, apdus, transmit };
}

void test('a short command is one case 4 APDU asking for 256 bytes', () => {
  const { received, apdus, transmit } = recordedCard({ data: fromHex('0102')!, sw: 0x9000 });
  const response = exchange(transmit, command(fromHex('aabb')!));
  assert.deepEqual(response, { data: fromHex('0102'), sw: 0x9000 });
  assert.deepEqual(apdus, ['8040050602']);
  assert.deepEqual(received, [command(fromHex('aabb')!)]);
});

void test('a command of 600 bytes goes as links of 255, 255 and 90; an answer of 300 with one GET RESPONSE', () => {
  const { received, apdus, transmit } = recordedCard({ data: pattern(300), sw: 0x6a80 });
  const response = exchange(transmit, command(pattern(600)));
  assert.deepEqual(response, { data: pattern(300), sw: 0x6a80 });
  assert.deepEqual(apdus, ['90400506ff', '90400506ff', '804005065a', '00c000002c']);
  assert.deepEqual(received, [command(pattern(600))]);
});

void test('an empty command is case 2; an empty answer needs no GET RESPONSE', () => {
  const { apdus, transmit } = recordedCard({ data: new Uint8Array(0), sw: 0x9000 });
  assert.deepEqual(exchange(transmit, command(new Uint8Array(0))), { data: new Uint8Array(0), sw: 0x9000 });
  assert.deepEqual(apdus, ['8040050600']);
});

void test('terminal and card round-trip any command up to 4 KiB and any answer', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 4096 }),
      fc.integer({ min: 0, max: logicalResponseBytesMax }),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0x9000, 0x6985, 0x6a80, 0x6283),
      (data, answerBytes, seed, sw) => {
        const answer = { data: pattern(answerBytes, seed), sw };
        const { received, transmit } = recordedCard(answer);
        const response = exchange(transmit, command(data));
        assert.deepEqual(received, [command(data)]);
        assert.deepEqual(response, answer);
      },
    ),
    { numRuns: 200 },
  );
});

void test('the largest command and the largest answer both go through', () => {
  const { received, transmit } = recordedCard({ data: pattern(logicalResponseBytesMax), sw: 0x9000 });
  const response = exchange(transmit, command(pattern(logicalCommandBytesMax)));
  assert.deepEqual(received, [command(pattern(logicalCommandBytesMax))]);
  assert.deepEqual(response.data, pattern(logicalResponseBytesMax));
});

void test('a card refusing a chain link ends the exchange with that refusal', () => {
  const apdus: string[] = [];
  const transmit: Transmit = (bytes) => {
    apdus.push(toHex(bytes.subarray(0, 5)));
    return fromHex(apdus.length === 2 ? '6a84' : '9000')!;
  };
  assert.deepEqual(exchange(transmit, command(pattern(1000))), { data: new Uint8Array(0), sw: 0x6a84 });
  assert.deepEqual(apdus, ['90400506ff', '90400506ff']);
});

void test('6Cxx is answered by resending the same APDU once with Le = xx', () => {
  const sent: string[] = [];
  const transmit: Transmit = (bytes) => {
    sent.push(toHex(bytes));
    const decoded = decodeCommand(bytes);
    assert.ok(decoded.ok);
    if (decoded.value.le !== 3) return fromHex('6c03')!;
    return encodeResponse({ data: fromHex('010203')!, sw: 0x9000 });
  };
  assert.deepEqual(exchange(transmit, command(fromHex('aa')!)), { data: fromHex('010203'), sw: 0x9000 });
  assert.deepEqual(sent, ['8040050601aa00', '8040050601aa03']);
});

void test('a second 6Cxx in a row is returned instead of looped on', () => {
  let calls = 0;
  const transmit: Transmit = () => {
    calls++;
    return fromHex('6c05')!;
  };
  assert.deepEqual(exchange(transmit, command(new Uint8Array(0))), { data: new Uint8Array(0), sw: 0x6c05 });
  assert.equal(calls, 2);
});

void test('a card answering 61xx forever is stopped after getResponseRoundsMax rounds', () => {
  let calls = 0;
  const transmit: Transmit = () => {
    calls++;
    return fromHex('6100')!;
  };
  assert.throws(
    () => exchange(transmit, command(new Uint8Array(0))),
    (error) => error instanceof CbdcError && error.code === 'sizeLimitExceeded',
  );
  assert.equal(calls, 1 + getResponseRoundsMax);
});

void test('an answer longer than logicalResponseBytesMax is refused', () => {
  const chunk = encodeResponse({ data: pattern(256), sw: 0x6100 });
  const transmit: Transmit = () => chunk;
  assert.throws(
    () => exchange(transmit, command(new Uint8Array(0))),
    (error) => error instanceof CbdcError && error.code === 'sizeLimitExceeded',
  );
});

void test('a malformed response is a typed error; an error of transmit propagates untouched', () => {
  assert.throws(
    () => exchange(() => fromHex('90')!, command(new Uint8Array(0))),
    (error) => error instanceof CbdcError && error.code === 'apduMalformed',
  );
  const broken = new Error('link broke');
  assert.throws(
    () =>
      exchange(
        () => {
          throw broken;
        },
        command(new Uint8Array(0)),
      ),
    (error) => error === broken,
  );
});

void test('a command over the limit is refused before anything is sent; bad headers are assertions', () => {
  let calls = 0;
  const transmit: Transmit = () => {
    calls++;
    return fromHex('9000')!;
  };
  assert.throws(
    () => exchange(transmit, command(new Uint8Array(logicalCommandBytesMax + 1))),
    (error) => error instanceof CbdcError && error.code === 'apduCommandTooLong',
  );
  assert.throws(() => exchange(transmit, { ...command(new Uint8Array(0)), cla: 0x90 }), AssertionFailed);
  assert.throws(() => exchange(transmit, { ...command(new Uint8Array(0)), ins: 256 }), AssertionFailed);
  assert.equal(calls, 0);
});
