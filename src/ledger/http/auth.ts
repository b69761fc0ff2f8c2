// API-key authentication: `Authorization: Bearer <key>`. The ledger stores only the SHA-256 digest
// of each key, so a copy of its database gives no one the keys.
import { createHash } from 'node:crypto';
import { ledgerError } from '../errors.ts';
import { apiKeyLengthMax, apiKeyLengthMin, participantCacheEntriesMax } from '../domain/limits.ts';
import type { Participant } from '../domain/types.ts';

const bearer = new RegExp(`^Bearer ([A-Za-z0-9._~+/=-]{${apiKeyLengthMin},${apiKeyLengthMax}})$`);

export function apiKeyDigest(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

export class Authenticator {
  // Participants never change once created, so a found one may be kept (never a miss: a key
  // registered a moment later must work at once).
  private readonly cache = new Map<string, Participant>();

  constructor(private readonly find: (apiKeySha256: string) => Promise<Participant | null>) {}

  async authenticate(authorization: string | undefined): Promise<Participant> {
    if (authorization === undefined) throw ledgerError('apiKeyMissing');
    const match = bearer.exec(authorization);
    if (match === null) throw ledgerError('apiKeyMissing', 'expected Authorization: Bearer <API key>');
    const digest = apiKeyDigest(match[1]!);
    const cached = this.cache.get(digest);
    if (cached !== undefined) return cached;
    const participant = await this.find(digest);
    if (participant === null) throw ledgerError('apiKeyUnknown');
    if (this.cache.size >= participantCacheEntriesMax) this.cache.clear();
    this.cache.set(digest, participant);
    return participant;
  }
}
