// ISO 7816-4 short APDUs: the codec every exchange with a secure element goes through.
// Only short length fields are carried (§5.1: cases 1, 2S, 3S, 4S); extended lengths are refused
// because longer data travels by command chaining and GET RESPONSE (card-transport.ts), which every
// contactless reader and phone secure-element API supports, while extended length is optional.
import { assert } from '../../core/assert.ts';
import { fail, ok, type Result } from '../../core/errors.ts';

/** Most data bytes in one command APDU: Lc is one byte, 1..255 (ISO 7816-4 §5.1). */
export const shortDataBytesMax = 255;
/** Most data bytes in one response APDU: Le = 00 asks for 256 (ISO 7816-4 §5.1). */
export const shortResponseDataBytesMax = 256;
/** Most data bytes in one logical (possibly chained) command delivered to the applet. */
export const logicalCommandBytesMax = 16384;
/** Most data bytes in one logical answer of the applet (served by GET RESPONSE). */
export const logicalResponseBytesMax = 65536;

/** CLA b5: "the command is not the last of a chain" (ISO 7816-4 §5.1.1.1). */
export const classChainingBit = 0x10;
/** CLA 0x80: first proprietary class (ISO 7816-4 §5.1.1, b8 = 1): every applet instruction. */
export const proprietaryClass = 0x80;
/** CLA 0x00: interindustry class, no secure messaging, basic channel; used here for GET RESPONSE. */
export const interindustryClass = 0x00;
/** GET RESPONSE (ISO 7816-4 §7.6.1). */
export const getResponseInstruction = 0xc0;

/**
 * Status words this project sends or reads (ISO 7816-4 §5.1.3, Tables 5 and 6). The applet's own
 * refusals use the kinds of `statusWordByKind` in `core/errors.ts`; the values agree.
 */
export const statusWords = {
  success: 0x9000,
  /** 61xx: xx more bytes wait for GET RESPONSE; 00 means 256 or more. */
  moreData: (remainingBytes: number): number => {
    assert(Number.isInteger(remainingBytes) && remainingBytes >= 1, 'moreData needs at least one byte left');
    return 0x6100 | (remainingBytes >= 256 ? 0 : remainingBytes);
  },
  /** 6Cxx: wrong Le; xx is the exact length to ask for (00 means 256). */
  wrongLe: (exactBytes: number): number => {
    assert(Number.isInteger(exactBytes) && exactBytes >= 1 && exactBytes <= 256, 'wrongLe needs 1..256');
    return 0x6c00 | (exactBytes & 0xff);
  },
  lastCommandExpected: 0x6883,
  chainingUnsupported: 0x6884,
  wrongLength: 0x6700,
  securityNotSatisfied: 0x6982,
  conditionsNotSatisfied: 0x6985,
  wrongData: 0x6a80,
  notEnoughMemory: 0x6a84,
  fileNotFound: 0x6a88,
  wrongP1P2: 0x6b00,
  insNotSupported: 0x6d00,
  claNotSupported: 0x6e00,
  unknown: 0x6f00,
} as const;

/** First byte of a status word. */
export function sw1(sw: number): number {
  return (sw >> 8) & 0xff;
}

/**
 * A status word a card may send: SW1 is 6X or 9X, and never 60 (ISO 7816-4 §5.1.3: any other
 * value is invalid).
 */
export function isStatusWord(sw: number): boolean {
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) return false;
  const high = sw1(sw) >> 4;
  return (high === 0x6 && sw1(sw) !== 0x60) || high === 0x9;
}

export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** 0..255 bytes; empty means no Lc field. */
  readonly data: Uint8Array;
  /** Ne, 1..256, or undefined for no Le field (Ne = 0). */
  readonly le: number | undefined;
}

export interface ResponseApdu {
  /** 0..256 bytes. */
  readonly data: Uint8Array;
  readonly sw: number;
}

/** The Le byte for Ne (ISO 7816-4 §5.1: 00 stands for 256). */
export function leByte(le: number): number {
  assert(Number.isInteger(le) && le >= 1 && le <= shortResponseDataBytesMax, 'le must be 1..256');
  return le & 0xff;
}

