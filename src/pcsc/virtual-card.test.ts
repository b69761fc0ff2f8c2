// The virtual card without pcscd: its ATR, SELECT in front of the applet, and power as the reader's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fromHex, toHex } from '../core/bytes.ts';
import { TestPki } from '../testing/test-pki.ts';
import { copyMemory, mediumSnapshot } from '../testing/devices.ts';
import { answerToReset, appletAid, historicalBytes } from './applet-identity.ts';
import { VirtualCard } from './virtual-card.ts';
import { SecureElementClient } from '../device/se-client.ts';
import { MemoryMedium } from '../secure-element/store/medium.ts';

const select = '00a4040006f0434244430100';
const fci = '6f0884' + '06f04342444301';

function poweredCard(): { card: VirtualCard; medium: ReturnType<typeof copyMemory> } {
  const pki = new TestPki();
  const device = pki.newDevice('card', 'virtual');
  pki.load(device, 1_000n);
  const medium = copyMemory(device.medium);
  const card = new VirtualCard('card', medium, pki.platform);
  card.powerOn();
  return { card, medium };
}

function send(card: VirtualCard, hex: string): string {
  const command = fromHex(hex);
  assert.ok(command !== undefined);
  const response = card.transmit(command);
  return response === undefined ? 'mute' : toHex(response);
}

test('the ATR: T=0 and T=1 indicated, 12 historical bytes naming the AID, and a TCK that checks', () => {
  assert.equal(toHex(answerToReset), '3b8c800180f6f0434244430173800080ff');
  assert.equal(historicalBytes.length, 12);
  assert.ok(toHex(historicalBytes).includes(toHex(appletAid)));
  // ISO 7816-3 §8.2.5: the XOR of T0 to TCK is zero.
  assert.equal(
    answerToReset.subarray(1).reduce((check, byte) => check ^ byte, 0),
    0,
  );
});

test('before SELECT only SELECT is understood; every refused SELECT selects nothing', () => {
  const { card } = poweredCard();
  assert.equal(send(card, '80ca000000'), '6985');
  assert.equal(send(card, '00a4040006f0434244430200'), '6a82');
  assert.equal(send(card, '00a4000006f0434244430100'), '6b00');
  assert.equal(send(card, '00a4040100'), '6b00');
  assert.equal(send(card, '00a40400'), '6700');
  assert.equal(send(card, '00a4040006f0434244430107'), '6700');
  assert.equal(send(card, '80ca000000'), '6985');
  assert.equal(send(card, '80ca00'), '6700'); // malformed, selected or not
  assert.equal(send(card, select), fci + '9000');
  assert.equal(send(card, '80ca000000').slice(-4), '6124'); // 256 of GET DATA's 292 bytes
  // Refused SELECTs keep the selection, and so the applet answers on.
  assert.equal(send(card, '00a4040006f0434244430200'), '6a82');
  assert.equal(send(card, '00c0000024').slice(-4), '9000');
});

test('SELECT without Le or with P2 0C selects and answers 9000 alone; SELECT drops a pending answer', () => {
  const { card } = poweredCard();
  assert.equal(send(card, '00a4040006f04342444301'), '9000');
  assert.equal(send(card, '80ca000010').slice(-4), '6100');
  assert.equal(send(card, '00a4040c06f04342444301'), '9000');
  assert.equal(send(card, '00c0000000'), '6985');
});

test('a power-off drops the pending answer and the selection; the committed state survives', () => {
  const { card } = poweredCard();
  assert.equal(send(card, select), fci + '9000');
  const firstChunk = send(card, '80ca000010');
  assert.equal(firstChunk.slice(-4), '6100');
  card.powerOff();
  assert.equal(card.isPowered, false);
  assert.equal(send(card, '00c0000000'), 'mute');
  card.powerOn();
  assert.equal(send(card, '00c0000000'), '6985'); // not selected
  assert.equal(send(card, select), fci + '9000');
  assert.equal(send(card, '00c0000000'), '6985'); // nothing pending
  assert.equal(send(card, '80ca000010'), firstChunk);
  card.reset();
  assert.equal(send(card, '80ca000010'), '6985');
});

test('property: no command sequence before SELECT changes a byte of the chip or gets 9000', () => {
  const { card, medium } = poweredCard();
  const before = mediumSnapshot(medium);
  const notSelect = fc
    .uint8Array({ minLength: 0, maxLength: 300 })
    .filter((bytes) => !(bytes[0] === 0x00 && bytes[1] === 0xa4));
  fc.assert(
    fc.property(fc.array(notSelect, { maxLength: 8 }), (commands) => {
      for (const command of commands) {
        const response = card.transmit(command);
        assert.ok(response !== undefined);
        assert.notEqual(toHex(response.subarray(-2)), '9000');
      }
    }),
    { numRuns: 200 },
  );
  assert.deepEqual(mediumSnapshot(medium), before);
});

test('a blank virtual card is initialised, personalised and loaded through SELECT, and survives power', () => {
  const pki = new TestPki();
  const medium = new MemoryMedium();
  const card = new VirtualCard('card', medium, pki.platform);
  card.powerOn();
  assert.equal(send(card, select), fci + '9000');
  const client = new SecureElementClient((bytes) => card.transmit(bytes) ?? new Uint8Array(0));
  const { seId, publicKey } = client.initialise();
  client.personalise({
    certificate: pki.dcp.certifySecureElement(publicKey, 'card'),
    rootPublicKey: pki.root.publicKey,
    dcpIssuers: pki.dcps.map((each) => each.certificate),
    directory: pki.directory,
    mds: pki.mds,
    limits: pki.dcp.limits('card', 1),
    denyList: pki.denyList([], 0),
  });
  assert.equal(client.load(pki.dcp.issue('load', [{ value: 420n, owner: seId }])), 420n);
  card.powerOff();
  card.powerOn();
  assert.equal(send(card, select), fci + '9000');
  const data = client.getData();
  assert.deepEqual([toHex(data.seId), data.balance, data.tokenCount], [toHex(seId), 420n, 1]);
});
