// The error catalogue: every operating error (bad input, limit reached, conflict, refused
// authority) has a stable camelCase code, a stable 16-bit number (carried in APDU answers), a kind
// (which fixes the ISO 7816 status word and the HTTP status) and a one-line meaning.
// `docs/errors.md` documents every code; `errors-doc.test.ts` keeps the two in step.
//
// Components define their own catalogues with `defineErrorCatalogue`; numbers are unique across
// all catalogues (`src/errors.ts` gathers them and a test checks it).

/** What kind of refusal; fixes the status word (ISO 7816-4 §5.1.3) and the HTTP status. */
export type ErrorKind =
  | 'wrongData' // malformed or invalid input: 6A80 / 400
  | 'wrongLength' // length field or size out of range: 6700 / 400 (413 for bodies)
  | 'conditionsNotSatisfied' // state forbids it now (limit reached, not personalised...): 6985 / 409
  | 'securityNotSatisfied' // signature, certificate, deny list, authority: 6982 / 403
  | 'notEnoughMemory' // storage or a bounded table is full: 6A84 / 409
  | 'notFound' // unknown id: 6A88 / 404
  | 'conflict' // idempotency or uniqueness conflict: 6985 / 409
  | 'unavailable'; // a dependency is down or timed out: 6F00 / 503

export interface ErrorDefinition {
  readonly number: number;
  readonly kind: ErrorKind;
  readonly meaning: string;
}

export type ErrorCatalogue = Readonly<Record<string, ErrorDefinition>>;

export function defineErrorCatalogue<const T extends Record<string, ErrorDefinition>>(catalogue: T): T {
  return Object.freeze(catalogue);
}

export const statusWordByKind: Readonly<Record<ErrorKind, number>> = {
  wrongData: 0x6a80,
  wrongLength: 0x6700,
  conditionsNotSatisfied: 0x6985,
  securityNotSatisfied: 0x6982,
  notEnoughMemory: 0x6a84,
  notFound: 0x6a88,
  conflict: 0x6985,
  unavailable: 0x6f00,
};

export const httpStatusByKind: Readonly<Record<ErrorKind, number>> = {
  wrongData: 400,
  wrongLength: 400,
  conditionsNotSatisfied: 409,
  securityNotSatisfied: 403,
  notEnoughMemory: 409,
  notFound: 404,
  conflict: 409,
  unavailable: 503,
};

