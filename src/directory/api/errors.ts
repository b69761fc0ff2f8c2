// The directory's error catalogue: its domain codes (0x20xx). The directory also answers the generic
// service codes (src/service-kit/service-errors.ts: requestInvalid, apiKeyMissing,
// idempotencyKeyReusedWithDifferentRequest, internalError...), which are not repeated here, and
// core's for certificates and CBOR. Numbers of codes that moved there (0x2001–0x2003, 0x2010–0x2012,
// 0x2060, 0x20F0, 0x20FF) are not given to other codes.
// Registered in `src/errors.ts`; `docs/directory.md` lists every code and a test keeps the two in
// step. This file is the directory's public contract for errors: `client.ts` (and through it every
// service that calls the directory) types refusals with it, so it imports nothing but core and the
// generic catalogue (which imports only core).
import {
  catalogueFunctions,
  coreErrors,
  defineErrorCatalogue,
  type CoreErrorCode,
  type ErrorDefinition,
} from '../../core/errors.ts';
import {
  answerCatalogue,
  clientErrorCodes,
  type ServiceErrorCode,
} from '../../service-kit/service-errors.ts';

export const directoryErrors = defineErrorCatalogue({
  // Requests (0x200x)
  directoryHexMalformed: {
    number: 0x2004,
    kind: 'wrongData',
    meaning: 'a hex field is not lowercase hex of the expected length (the message names the field)',
  },
  // Authority (0x201x)
  certificateIssuerNotCaller: {
    number: 0x2013,
    kind: 'securityNotSatisfied',
    meaning: 'the secure element certificate was issued by another DCP: a DCP registers only its own SEs',
  },
  dcpIdNotCaller: {
    number: 0x2014,
    kind: 'securityNotSatisfied',
    meaning: 'a DCP sets only its own endpoint',
  },
  // Participants (0x202x)
  participantDcpIdInvalid: {
    number: 0x2020,
    kind: 'wrongData',
    meaning: 'dcpId is required for a dcp participant and refused for any other role',
  },
  dcpIssuerUnknown: {
    number: 0x2021,
    kind: 'notFound',
    meaning: "the DCP id names no DCP issuer the root certified in the directory's trust file",
  },
  // Secure elements (0x203x)
  secureElementNotRegistered: {
    number: 0x2030,
    kind: 'notFound',
    meaning: 'no secure element with this id is registered',
  },
  secureElementWalletConflict: {
    number: 0x2031,
    kind: 'conflict',
    meaning: 'the secure element is already registered under another wallet',
  },
  secureElementCertificateConflict: {
    number: 0x2032,
    kind: 'conflict',
    meaning:
      'the secure element is registered with another certificate, and this one does not last longer (not a renewal)',
  },
  secureElementRevoked: {
    number: 0x2033,
    kind: 'conflict',
    meaning: 'the secure element is revoked: revocation is final, nothing about it changes any more',
  },
  secureElementNotActive: {
    number: 0x2034,
    kind: 'conflict',
    meaning: 'a certificate renewal for a suspended secure element: renew after it is active again',
  },
  statusTransitionInvalid: {
    number: 0x2035,
    kind: 'conflict',
    meaning: 'the secure element already has the requested status',
  },
  statusHistoryFull: {
    number: 0x2036,
    kind: 'notEnoughMemory',
    meaning: 'the secure element has had statusChangesMax status changes; revoke it or re-personalise',
  },
  secureElementOwnedByAnotherDcp: {
    number: 0x2037,
    kind: 'conflict',
    meaning:
      'the secure element (its public key) is registered by another DCP; no other DCP may register or renew it',
  },
  // Deny list (0x204x)
  denyListFull: {
    number: 0x2040,
    kind: 'notEnoughMemory',
    meaning:
      'the change would put more than denyListEntriesMax secure elements on the deny list (certificate lifetimes are too long for the revocation rate)',
  },
  denyListVersionUnknown: {
    number: 0x2041,
    kind: 'notFound',
    meaning: '`since` is above the current deny list version',
  },
  // DCP endpoints (0x205x)
  dcpEndpointNotFound: { number: 0x2050, kind: 'notFound', meaning: 'this DCP has not set its endpoint' },
  dcpBaseUrlInvalid: {
    number: 0x2051,
    kind: 'wrongData',
    meaning: 'baseUrl is not an absolute http(s) URL without credentials, query or fragment',
  },
  // Client (0x20Ex): what api/client.ts throws
  ...clientErrorCodes('directory', 'the directory', { unavailable: 0x20e0, answerInvalid: 0x20e1 }),
});

export type DirectoryErrorCode = keyof typeof directoryErrors;

export const { error: directoryError, isCode: isDirectoryErrorCode } = catalogueFunctions(directoryErrors);

/** Codes a directory answer may carry: its own, core's for certificates and CBOR, the generic ones. */
export type DirectoryAnswerCode = DirectoryErrorCode | CoreErrorCode | ServiceErrorCode;

const directoryAnswers = answerCatalogue<DirectoryErrorCode | CoreErrorCode>(directoryErrors, coreErrors);

export function isDirectoryAnswerCode(code: string): code is DirectoryAnswerCode {
  return directoryAnswers.isCode(code);
}

export function answerDefinition(code: DirectoryAnswerCode): ErrorDefinition {
  return directoryAnswers.definition(code);
}
