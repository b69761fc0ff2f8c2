// The messages of the offline payment protocol (DESIGN §5) besides the bundle: the payee's payment
// request (step 1) and its receipt (step 3).
import { checkAmount } from './amount.ts';
import { decodeCbor, encodeCbor, FieldReader, type CborValue } from './cbor.ts';
import { certificateFromCbor, structureVersion, type Certificate } from './certificate.ts';
import { challengeBytes, entryIdBytes, principalIdBytes, type EntryId, type PrincipalId } from './ids.ts';
import { signedFromCbor, signedToCbor, type Signed } from './signed.ts';
import type { Bytes } from './bytes.ts';

export interface PaymentRequest {
  readonly payeeCertificate: Certificate;
  readonly challenge: Bytes;
  readonly amount: bigint;
}

export function encodePaymentRequest(request: PaymentRequest): Bytes {
  return encodeCbor([
    structureVersion,
    signedToCbor(request.payeeCertificate),
    request.challenge,
    request.amount,
  ]);
}

export function decodePaymentRequest(bytes: Bytes): PaymentRequest {
  const reader = new FieldReader(decodeCbor(bytes), 'paymentRequest', 4);
  reader.version(0, structureVersion);
  return {
    payeeCertificate: certificateFromCbor(reader.raw(1)),
    challenge: reader.bytes(2, 'challenge', challengeBytes),
    amount: checkAmount(reader.biguint(3, 'amount'), 'paymentRequest.amount'),
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
