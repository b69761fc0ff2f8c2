// The terminal side of the applet's instructions: typed calls that become APDUs (docs/protocol.md).
// A refusal comes back as `SecureElementRefused` with the status word and the project error code.
import { readU16be, type Bytes } from '../core/bytes.ts';
import { decodeCbor, encodeCbor, FieldReader, type CborValue } from '../core/cbor.ts';
import { catalogues } from '../errors.ts';
import { signedToCbor } from '../core/signed.ts';
import { certificateFromCbor, type Certificate } from '../core/certificate.ts';
import { claimFromCbor, type Claim } from '../core/claim.ts';
import { deviceRequestFromCbor, type DeviceRequest } from '../core/device-request.ts';
import type { Issuance } from '../core/issuance.ts';
import { loadRefusalFromCbor, type LoadRefusal } from '../core/load-refusal.ts';
import type { SignedLimits } from '../core/limits.ts';
import type { SignedDenyList } from '../core/deny-list.ts';
import { exchange, type Transmit } from '../secure-element/apdu/terminal.ts';
import { statusWords } from '../secure-element/apdu/apdu.ts';
import { appletClass, instructions, type InstructionName } from '../secure-element/instructions.ts';

const codeByNumber = new Map<number, string>();
for (const { catalogue } of catalogues)
  for (const [code, definition] of Object.entries(catalogue)) codeByNumber.set(definition.number, code);

/** The SE answered with a status word other than 9000. */
export class SecureElementRefused extends Error {
  override readonly name = 'SecureElementRefused';
  constructor(
    readonly instruction: InstructionName,
    readonly sw: number,
    /** The project error code carried in the answer, when there is one. */
    readonly code: string | undefined,
  ) {
    super(`${instruction} refused: ${sw.toString(16).toUpperCase()}${code === undefined ? '' : ` ${code}`}`);
  }
}

export interface PublicData {
  readonly lifeCycle: number;
  readonly seId: Bytes;
  readonly publicKey: Bytes;
  readonly certificate: Certificate | undefined;
  readonly balance: bigint;
  readonly counter: number;
  readonly paymentsSinceSync: number;
  readonly limitsVersion: number;
  readonly denyListVersion: number;
  readonly tokenCount: number;
  readonly pendingCount: number;
  readonly trustedTime: number;
}

export interface Personalisation {
  readonly certificate: Certificate;
  readonly rootPublicKey: Bytes;
  readonly dcpIssuers: readonly Certificate[];
  readonly directory: Certificate;
  readonly mds: Certificate;
  readonly limits: SignedLimits;
  readonly denyList: SignedDenyList;
}

export class SecureElementClient {
  readonly #transmit: Transmit;

  constructor(transmit: Transmit) {
    this.#transmit = transmit;
  }

