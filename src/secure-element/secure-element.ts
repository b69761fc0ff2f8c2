// A secure element chip: the applet over its journaled store, reachable only through APDU bytes.
import { CardTransport } from './apdu/card-transport.ts';
import { Applet } from './applet.ts';
import { JournaledStore, type StoreLimits } from './store/journaled-store.ts';
import { SecureElementView } from './view.ts';
import type { Medium } from './store/medium.ts';
import type { SecureElementPlatform } from './platform.ts';

/** What a card's EEPROM holds versus a phone's secure element (DESIGN §6: kilobytes versus more). */
export const storeProfiles = {
  card: { blocksMax: 512, bytesMax: 256 * 1024 },
  phone: { blocksMax: 4096, bytesMax: 8 * 1024 * 1024 },
} as const satisfies Record<string, StoreLimits>;

export class SecureElement {
  readonly #transport: CardTransport;

  private constructor(transport: CardTransport) {
    this.#transport = transport;
  }

  /** Powers the chip up on its medium: recovers an interrupted commit, then answers APDUs. */
  static open(
    medium: Medium,
    platform: SecureElementPlatform,
    limits: StoreLimits = storeProfiles.phone,
  ): SecureElement {
    const store = JournaledStore.open(medium, limits);
    return new SecureElement(new CardTransport(new Applet(new SecureElementView(store, platform))));
  }

  /** One command APDU in, one response APDU out. Throws only `PowerCut`. */
  transmit(command: Uint8Array): Uint8Array {
    return this.#transport.transmit(command);
  }

  /** Drops RAM state (chaining, pending answer): the card left the field, or the phone reset the channel. */
  reset(): void {
    this.#transport.reset();
  }
}
