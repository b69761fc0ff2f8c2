// The double-spend detector end to end against an extracted key (not a cloned chip), on the whole
// system as real processes (extracted-key.ts): the thief's chip pays shop A (bank-a) with its one
// token; the key, extracted by test support code, signs a second transfer of the same token to shop
// B (bank-b) under a counter no transfer of the SE has used, so only the double spend shows. Both
// shops accept in good faith and renew; exactly one doubleSpend alert blames the thief's SE for the
// token's value, with the two transfers as evidence; the SE is revoked, and shop B, after its next
// sync, refuses the thief.
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

test('an extracted key spends again, at the other DCP, the token its chip spent: one doubleSpend for the token, the SE revoked and refused', async (t) => {
  const world = await startWorld(t, 'mds-e2e-extracted-double');
  const { thief, shopA, shopB } = world;
  await thief.app.load(thief.device.client(), 5_000n, key());

  const forge = newForge();
  const extracted = forge.extract(thief.device);
  assert.deepEqual(
    extracted.tokens.map((token) => token.value),
    [5_000n],
  );
  payCompleted(thief, shopA, 3_000n);
  // The chip's next counter, after its payment: the key signs under a counter of its own.
  const second = payWithKey(forge, extracted, shopB, 3_000n, thief.device.client().getData().counter);
  assert.deepEqual(
    [balanceOf(shopA), balanceOf(shopB)],
    [honestPayments.shopA + 3_000n, 3_000n],
    'both shops accepted in good faith',
  );
  await payAndRenewAfter(world);

  // The token spent twice, whole.
  await assertBlamedAndRefused(world, forge, extracted, {
    kind: 'doubleSpend',
    value: 5_000n,
    transferIds: [...chipTransferIds(thief), second],
  });
});
