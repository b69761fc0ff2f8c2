// The DCP's error catalogue: its domain codes (0x30xx). The DCP also answers the generic service codes
// (src/service-kit/service-errors.ts: requestInvalid, apiKeyMissing, roleNotAllowed,
// idempotencyKeyReusedWithDifferentRequest, internalError...), which are not repeated here. Numbers of
// codes that moved there (0x3001–0x3003, 0x3010–0x3012, 0x3040, 0x3042, 0x30F2, 0x30FF) are not given
// to other codes. Registered in `src/errors.ts`; `docs/dcp.md` lists every code and a test keeps the
// two in step.
import { catalogueFunctions, defineErrorCatalogue } from '../../core/errors.ts';
import {
  answerCatalogue,
  clientErrorCodes,
  type ServiceErrorCode,
} from '../../service-kit/service-errors.ts';

export const dcpErrors = defineErrorCatalogue({
  // Requests (0x300x)
  dcpAmountInvalid: {
    number: 0x3004,
    kind: 'wrongData',
    meaning: 'an amount is not a decimal string of 1..amountMax minor units',
  },
  // Authority (0x301x)
  deviceSignatureInvalid: {
    number: 0x3013,
    kind: 'securityNotSatisfied',
    meaning: "a claim or device request is not signed by the secure element's certified key",
  },
  deviceRequestMismatch: {
    number: 0x3014,
    kind: 'securityNotSatisfied',
    meaning: 'the device request signs another request (digest or secure element differ)',
  },
  nonceUnknown: {
    number: 0x3015,
    kind: 'securityNotSatisfied',
    meaning: 'the DCP nonce was not made by this DCP for this secure element',
  },
  nonceExpired: {
    number: 0x3016,
    kind: 'securityNotSatisfied',
    meaning: 'the DCP nonce is older than nonceLifetimeSeconds: ask for a fresh one',
  },
  nonceAlreadyUsed: {
    number: 0x3017,
    kind: 'conflict',
    meaning: 'the DCP nonce was already used by another request (each nonce is single use)',
  },
  deviceSuspended: {
    number: 0x3018,
    kind: 'securityNotSatisfied',
    meaning: 'the directory lists the secure element as suspended',
  },
  deviceRevoked: {
    number: 0x3019,
    kind: 'securityNotSatisfied',
    meaning: 'the directory lists the secure element as revoked (it is on the deny list)',
  },
  deviceCertificateExpired: {
    number: 0x301a,
    kind: 'securityNotSatisfied',
    meaning: "the secure element's certificate has expired: the device must be personalised again",
  },
  // Unknown ids (0x302x)
  walletNotFound: { number: 0x3020, kind: 'notFound', meaning: 'no wallet has this id' },
  deviceNotFound: {
    number: 0x3021,
    kind: 'notFound',
    meaning: 'no secure element with this id was personalised by this DCP',
  },
  payeeNotFound: {
    number: 0x3022,
    kind: 'notFound',
    meaning: "the payee secure element or its DCP's endpoint is not in the directory",
  },
  creditPaymentInvalid: {
    number: 0x3023,
    kind: 'wrongData',
    meaning: "the ledger payment named for a credit does not pay this DCP's pool for one of its devices",
  },
  walletAccountNotFound: {
    number: 0x3024,
    kind: 'notFound',
    meaning: "the ledger has no account with the wallet's accountId",
  },
  walletAccountNotOwned: {
    number: 0x3025,
    kind: 'securityNotSatisfied',
    meaning:
      "the ledger account belongs to another participant: a wallet is linked only to an account of the DCP's own ledger participant",
  },
  walletAccountNotWallet: {
    number: 0x3026,
    kind: 'wrongData',
    meaning: "the ledger account is not of kind wallet (the DCP's pool account, for one)",
  },
  // Value rules (0x303x)
  tokenAlreadyRetired: {
    number: 0x3030,
    kind: 'conflict',
    meaning: 'a claimed token was already retired: a token is renewed, unloaded or transferred once, ever',
  },
  claimTokenNotOwned: {
    number: 0x3031,
    kind: 'wrongData',
    meaning: 'a claimed token was issued by this DCP to another secure element or with another value',
  },
  claimExceedsBalanceLimit: {
    number: 0x3032,
    kind: 'wrongData',
    meaning:
      "the claimed value exceeds the balance limit of the secure element's kind (no honest SE holds it)",
  },
  claimEmpty: {
    number: 0x3033,
    kind: 'conditionsNotSatisfied',
    meaning: 'the claim holds no token (nothing to renew, unload or transfer)',
  },
  unloadExceedsClaim: {
    number: 0x3034,
    kind: 'conditionsNotSatisfied',
    meaning: 'the amount to unload or transfer is above the value the claim holds',
  },
  loadBalanceLimitExceeded: {
    number: 0x3035,
    kind: 'conditionsNotSatisfied',
    meaning: 'the load would bring the secure element above its balance limit',
  },
  walletInsufficientBalance: {
    number: 0x3036,
    kind: 'conditionsNotSatisfied',
    meaning: "the wallet's ledger account has not enough available balance for the load",
  },
  renewalCheckRefused: {
    number: 0x3037,
    kind: 'securityNotSatisfied',
    meaning:
      'the MDS found the claimed tokens not backed (a sync renewal check, or the unload gate of an unload or transfer of value this DCP did not mint to this secure element); the message names its reason',
  },
  uploadDigestMismatch: {
    number: 0x3038,
    kind: 'wrongData',
    meaning: "the sealed upload is not the one the claim's uploadDigest names",
  },
  payeeMustDifferFromPayer: {
    number: 0x3039,
    kind: 'wrongData',
    meaning: 'an online transfer names the paying secure element as its payee',
  },
  loadUnseenExceedsBalanceLimit: {
    number: 0x303a,
    kind: 'conditionsNotSatisfied',
    meaning:
      'the signed balance, the loads issued to the secure element but not yet seen installed and this load exceed its balance limit: install them (or sync) first',
  },
  loadsOpenLimitReached: {
    number: 0x303b,
    kind: 'conditionsNotSatisfied',
    meaning:
      'the secure element has as many loads open (issued since the last sync its claims showed, not yet claimed or refused) as its next sync can deliver: sync first',
  },
  claimStale: {
    number: 0x303c,
    kind: 'conflict',
    meaning:
      'the claim shows an older last sync than one this DCP already settled for the secure element: BEGIN SYNC again',
  },
  // Load refusals (0x307x): a load its SE refused (REFUSE LOAD) goes back to the wallet
  refusedIssuanceUnknown: {
    number: 0x3070,
    kind: 'notFound',
    meaning: 'the load refusal names no load issuance this DCP signed for that secure element',
  },
  refusedIssuanceClaimed: {
    number: 0x3071,
    kind: 'conflict',
    meaning:
      "the load refusal's issuance was claimed by its secure element (a renewal, unload or transfer retired its token): it was installed, nothing is returned",
  },
  loadRefused: {
    number: 0x3072,
    kind: 'conflict',
    meaning:
      'the load with this key was refused by its secure element and its value returned to the wallet: its issuance is not delivered again',
  },
  // Signature work (0x308x): the verify workers (src/crypto/verify-pool.ts)
  dcpVerifierUnavailable: {
    number: 0x3080,
    kind: 'unavailable',
    meaning:
      "the DCP's signature workers could not take the request's verification (too many waiting, or the DCP is stopping): nothing was done; retry later",
  },
  // Idempotency and state (0x304x)
  deviceAlreadyPersonalised: {
    number: 0x3041,
    kind: 'conflict',
    meaning: 'a secure element with this public key is already personalised',
  },
  publicKeyAlreadyRegistered: {
    number: 0x3043,
    kind: 'conflict',
    meaning:
      'the directory already registers a secure element with this public key (by another DCP or under another wallet); nothing was kept',
  },
  walletHoldsLimitReached: {
    number: 0x3044,
    kind: 'notEnoughMemory',
    meaning:
      "the wallet's ledger account has as many loads in progress as the ledger allows; retry when one ends",
  },
  // Renewal check and unload gate (0x305x)
  renewalCheckUnavailable: {
    number: 0x3050,
    kind: 'unavailable',
    meaning:
      'the MDS did not answer a renewal check (sync mode, or the unload gate), or none is configured: nothing was retired or paid; retry later',
  },
  renewalCheckAnswerInvalid: {
    number: 0x3051,
    kind: 'unavailable',
    meaning:
      "the MDS's verdict is not signed by the MDS key of trust.json, or answers another claim or DCP: nothing was retired or paid",
  },
  // Dependencies (0x30Fx)
  dcpDirectoryUnavailable: {
    number: 0x30f0,
    kind: 'unavailable',
    meaning: 'the directory did not answer or answered something that does not decode; retry later',
  },
  dcpLedgerUnavailable: {
    number: 0x30f1,
    kind: 'unavailable',
    meaning: 'the ledger did not answer; the operation is kept in the outbox and completes on a retry',
  },
  dcpPeerUnavailable: {
    number: 0x30f3,
    kind: 'unavailable',
    meaning: "the payee's DCP did not answer; the transfer is kept in the outbox and completes on a retry",
  },
  dcpLedgerRefused: {
    number: 0x30f6,
    kind: 'unavailable',
    meaning:
      "the ledger refused the DCP's call for a reason that is no caller's (the DCP's ledger key, role or setup; the message names the ledger's code): an operator must look",
  },
  dcpLedgerKeyExpired: {
    number: 0x30f8,
    kind: 'unavailable',
    meaning:
      "the ledger no longer replays the idempotency key of this operation's ledger call (older than its retention): the call is never made again under a new key, so the operation stays open until an operator has read its outcome on the ledger",
  },
  dcpDirectoryRefused: {
    number: 0x30f7,
    kind: 'unavailable',
    meaning:
      "the directory refused the DCP's call for a reason that is no caller's (the DCP's directory key, role or trust; the message names the directory's code): an operator must look",
  },
  // Refunds of value in flight (0x306x)
  refundSecureElementUnknown: {
    number: 0x3060,
    kind: 'notFound',
    meaning:
      'the MDS ordered a refund to a secure element that is not a device of this DCP; it stays unexecuted at the MDS for an operator',
  },
  refundTokenRetired: {
    number: 0x3061,
    kind: 'conflict',
    meaning:
      'the undelivered payment token of a refund is already retired here by another operation: the refund is not executed (the MDS decided on facts this DCP contradicts), an operator must look',
  },
  // Client (0x30F4, 0x30F5): what api/client.ts throws
  ...clientErrorCodes('dcp', 'the DCP', { unavailable: 0x30f4, answerInvalid: 0x30f5 }),
});

export type DcpErrorCode = keyof typeof dcpErrors;

export const { error: dcpError, isCode: isDcpErrorCode } = catalogueFunctions(dcpErrors);

/** Codes a DCP answer may carry: its own and the generic service codes. */
export type DcpAnswerCode = DcpErrorCode | ServiceErrorCode;

export const dcpAnswers = answerCatalogue(dcpErrors);
