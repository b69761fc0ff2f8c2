// The vpcd wire format (vsmartcard's virtual reader driver for pcscd): a TCP stream of messages, each
// a 2-byte big-endian length then that many bytes. A 1-byte message is a control from the reader;
// a longer one is a command APDU, answered by one message holding the response APDU. Only the ATR
// request is answered among the controls (vsmartcard `vpcd.c`, `vicc_getatr`).
import { concatBytes, readU16be, u16be, type Bytes } from '../core/bytes.ts';
import { assert } from '../core/assert.ts';

/** The TCP port of vpcd's first reader; reader `n` of the same driver listens on this + n. */
export const vpcdPortDefault = 35963;
/** A message's length field is 2 bytes, so no message is longer than this. */
export const vpcdMessageBytesMax = 0xffff;
const lengthBytes = 2;

export const vpcdControls = { powerOff: 0, powerOn: 1, reset: 2, atrRequest: 4 } as const;
export type VpcdControl = keyof typeof vpcdControls;

export type VpcdMessage =
  | { readonly kind: 'control'; readonly control: VpcdControl }
  | { readonly kind: 'apdu'; readonly apdu: Bytes }
  | { readonly kind: 'invalid'; readonly detail: string };

const controlByCode = new Map<number, VpcdControl>(
  (Object.keys(vpcdControls) as VpcdControl[]).map((control) => [vpcdControls[control], control]),
);

export function encodeVpcdMessage(payload: Bytes): Bytes {
  assert(payload.length <= vpcdMessageBytesMax, 'a vpcd message carries at most 65535 bytes');
  return concatBytes(u16be(payload.length), payload);
}

export function decodeVpcdMessage(payload: Bytes): VpcdMessage {
  if (payload.length === 0) return { kind: 'invalid', detail: 'an empty message' };
  if (payload.length > 1) return { kind: 'apdu', apdu: payload };
  const code = payload[0] ?? -1;
  const control = controlByCode.get(code);
  if (control === undefined) return { kind: 'invalid', detail: `unknown control code ${code}` };
  return { kind: 'control', control };
}

/**
 * Cuts a byte stream into messages. It holds at most one incomplete message (≤ 65537 bytes), so a
 * reader sending a length and then nothing costs bounded memory.
 */
export class VpcdMessageReader {
  #buffer: Bytes = new Uint8Array(0);

  /** Adds bytes from the stream; returns the payloads of the messages they complete, in order. */
  push(chunk: Bytes): Bytes[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : concatBytes(this.#buffer, chunk);
    const payloads: Bytes[] = [];
    while (this.#buffer.length >= lengthBytes) {
      const end = lengthBytes + readU16be(this.#buffer, 0);
      if (this.#buffer.length < end) break;
      payloads.push(this.#buffer.slice(lengthBytes, end));
      this.#buffer = this.#buffer.subarray(end);
    }
    return payloads;
  }

  /** Bytes of an incomplete message left when the stream ended (0 when it ended cleanly). */
  get pendingBytes(): number {
    return this.#buffer.length;
  }
}
