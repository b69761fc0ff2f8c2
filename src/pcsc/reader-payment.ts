// The offline payment (DESIGN §5) driven by a terminal whose two devices sit in two PC/SC readers:
// for card→phone, the payer card on one reader and the merchant phone's secure element on the other.
// It is `OfflinePayment` (src/device/offline-payment.ts) with readers instead of a link: the terminal
// remembers how far it got, a tap that a reader failure interrupts ends as `interrupted`, and the next
// tap powers the card on again, SELECTs the applet afresh and resumes at the same step. PAY and
// RECEIVE are idempotent in the secure element, so a step repeated after a power-off never debits or
// credits twice.
import type { Bytes } from '../core/bytes.ts';
import { isCbdcError } from '../core/errors.ts';
import type { Step } from '../device/offline-payment.ts';
import { isPcscErrorCode } from './errors.ts';
import { ReaderClient } from './reader-client.ts';
import type { CardSlot } from './pcsc-terminal.ts';

export type ReaderTapOutcome =
  | { readonly outcome: 'completed' }
  | { readonly outcome: 'interrupted'; readonly step: Step; readonly code: string; readonly detail: string };

/** A failure of a reader or of the card in it, as opposed to a refusal by a secure element. */
function readerFailure(error: unknown): { code: string; detail: string } | undefined {
  if (!isCbdcError(error) || !isPcscErrorCode(error.code)) return undefined;
  if (error.code === 'pcscUnavailable' || error.code === 'readerNotFound') return undefined;
  return { code: error.code, detail: error.message };
}

export class ReaderPayment {
  readonly payer: CardSlot;
  readonly payee: CardSlot;
  readonly amount: bigint;
  readonly #advisoryTime: number;
  #request: Bytes | undefined;
  #bundle: Bytes | undefined;
  #receipt: Bytes | undefined;
  #acknowledged = false;

  constructor(payer: CardSlot, payee: CardSlot, amount: bigint, advisoryTime = 0) {
    this.payer = payer;
    this.payee = payee;
    this.amount = amount;
    this.#advisoryTime = advisoryTime;
  }

  get step(): Step {
    if (this.#request === undefined) return 'request';
    if (this.#bundle === undefined) return 'pay';
    if (this.#receipt === undefined) return 'receive';
    return this.#acknowledged ? 'done' : 'acknowledge';
  }

  /** Size of the bundle PAY returned (0 before PAY). */
  get bundleBytes(): number {
    return this.#bundle?.length ?? 0;
  }

  /**
   * One tap: powers on whichever card is off, SELECTs the applet on both, and runs the remaining
   * steps. A refusal by either secure element throws `SecureElementRefused`; a reader failure ends
   * the tap as `interrupted` at the step it reached.
   */
  async tap(): Promise<ReaderTapOutcome> {
    try {
      const payer = await this.#session(this.payer);
      const payee = await this.#session(this.payee);
      this.#request ??= await payee.paymentRequest(this.amount);
      this.#bundle ??= await payer.pay(this.#request, this.#advisoryTime);
      this.#receipt ??= await payee.receive(this.#bundle);
      if (!this.#acknowledged) {
        await payer.acknowledge(this.#receipt);
        this.#acknowledged = true;
      }
      return { outcome: 'completed' };
    } catch (error) {
      const failure = readerFailure(error);
      if (failure === undefined) throw error;
      return { outcome: 'interrupted', step: this.step, ...failure };
    }
  }

  async #session(slot: CardSlot): Promise<ReaderClient> {
    await slot.powerOn();
    const client = new ReaderClient(slot.transmit);
    // A new tap starts the applet afresh: no chain or answer of an interrupted tap survives it.
    await client.select();
    return client;
  }
}
