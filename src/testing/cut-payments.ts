// Payments broken by a cut link, for the recovery tests (docs/mds.md, "Recovery of value in flight"):
// the link between the two devices breaks at the one byte that leaves the value where the test wants
// it, and nobody taps again. The byte is found on copies of the two chips (a binary search: how far a
// tap gets grows with the bytes the link lets through), then the real devices take the same tap.
//   - `undelivered`: the link breaks as RECEIVE starts: the payer signed and logged the payment
//     pending, the payee never saw it — value in flight, refundable once the payee's sync expires
//     the challenge;
//   - `unacknowledged`: the link breaks in RECEIVE's answer: the payee stored the payment, the payer
//     never got the receipt and still logs it pending — delivered, never to be refunded;
//   - `completed`: no cut.
// Test support only (import-rules.test.ts).
import assert from 'node:assert/strict';
import { OfflinePayment, type Step, type TapOutcome } from '../device/offline-payment.ts';
import type { Device } from '../device/device.ts';
import { cloneDevice, publicData } from './devices.ts';

export type PaymentCut = 'completed' | 'undelivered' | 'unacknowledged';
export const paymentCuts: readonly PaymentCut[] = ['completed', 'undelivered', 'unacknowledged'];

const stepRank: Readonly<Record<Step, number>> = { request: 0, pay: 1, receive: 2, acknowledge: 3, done: 4 };
/** A tap's whole traffic is far below this (a bundle is at most 16 KiB per RECEIVE). */
const tapBytesMax = 1 << 20;

function reached(outcome: TapOutcome, payment: OfflinePayment): number {
  return outcome.outcome === 'completed' ? stepRank.done : stepRank[payment.step];
}

/** The smallest cut after which a tap of copies of the two devices gets to `rank` or further. */
function firstCutReaching(payer: Device, payee: Device, amount: bigint, rank: number): number {
  let low = 0;
  let high = tapBytesMax;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const payment = new OfflinePayment(cloneDevice(payer), cloneDevice(payee), amount);
    if (reached(payment.tap({ cutAfterBytes: middle }), payment) >= rank) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Pays `amount` from `payer` to `payee` (phones), broken as `cut` says; no re-tap follows. */
export function payWithCut(payer: Device, payee: Device, amount: bigint, cut: PaymentCut): void {
  const payeeBefore = publicData(payee).balance;
  const payment = new OfflinePayment(payer, payee, amount);
  if (cut === 'completed') {
    assert.deepEqual(payment.tap(), { outcome: 'completed' });
    return;
  }
  const cutAfterBytes =
    cut === 'undelivered'
      ? firstCutReaching(payer, payee, amount, stepRank.receive)
      : firstCutReaching(payer, payee, amount, stepRank.acknowledge) - 1;
  const outcome = payment.tap({ cutAfterBytes });
  assert.deepEqual(outcome, { outcome: 'interrupted', reason: 'linkCut', step: 'receive' });
  assert.equal(publicData(payer).pendingCount > 0, true, 'the payer logs the payment pending');
  const credited = publicData(payee).balance === payeeBefore + amount;
  assert.equal(credited, cut === 'unacknowledged', `${cut}: the payee's balance`);
}
