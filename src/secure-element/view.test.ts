// The view's RAM forms of records (view.ts): a record a command commits with its value is cached as
// that value, which must be what decoding the stored bytes gives, field for field; and the
// personalised context is one object while its records stay the same.
import assert from 'node:assert/strict';
import test from 'node:test';
import { encodeCbor } from '../core/cbor.ts';
import { TestPki } from '../testing/test-pki.ts';
import { acknowledge, receive } from './commands/receive.ts';
import { pay, paymentRequest } from './commands/pay.ts';
import { recordPrefixes } from './records.ts';
import { storeProfiles } from './secure-element.ts';
import { JournaledStore } from './store/journaled-store.ts';
import { idFromKey, SecureElementView } from './view.ts';
import type { Device } from '../device/device.ts';

function openView(device: Device): SecureElementView {
  return new SecureElementView(JournaledStore.open(device.medium, storeProfiles.phone), device.platform);
}

/** Byte strings as hex, recursively: a Buffer and a Uint8Array of the same bytes compare equal. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, plain(field)]));
  return value;
}

/** Everything the view reads of payments, decoded: by a view that has run commands, or a fresh one. */
function records(view: SecureElementView): unknown {
  const entries = view.store.keys(recordPrefixes.entry).map((key) => view.entry(idFromKey(key)));
  return plain({
    state: view.state(),
    tokens: view.tokens(),
    outgoing: view.outgoingAll(),
    incoming: view.incomingAll(),
    entries,
  });
}

/** One payment of `amount` driven through the four command functions on the two views. */
function payThrough(payer: SecureElementView, payee: SecureElementView, amount: bigint): void {
  const request = paymentRequest(payee, encodeCbor([amount]));
  const bundle = pay(payer, encodeCbor([request, 0]));
  acknowledge(payer, receive(payee, bundle));
}

void test('records committed with their values read back as a fresh view decodes them', () => {
  const pki = new TestPki();
  const first = pki.newDevice('phone', 'first');
  const second = pki.newDevice('phone', 'second');
  const third = pki.newDevice('phone', 'third');
  pki.load(first, 300n);
  const views = [first, second, third].map(openView);
  const [a, b, c] = views as [SecureElementView, SecureElementView, SecureElementView];
  // With change (the payer stores its transfer and change token), then a relay of a received token.
  payThrough(a, b, 100n);
  payThrough(a, b, 50n);
  payThrough(b, c, 100n);
  for (const [index, view] of views.entries()) {
    const fresh = openView([first, second, third][index] as Device);
    assert.deepEqual(records(view), records(fresh), `view ${index}`);
  }
  assert.equal(a.state().balance, 150n);
  assert.equal(c.state().balance, 100n);
});

void test('personalised() is one object while its records are unchanged', () => {
  const pki = new TestPki();
  const device = pki.newDevice('phone', 'one');
  const view = openView(device);
  const context = view.personalised();
  assert.equal(view.personalised(), context);
  pki.load(device, 10n);
  const reopened = openView(device);
  assert.equal(reopened.personalised(), reopened.personalised());
  assert.deepEqual(plain(reopened.personalised().limits), plain(context.limits));
});
