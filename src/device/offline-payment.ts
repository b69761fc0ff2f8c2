// The offline payment driver (DESIGN §5): the terminal — the merchant phone for card→phone, the paying
// phone for phone→card and phone→phone — drives the four exchanges between its own SE and the other
// device over a link that may break at any byte. The terminal remembers how far it got; a re-tap
// resumes there, and because PAY and RECEIVE are idempotent a repeated step never debits or credits
// twice.
import { assert } from '../core/assert.ts';
import type { Bytes } from '../core/bytes.ts';
import { isPowerCut } from '../secure-element/store/faults.ts';
import { DevicePoweredOff, type Device } from './device.ts';
import { Link, LinkCut, type LinkOptions } from './link.ts';
import { SecureElementClient } from './se-client.ts';

export type Direction = 'cardToPhone' | 'phoneToCard' | 'phoneToPhone';
export type Step = 'request' | 'pay' | 'receive' | 'acknowledge' | 'done';

export type TapOutcome =
  | { readonly outcome: 'completed' }
  | { readonly outcome: 'interrupted'; readonly reason: 'linkCut' | 'powerCut'; readonly step: Step };

export class OfflinePayment {
  readonly payer: Device;
  readonly payee: Device;
  readonly amount: bigint;
  readonly direction: Direction;
  /** The phone whose app drives the exchanges. */
  readonly terminal: Device;
  readonly #advisoryTime: number;
  #request: Bytes | undefined;
  #bundle: Bytes | undefined;
  #receipt: Bytes | undefined;
  #acknowledged = false;
  /** The link of the last tap, for tests that measure its traffic. */
  lastLink: Link | undefined;

  constructor(payer: Device, payee: Device, amount: bigint, advisoryTime = 0) {
    this.payer = payer;
    this.payee = payee;
    this.amount = amount;
    this.#advisoryTime = advisoryTime;
    assert(
      payer.kind === 'phone' || payee.kind === 'phone',
      'two cards cannot pay each other: neither can drive',
    );
    this.direction =
      payer.kind === 'card' ? 'cardToPhone' : payee.kind === 'card' ? 'phoneToCard' : 'phoneToPhone';
    this.terminal = this.direction === 'cardToPhone' ? payee : payer;
  }

  /** Size of the bundle PAY returned (0 before PAY). */
  get bundleBytes(): number {
    return this.#bundle?.length ?? 0;
  }

  get step(): Step {
    if (this.#request === undefined) return 'request';
    if (this.#bundle === undefined) return 'pay';
    if (this.#receipt === undefined) return 'receive';
    return this.#acknowledged ? 'done' : 'acknowledge';
  }

  /**
   * One tap: powers up whatever lost power, opens a link to the other device (optionally one that
   * breaks after `cutAfterBytes`), and runs the remaining steps. A refusal by either SE throws
   * `SecureElementRefused`; a broken link or a power cut ends the tap as `interrupted`.
   */
  tap(options: LinkOptions = {}): TapOutcome {
    const remote = this.terminal === this.payer ? this.payee : this.payer;
    for (const device of [this.payer, this.payee]) if (!device.isPowered) device.powerUp();
    remote.endSession();
    this.terminal.endSession();
    const link = new Link(remote, options);
    this.lastLink = link;
    const remoteClient = new SecureElementClient((bytes) => link.transmit(bytes));
    const localClient = this.terminal.client();
    const payer = this.terminal === this.payer ? localClient : remoteClient;
    const payee = this.terminal === this.payee ? localClient : remoteClient;
    try {
      this.#request ??= payee.paymentRequest(this.amount);
      this.#bundle ??= payer.pay(this.#request, this.#advisoryTime);
      this.#receipt ??= payee.receive(this.#bundle);
      if (!this.#acknowledged) {
        payer.acknowledge(this.#receipt);
        this.#acknowledged = true;
      }
      return { outcome: 'completed' };
    } catch (error) {
      if (error instanceof LinkCut) {
        // The other device left the field: its chip's session (a chain or an answer half sent) ends
        // with the link, so its own app's next command starts clean (ISO 14443-4 deactivation).
        remote.endSession();
        return { outcome: 'interrupted', reason: 'linkCut', step: this.step };
      }
      if (isPowerCut(error) || error instanceof DevicePoweredOff)
        return { outcome: 'interrupted', reason: 'powerCut', step: this.step };
      throw error;
    }
  }
}
