// Every limit of the DCP, in one place. Units last.

/** A DCP nonce is good for this long after it was made (DESIGN §7: single use, expiring). */
export const nonceLifetimeSeconds = 120;
/** Request bodies carry sealed uploads (a phone's history is at most 256 KiB, hex doubles it). */
export const requestBodyBytesMax = 640 * 1024;
export const idempotencyKeyLengthMax = 128;
export const walletNameLengthMax = 100;
export const apiKeyLengthMin = 32;
export const apiKeyLengthMax = 256;
/** Certificates the DCP issues to secure elements: short lives bound what a stolen key can do (DESIGN §3). */
export const secureElementCertificateSeconds = 365 * 24 * 3600;
/** Ledger holds placed by loads; reconciliation captures long before. */
export const loadHoldSeconds = 24 * 3600;
/** Outbox items one reconciliation pass drives. */
export const reconcileBatchMax = 200;
/** Queued credits one sync mints (the SE takes at most 16 credit issuances; one per kind here). */
export const creditsPerSyncMax = 256;
/**
 * Loads of one SE open at once: issued since the last sync its newest claim showed and neither
 * claimed nor refused. A sync delivers them all again beside its credit and refund (settle.ts), and
 * COMPLETE SYNC takes at most 16 issuances (docs/protocol.md §6): 16 − 2.
 */
export const loadsOpenMax = 14;
/** How long a fetched deny list and a directory status stay fresh, by default. */
export const directoryCacheMsDefault = 1_000;
/** Participants kept in memory by the API-key authenticator. */
export const participantCacheEntriesMax = 10_000;
/** Device public keys kept in memory (they never change once personalised). */
export const deviceCacheEntriesMax = 100_000;
/** Wallet rows kept in memory (a wallet's account link never changes). */
export const walletCacheEntriesMax = 100_000;
/** SQLite: operations committed in one transaction at most (group commit, store/sql-store.ts). */
export const commitGroupOperationsMax = 64;
/** MDS forwarding: sealed uploads read per batch, and posted per pass at most (one post each). */
export const mdsUploadBatchMax = 32;
export const mdsUploadsPerPassMax = 512;
/** Report calls per pass, each of at most the MDS's reportItemsMax issuances and retirements. */
export const mdsReportCallsPerPassMax = 8;
/** Backoff after the MDS did not acknowledge: doubled per failure from the first, up to the max. */
export const mdsBackoffMsFirst = 1_000;
export const mdsBackoffMsMax = 60_000;
/** Refund orders read from the MDS per pass (one page; the rest waits for the next pass). */
export const refundsPerPassMax = 64;
