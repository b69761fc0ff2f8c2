// How the virtual card names itself to PC/SC software: its answer to reset (ATR, ISO 7816-3 §8) and
// the application identifier (AID, ISO 7816-5) that SELECT names (docs/pcsc.md, "ATR and AID").
import { concatBytes, type Bytes } from '../core/bytes.ts';

/**
 * The applet's AID: `F0` opens a proprietary AID that needs no registration (ISO 7816-5 §5.1,
 * category F), then ASCII "CBDC" and the applet's version, 01.
 */
export const appletAid: Bytes = Uint8Array.of(0xf0, 0x43, 0x42, 0x44, 0x43, 0x01);

/**
 * Historical bytes (ISO 7816-4 §8.1.1): category indicator 80 (compact-TLV objects follow), then
 * the application identifier (compact tag F, '4F' in BER-TLV, length 6) and the card capabilities
 * (tag 7, length 3: selection by full DF name; no data coding of files; command chaining, short
 * lengths only, no logical channels), which are what our applet offers.
 */
export const historicalBytes: Bytes = concatBytes(
  Uint8Array.of(0x80, 0xf0 | appletAid.length),
  appletAid,
  Uint8Array.of(0x73, 0x80, 0x00, 0x80),
);

/**
 * The ATR: TS 3B (direct convention); T0 8K (TD1 follows, K historical bytes); TD1 80 (TD2 follows,
 * T=0); TD2 01 (T=1); the historical bytes; TCK. This is the layout PC/SC Part 3 §3.1.3.2.3 gives
 * contactless ISO 14443-4 cards, which is what a payment card tapped on a reader is. TCK makes the
 * XOR of T0..TCK zero (ISO 7816-3 §8.2.5); it is required because T=1 is indicated.
 */
export const answerToReset: Bytes = withCheckByte(
  concatBytes(Uint8Array.of(0x3b, 0x80 | historicalBytes.length, 0x80, 0x01), historicalBytes),
);

function withCheckByte(atr: Bytes): Bytes {
  let check = 0;
  for (const byte of atr.subarray(1)) check ^= byte;
  return concatBytes(atr, Uint8Array.of(check));
}

/**
 * SELECT's answer with P2 = 00 (ISO 7816-4 §7.1.1, Table 11 and §5.3.3): the FCI template 6F
 * holding the DF name 84 = the AID that was selected.
 */
export const fileControlInformation: Bytes = concatBytes(
  Uint8Array.of(0x6f, appletAid.length + 2, 0x84, appletAid.length),
  appletAid,
);
