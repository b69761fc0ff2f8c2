// One simulated offline payment: a real `OfflinePayment` between two emulated SEs, every step an APDU
// exchange. The link may break at a byte the seed picks; a broken tap is tapped again at the retap
// rate, or left in flight. What moved is read from the two chips themselves (their balances before
// and after), not inferred from how far the terminal got: a link cut inside PAY's answer leaves the
// payer debited while the terminal still stands at PAY.
import { assert } from '../core/assert.ts';
import { OfflinePayment } from '../device/offline-payment.ts';
import { SecureElementRefused } from '../device/se-client.ts';
import type { SeededRandom } from '../demo/seeded-random.ts';
import { ratePerMilleScale, type Scenario } from './scenario.ts';
import { add, type Tally } from './tally.ts';
import type { Device } from '../device/device.ts';

/**
 * A broken link breaks after a uniform byte count below this: about the size of a first-hop payment
 * (request, bundle, receipt), so a cut falls inside any of the four exchanges.
 */
export const cutBytesMax = 1_600;

/**
 * The SE refusals that a sync clears (each code's meaning says "renewal required" or "sync
 * required", or it is a table that BEGIN SYNC empties): the refusing device renews.
 */
export const renewalRequiredCodes: ReadonlySet<string> = new Set([
  'generationLimitExceeded',
  'historyBytesLimitExceeded',
  'inputsLimitExceeded',
  'offlinePaymentsLimitExceeded',
  'challengesLimitExceeded',
  'pendingLogFull',
  'issuanceRecordFull',
  'storeFull',
]);

/** Whoever holds a device: an agent of the world, or a bare device in a test. */
export interface Party {
  readonly device: Device;
}

/** A payment an SE refused, and which side refused it. */
export interface Refusal<P extends Party> {
  readonly code: string;
  readonly refusedBy: P;
}

function balanceOf(party: Party): bigint {
  return party.device.client().getData().balance;
}

/** The side whose SE answered an instruction: PAY and ACKNOWLEDGE go to the payer. */
function refuserOf<P extends Party>(error: SecureElementRefused, payer: P, payee: P): P {
  return error.instruction === 'pay' || error.instruction === 'acknowledge' ? payer : payee;
}

/**
 * Taps until the payment completes, is refused, or is left in flight; counts it in `tally` and
 * returns the refusal, if any, for the caller to renew the refusing device.
 */
export function payOffline<P extends Party>(
  scenario: Scenario,
  random: SeededRandom,
  tally: Tally,
  payer: P,
  payee: P,
  amount: bigint,
  /** The payer's phone clock, seconds, signed into the transfer as its advisory time (honest: 0). */
  advisoryTime = 0,
): Refusal<P> | undefined {
  const payment = new OfflinePayment(payer.device, payee.device, amount, advisoryTime);
  const payerBefore = balanceOf(payer);
  const payeeBefore = balanceOf(payee);
  let refusal: Refusal<P> | undefined;
  try {
    const cut = random.chance(scenario.interruptRatePerMille, ratePerMilleScale);
    const outcome = payment.tap(cut ? { cutAfterBytes: random.below(cutBytesMax) } : {});
    if (outcome.outcome === 'interrupted') {
      tally.interruptedTaps++;
      if (random.chance(scenario.retapRatePerMille, ratePerMilleScale)) {
        // A tap without a cut either completes or is refused: one re-tap is enough.
        assert(payment.tap().outcome === 'completed', 'a tap over an unbroken link completes');
        tally.retapped++;
      }
    }
  } catch (error) {
    if (!(error instanceof SecureElementRefused) || error.code === undefined) throw error;
    tally.refused(error.code);
    refusal = { code: error.code, refusedBy: refuserOf(error, payer, payee) };
  }
  // The tap is over: the card leaves the field, the phones end their sessions, so a chain of APDUs a
  // broken link left half-sent does not hang over the devices' next commands.
  payer.device.endSession();
  payee.device.endSession();
  const debited = payerBefore - balanceOf(payer);
  const credited = balanceOf(payee) - payeeBefore;
  assert(debited === 0n || debited === amount, 'a payer is debited the whole amount or nothing');
  assert(credited === 0n || credited === debited, 'a payee is credited only what its payer paid');
  if (credited === amount) add(tally.payments[payment.direction], amount);
  else if (refusal === undefined) add(tally.leftInFlight, debited);
  tally.inFlight += debited - credited;
  return refusal;
}
