// The hex rendering ids and record keys go through: one flat string up to 64 bytes, the general
// loop beyond, the same digits either way.
import assert from 'node:assert/strict';
import test from 'node:test';
import { concatBytes, fromHex, toHex } from './bytes.ts';

/** The reference: two lowercase digits per byte, by Number#toString. */
function referenceHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

void test('toHex renders every byte value as two lowercase digits', () => {
  const every = Uint8Array.from({ length: 256 }, (_, byte) => byte);
  for (let start = 0; start < 256; start += 64) {
    const slice = every.subarray(start, start + 64);
    assert.equal(toHex(slice), referenceHex(slice));
  }
  assert.equal(toHex(every), referenceHex(every));
});

void test('toHex gives the same digits on both sides of 64 bytes, and round-trips through fromHex', () => {
  for (const length of [0, 1, 16, 32, 63, 64, 65, 200]) {
    const bytes = Uint8Array.from({ length }, (_, index) => (index * 37 + 11) & 0xff);
    const hex = toHex(bytes);
    assert.equal(hex, referenceHex(bytes), `${length} bytes`);
    assert.deepEqual(fromHex(hex), bytes);
  }
  assert.equal(toHex(Uint8Array.of(0xab)), 'ab');
  assert.equal(toHex(new Uint8Array(0)), '');
});

void test('toHex of a view renders only the view', () => {
  const buffer = Uint8Array.of(1, 2, 3, 4, 5);
  assert.equal(toHex(buffer.subarray(1, 3)), '0203');
});

void test('concatBytes joins parts in order, empty parts included', () => {
  assert.deepEqual(
    concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)),
    Uint8Array.of(1, 2, 3),
  );
  assert.deepEqual(concatBytes(), new Uint8Array(0));
});
