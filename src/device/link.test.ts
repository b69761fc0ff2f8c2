import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Link, LinkCut, type LinkTarget } from './link.ts';
import { AssertionFailed } from '../core/assert.ts';
import { fromHex, toHex } from '../core/bytes.ts';
import { CardTransport, type LogicalCommand } from '../secure-element/apdu/card-transport.ts';
import { exchange } from '../secure-element/apdu/terminal.ts';

/** A device that answers every command with a fixed 4-byte response and counts what it processed. */
class CountingDevice implements LinkTarget {
  readonly processed: string[] = [];
  transmit(commandBytes: Uint8Array): Uint8Array {
    this.processed.push(toHex(commandBytes));
    return fromHex('beef9000')!;
  }
}

const command = fromHex('8020010203aabbcc00')!; // 9 bytes; the response is 4: 13 in all.

function isLinkCut(error: unknown): boolean {
  return error instanceof LinkCut && error.name === 'LinkCut';
}

void test('an uncut link carries the command and the response and counts both', () => {
  const device = new CountingDevice();
  const link = new Link(device);
  assert.equal(toHex(link.transmit(command)), 'beef9000');
  assert.equal(link.bytesTransferred, 13);
  assert.equal(toHex(link.transmit(command)), 'beef9000');
  assert.equal(link.bytesTransferred, 26);
  assert.deepEqual(device.processed, [toHex(command), toHex(command)]);
  assert.equal(link.isCut, false);
});

void test('a cut at every byte of one exchange: the device acts exactly when the cut is in the response', () => {
  const measure = new Link(new CountingDevice());
  measure.transmit(command);
  const exchangeBytes = measure.bytesTransferred;
  assert.equal(exchangeBytes, 13);
  for (let cutAfterBytes = 0; cutAfterBytes < exchangeBytes; cutAfterBytes++) {
    const device = new CountingDevice();
    const link = new Link(device, { cutAfterBytes });
    assert.throws(() => link.transmit(command), isLinkCut, `cut after ${cutAfterBytes}`);
    const cutInResponse = cutAfterBytes >= command.length;
    assert.equal(device.processed.length, cutInResponse ? 1 : 0, `cut after ${cutAfterBytes}`);
    assert.equal(link.bytesTransferred, cutAfterBytes);
    assert.equal(link.isCut, true);
    // Dead for good, and nothing more reaches the device.
    assert.throws(() => link.transmit(command), isLinkCut);
    assert.throws(() => link.transmit(new Uint8Array(0)), isLinkCut);
    assert.equal(device.processed.length, cutInResponse ? 1 : 0);
    assert.equal(link.bytesTransferred, cutAfterBytes);
  }
});

void test('a cut just after a whole exchange breaks the next one before the device sees it', () => {
  const device = new CountingDevice();
  const link = new Link(device, { cutAfterBytes: 13 });
  assert.equal(toHex(link.transmit(command)), 'beef9000');
  assert.equal(link.isCut, false);
  assert.throws(() => link.transmit(command), isLinkCut);
  assert.equal(device.processed.length, 1);
  assert.equal(link.bytesTransferred, 13);
});

void test('cut() kills the link at once', () => {
  const device = new CountingDevice();
  const link = new Link(device);
  link.cut();
  assert.throws(() => link.transmit(command), isLinkCut);
  assert.equal(device.processed.length, 0);
  assert.equal(link.bytesTransferred, 0);
});

void test('the device receives a copy: the terminal cannot change bytes that crossed the link', () => {
  let seen: Uint8Array | undefined;
  const link = new Link({
    transmit: (bytes) => {
      seen = bytes;
      return fromHex('9000')!;
    },
  });
  const sent = fromHex('80200102')!;
  link.transmit(sent);
  sent[0] = 0;
  assert.equal(toHex(seen!), '80200102');
});

void test('an error of the device propagates and the link stays up', () => {
  const failure = new Error('PowerCut');
  let fail = true;
  const link = new Link({
    transmit: () => {
      if (fail) throw failure;
      return fromHex('9000')!;
    },
  });
  assert.throws(
    () => link.transmit(command),
    (error) => error === failure,
  );
  assert.equal(link.bytesTransferred, command.length);
  fail = false;
  assert.equal(toHex(link.transmit(command)), '9000');
});

void test('cutAfterBytes must be a whole, non-negative number', () => {
  for (const cutAfterBytes of [-1, 1.5, Number.NaN]) {
    assert.throws(() => new Link(new CountingDevice(), { cutAfterBytes }), AssertionFailed);
  }
});

void test('a chained exchange through a link: the applet runs exactly when the cut follows the last command byte', () => {
  const logical: LogicalCommand = { cla: 0x80, ins: 0x50, p1: 0, p2: 0, data: new Uint8Array(600) };
  const answer = { data: new Uint8Array(300).fill(7), sw: 0x9000 };
  const run = (cutAfterBytes?: number) => {
    let calls = 0;
    const card = new CardTransport({
      process: () => {
        calls++;
        return answer;
      },
    });
    const link = new Link(card, cutAfterBytes === undefined ? {} : { cutAfterBytes });
    const linkTransmit = (bytes: Uint8Array) => link.transmit(bytes);
    let outcome: 'answered' | 'cut' = 'answered';
    try {
      assert.deepEqual(exchange(linkTransmit, logical), answer);
    } catch (error) {
      assert.ok(isLinkCut(error), String(error));
      outcome = 'cut';
    }
    return { calls, outcome, bytes: link.bytesTransferred };
  };
  const whole = run();
  // Two links of 4 + 1 + 255 bytes answered by 9000, a last link of 4 + 1 + 90 + 1 answered by
  // 256 bytes and 612C, then GET RESPONSE (5 bytes) answered by 44 bytes and 9000.
  assert.equal(whole.bytes, 260 + 2 + 260 + 2 + 96 + 258 + 5 + 46);
  const lastCommandByte = 260 + 2 + 260 + 2 + 96;
  for (let cutAfterBytes = 0; cutAfterBytes < whole.bytes; cutAfterBytes++) {
    const torn = run(cutAfterBytes);
    assert.deepEqual(torn, {
      calls: cutAfterBytes >= lastCommandByte ? 1 : 0,
      outcome: 'cut',
      bytes: cutAfterBytes,
    });
  }
});
