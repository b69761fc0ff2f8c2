// The applet: decodes each logical command to its instruction and maps every typed refusal to an
// ISO 7816-4 status word, with the project error number (2 bytes, big-endian) as the answer data.
// A power cut is not an answer: it propagates to the harness untouched.
import { isCbdcError, statusWordByKind, coreErrors } from '../core/errors.ts';
import { u16be, type Bytes } from '../core/bytes.ts';
import { statusWords } from './apdu/apdu.ts';
import type { LogicalApplet, LogicalCommand, LogicalResponse } from './apdu/card-transport.ts';
import { appletClass, instructions } from './instructions.ts';
import { authenticate, getData, initialise, personalise } from './commands/personalise.ts';
import { load } from './commands/load.ts';
import { refuseLoad } from './commands/refuse-load.ts';
import { pay, paymentRequest } from './commands/pay.ts';
import { acknowledge, receive } from './commands/receive.ts';
import { beginSync, completeSync, updateDenyList, updateLimits } from './commands/sync.ts';
import type { SecureElementView } from './view.ts';

type Handler = (se: SecureElementView, data: Bytes) => Bytes;

const handlers = new Map<number, Handler>([
  [instructions.initialise, (se) => initialise(se)],
  [instructions.personalise, personalise],
  [instructions.getData, (se) => getData(se)],
  [instructions.load, load],
  [instructions.refuseLoad, refuseLoad],
  [instructions.paymentRequest, paymentRequest],
  [instructions.pay, pay],
  [instructions.receive, receive],
  [instructions.acknowledge, acknowledge],
  [instructions.beginSync, beginSync],
  [instructions.completeSync, completeSync],
  [instructions.updateLimits, updateLimits],
  [instructions.updateDenyList, updateDenyList],
  [instructions.authenticate, authenticate],
]);

function refusal(sw: number, number: number): LogicalResponse {
  return { data: u16be(number), sw };
}

export class Applet implements LogicalApplet {
  readonly #se: SecureElementView;

  constructor(se: SecureElementView) {
    this.#se = se;
  }

  process(command: LogicalCommand): LogicalResponse {
    if (command.cla !== appletClass)
      return refusal(statusWords.claNotSupported, coreErrors.apduClassUnsupported.number);
    const handler = handlers.get(command.ins);
    if (handler === undefined)
      return refusal(statusWords.insNotSupported, coreErrors.apduInstructionUnknown.number);
    if (command.p1 !== 0 || command.p2 !== 0)
      return refusal(statusWords.wrongP1P2, coreErrors.apduParametersInvalid.number);
    try {
      return { data: handler(this.#se, command.data), sw: statusWords.success };
    } catch (error) {
      if (isCbdcError(error))
        return refusal(statusWordByKind[error.definition.kind], error.definition.number);
      throw error; // a power cut, or a bug (the transport answers 6F00)
    }
  }
}
