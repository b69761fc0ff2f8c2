// The fake-funding and revoked-signer detectors end to end against an extracted key (not a stolen
// DCP key, not the chip itself), on the whole system as real processes (extracted-key.ts), the DCPs
// pushing the `lastHop` verification policy (a payee verifies only the paying transfer and its payer's
// certificate; docs/protocol.md §4), which is what lets a made-up ancestry reach an honest payee:
//   - the key invents a funding token: an issuance that names bank-a as its DCP but that bank-a never
//     signed, issued or reported, paying the thief's SE; the key spends it to shop B (bank-b), which
//     accepts in good faith and renews. Exactly one fakeFunding alert blames the thief's SE for the
//     value its transfer created (the whole issuance: the payment and the change back to itself),
//     with the transfer and the made-up issuance as evidence; the SE is revoked, and shop B, after its
//     next sync, refuses the thief;
//   - the key keeps paying after the revocation, from the change, to shop A, which has not synced
//     since: shop A accepts and renews, and the MDS raises one revokedSigner alert for what the key
//     signed after the deny list named its SE, waiting for an analyst (docs/mds.md, "Detectors").
// Honest payments and renewals around them raise nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { eventually } from '../../src/testing/eventually.ts';
import { mdsParticipant, seIdOf } from '../../src/testing/system-e2e.ts';
import {
  assertBlamedAndRefused,
  balanceOf,
  honestPayments,
  newForge,
  payAndRenewAfter,
  payBundleWithKey,
  payWithKey,
  renew,
  startWorld,
  transferIdOf,
} from './extracted-key.ts';

test('an extracted key spends a funding token it made up, then pays after its revocation: one fakeFunding for the value created, the SE revoked and refused, one revokedSigner', async (t) => {
  const world = await startWorld(t, 'mds-e2e-extracted-funding', { verify: 'last-hop' });
  const { thief, shopA, shopB } = world;
  const bankA = world.system.dcps.get('bank-a');
  assert.ok(bankA !== undefined, 'the system runs bank-a');
  const bankAId = fromHex(bankA.dcpId);
  assert.ok(bankAId !== undefined, 'a DCP id is hex');

  const forge = newForge();
  const extracted = forge.extract(thief.device);
  assert.deepEqual(extracted.tokens, [], 'the thief loaded nothing: every value it spends is made up');
  // Posing as bank-a, whose key it does not have: the signature is the forger's own.
  const made = forge.issue(extracted.key.id, [2_500n], forge.fakeDcp(bankAId));
  const issuance = made[0]?.history[0];
  assert.ok(issuance?.kind === 'issuance', 'the made-up token comes straight from its issuance');
  const issuanceId = toHex(issuance.id);
  const counter = thief.device.client().getData().counter;
  const paid = payBundleWithKey(forge, { ...extracted, tokens: made }, shopB, 2_000n, counter);
  const funded = transferIdOf(paid);
  assert.deepEqual(
    [balanceOf(shopA), balanceOf(shopB)],
    [honestPayments.shopA, 2_000n],
    'shop B accepted in good faith',
  );
  await payAndRenewAfter(world);

  // The value the transfer created: 2,000 to shop B and 500 back to the thief, none of it backed.
  const [, change] = forge.intercept(paid);
  assert.ok(change !== undefined && change.value === 500n, 'the change of the made-up token');
  const thiefChange = { ...extracted, tokens: [change] };
  await assertBlamedAndRefused(world, forge, thiefChange, {
    kind: 'fakeFunding',
    value: 2_500n,
    transferIds: [funded],
    issuanceIds: [issuanceId],
  });

  // Shop A last synced before the revocation: its deny list does not name the thief yet.
  const late = payWithKey(forge, thiefChange, shopA, 300n, counter + 1);
  assert.equal(balanceOf(shopA), honestPayments.shopA + 300n, 'shop A accepted in good faith');
  await renew(world, shopA);
  const analyst = await mdsParticipant(world.system, 'analyst');
  const revoked = await eventually('the revokedSigner alert', async () =>
    (await analyst.listAlerts()).alerts.find((alert) => alert.kind === 'revokedSigner'),
  );
  assert.deepEqual(
    [revoked.seId, revoked.value, revoked.evidenceCount, revoked.status],
    [seIdOf(thief.device), 300n, 1, 'open'],
    'what the key signed after the deny list named it; its policy waits for an analyst',
  );
  assert.deepEqual(
    (await analyst.evidence(revoked.id)).evidence.map((item) => [item.kind, item.entryId]),
    [['transfer', late]],
  );
  const alerts = (await analyst.listAlerts()).alerts;
  assert.deepEqual(
    alerts.map((alert) => [alert.kind, alert.seId, alert.value]).sort(),
    [
      ['fakeFunding', seIdOf(thief.device), 2_500n],
      ['revokedSigner', seIdOf(thief.device), 300n],
    ],
    'the fake funding unchanged by shop A carrying it again; no false alert',
  );
});
