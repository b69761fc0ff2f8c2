// Recovery of value in flight end to end, through the whole system as real processes (ledger,
// directory, MDS API and enclave, two DCPs forwarding to it): offline payments are cut after PAY and
// nobody taps again. Alice (bank-a) pays Bob (bank-b) 300 that never arrives and Carol (bank-a) 400
// that Carol stores without Alice getting the receipt; Alice renews before her payees. Dave (bank-a)
// pays Erin (bank-b) 250 that never arrives; Erin renews before Dave. The MDS refunds exactly the two
// undelivered payments, once, to the payers' DCP; each payer's next renewal brings the refund, and
// Alice spends it offline. Every DCP's pool still equals what it has outstanding.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { toHex } from '../../src/core/bytes.ts';
import { admin, createBank, key, onboard, type Holder } from '../../src/demo/economy.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import { LedgerClient } from '../../src/ledger/api/client.ts';
import type { RecoveriesView } from '../../src/mds/api/types.ts';
import { MemoryMedium } from '../../src/secure-element/store/medium.ts';
import type { RunningSystem } from '../../src/system/launcher.ts';
import { payWithCut } from '../../src/testing/cut-payments.ts';
import { eventually } from '../../src/testing/eventually.ts';
import { mdsParticipant, startScratchSystem, type ScratchSystem } from '../../src/testing/system-e2e.ts';

let scratch: ScratchSystem;
let system: RunningSystem;

before(async () => {
  scratch = await startScratchSystem('recovery-e2e');
  system = scratch.system;
});

after(() => scratch.stop());

const seIdOf = (holder: Holder) => toHex(holder.device.client().getData().seId);
const balanceOf = (holder: Holder) => holder.device.client().getData().balance;
const renew = (holder: Holder) => holder.app.renew(holder.device.client(), key());

async function assertPoolsHold(): Promise<void> {
  for (const [name, dcp] of system.dcps) {
    const supply = await admin(dcp).supply();
    assert.equal(supply.poolBalance, supply.outstanding, `${name}: pool = issued − retired`);
  }
}

test('payments cut after PAY: exactly the undelivered ones are refunded, once, and the refund is spent offline', async () => {
  const operator = new LedgerClient({ baseUrl: system.ledgerUrl, apiKey: system.ledgerOperatorKey });
  const bank = await createBank(system, operator);
  const media = () => new MemoryMedium();
  const [alice, bob, carol, dave, erin] = await Promise.all([
    onboard(system, bank, media, 'Alice', 'phone', 'bank-a', 10_000n),
    onboard(system, bank, media, 'Bob', 'phone', 'bank-b', 0n),
    onboard(system, bank, media, 'Carol', 'phone', 'bank-a', 0n),
    onboard(system, bank, media, 'Dave', 'phone', 'bank-a', 10_000n),
    onboard(system, bank, media, 'Erin', 'phone', 'bank-b', 0n),
  ]);
  await alice.app.load(alice.device.client(), 5_000n, key());
  await dave.app.load(dave.device.client(), 1_000n, key());

  payWithCut(alice.device, bob.device, 300n, 'undelivered');
  payWithCut(alice.device, carol.device, 400n, 'unacknowledged');
  payWithCut(dave.device, erin.device, 250n, 'undelivered');
  assert.deepEqual(
    [balanceOf(alice), balanceOf(bob), balanceOf(carol), balanceOf(dave), balanceOf(erin)],
    [4_300n, 0n, 400n, 750n, 0n],
  );

  const analyst = await mdsParticipant(system, 'analyst');

  // Alice renews first: her two pending payments wait, in flight, until their payees upload.
  await renew(alice);
  const waiting = await eventually('alice in flight', async () => {
    const view = await analyst.recoveries();
    return view.inFlight.count === 2 ? view : undefined;
  });
  assert.deepEqual(
    waiting.inFlight.transfers.map((transfer) => `${transfer.payerSeId} ${transfer.value}`).sort(),
    [`${seIdOf(alice)} 300`, `${seIdOf(alice)} 400`],
  );
  assert.equal(waiting.refunds.count, 0);
  // Erin renews before Dave: her upload expires the challenge before the payment is even known.
  await renew(erin);
  await renew(bob);
  await renew(carol);
  await renew(dave);

  const settled = await eventually('both refunds executed', async () => {
    const view = await analyst.recoveries();
    return view.refunds.executedCount === 2 ? view : undefined;
  });
  const refunds = (view: RecoveriesView) =>
    view.refunds.decisions.map((decision) => `${decision.payerSeId} ${decision.value}`).sort();
  assert.deepEqual(refunds(settled), [`${seIdOf(alice)} 300`, `${seIdOf(dave)} 250`].sort());
  assert.deepEqual(
    [settled.inFlight.count, settled.inFlight.value, settled.refunds.value, settled.refunds.executedValue],
    [0, 0n, 550n, 550n],
    "nothing waits; Carol's stored payment is never refunded",
  );

  // Each payer's next renewal brings its refund; later ones bring nothing more.
  assert.equal(await renew(alice), 4_600n);
  assert.equal(await renew(dave), 1_000n);
  assert.equal(await renew(alice), 4_600n);
  await assertPoolsHold();

  // Alice spends the refunded value offline: 4,500 is more than she held without it.
  assert.deepEqual(new OfflinePayment(alice.device, carol.device, 4_500n).tap(), { outcome: 'completed' });
  assert.deepEqual([balanceOf(alice), balanceOf(carol)], [100n, 4_900n]);
  await renew(carol);
  await renew(alice);

  // Once: more passes and more uploads decide nothing again, and no alert was raised.
  await sleep(3_000);
  const final = await analyst.recoveries();
  assert.deepEqual(refunds(final), refunds(settled));
  assert.equal(final.refunds.executedCount, 2);
  assert.deepEqual((await analyst.listAlerts()).alerts, [], 'refunds raise no fraud alert');
  await assertPoolsHold();
});
