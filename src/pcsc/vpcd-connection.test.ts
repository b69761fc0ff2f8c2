// The vpcd wire format and the card side of it, against a loopback TCP peer that speaks vpcd's
// protocol the way vsmartcard's driver does (the real pcscd is in test/pcsc/pcsc.test.ts).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { concatBytes, toHex } from '../core/bytes.ts';
import { TestPki } from '../testing/test-pki.ts';
import { copyMemory } from '../testing/devices.ts';
import { answerToReset } from './applet-identity.ts';
import { VirtualCard } from './virtual-card.ts';
import { VpcdConnection, type VpcdEvent } from './vpcd-connection.ts';
import { decodeVpcdMessage, encodeVpcdMessage, VpcdMessageReader } from './vpcd-messages.ts';

test('property: however the stream is cut, the reader yields exactly the messages sent', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (payloads, cuts) => {
        const stream = concatBytes(...payloads.map(encodeVpcdMessage));
        const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
        const reader = new VpcdMessageReader();
        const received: string[] = [];
        let start = 0;
        for (const end of [...points, stream.length]) {
          for (const payload of reader.push(stream.slice(start, end))) received.push(toHex(payload));
          start = end;
        }
        assert.deepEqual(received, payloads.map(toHex));
        assert.equal(reader.pendingBytes, 0);
      },
    ),
    { numRuns: 200 },
  );
});

test('one byte is a control, more is an APDU, nothing or an unknown control is invalid', () => {
  assert.deepEqual(decodeVpcdMessage(Uint8Array.of(0)), { kind: 'control', control: 'powerOff' });
  assert.deepEqual(decodeVpcdMessage(Uint8Array.of(1)), { kind: 'control', control: 'powerOn' });
  assert.deepEqual(decodeVpcdMessage(Uint8Array.of(2)), { kind: 'control', control: 'reset' });
  assert.deepEqual(decodeVpcdMessage(Uint8Array.of(4)), { kind: 'control', control: 'atrRequest' });
  assert.deepEqual(decodeVpcdMessage(Uint8Array.of(3)), {
    kind: 'invalid',
    detail: 'unknown control code 3',
  });
  assert.deepEqual(decodeVpcdMessage(new Uint8Array(0)), { kind: 'invalid', detail: 'an empty message' });
  assert.equal(decodeVpcdMessage(Uint8Array.of(0x80, 0xca)).kind, 'apdu');
  assert.equal(toHex(encodeVpcdMessage(Uint8Array.of(4))), '000104');
});

/** The reader's end of the socket: send one message, read one answer. */
class ReaderPeer {
  readonly #reader = new VpcdMessageReader();
  readonly #answers: Uint8Array[] = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.#answers.push(...this.#reader.push(new Uint8Array(chunk))));
  }

  async request(payload: Uint8Array): Promise<string> {
    this.socket.write(encodeVpcdMessage(payload));
    while (this.#answers.length === 0) await once(this.socket, 'data');
    return toHex(this.#answers.shift()!);
  }

  send(payload: Uint8Array): void {
    this.socket.write(encodeVpcdMessage(payload));
  }
}

test('the card answers the ATR and APDUs, follows power controls, and loses power when unplugged', async () => {
  const pki = new TestPki();
  const card = new VirtualCard('card', copyMemory(pki.newDevice('card', 'virtual').medium), pki.platform);
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const events: VpcdEvent[] = [];
  const connection = new VpcdConnection(card, { port: (server.address() as AddressInfo).port }, (event) => {
    events.push(event);
  });
  const accepted = once(server, 'connection');
  connection.start();
  const peer = new ReaderPeer((await accepted)[0] as Socket);
  try {
    assert.equal(await peer.request(Uint8Array.of(4)), toHex(answerToReset));
    assert.equal(await peer.request(Uint8Array.of(0x00, 0xa4, 0x04, 0x00)), ''); // unpowered: mute
    peer.send(Uint8Array.of(1));
    assert.equal(await peer.request(Uint8Array.of(0x80, 0xca, 0x00, 0x00, 0x00)), '6985');
    peer.send(Uint8Array.of(3)); // unknown control: reported, ignored
    assert.equal(
      await peer.request(Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, 6, 0xf0, 0x43, 0x42, 0x44, 0x43, 1)),
      '9000',
    );
    peer.send(Uint8Array.of(2));
    assert.equal(await peer.request(Uint8Array.of(0x80, 0xca, 0x00, 0x00, 0x00)), '6985'); // reset deselects
    assert.equal(card.isPowered, true);
    peer.socket.destroy();
    while (!events.some(({ event }) => event === 'disconnected')) await new Promise((r) => setTimeout(r, 10));
    assert.equal(card.isPowered, false);
    assert.deepEqual(
      events.map((event) =>
        'code' in event ? event.code : 'control' in event ? event.control : event.event,
      ),
      ['connected', 'cardNotPowered', 'powerOn', 'vpcdMessageInvalid', 'reset', 'disconnected'],
    );
  } finally {
    await connection.stop();
    server.close();
  }
});
