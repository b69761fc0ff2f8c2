// A link between a terminal (reader, phone app) and a device's card transport that can break after
// any byte, to test that every exchange survives a torn tap (DESIGN.md §5).
//
// Bytes are counted in the order they travel: the command terminal → device, then the response
// device → terminal. A command is delivered whole or not at all, because contactless frames carry a
// CRC (ISO 14443-3) and a device never acts on a partial APDU; a response cut short is lost whole
// for the same reason. So a cut within the command means the device did nothing, and a cut within
// the response means the device did the work but the terminal never learns the answer.
import { assert } from '../core/assert.ts';

/** The link broke: the terminal cannot tell whether its last command was processed. */
export class LinkCut extends Error {
  override readonly name = 'LinkCut';
}

export interface LinkTarget {
  transmit(commandBytes: Uint8Array): Uint8Array;
}

export interface LinkOptions {
  /** Bytes that get through before the link breaks; absent: it breaks only on `cut()`. */
  readonly cutAfterBytes?: number;
}

export class Link {
  readonly #target: LinkTarget;
  readonly #cutAfterBytes: number;
  #bytesTransferred = 0;
  #isCut = false;

  constructor(target: LinkTarget, options: LinkOptions = {}) {
    const cutAfterBytes = options.cutAfterBytes ?? Number.POSITIVE_INFINITY;
    assert(
      cutAfterBytes === Number.POSITIVE_INFINITY ||
        (Number.isSafeInteger(cutAfterBytes) && cutAfterBytes >= 0),
      'cutAfterBytes must be a whole number of bytes',
    );
    this.#target = target;
    this.#cutAfterBytes = cutAfterBytes;
  }

  /** Bytes that got through so far, both directions; stops growing at the cut. */
  get bytesTransferred(): number {
    return this.#bytesTransferred;
  }

  get isCut(): boolean {
    return this.#isCut;
  }

  /** Breaks the link now, as a phone pulled away between two exchanges. */
  cut(): void {
    this.#isCut = true;
  }

  /**
   * Carries one command and its response. Throws `LinkCut` if the link is or becomes broken; an
   * error of the target (a power cut) propagates, with the command bytes counted as delivered.
   */
  transmit(commandBytes: Uint8Array): Uint8Array {
    if (this.#isCut) throw new LinkCut('the link is cut');
    if (!this.#carry(commandBytes.length)) throw new LinkCut('the link broke while sending the command');
    // Copies on both sides: bytes that crossed a wire share no memory with their sender.
    const response = this.#target.transmit(commandBytes.slice()).slice();
    if (!this.#carry(response.length)) throw new LinkCut('the link broke while returning the response');
    return response;
  }

  /** Counts `bytes` across the link, or as many as get through before the cut. */
  #carry(bytes: number): boolean {
    const budget = this.#cutAfterBytes - this.#bytesTransferred;
    if (bytes <= budget) {
      this.#bytesTransferred += bytes;
      return true;
    }
    this.#bytesTransferred += budget;
    this.#isCut = true;
    return false;
  }
}