/** Protocol errors: decoding, validation, the secure element and the offline payment. */
export const coreErrors = defineErrorCatalogue({
  // Encoding (0x01xx)
  cborMalformed: { number: 0x0101, kind: 'wrongData', meaning: 'bytes are not well-formed CBOR' },
  cborNotCanonical: {
    number: 0x0102,
    kind: 'wrongData',
    meaning:
      'CBOR is not in deterministic encoding (RFC 8949 §4.2): non-shortest form, unsorted or duplicate keys, indefinite length',
  },
  cborUnsupported: {
    number: 0x0103,
    kind: 'wrongData',
    meaning: 'CBOR uses a type this protocol never sends (float, tag, undefined, negative zero length...)',
  },
  cborTrailingBytes: { number: 0x0104, kind: 'wrongData', meaning: 'bytes follow the end of the CBOR item' },
  fieldInvalid: {
    number: 0x0105,
    kind: 'wrongData',
    meaning: 'a decoded structure has a missing, extra or wrongly typed field (the detail names it)',
  },
  sizeLimitExceeded: {
    number: 0x0106,
    kind: 'wrongLength',
    meaning: 'an encoded structure or list is longer than its limit',
  },
  // Amounts (0x02xx)
  amountMustBePositive: {
    number: 0x0201,
    kind: 'wrongData',
    meaning: 'an amount or value is zero or negative',
  },
  amountOutOfRange: {
    number: 0x0202,
    kind: 'wrongData',
    meaning: 'an amount is above the largest amount the protocol carries (amountMax)',
  },
  // Signatures and certificates (0x03xx)
  signatureInvalid: {
    number: 0x0301,
    kind: 'securityNotSatisfied',
    meaning: 'a signature does not verify (forged, wrong key, altered message, or high-S)',
  },
  publicKeyInvalid: {
    number: 0x0302,
    kind: 'wrongData',
    meaning: 'a public key is not an uncompressed P-256 point on the curve',
  },
  certificateChainInvalid: {
    number: 0x0303,
    kind: 'securityNotSatisfied',
    meaning: 'a certificate is not signed by a trusted DCP issuer certified by the root',
  },
  certificateExpired: {
    number: 0x0304,
    kind: 'securityNotSatisfied',
    meaning: 'a certificate is outside its validity period',
  },
  certificateWrongRole: {
    number: 0x0305,
    kind: 'securityNotSatisfied',
    meaning: 'a certificate is used for a role it was not issued for',
  },
  certificateIdMismatch: {
    number: 0x0306,
    kind: 'securityNotSatisfied',
    meaning: 'a certificate subject id is not the digest of its public key',
  },
  deniedSecureElement: {
    number: 0x0307,
    kind: 'securityNotSatisfied',
    meaning: 'the counterpart secure element is on the deny list',
  },
  // Tokens and histories (0x04xx)
  transferNotConserving: {
    number: 0x0401,
    kind: 'wrongData',
    meaning: 'a transfer creates or destroys value: outputs do not sum to inputs',
  },
  historyIncomplete: {
    number: 0x0402,
    kind: 'wrongData',
    meaning: 'a history lacks the transfer or issuance that produced one of its tokens',
  },
  historyNotOrdered: {
    number: 0x0403,
    kind: 'wrongData',
    meaning: 'a history is not topologically ordered or repeats an entry',
  },
  issuanceNotFromDcp: {
    number: 0x0404,
    kind: 'securityNotSatisfied',
    meaning: 'an issuance in a history is not signed by a trusted DCP issuer (fake funding)',
  },
  generationLimitExceeded: {
    number: 0x0405,
    kind: 'conditionsNotSatisfied',
    meaning: 'the token would exceed the generation (hops since issuance) limit: renewal required',
  },
  historyBytesLimitExceeded: {
    number: 0x0406,
    kind: 'conditionsNotSatisfied',
    meaning: 'the history would exceed the history size limit: renewal required',
  },
  inputsLimitExceeded: {
    number: 0x0407,
    kind: 'conditionsNotSatisfied',
    meaning: 'the payment needs more input tokens than a transfer may carry: renewal required',
  },
  tokenNotOwned: {
    number: 0x0408,
    kind: 'wrongData',
    meaning: 'a token input or output is not owned by the secure element that spends or receives it',
  },
  duplicateInput: {
    number: 0x0409,
    kind: 'wrongData',
    meaning: 'a transfer lists the same input token twice',
  },
  historyDoubleSpend: {
    number: 0x040a,
    kind: 'securityNotSatisfied',
    meaning: 'a history spends one token in two transfers (double spend)',
  },
  issuanceKindInvalid: {
    number: 0x040b,
    kind: 'wrongData',
    meaning: 'an issuance of this kind is not accepted here (a renewal by LOAD, a load by COMPLETE SYNC...)',
  },
  renewalMismatch: {
    number: 0x040c,
    kind: 'wrongData',
    meaning: 'a renewal does not retire exactly the claimed tokens, or pays out more than they held',
  },
  bundleCertificateUnused: {
    number: 0x040d,
    kind: 'wrongData',
    meaning: 'a bundle carries the certificate of a secure element that signed no transfer in it',
  },
  historyConflictsWithHeld: {
    number: 0x040e,
    kind: 'securityNotSatisfied',
    meaning:
      'a history spends a token that a history this secure element holds spends in another transfer (a double spend upstream)',
  },
  payeeBundleLimitExceeded: {
    number: 0x040f,
    kind: 'conditionsNotSatisfied',
    meaning:
      'the bundle would be longer than the payee accepts (its stated bound, at most what one RECEIVE command carries): pay less, or renew first',
  },
  // Secure element state (0x05xx)
  notPersonalised: {
    number: 0x0501,
    kind: 'conditionsNotSatisfied',
    meaning: 'the secure element has not been personalised yet',
  },
  alreadyPersonalised: {
    number: 0x0502,
    kind: 'conditionsNotSatisfied',
    meaning: 'the secure element is already personalised; personalisation happens once',
  },
  insufficientFunds: {
    number: 0x0503,
    kind: 'conditionsNotSatisfied',
    meaning: 'the payer does not hold enough value for the payment',
  },
  balanceLimitExceeded: {
    number: 0x0504,
    kind: 'conditionsNotSatisfied',
    meaning: 'the payee would exceed its balance limit (payee full)',
  },
  paymentLimitExceeded: {
    number: 0x0505,
    kind: 'conditionsNotSatisfied',
    meaning: 'the amount is above the single payment limit',
  },
  offlinePaymentsLimitExceeded: {
    number: 0x0506,
    kind: 'conditionsNotSatisfied',
    meaning: 'the payer made the most offline payments allowed since its last sync: renewal required',
  },
  challengesLimitExceeded: {
    number: 0x0507,
    kind: 'notEnoughMemory',
    meaning: 'the payee has as many outstanding payment requests as it may keep',
  },
  challengeUnknown: {
    number: 0x0508,
    kind: 'securityNotSatisfied',
    meaning: 'the bundle answers a challenge this payee never issued, or one already closed',
  },
  wrongPayee: {
    number: 0x0509,
    kind: 'wrongData',
    meaning: 'the bundle pays a different secure element than the one receiving it',
  },
  wrongAmount: {
    number: 0x050a,
    kind: 'wrongData',
    meaning: 'the bundle pays a different amount than the payment request asked for',
  },
  transferUnknown: {
    number: 0x050b,
    kind: 'notFound',
    meaning: 'the receipt acknowledges a transfer this secure element never signed',
  },
  issuanceNotForThisSecureElement: {
    number: 0x050c,
    kind: 'wrongData',
    meaning: 'an issuance presented to LOAD or COMPLETE SYNC pays another secure element',
  },
  limitsVersionStale: {
    number: 0x050d,
    kind: 'conditionsNotSatisfied',
    meaning: 'the limits presented are not newer than the ones installed',
  },
  denyListVersionStale: {
    number: 0x0513,
    kind: 'conditionsNotSatisfied',
    meaning: 'the deny list presented is not newer than the one installed',
  },
  syncNotStarted: {
    number: 0x050e,
    kind: 'conditionsNotSatisfied',
    meaning: 'COMPLETE SYNC without a matching BEGIN SYNC claim',
  },
  storeFull: {
    number: 0x050f,
    kind: 'notEnoughMemory',
    meaning: 'the secure element has no room for more tokens or log entries',
  },
  pendingLogFull: {
    number: 0x0511,
    kind: 'notEnoughMemory',
    meaning: 'the payer has as many unacknowledged payments as it may keep: sync required',
  },
  issuanceStale: {
    number: 0x0512,
    kind: 'conditionsNotSatisfied',
    meaning: 'the issuance predates the last completed sync (it is delivered by the sync instead)',
  },
  issuanceRecordFull: {
    number: 0x0514,
    kind: 'notEnoughMemory',
    meaning: 'the secure element has recorded as many installed issuances as it may keep: sync required',
  },
  issuanceRefused: {
    number: 0x0515,
    kind: 'conditionsNotSatisfied',
    meaning:
      'this secure element signed a refusal of the issuance (REFUSE LOAD): it never installs it, and its DCP returns the value to the wallet',
  },
  issuanceNotRefusable: {
    number: 0x0516,
    kind: 'conditionsNotSatisfied',
    meaning:
      'REFUSE LOAD of an issuance the secure element installed, or would install: it refuses only a load that passes its balance limit',
  },
  payToSelf: { number: 0x0510, kind: 'wrongData', meaning: 'payer and payee are the same secure element' },
  // APDU transport (0x06xx)
  apduMalformed: {
    number: 0x0601,
    kind: 'wrongLength',
    meaning: 'the command APDU is not a well-formed ISO 7816-4 short APDU',
  },
  apduClassUnsupported: { number: 0x0602, kind: 'wrongData', meaning: 'the CLA byte is not supported' },
  apduInstructionUnknown: { number: 0x0603, kind: 'wrongData', meaning: 'the INS byte names no instruction' },
  apduParametersInvalid: {
    number: 0x0604,
    kind: 'wrongData',
    meaning: 'P1 or P2 is invalid for the instruction',
  },
  apduChainingInvalid: {
    number: 0x0605,
    kind: 'conditionsNotSatisfied',
    meaning: 'a chained command broke off or changed instruction mid-chain',
  },
  apduCommandTooLong: {
    number: 0x0606,
    kind: 'wrongLength',
    meaning: 'the chained command data exceeds the largest command the applet accepts',
  },
});

