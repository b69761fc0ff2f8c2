// The counter-reuse detector end to end against an extracted key (not a cloned chip), on the whole
// system as real processes (extracted-key.ts): the thief's chip holds two tokens and pays shop A
// (bank-a) with one; the key, extracted by test support code, pays shop B (bank-b) from the other
// under the very counter the chip's payment used, so no token is spent twice and only the reused
// counter shows. Both shops accept in good faith and renew; exactly one counterReuse alert blames
// the thief's SE for what the counter paid beyond its largest payment, with the two transfers as
// evidence; the SE is revoked, and shop B, after its next sync, refuses the thief.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { key } from '../../src/demo/economy.ts';
import {
  assertBlamedAndRefused,
  balanceOf,
  chipTransferIds,
  honestPayments,
  newForge,
  payAndRenewAfter,
  payCompleted,
  payWithKey,
  startWorld,
} from './extracted-key.ts';

test("an extracted key signs a transfer under the counter of its chip's payment: one counterReuse for the smaller payment, the SE revoked and refused", async (t) => {
  const world = await startWorld(t, 'mds-e2e-extracted-counter');
  const { thief, shopA, shopB } = world;
  await thief.app.load(thief.device.client(), 2_000n, key());
  await thief.app.load(thief.device.client(), 3_000n, key());

  const counter = thief.device.client().getData().counter;
  payCompleted(thief, shopA, 2_000n);
  const forge = newForge();
  const extracted = forge.extract(thief.device);
  assert.deepEqual(
    extracted.tokens.map((token) => token.value),
    [3_000n],
    'the chip paid with its token of 2,000: the key spends the other, no token twice',
  );
  const second = payWithKey(forge, extracted, shopB, 1_200n, counter);
  assert.deepEqual(
    [balanceOf(shopA), balanceOf(shopB)],
    [honestPayments.shopA + 2_000n, 1_200n],
    'both shops accepted in good faith',
  );
  await payAndRenewAfter(world);

  // What the counter paid beyond its largest payment: 2,000 + 1,200 − 2,000.
  await assertBlamedAndRefused(world, forge, extracted, {
    kind: 'counterReuse',
    value: 1_200n,
    transferIds: [...chipTransferIds(thief), second],
  });
});
