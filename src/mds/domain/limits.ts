// Every limit of the MDS API process, in one place. Units last. What crosses to the enclave is
// bounded by the channel's own limits (src/mds/channel/protocol.ts), re-exported here.
import { claimBytesMax, reportItemsMax, sealedUploadBytesMax } from '../channel/protocol.ts';

export { alertsPageMax, claimBytesMax, reportItemsMax, sealedUploadBytesMax } from '../channel/protocol.ts';

/** Every route but uploads and reports: participants, confirmations, queries. */
export const requestBodyBytesMax = 8 * 1024;
/**
 * `POST /v1/uploads`: the two hex fields at their bounds and room for the JSON around them. A body up
 * to this size is parsed, so a field over its own bound gets `uploadBytesLimitExceeded` naming it; a
 * larger body is `requestBodyTooLarge` before it is read.
 */
export const uploadRequestBodyBytesMax = 2 * (sealedUploadBytesMax + claimBytesMax) + 1024;
/** A signed issuance envelope: ≈ 200 bytes per output, at most 16 outputs and 256 retired ids. */
export const issuanceBytesMax = 16 * 1024;
/**
 * `POST /v1/reports`: reportItemsMax issuances at issuanceBytesMax in hex and as many retirements
 * (≈ 250 characters each), queued credits (≈ 300 with a credit id of 128) and mints (≈ 250), so a
 * report of one item more than allowed still parses and gets `reportItemsLimitExceeded` rather
 * than a size refusal.
 */
export const reportRequestBodyBytesMax =
  (reportItemsMax + 1) * (2 * issuanceBytesMax + 300 + 300 + 250) + 1024;

export const idempotencyKeyLengthMax = 128;
export const participantNameLengthMax = 100;
export const apiKeyLengthMin = 32;
export const apiKeyLengthMax = 256;
/** Authenticated participants kept in memory (participants never change once created). */
export const participantCacheEntriesMax = 10_000;

export const alertListLimitDefault = 50;
/** One page of alerts as one enclave page holds them (alertsPageMax, 256). */
export const alertListLimitMax = 256;
export const auditListLimitDefault = 100;
export const auditListLimitMax = 1_024;
/** Entries `verify` reads per query while it walks the whole chain. */
export const auditVerifyPageEntriesMax = 1_000;

/** Enclave pages (of alertsPageMax alerts) the mirror copies per run, so one run stays short. */
export const mirrorPagesPerRunMax = 16;
/** Confirmed alerts whose revocation one run asks the directory for. */
export const revocationsPerRunMax = 64;
/** How long the API process waits for the enclave before it answers `mdsEnclaveUnavailable`. */
export const enclaveAnswerMsMax = 10_000;
/** Refund orders per page of `GET /v1/refunds`: default and bound (the channel's). */
export const refundListLimitDefault = 100;
export { refundsPageMax } from '../channel/protocol.ts';
