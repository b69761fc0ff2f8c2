// The terminal side of the APDU transport over an asynchronous `transmit` (a PC/SC reader answers
// through a callback). It follows `src/secure-element/apdu/terminal.ts` step for step — the same
// links of 255 bytes, the same GET RESPONSE rounds, the same single retry on 6Cxx, the same bounds —
// and only awaits each APDU; the card side cannot tell the two apart.
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
} from '../secure-element/apdu/apdu.ts';
import { commandLinksMax, getResponseRoundsMax } from '../secure-element/apdu/terminal.ts';
import type { LogicalCommand, LogicalResponse } from '../secure-element/apdu/card-transport.ts';
import { assert } from '../core/assert.ts';
import { concatBytes } from '../core/bytes.ts';
import { coreError } from '../core/errors.ts';

export type AsyncTransmit = (commandBytes: Uint8Array) => Promise<Uint8Array>;

/** Sends one logical command, chained if long, and collects the whole answer (see terminal.ts). */
export async function exchangeAsync(
  transmit: AsyncTransmit,
  command: LogicalCommand,
): Promise<LogicalResponse> {
  assert((command.cla & classChainingBit) === 0, 'the transport sets the chaining bit, not the caller');
  if (command.data.length > logicalCommandBytesMax) {
    throw coreError('apduCommandTooLong', `${command.data.length} bytes, at most ${logicalCommandBytesMax}`);
  }
  const links = splitIntoLinks(command);
  assert(links.length <= commandLinksMax, 'a command within its limit needs at most commandLinksMax links');
  let response: ResponseApdu | undefined;
  for (const [index, link] of links.entries()) {
    response = await send(transmit, link);
    // ISO 7816-4 §5.1.1.1: every link but the last is answered 9000; anything else ends the chain.
    if (index < links.length - 1 && response.sw !== statusWords.success) return response;
  }
  assert(response !== undefined, 'a command has at least one link');
  return collectAnswer(transmit, response);
}

function splitIntoLinks(command: LogicalCommand): CommandApdu[] {
  const { cla, ins, p1, p2, data } = command;
  const links: CommandApdu[] = [];
  let offset = 0;
  for (let index = 0; index < commandLinksMax && data.length - offset > shortDataBytesMax; index++) {
    const linkData = data.subarray(offset, offset + shortDataBytesMax);
    links.push({ cla: cla | classChainingBit, ins, p1, p2, data: linkData, le: undefined });
    offset += shortDataBytesMax;
  }
  links.push({ cla, ins, p1, p2, data: data.subarray(offset), le: shortResponseDataBytesMax });
  return links;
}

/** Follows 61xx with GET RESPONSE (ISO 7816-4 §7.6.1) until the card's final status word. */
async function collectAnswer(transmit: AsyncTransmit, first: ResponseApdu): Promise<LogicalResponse> {
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
    const getResponse = { cla: interindustryClass, ins: getResponseInstruction, p1: 0, p2: 0 };
    response = await send(transmit, { ...getResponse, data: new Uint8Array(0), le });
    bytes += response.data.length;
    if (bytes > logicalResponseBytesMax) {
      throw coreError('sizeLimitExceeded', `the answer is longer than ${logicalResponseBytesMax} bytes`);
    }
    chunks.push(response.data);
  }
  return { data: concatBytes(...chunks), sw: response.sw };
}

/** One APDU; a 6Cxx (wrong Le) is answered by resending once with Le = xx. */
async function send(transmit: AsyncTransmit, command: CommandApdu): Promise<ResponseApdu> {
  const response = decodeOrThrow(await transmit(encodeCommand(command)));
  if (sw1(response.sw) !== 0x6c) return response;
  return decodeOrThrow(await transmit(encodeCommand({ ...command, le: leFromByte(response.sw & 0xff) })));
}

function decodeOrThrow(bytes: Uint8Array): ResponseApdu {
  const decoded = decodeResponse(bytes);
  if (!decoded.ok) throw decoded.error;
  return decoded.value;
}
