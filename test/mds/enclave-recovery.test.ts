// Recovery of value in flight in the enclave (docs/mds.md, "Recovery of value in flight"): payments
// cut after PAY, with no re-tap, between real secure elements; their sealed uploads ingested in
// either order. Exactly the undelivered payments are refunded, once; a payment the payee stored
// (even without the payer's acknowledgement) never is; before the payee's upload it waits in flight.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { engines } from '../../src/testing/scratch.ts';
import { MdsUploads, scratchEnclave, type RelayedUpload } from '../../src/testing/mds-uploads.ts';
import { payWithCut, paymentCuts, type PaymentCut } from '../../src/testing/cut-payments.ts';
import { refundDecisionId } from '../../src/mds/enclave/recovery.ts';
import { toHex } from '../../src/core/bytes.ts';
import type { Engine } from '../../src/storage/database.ts';
import type { EnclaveRecoveries } from '../../src/mds/channel/protocol.ts';
import { decodeCall } from '../../src/mds/channel/codec.ts';
import { isCbdcError } from '../../src/core/errors.ts';

const fixture = new MdsUploads();

/** Alice pays Bob three times: one delivered, one cut before RECEIVE, one cut in RECEIVE's answer. */
function threePayments(): { payer: RelayedUpload; payee: RelayedUpload; payerId: string } {
  const alice = fixture.pki.newDevice('phone', 'alice');
  const bob = fixture.pki.newDevice('phone', 'bob');
  fixture.pki.load(alice, 5_000n);
  payWithCut(alice, bob, 500n, 'completed');
  payWithCut(alice, bob, 300n, 'undelivered');
  payWithCut(alice, bob, 400n, 'unacknowledged');
  return { payer: fixture.sync(alice), payee: fixture.sync(bob), payerId: fixture.seIdOf(alice) };
}

function summary(view: EnclaveRecoveries) {
  return {
    inFlight: [view.inFlight.count, view.inFlight.value],
    inFlightValues: view.inFlight.transfers.map((transfer) => transfer.value).sort(),
    refunds: [view.refunds.count, view.refunds.value, view.refunds.executedCount, view.refunds.executedValue],
  };
}

for (const engine of engines) {
  void describe(`recovery of value in flight (${engine})`, () => {
    const payments = threePayments();

    for (const order of ['payer first', 'payee first'] as const) {
      void test(`${order}: only the undelivered payment is refunded, once, to the payer's DCP`, async () => {
        const enclave = await scratchEnclave(fixture, engine);
        try {
          const [first, second] =
            order === 'payer first' ? [payments.payer, payments.payee] : [payments.payee, payments.payer];
          await enclave.service.storeUpload(fixture.request(first, 1));
          await enclave.service.ingestAll(10);
          const between = await enclave.service.recoveries();
          if (order === 'payer first')
            assert.deepEqual(summary(between), {
              inFlight: [2, 700n],
              inFlightValues: [300n, 400n],
              refunds: [0, 0n, 0, 0n],
            });
          else
            assert.deepEqual(summary(between), {
              inFlight: [0, 0n],
              inFlightValues: [],
              refunds: [0, 0n, 0, 0n],
            });
          await enclave.service.storeUpload(fixture.request(second, 2));
          await enclave.service.storeUpload(fixture.request(first, 3)); // delivered again: no effect
          await enclave.service.ingestAll(10);
          const after = await enclave.service.recoveries();
          assert.deepEqual(summary(after), {
            inFlight: [0, 0n],
            inFlightValues: [],
            refunds: [1, 300n, 0, 0n],
          });
          const decision = after.refunds.decisions[0]!;
          assert.equal(decision.payerSeId, payments.payerId);
          assert.equal(decision.decisionId, refundDecisionId(fixture.pki.verifier, decision.transferId));
          assert.equal(decision.executedAtMs, null);

          const orders = await enclave.service.refundsFor(fixture.dcpId, 0, 256);
          assert.deepEqual(
            orders.refunds.map((refund) => [refund.decisionId, refund.seId, refund.value]),
            [[decision.decisionId, payments.payerId, 300n]],
          );
          assert.deepEqual(await enclave.service.refundsFor(toOtherDcp(), 0, 256), {
            refunds: [],
            sequence: 0,
          });
          assert.equal(
            await enclave.service.executeRefund(toOtherDcp(), decision.decisionId, 7_000),
            undefined,
          );
          assert.deepEqual(await enclave.service.executeRefund(fixture.dcpId, decision.decisionId, 7_000), {
            decisionId: decision.decisionId,
            executedAtMs: 7_000,
          });
          // A replay answers the first execution; an executed refund is no longer listed for the DCP.
          assert.deepEqual(await enclave.service.executeRefund(fixture.dcpId, decision.decisionId, 9_000), {
            decisionId: decision.decisionId,
            executedAtMs: 7_000,
          });
          assert.deepEqual((await enclave.service.refundsFor(fixture.dcpId, 0, 256)).refunds, []);
          assert.deepEqual(summary(await enclave.service.recoveries()).refunds, [1, 300n, 1, 300n]);
        } finally {
          await enclave.close();
        }
      });
    }
  });
}

