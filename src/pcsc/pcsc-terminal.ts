// The terminal side of PC/SC: one client context of pcscd, its readers, and per reader the card in
// it, powered on by connecting and powered off by disconnecting with SCARD_UNPOWER_CARD (PC/SC Part 5,
// SCardConnect / SCardDisconnect). Every failure of the library comes back as a typed error of the
// pcsc catalogue, with the library's own message as the detail.
import type { Bytes } from '../core/bytes.ts';
import { shortResponseDataBytesMax } from '../secure-element/apdu/apdu.ts';
import type { AsyncTransmit } from '../secure-element/apdu/terminal.ts';
import { pcscError } from './errors.ts';
import { loadPcscBinding, type PcscContextBinding, type PcscReaderBinding } from './pcsc-binding.ts';

/** How long to wait for a reader to be listed or a card to be present, unless told otherwise. */
export const readerWaitMsDefault = 10_000;
/** A short response: 256 data bytes and the status word. */
const responseBytesMax = shortResponseDataBytesMax + 2;
const pollMs = 50;
/** Pause between two SCardConnect tries while a card is not (yet) there. */
const connectRetryMs = 200;

async function until(condition: () => boolean, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}

function failureOf(code: 'readerFailed' | 'pcscUnavailable', call: string, error: unknown): Error {
  const detail = error instanceof Error ? error.message : typeof error === 'string' ? error : 'no detail';
  return pcscError(code, `${call}: ${detail}`);
}

function failure(call: string, error: unknown): Error {
  return failureOf('readerFailed', call, error);
}

/** A slot the payment driver uses: a reader whose card it can power on and talk to. */
export interface CardSlot {
  readonly name: string;
  readonly isPowered: boolean;
  powerOn(): Promise<void>;
  readonly transmit: AsyncTransmit;
}

export class PcscReader implements CardSlot {
  readonly name: string;
  readonly #binding: PcscReaderBinding;
  #state = 0;
  #atr: Bytes | undefined;
  #protocol: number | undefined;

  constructor(binding: PcscReaderBinding) {
    this.#binding = binding;
    this.name = binding.name;
    binding.on('status', (status) => {
      this.#state = status.state;
      this.#atr = status.atr === undefined ? undefined : new Uint8Array(status.atr);
    });
    // A reader error (the monitor lost pcscd) ends in 'end'; the next call reports it, typed.
    binding.on('error', () => undefined);
  }

  get isCardPresent(): boolean {
    return (this.#state & this.#binding.SCARD_STATE_PRESENT) !== 0;
  }

  /** The ATR of the card in the reader, as the reader last reported it. */
  get atr(): Bytes | undefined {
    return this.#atr;
  }

  get isPowered(): boolean {
    return this.#protocol !== undefined && this.#binding.connected;
  }

  async waitForCard(waitMs = readerWaitMsDefault): Promise<void> {
    if (!(await until(() => this.isCardPresent, waitMs)))
      throw pcscError('readerCardAbsent', `${this.name}: no card within ${waitMs} ms`);
  }

  /**
   * SCardConnect, exclusive: pcscd powers the card on (if it is not) and it answers its ATR. A card
   * just put in the reader may not be seen yet, so connecting is tried again every `connectRetryMs`
   * for `waitMs`; the reader's status events only say why the last try failed.
   */
  async powerOn(waitMs = readerWaitMsDefault): Promise<void> {
    if (this.isPowered) return;
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        this.#protocol = await this.#connect();
        return;
      } catch (error) {
        if (Date.now() + connectRetryMs > deadline) {
          if (this.isCardPresent) throw error;
          throw pcscError('readerCardAbsent', `${this.name}: no card within ${waitMs} ms`);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, connectRetryMs));
    }
  }

  #connect(): Promise<number> {
    const binding = this.#binding;
    const protocols = binding.SCARD_PROTOCOL_T0 | binding.SCARD_PROTOCOL_T1;
    const options = { share_mode: binding.SCARD_SHARE_EXCLUSIVE, protocol: protocols };
    return new Promise<number>((resolve, reject) => {
      binding.connect(options, (error, protocol) => {
        if (error === null || error === undefined) resolve(protocol);
        else reject(failure(`SCardConnect ${this.name}`, error));
      });
    });
  }

  /** SCardDisconnect with SCARD_UNPOWER_CARD: the card loses power, and with it its RAM. */
  async powerOff(): Promise<void> {
    this.#protocol = undefined;
    const binding = this.#binding;
    if (!binding.connected) return;
    await new Promise<void>((resolve, reject) => {
      binding.disconnect(binding.SCARD_UNPOWER_CARD, (error) => {
        if (error) reject(failure(`SCardDisconnect ${this.name}`, error));
        else resolve();
      });
    });
  }

  /** Stops watching the reader (its status thread); a connected card is left as it is. */
  close(): void {
    this.#binding.close();
  }

  /** SCardTransmit of one command APDU. */
  readonly transmit: AsyncTransmit = (commandBytes) => {
    const protocol = this.#protocol;
    if (protocol === undefined || !this.#binding.connected) {
      return Promise.reject(pcscError('readerFailed', `${this.name}: the card is not powered`));
    }
    return new Promise((resolve, reject) => {
      this.#binding.transmit(Buffer.from(commandBytes), responseBytesMax, protocol, (error, response) => {
        if (error === null || error === undefined) {
          resolve(new Uint8Array(response));
          return;
        }
        // The card was removed, reset or unpowered under us: this handle is spent. Dropping it lets
        // the next powerOn connect afresh instead of failing on the same handle forever.
        reject(failure(`SCardTransmit ${this.name}`, error));
        this.powerOff().catch(() => undefined);
      });
    });
  };
}

export class PcscTerminal {
  readonly #context: PcscContextBinding;
  readonly #readers = new Map<string, PcscReader>();
  #contextError: unknown;

  private constructor(context: PcscContextBinding) {
    this.#context = context;
    context.on('reader', (binding) => {
      this.#readers.set(binding.name, new PcscReader(binding));
      binding.on('end', () => this.#readers.delete(binding.name));
    });
    context.on('error', (error) => {
      this.#contextError = error;
    });
  }

  /** Establishes a PC/SC context (SCardEstablishContext); throws `pcscUnavailable` without one. */
  static async open(): Promise<PcscTerminal> {
    const binding = await loadPcscBinding();
    return new PcscTerminal(binding());
  }

  get readerNames(): string[] {
    return [...this.#readers.keys()].sort();
  }

  /** Waits until PC/SC lists `name`, for at most `waitMs`. */
  async reader(name: string, waitMs = readerWaitMsDefault): Promise<PcscReader> {
    await until(() => this.#readers.has(name) || this.#contextError !== undefined, waitMs);
    if (this.#contextError !== undefined)
      throw failureOf('pcscUnavailable', 'SCardEstablishContext', this.#contextError);
    const reader = this.#readers.get(name);
    if (reader === undefined) {
      throw pcscError('readerNotFound', `"${name}"; listed: ${this.readerNames.join(', ') || 'none'}`);
    }
    return reader;
  }

  /** Waits `waitMs` for the readers PC/SC lists to show up, then names them. */
  async listReaders(waitMs = 500): Promise<string[]> {
    await until(() => this.#contextError !== undefined, waitMs);
    if (this.#contextError !== undefined)
      throw failureOf('pcscUnavailable', 'SCardEstablishContext', this.#contextError);
    return this.readerNames;
  }

  /** Releases the context and every reader's status thread, so that the process can exit. */
  close(): void {
    for (const reader of this.#readers.values()) reader.close();
    this.#readers.clear();
    this.#context.close();
  }
}
