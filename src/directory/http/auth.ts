// API-key authentication: `Authorization: Bearer <key>`. The directory stores only the SHA-256
// digest of each key, so a copy of its database gives no one the keys.
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import type { Bytes } from '../../core/bytes.ts';
import { directoryError } from '../errors.ts';
import { apiKeyLengthMax, apiKeyLengthMin, participantCacheEntriesMax } from '../domain/limits.ts';
import type { ApiKeys, Participant } from '../domain/types.ts';

const bearer = new RegExp(`^Bearer ([A-Za-z0-9._~+/=-]{${apiKeyLengthMin},${apiKeyLengthMax}})$`);

export function apiKeyDigest(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

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

export function isWellFormedApiKey(apiKey: string): boolean {
  return bearer.test(`Bearer ${apiKey}`);
}

export class Authenticator {
  // Participants never change once created, so a found one may be kept (never a miss: a key
  // registered a moment later must work at once).
  private readonly cache = new Map<string, Participant>();

  constructor(private readonly find: (apiKeySha256: string) => Promise<Participant | null>) {}

  async authenticate(authorization: string | undefined): Promise<Participant> {
    if (authorization === undefined) throw directoryError('directoryApiKeyMissing');
    const match = bearer.exec(authorization);
    if (match === null)
      throw directoryError('directoryApiKeyMissing', 'expected Authorization: Bearer <API key>');
    const digest = apiKeyDigest(match[1]!);
    const cached = this.cache.get(digest);
    if (cached !== undefined) return cached;
    const participant = await this.find(digest);
    if (participant === null) throw directoryError('directoryApiKeyUnknown');
    if (this.cache.size >= participantCacheEntriesMax) this.cache.clear();
    this.cache.set(digest, participant);
    return participant;
  }
}
