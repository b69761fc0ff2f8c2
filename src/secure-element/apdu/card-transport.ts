// The card side of the APDU transport: turns short APDUs into logical commands for the applet and
// the applet's logical answers back into short APDUs. Synchronous, like the whole secure element,
// so tear tests can cut power or the link at every step.
//
// RAM state is at most one open command chain and one pending answer. Each survives only the APDU
// that continues it: any other APDU drops it. That keeps the state bounded and makes `reset()` (the
// card leaving the field) indistinguishable from a terminal that gave up.
import {
  classChainingBit,
  decodeCommand,
  encodeResponse,
  getResponseInstruction,
  interindustryClass,
  isStatusWord,
  logicalCommandBytesMax,
  logicalResponseBytesMax,
  proprietaryClass,
  statusWords,
  sw1,
  type CommandApdu,
} from './apdu.ts';
import { concatBytes } from '../../core/bytes.ts';

/** A command as the applet sees it, after chaining: CLA without the chaining bit. */
export interface LogicalCommand {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** 0..logicalCommandBytesMax bytes. */
  readonly data: Uint8Array;
}

/** An applet answer before splitting into GET RESPONSE chunks. */
export interface LogicalResponse {
  /** 0..logicalResponseBytesMax bytes. */
  readonly data: Uint8Array;
  readonly sw: number;
}

export interface LogicalApplet {
  process(command: LogicalCommand): LogicalResponse;
}

interface OpenChain {
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  readonly parts: Uint8Array[];
  bytes: number;
}

interface PendingAnswer {
  readonly data: Uint8Array;
  readonly offset: number;
  readonly sw: number;
}

function statusOnly(sw: number): Uint8Array {
  return encodeResponse({ data: new Uint8Array(0), sw });
}

/** Power loss is not an answer: the tear-test harness throws it through the applet and catches it. */
function isPowerCut(error: unknown): boolean {
  return error instanceof Error && error.name === 'PowerCut';
}

/** The transport owns 61xx and 6Cxx; an applet answer must be a plain, bounded status. */
function isWellFormedAnswer(response: LogicalResponse): boolean {
  return (
    response.data instanceof Uint8Array &&
    response.data.length <= logicalResponseBytesMax &&
    isStatusWord(response.sw) &&
    sw1(response.sw) !== 0x61 &&
    sw1(response.sw) !== 0x6c
  );
}

export class CardTransport {
  readonly #applet: LogicalApplet;
  #chain: OpenChain | undefined;
  #pending: PendingAnswer | undefined;

  constructor(applet: LogicalApplet) {
    this.#applet = applet;
  }

  /** One command APDU in, one response APDU out. Throws only a `PowerCut` from the applet. */
  transmit(commandBytes: Uint8Array): Uint8Array {
    const chain = this.#chain;
    const pending = this.#pending;
    this.#chain = undefined;
    this.#pending = undefined;
    const decoded = decodeCommand(commandBytes);
    if (!decoded.ok) return statusOnly(statusWords.wrongLength);
    const command = decoded.value;
    // ISO 7816-4 §5.1.1.1: the links of a chain repeat CLA, INS, P1 and P2; anything else
    // breaks the chain, and the card refuses it with "last command of the chain expected".
    if (chain !== undefined && !continuesChain(chain, command)) {
      return statusOnly(statusWords.lastCommandExpected);
    }
    const classWithoutChaining = command.cla & ~classChainingBit;
    if (classWithoutChaining === interindustryClass) return this.#getResponse(command, pending);
    if (classWithoutChaining !== proprietaryClass) return statusOnly(statusWords.claNotSupported);
    return this.#link(command, chain);
  }

  /** Drops RAM state: the card left the field, or the phone reset its secure element session. */
  reset(): void {
    this.#chain = undefined;
    this.#pending = undefined;
  }

