// A transfer is an offline payment signed by the payer SE (DESIGN §4): inputs are spent, outputs are
// the payment (index 0, to the payee) and optionally the change (index 1, back to the payer).
import { FieldReader, readBytesItem, type CborValue } from './cbor.ts';
import { challengeBytes, entryIdBytes, principalIdBytes, type PrincipalId, type TokenId } from './ids.ts';
import { structureVersion } from './certificate.ts';
import { outputFromCbor, outputToCbor, type Output } from './issuance.ts';
import { signedFromCbor, type Signed } from './signed.ts';
import type { Bytes } from './bytes.ts';

/** A transfer has the payment output and at most one change output. */
export const transferOutputsMax = 2;
/** Hard bound on inputs in any transfer; the signed limits may set a lower one. */
export const transferInputsMax = 32;

export interface TransferBody {
  readonly payerId: PrincipalId;
  /** Monotonic per payer SE: an honest SE signs each counter value at most once (invariant 2). */
  readonly payerCounter: number;
  readonly inputs: readonly TokenId[];
  readonly outputs: readonly Output[];
  readonly payeeId: PrincipalId;
  readonly challenge: Bytes;
  /** Advisory only: a card has no clock, a phone's clock is not trusted (DESIGN §6). */
  readonly time: number;
}

export type Transfer = Signed<TransferBody>;

export function transferBodyToCbor(body: TransferBody): CborValue {
  return [
    structureVersion,
    body.payerId,
    body.payerCounter,
    [...body.inputs],
    body.outputs.map(outputToCbor),
    body.payeeId,
    body.challenge,
    body.time,
  ];
}

export function transferBodyFromCbor(value: CborValue): TransferBody {
  const reader = new FieldReader(value, 'transfer', 8);
  reader.version(0, structureVersion);
  const outputs = reader.array(4, 'outputs', transferOutputsMax, outputFromCbor);
  if (outputs.length === 0) throw FieldReader.invalid('transfer.outputs', 'must not be empty');
  const inputs = reader.array(3, 'inputs', transferInputsMax, (item, where) =>
    readBytesItem(item, where, entryIdBytes),
  );
  if (inputs.length === 0) throw FieldReader.invalid('transfer.inputs', 'must not be empty');
  return {
    payerId: reader.bytes(1, 'payerId', principalIdBytes),
    payerCounter: reader.uint(2, 'payerCounter'),
    inputs,
    outputs,
    payeeId: reader.bytes(5, 'payeeId', principalIdBytes),
    challenge: reader.bytes(6, 'challenge', challengeBytes),
    time: reader.uint(7, 'time'),
  };
}

export function transferFromCbor(value: CborValue): Transfer {
  return signedFromCbor(value, 'transfer', transferBodyFromCbor);
}
