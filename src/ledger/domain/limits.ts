// Every limit of the core ledger, in one place. Units last.

/**
 * The largest amount one ledger movement (payment, hold or issuance) carries: 10^18 minor units.
 * Not core's `amountMax` (10^15), which bounds one token or offline payment an SE carries: the
 * ledger moves wholesale central bank money between intermediaries and DCP pools, which is far
 * above what any one token holds, and its own bound is what keeps sums inside supplyMax and a
 * BIGINT. Two quantities, so two names.
 */
export const movementAmountMax = 10n ** 18n;
/** The most money that may exist (minus the issuance account's balance). Below 2^63 − 1, so with
 *  every other balance non-negative and summing to the supply, no balance can overflow a BIGINT. */
export const supplyMax = 9_000_000_000_000_000_000n;
/** Amounts on the wire: a decimal string, at most 19 digits (more cannot be in range anyway). */
export const amountDigitsMax = 19;

export const requestBodyBytesMax = 16 * 1024;
export const idempotencyKeyLengthMax = 128;
export const referenceLengthMax = 140;
export const participantNameLengthMax = 100;
export const idLengthMax = 80;
export const apiKeyLengthMin = 32;
export const apiKeyLengthMax = 256;

export const statementPageSizeDefault = 50;
export const statementPageSizeMax = 200;

export const holdSecondsMin = 1;
export const holdSecondsMax = 7 * 24 * 60 * 60;
export const activeHoldsPerAccountMax = 1_000;

/** Authenticated participants kept in memory (participants never change once created). */
export const participantCacheEntriesMax = 10_000;
