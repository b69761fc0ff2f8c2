// API-key authentication, `Authorization: Bearer <key>` (service-kit/api-key.ts), with the
// directory's codes and limits. The directory stores only the SHA-256 digest of each key, so a copy
// of its database gives no one the keys.
import { createHmac, hkdfSync } from 'node:crypto';
import type { Bytes } from '../../core/bytes.ts';
import { apiKeyDigest, BearerAuthenticator } from '../../service-kit/api-key.ts';
import { apiKeyLengthMax, apiKeyLengthMin, participantCacheEntriesMax } from '../domain/limits.ts';
import type { ApiKeys, Participant } from '../domain/types.ts';

export { apiKeyDigest } from '../../service-kit/api-key.ts';

export const apiKeyLength = { min: apiKeyLengthMin, max: apiKeyLengthMax } as const;

/**
 * Participant keys derived from a secret: HKDF-SHA256 (RFC 5869) of the secret with a label of its
 * own, then HMAC-SHA256 of the participant id, base64url (43 characters). The derivation lets a
 * replayed creation show the same key again while the database holds only its digest. The secret
 * is the directory's private key (the one secret the process has); the label keeps the derived key
 * independent of its use for signing.
 */
export function derivedApiKeys(secret: Bytes): ApiKeys {
  const key = Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), 'cbdc/directory/api-key/v1', 32));
  return {
    keyFor: (participantId) => createHmac('sha256', key).update(participantId, 'utf8').digest('base64url'),
    digest: apiKeyDigest,
  };
}

export function directoryAuthenticator(
  find: (apiKeySha256: string) => Promise<Participant | null>,
): BearerAuthenticator<Participant> {
  return new BearerAuthenticator({ find, length: apiKeyLength, cacheEntriesMax: participantCacheEntriesMax });
}