export type CoreErrorCode = keyof typeof coreErrors;

/** An expected, typed refusal. `detail` names the field or rule for a human. */
export class CbdcError<Code extends string = string> extends Error {
  override readonly name = 'CbdcError';
  constructor(
    readonly code: Code,
    readonly definition: ErrorDefinition,
    readonly detail?: string,
  ) {
    super(detail === undefined ? `${code}: ${definition.meaning}` : `${code}: ${detail}`);
  }
}

/**
 * The two functions every catalogue needs: make a typed error of one of its codes, and tell whether a
 * code (from the wire, say) is one of its own.
 */
export function catalogueFunctions<Code extends string>(
  catalogue: Readonly<Record<Code, ErrorDefinition>>,
): {
  readonly error: (code: Code, detail?: string) => CbdcError<Code>;
  readonly isCode: (code: string) => code is Code;
} {
  return {
    error: (code, detail) => new CbdcError(code, catalogue[code], detail),
    isCode: (code): code is Code => Object.hasOwn(catalogue, code),
  };
}

/** Throws or returns a typed core error. */
export const { error: coreError } = catalogueFunctions(coreErrors);

export function isCbdcError(value: unknown): value is CbdcError {
  return value instanceof CbdcError;
}

/** A result that names the rule broken, for validation that must not throw. */
export type Result<T, Code extends string = CoreErrorCode> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: CbdcError<Code> };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function fail(
  code: CoreErrorCode,
  detail?: string,
): { readonly ok: false; readonly error: CbdcError<CoreErrorCode> } {
  return { ok: false, error: coreError(code, detail) };
}
