// The core ledger's error catalogue: its domain codes (0x10xx) and its gateway's (0x111x). The ledger
// also answers the generic service codes (src/service-kit/service-errors.ts: requestInvalid,
// apiKeyMissing, idempotencyKeyReusedWithDifferentRequest, internalError...), which are not repeated
// here. Numbers of codes that moved there (0x1001, 0x1002, 0x1006, 0x1010–0x1012, 0x1014, 0x1050,
// 0x10FF, 0x1101) are not given to other codes.
// Registered in `src/errors.ts`; `docs/ledger.md` lists every code, and a test keeps the two in step.
// This file is the ledger's public contract for errors: the gateway imports it to type refusals.
import { catalogueFunctions, defineErrorCatalogue } from '../../core/errors.ts';
import {
  answerCatalogue,
  clientErrorCodes,
  type ServiceErrorCode,
} from '../../service-kit/service-errors.ts';

export const ledgerErrors = defineErrorCatalogue({
  // Requests (0x100x)
  amountMalformed: {
    number: 0x1003,
    kind: 'wrongData',
    meaning: 'an amount is not a decimal string of digits without leading zeros',
  },
  amountMustExceedZero: { number: 0x1004, kind: 'wrongData', meaning: 'an amount is zero or negative' },
  amountAboveMaximum: { number: 0x1005, kind: 'wrongData', meaning: 'an amount is above movementAmountMax' },
  // Authority (0x101x)
  notAccountOwner: {
    number: 0x1013,
    kind: 'securityNotSatisfied',
    meaning:
      'the account belongs to another participant: a participant debits and reads only its own accounts',
  },
  // Unknown ids (0x102x)
  accountNotFound: { number: 0x1020, kind: 'notFound', meaning: 'no account has this id' },
  paymentNotFound: {
    number: 0x1021,
    kind: 'notFound',
    meaning: 'no payment with this id is visible to the participant',
  },
  holdNotFound: {
    number: 0x1022,
    kind: 'notFound',
    meaning: 'no hold with this id is visible to the participant',
  },
  participantNotFound: { number: 0x1023, kind: 'notFound', meaning: 'no participant has this id' },
  // Money rules (0x103x)
  insufficientBalance: {
    number: 0x1030,
    kind: 'conditionsNotSatisfied',
    meaning: 'the available balance (balance minus active holds) is below the amount',
  },
  // One rule with core's `payToSelf` (an SE paying itself offline) and the DCP's
  // `payeeMustDifferFromPayer` (an online transfer to the paying SE); this is the name the three
  // should share, in core, once core and the DCP move to it (until then each refuses its own case).
  payerMustDifferFromPayee: {
    number: 0x1031,
    kind: 'wrongData',
    meaning: 'payer and payee are the same account',
  },
  issuanceAccountOnlyIssues: {
    number: 0x1032,
    kind: 'wrongData',
    meaning: 'the issuance account is debited only by an issuance, never by a payment or a hold',
  },
  issuanceMustCreditIntermediary: {
    number: 0x1033,
    kind: 'wrongData',
    meaning: "an issuance credits an intermediary's account, no other kind",
  },
  supplyLimitExceeded: {
    number: 0x1034,
    kind: 'conditionsNotSatisfied',
    meaning: 'the issuance would bring the money issued above supplyMax',
  },
  accountKindNotAllowedForOwner: {
    number: 0x1035,
    kind: 'wrongData',
    meaning:
      "the account kind does not fit the owner's role (intermediary: intermediary, wallet; DCP: dcpPool, wallet)",
  },
  // Holds (0x104x)
  holdExpired: {
    number: 0x1040,
    kind: 'conditionsNotSatisfied',
    meaning: 'the hold expired before the capture; its amount is available to the payer again',
  },
  holdAlreadyCaptured: {
    number: 0x1041,
    kind: 'conflict',
    meaning: 'the hold was captured; it cannot be released',
  },
  holdAlreadyReleased: {
    number: 0x1042,
    kind: 'conflict',
    meaning: 'the hold was released; it cannot be captured',
  },
  holdDurationOutOfRange: {
    number: 0x1043,
    kind: 'wrongData',
    meaning: 'expiresInSeconds is outside holdSecondsMin..holdSecondsMax',
  },
  holdsLimitReached: {
    number: 0x1044,
    kind: 'notEnoughMemory',
    meaning: 'the account already has activeHoldsPerAccountMax active holds',
  },
  // Settlement (0x105x)
  settlementMustJoinPools: {
    number: 0x1050,
    kind: 'wrongData',
    meaning: 'a settlement payment moves money from one DCP pool to another, between no other kinds',
  },
  // Client (0x111x): what api/client.ts throws
  ...clientErrorCodes('ledger', 'the ledger', { unavailable: 0x1110, answerInvalid: 0x1111 }),
});

export type LedgerErrorCode = keyof typeof ledgerErrors;

export const { error: ledgerError, isCode: isLedgerErrorCode } = catalogueFunctions(ledgerErrors);

/** Codes a ledger answer may carry: its own and the generic service codes. */
export type LedgerAnswerCode = LedgerErrorCode | ServiceErrorCode;

export const ledgerAnswers = answerCatalogue(ledgerErrors);
