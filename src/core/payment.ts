// The messages of the offline payment protocol (DESIGN §5) besides the bundle: the payee's payment
// request (step 1) and its receipt (step 3).
import { checkAmount } from './amount.ts';
import { decodeCbor, encodeCbor, FieldReader, type CborValue } from './cbor.ts';
import { certificateFromCbor, structureVersion, type Certificate } from './certificate.ts';
import { challengeBytes, entryIdBytes, principalIdBytes, type EntryId, type PrincipalId } from './ids.ts';
import { signedFromCbor, signedToCbor, type Signed } from './signed.ts';
import { historyBytesCeiling } from './limits.ts';
import type { Bytes } from './bytes.ts';

export interface PaymentRequest {
  readonly payeeCertificate: Certificate;
  readonly challenge: Bytes;
  readonly amount: bigint;
  /**
   * The longest bundle the payee accepts: its limits' historyBytesMax, what one RECEIVE command can
   * carry, and what its store has room for, whichever is least. The payer refuses before debiting
   * rather than send a bundle the payee must refuse (DESIGN §10 invariant 8). Not signed, like the
   * rest of the request: a relay that raises it gains nothing it could not get by dropping the
   * bundle (the value stays in flight, refundable once the challenge expires), and one that lowers it
   * only makes the payer refuse, which it could cause by cutting the link.
   */
  readonly bundleBytesMax: number;
}

export function encodePaymentRequest(request: PaymentRequest): Bytes {
  return encodeCbor([
    structureVersion,
    signedToCbor(request.payeeCertificate),
    request.challenge,
    request.amount,
    request.bundleBytesMax,
  ]);
}

export function decodePaymentRequest(bytes: Bytes): PaymentRequest {
  const reader = new FieldReader(decodeCbor(bytes), 'paymentRequest', 5);
  reader.version(0, structureVersion);
  return {
    payeeCertificate: certificateFromCbor(reader.raw(1)),
    challenge: reader.bytes(2, 'challenge', challengeBytes),
    amount: checkAmount(reader.biguint(3, 'amount'), 'paymentRequest.amount'),
    bundleBytesMax: reader.uint(4, 'bundleBytesMax', historyBytesCeiling),
  };
}

export interface ReceiptBody {
  readonly transferId: EntryId;
  readonly payeeId: PrincipalId;
  readonly payeeCounter: number;
}

export type Receipt = Signed<ReceiptBody>;

export function receiptBodyToCbor(body: ReceiptBody): CborValue {
  return [structureVersion, body.transferId, body.payeeId, body.payeeCounter];
}

export function receiptBodyFromCbor(value: CborValue): ReceiptBody {
  const reader = new FieldReader(value, 'receipt', 4);
  reader.version(0, structureVersion);
  return {
    transferId: reader.bytes(1, 'transferId', entryIdBytes),
    payeeId: reader.bytes(2, 'payeeId', principalIdBytes),
    payeeCounter: reader.uint(3, 'payeeCounter'),
  };
}

export function decodeReceipt(bytes: Bytes): Receipt {
  return signedFromCbor(decodeCbor(bytes), 'receipt', receiptBodyFromCbor);
}
