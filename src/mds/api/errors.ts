// The MDS's error catalogue: its domain codes (0x40xx). The MDS also answers the generic service codes
// (src/service-kit/service-errors.ts: requestInvalid, apiKeyMissing, roleNotAllowed,
// idempotencyKeyReusedWithDifferentRequest, internalError...), which are not repeated here.
// Registered in `src/errors.ts`; `docs/mds.md` lists every code and a test keeps the two in step.
//
// An upload the MDS stored but could not ingest is not refused over HTTP (it was already
// acknowledged): it is recorded as `refused` with one of the `upload*` codes, or the core code that
// its decoding or verification failed with (docs/mds.md, "Ingest").
import { catalogueFunctions, defineErrorCatalogue } from '../../core/errors.ts';
import {
  answerCatalogue,
  clientErrorCodes,
  type ServiceErrorCode,
} from '../../service-kit/service-errors.ts';

export const mdsErrors = defineErrorCatalogue({
  // Ingest (0x400x)
  uploadBytesLimitExceeded: {
    number: 0x4001,
    kind: 'wrongLength',
    meaning: 'a sealed upload is longer than sealedUploadBytesMax, or a claim longer than claimBytesMax',
  },
  uploadClaimInvalid: {
    number: 0x4002,
    kind: 'wrongData',
    meaning: 'the claim does not decode, or does not bind the sealed upload by its digest',
  },
  uploadConflict: {
    number: 0x4003,
    kind: 'conflict',
    meaning: 'a sealed upload with this digest was already posted with another claim, or by another DCP',
  },
  uploadUnsealable: {
    number: 0x4004,
    kind: 'wrongData',
    meaning:
      'recorded refusal: the sealed upload does not open with the MDS key (wrong key, info or tampered)',
  },
  uploadMismatch: {
    number: 0x4005,
    kind: 'securityNotSatisfied',
    meaning:
      'recorded refusal: the opened upload disagrees with its claim (secure element, counter or tokens) or its certificate does not chain to a DCP issuer',
  },
  uploadReplayed: {
    number: 0x4006,
    kind: 'conflict',
    meaning:
      'recorded refusal: the secure element already uploaded this very content (the same plaintext) under another digest',
  },
  denyListInvalid: {
    number: 0x4007,
    kind: 'securityNotSatisfied',
    meaning: "a deny list handed to the enclave does not decode or is not signed by trust.json's directory",
  },
  // Reports (0x401x)
  issuanceNotOwn: {
    number: 0x4010,
    kind: 'securityNotSatisfied',
    meaning: "a reported issuance is not signed by the reporting DCP's issuer key",
  },
  reportConflict: {
    number: 0x4011,
    kind: 'conflict',
    meaning: 'a reported retirement or issuance is already recorded with other content',
  },
  reportItemsLimitExceeded: {
    number: 0x4012,
    kind: 'wrongLength',
    meaning: 'a report carries more than reportItemsMax issuances or retirements',
  },
  // Unknown ids (0x402x)
  uploadUnknown: {
    number: 0x4020,
    kind: 'notFound',
    meaning: 'no upload with this digest was posted by this DCP',
  },
  alertUnknown: { number: 0x4021, kind: 'notFound', meaning: 'no alert has this id' },
  // Alerts (0x403x)
  alertNotOpen: {
    number: 0x4030,
    kind: 'conflict',
    meaning: 'the alert is already confirmed or revoked',
  },
  // Renewal checks (0x404x): the reasons a verdict says no (docs/mds.md, "Renewal check")
  renewalTokenNotBacked: {
    number: 0x4040,
    kind: 'securityNotSatisfied',
    meaning:
      "verdict: a claimed token's ancestry does not end in issuances a DCP issuer signed, or passes a transfer whose signer is not certified",
  },
  renewalIssuanceUnreported: {
    number: 0x4041,
    kind: 'conditionsNotSatisfied',
    meaning:
      'verdict: an issuance in the ancestry is signed by a DCP issuer but not reported by it (yet): ask again once that DCP has reported',
  },
  renewalTokenRetired: {
    number: 0x4042,
    kind: 'securityNotSatisfied',
    meaning: 'verdict: a claimed token was already retired at a DCP under another claim',
  },
  renewalDoubleSpent: {
    number: 0x4043,
    kind: 'securityNotSatisfied',
    meaning:
      'verdict: value in the ancestry was spent twice (two transfers, or a transfer and a retirement), and the claimer spent it or the policy is refuse',
  },
  renewalClaimerBlamed: {
    number: 0x4044,
    kind: 'securityNotSatisfied',
    meaning: 'verdict: an alert blames the claiming secure element',
  },
  renewalHistoryUnknown: {
    number: 0x4045,
    kind: 'conditionsNotSatisfied',
    meaning:
      'verdict: a token a renewal retired is not in the graph yet (its upload not ingested): ask again once it is',
  },
  renewalAncestryTooLarge: {
    number: 0x4046,
    kind: 'wrongLength',
    meaning: "verdict: a claim's ancestry has more than backingTokensVisitedMax tokens",
  },
  // Recovery of value in flight (0x405x)
  refundUnknown: {
    number: 0x4050,
    kind: 'notFound',
    meaning: 'no refund decision with this id is addressed to this DCP',
  },
  // Supply and settlement (0x406x)
  supplyGraphTooLarge: {
    number: 0x4060,
    kind: 'notEnoughMemory',
    meaning: 'the graph has more entries than supplyEntriesMax: the supply is not computed in one pass',
  },
  settlementLedgerUnavailable: {
    number: 0x4061,
    kind: 'unavailable',
    meaning:
      'the ledger did not answer, or refused, a pool read or a settlement movement; the run stays pending and a new request continues it',
  },
  settlementPoolUnknown: {
    number: 0x4062,
    kind: 'conditionsNotSatisfied',
    meaning: 'a DCP in the supply has no pool account configured for settlement; nothing was moved',
  },
  // Indicators (0x407x)
  indicatorsRangeInvalid: {
    number: 0x4070,
    kind: 'wrongData',
    meaning:
      'the indicators range is empty or reversed, bucketMs does not divide it, or it spans more than indicatorBucketsMax buckets',
  },
  // Queued credits in the DCPs' reports (0x408x)
  reportMintInvalid: {
    number: 0x4080,
    kind: 'wrongData',
    meaning:
      'a reported mint names an issuance that is not a credit or refund issuance of the same report, or a credit of another kind or SE',
  },
  // Processes (0x40Fx)
  mdsEnclaveUnavailable: {
    number: 0x40f1,
    kind: 'unavailable',
    meaning: 'the enclave process is not running or did not answer in time; retry later',
  },
  mdsDirectoryUnavailable: {
    number: 0x40f2,
    kind: 'unavailable',
    meaning: 'the directory did not answer a revocation; the alert stays confirmed and is retried',
  },
  // Client (0x40F4, 0x40F5): what api/client.ts throws
  ...clientErrorCodes('mds', 'the MDS', { unavailable: 0x40f4, answerInvalid: 0x40f5 }),
});

export type MdsErrorCode = keyof typeof mdsErrors;

export const { error: mdsError, isCode: isMdsErrorCode } = catalogueFunctions(mdsErrors);

/** Codes an MDS answer may carry: its own and the generic service codes. */
export type MdsAnswerCode = MdsErrorCode | ServiceErrorCode;

export const mdsAnswers = answerCatalogue(mdsErrors);