function toOtherDcp(): string {
  return toHex(fixture.pki.dcps[1]!.id);
}

// The property: random payments between four phones, each cut at random; every phone syncs once; the
// uploads are delivered in a random order with duplicates and ingested at random points. Every
// undelivered payment is refunded exactly once and nothing else is.
interface Economy {
  readonly uploads: readonly RelayedUpload[];
  /** `payer id/value` of each undelivered payment, sorted. */
  readonly undelivered: readonly string[];
}

const paymentPlan = fc.array(
  fc.record({
    payer: fc.nat({ max: 3 }),
    payee: fc.nat({ max: 2 }),
    cut: fc.constantFrom<PaymentCut>(...paymentCuts),
  }),
  { minLength: 2, maxLength: 6 },
);

function economy(plan: readonly { payer: number; payee: number; cut: PaymentCut }[]): Economy {
  const phones = ['p0', 'p1', 'p2', 'p3'].map((name) => fixture.pki.newDevice('phone', name));
  for (const phone of phones) fixture.pki.load(phone, 4_000n);
  const undelivered: string[] = [];
  plan.forEach((payment, index) => {
    const payer = phones[payment.payer]!;
    // Never to itself: the payee is one of the three others.
    const payee = phones[(payment.payer + 1 + payment.payee) % phones.length]!;
    const value = BigInt(10 + index);
    payWithCut(payer, payee, value, payment.cut);
    if (payment.cut === 'undelivered') undelivered.push(`${fixture.seIdOf(payer)}/${value}`);
  });
  return { uploads: phones.map((phone) => fixture.sync(phone)), undelivered: undelivered.sort() };
}

interface Delivery {
  readonly order: readonly number[];
  readonly again: readonly (readonly [number, number])[];
  readonly ingestEvery: number;
}

const deliveries: fc.Arbitrary<Delivery> = fc.record({
  order: fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }),
  again: fc.array(fc.tuple(fc.nat({ max: 3 }), fc.nat()), { maxLength: 4 }),
  ingestEvery: fc.integer({ min: 1, max: 4 }),
});

async function refundsAfter(engine: Engine, world: Economy, delivery: Delivery) {
  const sequence = [...delivery.order];
  for (const [index, place] of delivery.again) sequence.splice(place % (sequence.length + 1), 0, index);
  const enclave = await scratchEnclave(fixture, engine);
  try {
    for (const [position, index] of sequence.entries()) {
      await enclave.service.storeUpload(fixture.request(world.uploads[index]!, position));
      if ((position + 1) % delivery.ingestEvery === 0) await enclave.service.ingestAll(sequence.length);
    }
    await enclave.service.ingestAll(sequence.length);
    const view = await enclave.service.recoveries();
    assert.equal(view.inFlight.count, 0, 'every payee has synced: nothing waits');
    return view.refunds.decisions.map((decision) => `${decision.payerSeId}/${decision.value}`).sort();
  } finally {
    await enclave.close();
  }
}

const runsByEngine: Readonly<Record<Engine, number>> = { sqlite: 12, postgres: 3 };

for (const engine of engines) {
  void test(`every undelivered payment is refunded exactly once, whatever the order (${engine})`, async () => {
    let refundsSeen = 0;
    await fc.assert(
      fc.asyncProperty(paymentPlan, deliveries, deliveries, async (plan, one, other) => {
        const world = economy(plan);
        const first = await refundsAfter(engine, world, one);
        assert.deepEqual(first, world.undelivered);
        assert.deepEqual(await refundsAfter(engine, world, other), world.undelivered);
        refundsSeen += first.length;
      }),
      { numRuns: runsByEngine[engine] },
    );
    assert.ok(refundsSeen > 0, 'some run refunded something: the property did not pass vacuously');
  });
}

void test('the channel decodes the recovery calls strictly, naming the field', () => {
  const dcpId = fixture.dcpId;
  const decisionId = 'ab'.repeat(32);
  assert.deepEqual(decodeCall({ method: 'refundsFor', dcpId, after: 3, limit: 256 }), {
    method: 'refundsFor',
    dcpId,
    after: 3,
    limit: 256,
  });
  assert.deepEqual(decodeCall({ method: 'recoveries' }), { method: 'recoveries' });
  const refusals: [unknown, string][] = [
    [{ method: 'refundsFor', dcpId: 'AB'.repeat(16), after: 0, limit: 1 }, 'refundsFor.dcpId'],
    [{ method: 'refundsFor', dcpId, after: -1, limit: 1 }, 'refundsFor.after'],
    [{ method: 'refundsFor', dcpId, after: 0, limit: 257 }, 'refundsFor.limit'],
    [{ method: 'executeRefund', dcpId, decisionId: 'ab', executedAtMs: 1 }, 'executeRefund.decisionId'],
    [{ method: 'executeRefund', dcpId, decisionId, executedAtMs: 1.5 }, 'executeRefund.executedAtMs'],
  ];
  for (const [call, field] of refusals)
    assert.throws(
      () => decodeCall(call),
      (error: unknown) =>
        isCbdcError(error) && error.code === 'fieldInvalid' && (error.detail ?? '').startsWith(field),
      field,
    );
});
