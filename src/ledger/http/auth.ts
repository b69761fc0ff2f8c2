// API-key authentication, `Authorization: Bearer <key>` (service-kit/api-key.ts), with the ledger's
// codes and limits. The ledger stores only the SHA-256 digest of each key.
import { BearerAuthenticator } from '../../service-kit/api-key.ts';
import { apiKeyLengthMax, apiKeyLengthMin, participantCacheEntriesMax } from '../domain/limits.ts';
import type { Participant } from '../domain/types.ts';

export { apiKeyDigest } from '../../service-kit/api-key.ts';

export const apiKeyLength = { min: apiKeyLengthMin, max: apiKeyLengthMax } as const;

export function ledgerAuthenticator(
  find: (apiKeySha256: string) => Promise<Participant | null>,
): BearerAuthenticator<Participant> {
  return new BearerAuthenticator({ find, length: apiKeyLength, cacheEntriesMax: participantCacheEntriesMax });
}