/** Ne for an Le byte (00 stands for 256). */
export function leFromByte(byte: number): number {
  return byte === 0 ? shortResponseDataBytesMax : byte;
}

function isByte(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xff;
}

export function encodeCommand(command: CommandApdu): Uint8Array {
  const { cla, ins, p1, p2, data, le } = command;
  assert(isByte(cla) && isByte(ins) && isByte(p1) && isByte(p2), 'CLA, INS, P1 and P2 must be bytes');
  assert(data.length <= shortDataBytesMax, 'command data must fit a short APDU (255 bytes)');
  const lcLength = data.length === 0 ? 0 : 1;
  const leLength = le === undefined ? 0 : 1;
  const out = new Uint8Array(4 + lcLength + data.length + leLength);
  out.set([cla, ins, p1, p2]);
  if (lcLength === 1) {
    out[4] = data.length;
    out.set(data, 5);
  }
  if (le !== undefined) out[out.length - 1] = leByte(le);
  return out;
}

/**
 * Strict decoding of the four short cases (ISO 7816-4 §5.1, Table 1). Never throws. Refused:
 * fewer than 4 bytes; a fifth byte 00 followed by more bytes (an extended length field, or an Lc of
 * 0, which no short case allows); an Lc that disagrees with the number of bytes that follow it.
 */
export function decodeCommand(bytes: Uint8Array): Result<CommandApdu> {
  if (bytes.length < 4)
    return fail('apduMalformed', `a command APDU has a 4-byte header, got ${bytes.length}`);
  // Plain object literals of one shape throughout: this runs for every APDU of every payment.
  const cla = bytes[0]!;
  const ins = bytes[1]!;
  const p1 = bytes[2]!;
  const p2 = bytes[3]!;
  if (bytes.length === 4) return ok({ cla, ins, p1, p2, data: new Uint8Array(0), le: undefined });
  const fifth = bytes[4]!;
  if (bytes.length === 5) return ok({ cla, ins, p1, p2, data: new Uint8Array(0), le: leFromByte(fifth) });
  if (fifth === 0) {
    return fail('apduMalformed', 'Lc is 00: extended length is not supported and a short Lc is 1..255');
  }
  const dataEnd = 5 + fifth;
  if (bytes.length === dataEnd) return ok({ cla, ins, p1, p2, data: bytes.slice(5, dataEnd), le: undefined });
  if (bytes.length === dataEnd + 1) {
    return ok({ cla, ins, p1, p2, data: bytes.slice(5, dataEnd), le: leFromByte(bytes[dataEnd]!) });
  }
  return fail('apduMalformed', `Lc ${fifth} disagrees with the ${bytes.length - 5} bytes after it`);
}

export function encodeResponse(response: ResponseApdu): Uint8Array {
  assert(response.data.length <= shortResponseDataBytesMax, 'response data must fit a short APDU');
  assert(isStatusWord(response.sw), 'response status word must be 6XXX (not 60XX) or 9XXX');
  const out = new Uint8Array(response.data.length + 2);
  out.set(response.data);
  out[out.length - 2] = sw1(response.sw);
  out[out.length - 1] = response.sw & 0xff;
  return out;
}

/** Strict: a valid status word (ISO 7816-4 §5.1.3) after at most 256 data bytes. Never throws. */
export function decodeResponse(bytes: Uint8Array): Result<ResponseApdu> {
  if (bytes.length < 2) return fail('apduMalformed', 'a response APDU ends in a 2-byte status word');
  const dataLength = bytes.length - 2;
  if (dataLength > shortResponseDataBytesMax) {
    return fail('apduMalformed', `a short response carries at most 256 data bytes, got ${dataLength}`);
  }
  const sw = (bytes[dataLength]! << 8) | bytes[dataLength + 1]!;
  if (!isStatusWord(sw)) return fail('apduMalformed', `SW1 ${sw1(sw)} is neither 6X (not 60) nor 9X`);
  return ok({ data: bytes.slice(0, dataLength), sw });
}
