// The terminal side of the APDU transport (reader or phone app): one logical command out, one
// logical answer back. The exchange is written once, as a sequence of steps that yields each APDU to
// send and is resumed with the card's answer (no I/O inside), and driven two ways: `exchange` over a
// synchronous `transmit` (a card transport, a link, a driver) and `exchangeAsync` over one that
// answers later (a PC/SC reader). The card cannot tell the two apart.
// Errors of `transmit` (a cut link, a power loss) propagate untouched: the caller decides to re-tap.
import {
  classChainingBit,
  decodeResponse,
  encodeCommand,
  getResponseInstruction,
  interindustryClass,
  leFromByte,
  logicalCommandBytesMax,
  logicalResponseBytesMax,
  shortDataBytesMax,
  shortResponseDataBytesMax,
  statusWords,
  sw1,
  type CommandApdu,
  type ResponseApdu,
} from './apdu.ts';
import type { LogicalCommand, LogicalResponse } from './card-transport.ts';
import { assert } from '../../core/assert.ts';
import { concatBytes } from '../../core/bytes.ts';
import { coreError } from '../../core/errors.ts';

export type Transmit = (commandBytes: Uint8Array) => Uint8Array;
export type AsyncTransmit = (commandBytes: Uint8Array) => Promise<Uint8Array>;

/** Most APDUs one logical command is split into. */
export const commandLinksMax = Math.ceil(logicalCommandBytesMax / shortDataBytesMax);
/**
 * Most GET RESPONSE rounds for one answer: enough for the largest answer in full 256-byte chunks,
 * and a bound against a card that keeps answering 61xx without data.
 */
export const getResponseRoundsMax = Math.ceil(logicalResponseBytesMax / shortResponseDataBytesMax);

/**
 * Sends a logical command and returns the card's whole answer, or its refusal of a chain link.
 * Throws `apduCommandTooLong` for data above logicalCommandBytesMax (before sending anything),
 * `apduMalformed` for a response that is not a short response APDU, and `sizeLimitExceeded` for an
 * answer above logicalResponseBytesMax or one that takes more than getResponseRoundsMax rounds.
 */
export function exchange(transmit: Transmit, command: LogicalCommand): LogicalResponse {
  const steps = exchangeSteps(command);
  for (let step = steps.next(); ;) {
    if (step.done === true) return step.value;
    step = steps.next(transmit(step.value));
  }
}

/** `exchange` over a `transmit` that answers asynchronously: the same steps, each APDU awaited. */
export async function exchangeAsync(
  transmit: AsyncTransmit,
  command: LogicalCommand,
): Promise<LogicalResponse> {
  const steps = exchangeSteps(command);
  for (let step = steps.next(); ;) {
    if (step.done === true) return step.value;
    step = steps.next(await transmit(step.value));
  }
}

/** Yields the bytes of each APDU to send; is resumed with the bytes the card answered. */
type Steps<T> = Generator<Uint8Array, T, Uint8Array>;

function* exchangeSteps(command: LogicalCommand): Steps<LogicalResponse> {
  const { cla, ins, p1, p2, data } = command;
  assert(isByte(cla) && isByte(ins) && isByte(p1) && isByte(p2), 'CLA, INS, P1 and P2 must be bytes');
  assert((cla & classChainingBit) === 0, 'the transport sets the chaining bit, not the caller');
  if (data.length > logicalCommandBytesMax) {
    throw coreError('apduCommandTooLong', `${data.length} bytes, at most ${logicalCommandBytesMax}`);
  }
  const links = splitIntoLinks(command);
  assert(links.length <= commandLinksMax, 'a command within its limit needs at most commandLinksMax links');
  let response: ResponseApdu | undefined;
  for (const [index, link] of links.entries()) {
    response = yield* send(link);
    // ISO 7816-4 §5.1.1.1: the card answers 9000 to every link but the last. Anything else is its
    // refusal of the chain, and the refusal is the answer.
    const isLast = index === links.length - 1;
    if (!isLast && response.sw !== statusWords.success) return response;
  }
  assert(response !== undefined, 'a command has at least one link');
  return yield* collectAnswer(response);
}

function isByte(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xff;
}

/**
 * Data above 255 bytes goes in links of 255 with the chaining bit set (case 3S); the last link
 * asks for up to 256 bytes of answer (case 2S or 4S), so short answers need no GET RESPONSE.
 */
function splitIntoLinks(command: LogicalCommand): CommandApdu[] {
  const links: CommandApdu[] = [];
  const { cla, ins, p1, p2 } = command;
  let offset = 0;
  for (let index = 0; index < commandLinksMax && command.data.length - offset > shortDataBytesMax; index++) {
    const data = command.data.subarray(offset, offset + shortDataBytesMax);
    links.push({ cla: cla | classChainingBit, ins, p1, p2, data, le: undefined });
    offset += shortDataBytesMax;
  }
  links.push({ cla, ins, p1, p2, data: command.data.subarray(offset), le: shortResponseDataBytesMax });
  return links;
}

/** Follows 61xx with GET RESPONSE (ISO 7816-4 §7.6.1) until the card's final status word. */
function* collectAnswer(first: ResponseApdu): Steps<LogicalResponse> {
  const chunks = [first.data];
  let bytes = first.data.length;
  let response = first;
  for (let round = 0; sw1(response.sw) === 0x61; round++) {
    if (round >= getResponseRoundsMax) {
      throw coreError(
        'sizeLimitExceeded',
        `the answer took more than ${getResponseRoundsMax} GET RESPONSE rounds`,
      );
    }
    const le = leFromByte(response.sw & 0xff);
    response = yield* send({
      cla: interindustryClass,
      ins: getResponseInstruction,
      p1: 0,
      p2: 0,
      data: new Uint8Array(0),
      le,
    });
    bytes += response.data.length;
    if (bytes > logicalResponseBytesMax) {
      throw coreError('sizeLimitExceeded', `the answer is longer than ${logicalResponseBytesMax} bytes`);
    }
    chunks.push(response.data);
  }
  return { data: concatBytes(...chunks), sw: response.sw };
}

/**
 * One APDU. 6Cxx (ISO 7816-4 §5.1.3: wrong Le, xx is the exact length) is answered by sending the
 * same APDU once more with Le = xx, as ISO 7816-3 has a T=0 terminal do; a second 6Cxx is
 * returned as the answer rather than looped on.
 */
function* send(command: CommandApdu): Steps<ResponseApdu> {
  const response = decodeOrThrow(yield encodeCommand(command));
  if (sw1(response.sw) !== 0x6c) return response;
  return decodeOrThrow(yield encodeCommand({ ...command, le: leFromByte(response.sw & 0xff) }));
}

function decodeOrThrow(bytes: Uint8Array): ResponseApdu {
  const decoded = decodeResponse(bytes);
  if (!decoded.ok) throw decoded.error;
  return decoded.value;
}
