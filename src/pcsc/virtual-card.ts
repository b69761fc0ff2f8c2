// The card as a PC/SC reader sees it: a chip that the reader powers on and off, with an applet that
// must be selected by its AID before it answers. Below this, the secure element is exactly the one
// every other test drives (`SecureElement` over its journaled store); this adds only what a real
// card's operating system adds in front of an applet: power and SELECT.
//
// Power is the reader's: power off drops everything volatile (the open chain, the pending answer,
// the selection) by dropping the chip; power on opens the chip again on its persistent medium, and
// `JournaledStore.open` rolls an interrupted commit forward or back (docs/protocol.md §9). A reset
// is both in turn, as for a real card.
import { bytesEqual, type Bytes } from '../core/bytes.ts';
import {
  decodeCommand,
  encodeResponse,
  interindustryClass,
  statusWords,
  type CommandApdu,
} from '../secure-element/apdu/apdu.ts';
import { SecureElement, storeProfiles } from '../secure-element/secure-element.ts';
import type { SecureElementPlatform } from '../secure-element/platform.ts';
import type { Medium } from '../secure-element/store/medium.ts';
import type { SecureElementKind } from '../core/certificate.ts';
import { appletAid, fileControlInformation } from './applet-identity.ts';

/** SELECT (ISO 7816-4 §11.2.2). */
export const selectInstruction = 0xa4;
/** SELECT's P1: select by DF name, which for an applet is its AID. */
export const selectByNameP1 = 0x04;
/** SELECT's P2: first or only occurrence, answer the FCI (00) or nothing (0C). */
export const selectReturnFciP2 = 0x00;
export const selectNoDataP2 = 0x0c;
/** 6A82: "file or application not found" (ISO 7816-4 §5.1.3, Table 6), SELECT of another AID. */
export const applicationNotFound = 0x6a82;

function statusOnly(sw: number): Uint8Array {
  return encodeResponse({ data: new Uint8Array(0), sw });
}

function isSelect(command: CommandApdu): boolean {
  return command.cla === interindustryClass && command.ins === selectInstruction;
}

export class VirtualCard {
  readonly kind: SecureElementKind;
  readonly #medium: Medium;
  readonly #platform: SecureElementPlatform;
  #chip: SecureElement | undefined;
  #selected = false;

  constructor(kind: SecureElementKind, medium: Medium, platform: SecureElementPlatform) {
    this.kind = kind;
    this.#medium = medium;
    this.#platform = platform;
  }

  get isPowered(): boolean {
    return this.#chip !== undefined;
  }

  /** Powers the chip up on its medium (recovering an interrupted commit); nothing is selected. */
  powerOn(): void {
    if (this.#chip !== undefined) return;
    this.#chip = SecureElement.open(this.#medium, this.#platform, storeProfiles[this.kind]);
    this.#selected = false;
  }

  /** A power cut: RAM (chain, pending answer, selection) is gone; the medium keeps what was committed. */
  powerOff(): void {
    this.#chip = undefined;
    this.#selected = false;
  }

  reset(): void {
    this.powerOff();
    this.powerOn();
  }

  /**
   * One command APDU in, one response APDU out; undefined while unpowered (a mute card). A malformed
   * APDU is refused by the chip's transport as ever (6700), selected or not.
   */
  transmit(commandBytes: Bytes): Uint8Array | undefined {
    const chip = this.#chip;
    if (chip === undefined) return undefined;
    const decoded = decodeCommand(commandBytes);
    if (decoded.ok && isSelect(decoded.value)) return this.#select(chip, decoded.value);
    // Without a selected applet nothing but SELECT is understood; the applet's state is untouched.
    if (decoded.ok && !this.#selected) return statusOnly(statusWords.conditionsNotSatisfied);
    return chip.transmit(commandBytes);
  }

  /**
   * SELECT by AID, exact match (a partial name is not offered: the historical bytes say selection
   * by full DF name). A successful SELECT starts the applet afresh: no chain or answer survives it.
   * A refused one leaves the current selection as it was (ISO 7816-4 §7.1.1).
   */
  #select(chip: SecureElement, command: CommandApdu): Uint8Array {
    if (command.p1 !== selectByNameP1 || (command.p2 !== selectReturnFciP2 && command.p2 !== selectNoDataP2))
      return statusOnly(statusWords.wrongP1P2);
    if (command.data.length === 0) return statusOnly(statusWords.wrongLength);
    if (!bytesEqual(command.data, appletAid)) return statusOnly(applicationNotFound);
    // Ne = 0 (no Le, case 3) asks for no answer data: the applet is selected and the FCI not sent.
    // An Le too short for the FCI is refused, selecting nothing, because a card sends no 6Cxx and
    // GET RESPONSE serves only the applet's own answers (docs/protocol.md §5).
    const sendsFci = command.p2 === selectReturnFciP2 && command.le !== undefined;
    if (sendsFci && command.le < fileControlInformation.length) return statusOnly(statusWords.wrongLength);
    chip.reset();
    this.#selected = true;
    if (!sendsFci) return statusOnly(statusWords.success);
    return encodeResponse({ data: fileControlInformation, sw: statusWords.success });
  }
}
