// Offline limits (DESIGN §6): risk parameters signed by the DCP, versioned, enforced by the SE.
import { checkAmount } from './amount.ts';
import { FieldReader, type CborValue } from './cbor.ts';
import { structureVersion, type SecureElementKind } from './certificate.ts';
import { principalIdBytes, type PrincipalId } from './ids.ts';
import { transferInputsMax } from './transfer.ts';
import { signedFromCbor, type Signed } from './signed.ts';

/** Hard ceilings no signed limits may exceed (what the emulated chips can hold). */
export const generationCeiling = 64;
export const historyBytesCeiling = 256 * 1024;
export const offlinePaymentsCeiling = 10_000;
export const challengesCeiling = 64;

export interface Limits {
  readonly dcpId: PrincipalId;
  /** Monotonic: an SE installs only a newer version. */
  readonly version: number;
  readonly kind: SecureElementKind;
  readonly balanceMax: bigint;
  readonly paymentMax: bigint;
  /** Offline payments the SE may make since its last sync. */
  readonly offlinePaymentsMax: number;
  /** Hops since issuance a received token may have. */
  readonly generationMax: number;
  /** Largest bundle (a token with its history) the SE will send or accept. */
  readonly historyBytesMax: number;
  readonly inputsMax: number;
  readonly challengesMax: number;
  readonly time: number;
  /**
   * What RECEIVE verifies (validate-bundle.ts, docs/protocol.md §4's verification policy): `full` (absent) every signature back to DCP
   * issuances, `lastHop` only the paying transfer's and its payer's certificate; the MDS then finds
   * a counterfeit ancestry after the fact. A risk parameter like the others: signed, versioned and
   * changed at a sync.
   */
  readonly verification?: VerificationPolicy;
}

export type VerificationPolicy = 'full' | 'lastHop';

/** The CBOR of `lastHop` in limits' optional 13th field; `full` is the field's absence (canonical). */
const lastHopNumber = 1;
const limitsFields = 12;

export type SignedLimits = Signed<Limits>;

/** Defaults for the test PKI and the demo: a card holds kilobytes, a phone more. */
export function defaultLimits(
  dcpId: PrincipalId,
  kind: SecureElementKind,
  version: number,
  time: number,
): Limits {
  const card = kind === 'card';
  return {
    dcpId,
    version,
    kind,
    balanceMax: card ? 50_000n : 500_000n,
    paymentMax: card ? 20_000n : 200_000n,
    offlinePaymentsMax: card ? 50 : 500,
    generationMax: card ? 8 : 16,
    historyBytesMax: card ? 16 * 1024 : 64 * 1024,
    inputsMax: card ? 4 : 8,
    challengesMax: card ? 4 : 16,
    time,
  };
}

const kindNumbers = { card: 4, phone: 5 } as const;

export function limitsToCbor(limits: Limits): CborValue {
  return [
    structureVersion,
    limits.dcpId,
    limits.version,
    kindNumbers[limits.kind],
    limits.balanceMax,
    limits.paymentMax,
    limits.offlinePaymentsMax,
    limits.generationMax,
    limits.historyBytesMax,
    limits.inputsMax,
    limits.challengesMax,
    limits.time,
    // Absent for `full`: limits signed before the field existed keep their bytes and their meaning.
    ...(limits.verification === 'lastHop' ? [lastHopNumber] : []),
  ];
}

export function limitsFromCbor(value: CborValue): Limits {
  const withPolicy = Array.isArray(value) && value.length === limitsFields + 1;
  const reader = new FieldReader(value, 'limits', withPolicy ? limitsFields + 1 : limitsFields);
  reader.version(0, structureVersion);
  const kindNumber = reader.uint(3, 'kind');
  const kind =
    kindNumber === kindNumbers.card ? 'card' : kindNumber === kindNumbers.phone ? 'phone' : undefined;
  if (kind === undefined) throw FieldReader.invalid('limits.kind', 'must be card or phone');
  return {
    dcpId: reader.bytes(1, 'dcpId', principalIdBytes),
    version: reader.uint(2, 'limitsVersion'),
    kind,
    balanceMax: checkAmount(reader.biguint(4, 'balanceMax'), 'limits.balanceMax'),
    paymentMax: checkAmount(reader.biguint(5, 'paymentMax'), 'limits.paymentMax'),
    offlinePaymentsMax: reader.uint(6, 'offlinePaymentsMax', offlinePaymentsCeiling),
    generationMax: reader.uint(7, 'generationMax', generationCeiling),
    historyBytesMax: reader.uint(8, 'historyBytesMax', historyBytesCeiling),
    inputsMax: reader.uint(9, 'inputsMax', transferInputsMax),
    challengesMax: reader.uint(10, 'challengesMax', challengesCeiling),
    time: reader.uint(11, 'time'),
    ...(withPolicy ? { verification: lastHopField(reader) } : {}),
  };
}

/** The 13th field: only `lastHop` is written, so any other value (`full` included) is not canonical. */
function lastHopField(reader: FieldReader): VerificationPolicy {
  if (reader.uint(limitsFields, 'verification') !== lastHopNumber)
    throw FieldReader.invalid('limits.verification', `must be ${lastHopNumber} (lastHop) or absent (full)`);
  return 'lastHop';
}

export function signedLimitsFromCbor(value: CborValue): SignedLimits {
  return signedFromCbor(value, 'limits', limitsFromCbor);
}
