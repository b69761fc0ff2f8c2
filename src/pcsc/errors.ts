// The PC/SC component's error catalogue (0x50xx): the virtual card's link to vpcd and the terminal's
// PC/SC calls. Registered in `src/errors.ts`; `docs/pcsc.md` lists every code and a test keeps the two
// in step. A card's refusals of APDUs are not here: they are status words (docs/protocol.md §5, §6).
import { catalogueFunctions, defineErrorCatalogue } from '../core/errors.ts';

export const pcscErrors = defineErrorCatalogue({
  // The virtual card and vpcd (0x500x)
  vpcdUnreachable: {
    number: 0x5001,
    kind: 'unavailable',
    meaning: 'the virtual card cannot connect to vpcd (pcscd with the vsmartcard-vpcd driver) on its port',
  },
  vpcdMessageInvalid: {
    number: 0x5002,
    kind: 'wrongData',
    meaning: 'vpcd sent an empty message or a one-byte control message with an unknown code',
  },
  cardNotPowered: {
    number: 0x5003,
    kind: 'conditionsNotSatisfied',
    meaning: 'an APDU reached the virtual card while the reader had it powered off: the card stays mute',
  },
  // The terminal's PC/SC calls (0x501x)
  pcscUnavailable: {
    number: 0x5010,
    kind: 'unavailable',
    meaning:
      'no PC/SC service: the @pokusew/pcsclite binding is not installed (it needs libpcsclite-dev) or pcscd is not running',
  },
  readerNotFound: { number: 0x5011, kind: 'notFound', meaning: 'PC/SC lists no reader of that name' },
  readerCardAbsent: {
    number: 0x5012,
    kind: 'conditionsNotSatisfied',
    meaning: 'no card is present in the reader (within the wait allowed)',
  },
  readerFailed: {
    number: 0x5013,
    kind: 'unavailable',
    meaning: 'a PC/SC call (connect, transmit, disconnect) failed: card removed or unpowered, reader gone',
  },
  applicationNotSelected: {
    number: 0x5014,
    kind: 'notFound',
    meaning: "the card refused SELECT of the applet's AID: it is not our applet",
  },
});

export type PcscErrorCode = keyof typeof pcscErrors;

export const { error: pcscError, isCode: isPcscErrorCode } = catalogueFunctions(pcscErrors);
