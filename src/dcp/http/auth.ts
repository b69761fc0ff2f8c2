// API-key authentication of the DCP's administrative routes, `Authorization: Bearer <key>`
// (service-kit/api-key.ts), with the DCP's codes and limits. Only the SHA-256 digest of a key is kept.
import { BearerAuthenticator } from '../../service-kit/api-key.ts';
import { apiKeyLengthMax, apiKeyLengthMin, participantCacheEntriesMax } from '../domain/limits.ts';
import type { ParticipantRow } from '../domain/ports.ts';

export { apiKeyDigest } from '../../service-kit/api-key.ts';

export const apiKeyLength = { min: apiKeyLengthMin, max: apiKeyLengthMax } as const;

export function dcpAuthenticator(
  find: (apiKeySha256: string) => Promise<ParticipantRow | null>,
): BearerAuthenticator<ParticipantRow> {
  return new BearerAuthenticator({ find, length: apiKeyLength, cacheEntriesMax: participantCacheEntriesMax });
}
