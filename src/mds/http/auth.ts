// API-key authentication, `Authorization: Bearer <key>` (service-kit/api-key.ts), with the MDS's
// limits. Like the ledger, the MDS stores only the SHA-256 digest of each key, which the participant
// hands in at creation: the API process holds no secret to derive keys from (the MDS key file is the
// enclave's alone).
import { BearerAuthenticator } from '../../service-kit/api-key.ts';
import { apiKeyLengthMax, apiKeyLengthMin, participantCacheEntriesMax } from '../domain/limits.ts';
import type { Participant } from '../domain/types.ts';

export { apiKeyDigest } from '../../service-kit/api-key.ts';

export const apiKeyLength = { min: apiKeyLengthMin, max: apiKeyLengthMax } as const;

export function mdsAuthenticator(
  find: (apiKeySha256: string) => Promise<Participant | null>,
): BearerAuthenticator<Participant> {
  return new BearerAuthenticator({ find, length: apiKeyLength, cacheEntriesMax: participantCacheEntriesMax });
}
