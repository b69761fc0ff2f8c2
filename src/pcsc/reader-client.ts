// The applet's instructions over a PC/SC reader: what `SecureElementClient` (src/device/se-client.ts)
// does over a synchronous link, here over an asynchronous one, with SELECT first. The payloads are
// the same CBOR; refusals are the same `SecureElementRefused`; GET DATA's answer is decoded by
// `SecureElementClient` itself, so that both paths read it with one decoder.
import { readU16be, type Bytes } from '../core/bytes.ts';
import { encodeCbor, type CborValue } from '../core/cbor.ts';
import { CardTransport } from '../secure-element/apdu/card-transport.ts';
import { interindustryClass, statusWords } from '../secure-element/apdu/apdu.ts';
import { appletClass, instructions, type InstructionName } from '../secure-element/instructions.ts';
import { SecureElementClient, SecureElementRefused, type PublicData } from '../device/se-client.ts';
import { catalogues } from '../errors.ts';
import { appletAid } from './applet-identity.ts';
import { exchangeAsync, type AsyncTransmit } from '../secure-element/apdu/terminal.ts';
import { pcscError } from './errors.ts';
import { selectByNameP1, selectInstruction, selectReturnFciP2 } from './virtual-card.ts';

const codeByNumber = new Map<number, string>();
for (const { catalogue } of catalogues)
  for (const [code, definition] of Object.entries(catalogue)) codeByNumber.set(definition.number, code);

export class ReaderClient {
  readonly #transmit: AsyncTransmit;

  constructor(transmit: AsyncTransmit) {
    this.#transmit = transmit;
  }

  /** SELECT by the applet's AID; throws `applicationNotSelected` when the card refuses it. */
  async select(): Promise<void> {
    const response = await exchangeAsync(this.#transmit, {
      cla: interindustryClass,
      ins: selectInstruction,
      p1: selectByNameP1,
      p2: selectReturnFciP2,
      data: appletAid,
    });
    if (response.sw !== statusWords.success) {
      throw pcscError('applicationNotSelected', `SELECT answered ${response.sw.toString(16).toUpperCase()}`);
    }
  }

  /** Sends one instruction; returns the answer data or throws `SecureElementRefused`. */
  async call(instruction: InstructionName, data: Bytes = new Uint8Array(0)): Promise<Bytes> {
    const command = { cla: appletClass, ins: instructions[instruction], p1: 0, p2: 0, data };
    const response = await exchangeAsync(this.#transmit, command);
    if (response.sw === statusWords.success) return response.data;
    const code = response.data.length === 2 ? codeByNumber.get(readU16be(response.data, 0)) : undefined;
    throw new SecureElementRefused(instruction, response.sw, code);
  }

  async #callCbor(instruction: InstructionName, value: CborValue): Promise<Bytes> {
    return this.call(instruction, encodeCbor(value));
  }

  async getData(): Promise<PublicData> {
    const answer = await this.call('getData');
    // The answer, served again by a card transport of its own, for SecureElementClient to decode.
    const replay = new CardTransport({ process: () => ({ data: answer, sw: statusWords.success }) });
    return new SecureElementClient((bytes) => replay.transmit(bytes)).getData();
  }

  /** Step 1 (payee): the encoded payment request. */
  async paymentRequest(amount: bigint): Promise<Bytes> {
    return this.#callCbor('paymentRequest', [amount]);
  }

  /** Step 2 (payer): the encoded bundle. */
  async pay(request: Bytes, advisoryTime: number): Promise<Bytes> {
    return this.#callCbor('pay', [request, advisoryTime]);
  }

  /** Step 3 (payee): the encoded receipt. */
  async receive(bundle: Bytes): Promise<Bytes> {
    return this.call('receive', bundle);
  }

  /** Step 4 (payer). */
  async acknowledge(receipt: Bytes): Promise<void> {
    await this.call('acknowledge', receipt);
  }
}