  /** Sends one instruction; returns the answer data or throws `SecureElementRefused`. */
  call(instruction: InstructionName, data: Bytes = new Uint8Array(0)): Bytes {
    const response = exchange(this.#transmit, {
      cla: appletClass,
      ins: instructions[instruction],
      p1: 0,
      p2: 0,
      data,
    });
    if (response.sw === statusWords.success) return response.data;
    const code = response.data.length === 2 ? codeByNumber.get(readU16be(response.data, 0)) : undefined;
    throw new SecureElementRefused(instruction, response.sw, code);
  }

  #callCbor(instruction: InstructionName, value: CborValue): Bytes {
    return this.call(instruction, encodeCbor(value));
  }

  initialise(): { seId: Bytes; publicKey: Bytes } {
    const r = new FieldReader(decodeCbor(this.call('initialise')), 'initialiseAnswer', 2);
    return { seId: r.bytes(0, 'seId'), publicKey: r.bytes(1, 'publicKey') };
  }

  personalise(p: Personalisation): void {
    this.#callCbor('personalise', [
      signedToCbor(p.certificate),
      p.rootPublicKey,
      p.dcpIssuers.map(signedToCbor),
      signedToCbor(p.directory),
      signedToCbor(p.mds),
      signedToCbor(p.limits),
      signedToCbor(p.denyList),
    ]);
  }

  getData(): PublicData {
    const r = new FieldReader(decodeCbor(this.call('getData')), 'getDataAnswer', 12);
    const certificate = r.raw(3);
    return {
      lifeCycle: r.uint(0, 'lifeCycle'),
      seId: r.bytes(1, 'seId'),
      publicKey: r.bytes(2, 'publicKey'),
      certificate:
        Array.isArray(certificate) && certificate.length === 0 ? undefined : certificateFromCbor(certificate),
      balance: r.biguint(4, 'balance'),
      counter: r.uint(5, 'counter'),
      paymentsSinceSync: r.uint(6, 'paymentsSinceSync'),
      limitsVersion: r.uint(7, 'limitsVersion'),
      denyListVersion: r.uint(8, 'denyListVersion'),
      tokenCount: r.uint(9, 'tokenCount'),
      pendingCount: r.uint(10, 'pendingCount'),
      trustedTime: r.uint(11, 'trustedTime'),
    };
  }

  load(issuance: Issuance): bigint {
    return new FieldReader(
      decodeCbor(this.#callCbor('load', [signedToCbor(issuance)])),
      'loadAnswer',
      1,
    ).biguint(0, 'balance');
  }

  /** REFUSE LOAD: the SE's signed refusal of a load it cannot hold, recorded so it never installs it. */
  refuseLoad(issuance: Issuance): LoadRefusal {
    return loadRefusalFromCbor(decodeCbor(this.#callCbor('refuseLoad', [signedToCbor(issuance)])));
  }

  /** Step 1 (payee): the encoded payment request. */
  paymentRequest(amount: bigint): Bytes {
    return this.#callCbor('paymentRequest', [amount]);
  }

  /** Step 2 (payer): the encoded bundle. */
  pay(request: Bytes, advisoryTime: number): Bytes {
    return this.#callCbor('pay', [request, advisoryTime]);
  }

  /** Step 3 (payee): the encoded receipt. */
  receive(bundle: Bytes): Bytes {
    return this.call('receive', bundle);
  }

  /** Step 4 (payer). */
  acknowledge(receipt: Bytes): void {
    this.call('acknowledge', receipt);
  }

  beginSync(dcpNonce: Bytes): { claim: Claim; sealedUpload: Bytes } {
    const r = new FieldReader(decodeCbor(this.#callCbor('beginSync', [dcpNonce])), 'beginSyncAnswer', 2);
    return { claim: claimFromCbor(r.raw(0)), sealedUpload: r.bytes(1, 'sealedUpload') };
  }

  completeSync(
    renewal: Issuance,
    credits: readonly Issuance[],
    limits?: SignedLimits,
    denyList?: SignedDenyList,
  ): bigint {
    const answer = this.#callCbor('completeSync', [
      signedToCbor(renewal),
      credits.map(signedToCbor),
      limits === undefined ? [] : [signedToCbor(limits)],
      denyList === undefined ? [] : [signedToCbor(denyList)],
    ]);
    return new FieldReader(decodeCbor(answer), 'completeSyncAnswer', 1).biguint(0, 'balance');
  }

  updateLimits(limits: SignedLimits): void {
    this.#callCbor('updateLimits', [signedToCbor(limits)]);
  }

  /** Signs an online request: the DCP's nonce and the digest of the request. */
  authenticate(dcpNonce: Bytes, requestDigest: Bytes): DeviceRequest {
    return deviceRequestFromCbor(decodeCbor(this.#callCbor('authenticate', [dcpNonce, requestDigest])));
  }

  updateDenyList(denyList: SignedDenyList): void {
    this.#callCbor('updateDenyList', [signedToCbor(denyList)]);
  }
}
