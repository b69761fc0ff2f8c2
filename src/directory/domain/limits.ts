// Every limit of the directory, in one place. Units last.
import { denyListEntriesMax as coreDenyListEntriesMax } from '../../core/deny-list.ts';

/** What one secure element can hold (core): a longer list could not be installed anywhere. */
export const denyListEntriesMax = coreDenyListEntriesMax;
/** Status changes kept per secure element: active ↔ suspended may not flip forever. */
export const statusChangesMax = 64;

export const requestBodyBytesMax = 8 * 1024;
/** An SE certificate envelope is ≈ 230 bytes; twice that leaves room for a longer profile. */
export const certificateBytesMax = 512;
export const idempotencyKeyLengthMax = 128;
export const participantNameLengthMax = 100;
export const walletIdLengthMax = 80;
export const reasonLengthMax = 200;
export const baseUrlLengthMax = 200;
export const apiKeyLengthMin = 32;
export const apiKeyLengthMax = 256;

/** Authenticated participants kept in memory (participants never change once created). */
export const participantCacheEntriesMax = 10_000;
