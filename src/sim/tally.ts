// What the simulator did, counted as it goes: the raw figures of the report (report.ts). Only counts
// and minor units: no ids, times or URLs, so the same scenario gives the same tally.
import type { Direction } from '../device/offline-payment.ts';

export interface CountAndValue {
  count: number;
  /** Minor units. */
  value: bigint;
}

export function countAndValue(): CountAndValue {
  return { count: 0, value: 0n };
}

export function add(figure: CountAndValue, value: bigint): void {
  figure.count++;
  figure.value += value;
}

/** Why a device renewed. */
export type RenewalReason = 'refusedUntilRenewed' | 'paymentCount' | 'creditWaiting' | 'endOfDay';

export class Tally {
  readonly payments: Record<Direction, CountAndValue> = {
    cardToPhone: countAndValue(),
    phoneToCard: countAndValue(),
    phoneToPhone: countAndValue(),
  };
  /** Taps whose link broke before the payment was done. */
  interruptedTaps = 0;
  /** Broken payments tapped again, and completed. */
  retapped = 0;
  /** Broken payments never tapped again, and the value their payers lost to them. */
  readonly leftInFlight = countAndValue();
  /** Payments an SE refused, by the project error code it answered with. */
  readonly refusals = new Map<string, number>();
  readonly loads = countAndValue();
  readonly renewals: Record<RenewalReason, number> = {
    refusedUntilRenewed: 0,
    paymentCount: 0,
    creditWaiting: 0,
    endOfDay: 0,
  };
  readonly unloads = countAndValue();
  readonly transfers = countAndValue();
  /**
   * Renewals, unloads and transfers of honest devices their DCP refused because the MDS did not
   * confirm the value's backing: value forged upstream that reached an honest payee (day.ts).
   */
  readonly unbacked = { renewals: 0, unloads: countAndValue(), transfers: countAndValue() };
  /** Value payers' SEs paid out that no payee's SE stored: in flight. */
  inFlight = 0n;
  /** Renewals, unloads and transfers the DCPs answered: each stored one upload for the MDS. */
  settles = 0;
  /** DCP-days out (outages.ts), and the loads, renewals, unloads and transfers they deferred. */
  outages = 0;
  deferred = 0;

  refused(code: string): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }
}