  #link(command: CommandApdu, chain: OpenChain | undefined): Uint8Array {
    const more = (command.cla & classChainingBit) !== 0;
    // A non-final link carries data and asks for none: an empty link would let a chain grow
    // without bound in links, and an Le would ask for an answer the card only gives at the end.
    if (more && (command.data.length === 0 || command.le !== undefined)) {
      return statusOnly(statusWords.wrongLength);
    }
    const bytes = (chain?.bytes ?? 0) + command.data.length;
    // Refused as soon as the chain outgrows the limit, so the buffer never holds more than it.
    if (bytes > logicalCommandBytesMax) return statusOnly(statusWords.wrongLength);
    const parts = chain?.parts ?? [];
    parts.push(command.data);
    if (more) {
      this.#chain = { ins: command.ins, p1: command.p1, p2: command.p2, parts, bytes };
      return statusOnly(statusWords.success);
    }
    const header = { cla: proprietaryClass, ins: command.ins, p1: command.p1, p2: command.p2 };
    return this.#deliver({ ...header, data: concatBytes(...parts) }, command.le ?? 0);
  }

  #deliver(command: LogicalCommand, expectedBytes: number): Uint8Array {
    let response: LogicalResponse;
    try {
      response = this.#applet.process(command);
    } catch (error) {
      if (isPowerCut(error)) {
        // Power loss clears RAM; the harness powers the card up again with nothing pending.
        this.reset();
        throw error;
      }
      // A bug in the applet; the card answers "no precise diagnosis" rather than crash.
      return statusOnly(statusWords.unknown);
    }
    if (!isWellFormedAnswer(response)) return statusOnly(statusWords.unknown);
    // Copied once, so that an applet reusing its buffer cannot change an answer being served.
    return this.#serve({ data: response.data.slice(), offset: 0, sw: response.sw }, expectedBytes);
  }

  /** GET RESPONSE (ISO 7816-4 §7.6.1): CLA 00, INS C0, P1 = P2 = 00, case 2 (Le, no data). */
  #getResponse(command: CommandApdu, pending: PendingAnswer | undefined): Uint8Array {
    if (command.ins !== getResponseInstruction) return statusOnly(statusWords.insNotSupported);
    if ((command.cla & classChainingBit) !== 0) return statusOnly(statusWords.chainingUnsupported);
    if (command.p1 !== 0 || command.p2 !== 0) return statusOnly(statusWords.wrongP1P2);
    if (command.data.length !== 0 || command.le === undefined) return statusOnly(statusWords.wrongLength);
    if (pending === undefined) return statusOnly(statusWords.conditionsNotSatisfied);
    return this.#serve(pending, command.le);
  }

  /**
   * Sends at most `expectedBytes` (Ne) of the answer. If more remain, the chunk ends in 61xx
   * (ISO 7816-4 §5.1.3: xx bytes still available, 00 for 256 or more) and the rest waits for
   * GET RESPONSE; the last chunk carries the applet's own status word. A command without Le
   * (Ne = 0) that has an answer gets 61xx and no data, as a T=0 card answers case 4 commands.
   */
  #serve(answer: PendingAnswer, expectedBytes: number): Uint8Array {
    const remaining = answer.data.length - answer.offset;
    const chunkBytes = Math.min(expectedBytes, remaining);
    const chunk = answer.data.subarray(answer.offset, answer.offset + chunkBytes);
    const left = remaining - chunkBytes;
    if (left === 0) return encodeResponse({ data: chunk, sw: answer.sw });
    this.#pending = { ...answer, offset: answer.offset + chunkBytes };
    return encodeResponse({ data: chunk, sw: statusWords.moreData(left) });
  }
}

function continuesChain(chain: OpenChain, command: CommandApdu): boolean {
  return (
    (command.cla & ~classChainingBit) === proprietaryClass &&
    command.ins === chain.ins &&
    command.p1 === chain.p1 &&
    command.p2 === chain.p2
  );
}
