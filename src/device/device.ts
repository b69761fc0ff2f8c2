// Devices (DESIGN §2): a card is a secure element alone, powered by the reader's field, with no clock;
// a phone is a secure element plus an app with a clock (advisory only) and a network. Both keep their
// chip's persistent medium across power cycles; a power cut kills the chip until it is powered again.
import { isPowerCut } from '../secure-element/store/faults.ts';
import { SecureElement, storeProfiles } from '../secure-element/secure-element.ts';
import type { Medium } from '../secure-element/store/medium.ts';
import type { SecureElementPlatform } from '../secure-element/platform.ts';
import type { SecureElementKind } from '../core/certificate.ts';
import { SecureElementClient } from './se-client.ts';
import type { LinkTarget } from './link.ts';

/** Thrown by a device whose chip lost power, until `powerUp`. */
export class DevicePoweredOff extends Error {
  override readonly name = 'DevicePoweredOff';
}

export class Device implements LinkTarget {
  readonly kind: SecureElementKind;
  readonly name: string;
  readonly platform: SecureElementPlatform;
  /** The chip's persistent memory; tests swap in a `FaultyMedium` over it to cut power at a write. */
  medium: Medium;
  #chip: SecureElement | undefined;
  /** Unpowered between uses with nothing lost (`rest`): the next command powers the chip up. */
  #resting = false;

  constructor(kind: SecureElementKind, name: string, medium: Medium, platform: SecureElementPlatform) {
    this.kind = kind;
    this.name = name;
    this.medium = medium;
    this.platform = platform;
    this.#chip = SecureElement.open(medium, platform, storeProfiles[kind]);
  }

  get isPowered(): boolean {
    return this.#chip !== undefined || this.#resting;
  }

  /** Powers the chip up on `medium` (recovering an interrupted commit). */
  powerUp(medium: Medium = this.medium): void {
    this.medium = medium;
    this.#chip = SecureElement.open(medium, this.platform, storeProfiles[this.kind]);
    this.#resting = false;
  }

  /**
   * The chip loses power between two uses, as a card does out of the reader's field: its RAM (the
   * store's cache, decoded records, any session) is freed and only its memory stays; the next command
   * powers it up again on that memory. What it answers is the same, so a simulator holding many
   * devices keeps only the ones in use powered.
   */
  rest(): void {
    if (this.#chip === undefined) return;
    this.#chip = undefined;
    this.#resting = true;
  }

  /** One APDU to the chip. A power cut leaves the device off and rethrows. */
  transmit(command: Uint8Array): Uint8Array {
    if (this.#chip === undefined && this.#resting) this.powerUp();
    const chip = this.#chip;
    if (chip === undefined) throw new DevicePoweredOff(`${this.name} is off`);
    try {
      return chip.transmit(command);
    } catch (error) {
      if (isPowerCut(error)) this.#chip = undefined;
      throw error;
    }
  }

  /** A new tap: the chip's RAM state is gone (a card leaves the field between taps). */
  endSession(): void {
    this.#chip?.reset();
  }

  /** The device's own app talking to its own SE (no link in between). */
  client(): SecureElementClient {
    return new SecureElementClient((bytes) => this.transmit(bytes));
  }
}
