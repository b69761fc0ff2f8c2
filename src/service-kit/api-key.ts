// API-key authentication, as every service does it: `Authorization: Bearer <key>` (RFC 6750 §2.1),
// the key of a participant whose SHA-256 digest the service stores. Only the digest is kept, so a
// copy of a database gives no one the keys.
import { createHash } from 'node:crypto';
import { serviceError } from './service-errors.ts';

const missingKey = (detail?: string): Error => serviceError('apiKeyMissing', detail);
const unknownKey = (): Error => serviceError('apiKeyUnknown');

/** Lengths a service accepts for an API key (its limits). */
export interface ApiKeyLength {
  readonly min: number;
  readonly max: number;
}

/** RFC 6750's b64token alphabet: what may follow `Bearer `. */
const keyCharacters = 'A-Za-z0-9._~+/=-';

export function apiKeyDigest(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

function bearerPattern(length: ApiKeyLength): RegExp {
  return new RegExp(`^Bearer ([${keyCharacters}]{${length.min},${length.max}})$`);
}

export function isWellFormedApiKey(apiKey: string, length: ApiKeyLength): boolean {
  return bearerPattern(length).test(`Bearer ${apiKey}`);
}

/** For the operator key a process registers at start: a bad one is a configuration error. */
export function checkOperatorKey(apiKey: string, length: ApiKeyLength): void {
  if (!isWellFormedApiKey(apiKey, length)) {
    throw new TypeError(
      `the operator key must be ${length.min}..${length.max} characters of [${keyCharacters}]`,
    );
  }
}

export interface BearerAuthenticatorOptions<Participant> {
  /** The participant whose key has this digest, or null. */
  readonly find: (apiKeySha256: string) => Promise<Participant | null>;
  readonly length: ApiKeyLength;
  /** Participants kept in memory; the cache starts over when full. */
  readonly cacheEntriesMax: number;
  /** The refusal for a request without a well-formed header (default: the generic `apiKeyMissing`). */
  readonly missing?: (detail?: string) => Error;
  /** The refusal for a key that belongs to no participant (default: the generic `apiKeyUnknown`). */
  readonly unknown?: () => Error;
}

export class BearerAuthenticator<Participant> {
  private readonly bearer: RegExp;
  // Participants never change once created, so a found one may be kept (never a miss: a key
  // registered a moment later must work at once).
  private readonly cache = new Map<string, Participant>();

  constructor(private readonly options: BearerAuthenticatorOptions<Participant>) {
    this.bearer = bearerPattern(options.length);
  }

  async authenticate(authorization: string | undefined): Promise<Participant> {
    if (authorization === undefined) throw (this.options.missing ?? missingKey)();
    const match = this.bearer.exec(authorization);
    if (match === null)
      throw (this.options.missing ?? missingKey)('expected Authorization: Bearer <API key>');
    const digest = apiKeyDigest(match[1]!);
    const cached = this.cache.get(digest);
    if (cached !== undefined) return cached;
    const participant = await this.options.find(digest);
    if (participant === null) throw (this.options.unknown ?? unknownKey)();
    if (this.cache.size >= this.options.cacheEntriesMax) this.cache.clear();
    this.cache.set(digest, participant);
    return participant;
  }
}
