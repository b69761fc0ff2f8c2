// Tear safety, exhaustively, for one payment in each direction (DESIGN §5, §10 invariant 2): the link
// is cut after every byte of every APDU exchange, and the power of each SE is cut at every persistent
// write. After each interruption: (b) without a re-tap, payer + in flight + payee = before and the
// payee is never credited twice; (a) a re-tap always completes with exact balances.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestPki } from '../testing/test-pki.ts';
import { cloneDevice, publicData } from '../testing/devices.ts';
import { FaultyMedium } from '../secure-element/store/faults.ts';
import { OfflinePayment } from './offline-payment.ts';
import type { Device } from './device.ts';
import type { SecureElementKind } from '../core/certificate.ts';
import type { Medium } from '../secure-element/store/medium.ts';

const amount = 1_234n;
const payerStart = 10_000n;
const payeeStart = 500n;

interface World {
  readonly payer: Device;
  readonly payee: Device;
}

/** Personalises and funds a payer and a payee once; each run replays from copies of their memory. */
function makeTemplate(payerKind: SecureElementKind, payeeKind: SecureElementKind): () => World {
  const pki = new TestPki();
  const payer = pki.newDevice(payerKind, 'payer');
  const payee = pki.newDevice(payeeKind, 'payee');
  pki.load(payer, payerStart);
  pki.load(payee, payeeStart);
  return () => ({ payer: cloneDevice(payer), payee: cloneDevice(payee) });
}

/** Without a re-tap: exactly one of nothing / in flight / delivered, never a double credit. */
function assertConserved(world: World, where: string): void {
  const payer = publicData(world.payer);
  const payee = publicData(world.payee);
  const debited = payer.balance === payerStart - amount;
  const credited = payee.balance === payeeStart + amount;
  assert.ok(payer.balance === payerStart || debited, `${where}: payer balance ${payer.balance}`);
  assert.ok(payee.balance === payeeStart || credited, `${where}: payee balance ${payee.balance}`);
  if (!debited) {
    assert.equal(payee.balance, payeeStart, `${where}: credited without a debit`);
    assert.equal(payer.pendingCount, 0, `${where}: pending without a debit`);
  } else if (!credited) {
    // In flight: the pending log holds the value that left the payer.
    assert.equal(payer.pendingCount, 1, `${where}: debited but nothing pending and nothing delivered`);
  }
  assert.equal(
    payer.balance + payee.balance + (debited && !credited ? amount : 0n),
    payerStart + payeeStart,
    where,
  );
}

function assertCompleted(world: World, where: string): void {
  const payer = publicData(world.payer);
  const payee = publicData(world.payee);
  assert.equal(payer.balance, payerStart - amount, `${where}: payer`);
  assert.equal(payee.balance, payeeStart + amount, `${where}: payee`);
  assert.equal(payer.pendingCount, 0, `${where}: pending`);
  assert.equal(payer.counter, 1, `${where}: payer signed one transfer`);
  assert.equal(payee.counter, 1, `${where}: payee signed one receipt`);
}

function retapUntilDone(payment: OfflinePayment, where: string): void {
  const outcome = payment.tap();
  assert.deepEqual(outcome, { outcome: 'completed' }, `${where}: re-tap`);
}

const directions = [
  ['cardToPhone', 'card', 'phone'],
  ['phoneToCard', 'phone', 'card'],
  ['phoneToPhone', 'phone', 'phone'],
] as const;

for (const [direction, payerKind, payeeKind] of directions) {
  const template = makeTemplate(payerKind, payeeKind);

  test(`${direction}: link cut after every byte of every exchange`, () => {
    const clean = template();
    const probe = new OfflinePayment(clean.payer, clean.payee, amount);
    assert.deepEqual(probe.tap(), { outcome: 'completed' });
    const totalBytes = probe.lastLink!.bytesTransferred;
    assert.ok(totalBytes > 500, `a payment moves ${totalBytes} bytes`);
    for (let cut = 0; cut < totalBytes; cut++) {
      const world = template();
      const payment = new OfflinePayment(world.payer, world.payee, amount);
      const outcome = payment.tap({ cutAfterBytes: cut });
      assert.equal(outcome.outcome, 'interrupted', `cut after ${cut} bytes`);
      // Each device's own app still talks to its chip, with no session left over from the tap.
      for (const device of [world.payer, world.payee]) device.client().getData();
      assertConserved(world, `cut after ${cut} bytes, no re-tap`);
      retapUntilDone(payment, `cut after ${cut} bytes`);
      assertCompleted(world, `cut after ${cut} bytes, re-tapped`);
    }
  });

  for (const side of ['payer', 'payee'] as const) {
    test(`${direction}: ${side} power cut at every persistent write, torn or not`, () => {
      const writes = countWrites(template, side);
      assert.ok(writes >= 3, `${side} makes ${writes} physical writes`);
      for (let cutAtWrite = 0; cutAtWrite < writes; cutAtWrite++) {
        for (const tear of [
          undefined,
          { kind: 'prefix', bytes: 3 },
          { kind: 'garbage', seed: cutAtWrite },
        ] as const) {
          const where = `${side} write ${cutAtWrite} ${tear?.kind ?? 'clean'} cut`;
          const world = template();
          const device = world[side];
          const memory = device.medium;
          device.powerUp(
            new FaultyMedium(memory, tear === undefined ? { cutAtWrite } : { cutAtWrite, tear }),
          );
          const payment = new OfflinePayment(world.payer, world.payee, amount);
          const outcome = payment.tap();
          assert.equal(outcome.outcome, 'interrupted', where);
          // Power comes back on the same memory: the journal recovers before or after the command.
          device.powerUp(memory);
          assertConserved(world, `${where}, no re-tap`);
          retapUntilDone(payment, where);
          assertCompleted(world, `${where}, re-tapped`);
        }
      }
    });
  }
}

/** Physical writes one side makes during a whole clean payment. */
function countWrites(template: () => World, side: 'payer' | 'payee'): number {
  const world = template();
  const memory: Medium = world[side].medium;
  const counting = new FaultyMedium(memory);
  world[side].powerUp(counting);
  assert.deepEqual(new OfflinePayment(world.payer, world.payee, amount).tap(), { outcome: 'completed' });
  return counting.writesPerformed;
}
