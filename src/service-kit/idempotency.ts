// Idempotency as every service answers it: the protocol of src/storage/idempotency.ts with the generic
// refusals (`idempotencyKeyReusedWithDifferentRequest`, `idempotencyKeyExpired`) and one retention,
// checked once. A service's domain holds one `ServiceIdempotency` and calls `run` inside its own
// transaction; its process schedules `expire` (maintenance.ts). Pure: no I/O of its own, the clock
// injected, so domains may import it.
import { assert } from '../core/assert.ts';
import {
  idempotencyExpiryRowsMax,
  idempotencyRetentionMsDefault,
  replayEarlier,
  replayOrExecute,
  type IdempotencyKeys,
  type IdempotencyRecord,
  type IdempotencyRefusals,
  type IdempotentAnswer,
} from '../storage/idempotency.ts';
import { serviceError } from './service-errors.ts';

/** What expiry needs of a service's store: its idempotency table's bounded `expire`. */
export interface ExpiringIdempotencyStore {
  expireIdempotencyAnswers(claimedAtOrBeforeMs: number, rowsMax: number): Promise<number>;
}

/** One request's claim on a key, as `run` takes it. */
export interface ServiceKeyClaim<Kind extends string> {
  readonly participantId: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly kind: Kind;
  readonly nowMs: number;
}

export class ServiceIdempotency {
  /** How long a key's first answer replays; after it the key is refused, never run again. */
  readonly retentionMs: number;

  constructor(
    private readonly clock: { nowMs(): number },
    retentionMs: number = idempotencyRetentionMsDefault,
  ) {
    assert(Number.isSafeInteger(retentionMs) && retentionMs > 0, 'a positive retention');
    this.retentionMs = retentionMs;
  }

  /**
   * Inside one transaction: the earlier answer for a replay, a refusal for the key reused with
   * another request or past its retention, else `execute`'s answer stored under the key.
   */
  run<Result extends { readonly kind: string }, Kind extends Result['kind']>(
    keys: IdempotencyKeys<Result>,
    claim: ServiceKeyClaim<Kind>,
    execute: () => Promise<Extract<Result, { kind: Kind }>>,
  ): Promise<IdempotentAnswer<Extract<Result, { kind: Kind }>>> {
    return replayOrExecute(
      keys,
      { ...claim, retentionMs: this.retentionMs },
      execute,
      this.refusals(claim.key),
    );
  }

  /** For a request that read its key's record before claiming: the first answer, or the refusal. */
  replay<Result extends { readonly kind: string }, Kind extends Result['kind']>(
    earlier: IdempotencyRecord<Result>,
    claim: ServiceKeyClaim<Kind>,
  ): IdempotentAnswer<Extract<Result, { kind: Kind }>> {
    return replayEarlier(earlier, { ...claim, retentionMs: this.retentionMs }, this.refusals(claim.key));
  }

  private refusals(key: string): IdempotencyRefusals {
    return {
      reused: () => serviceError('idempotencyKeyReusedWithDifferentRequest', `idempotency key ${key}`),
      expired: () => this.expired(key),
    };
  }

  /** The refusal of a key used longer ago than the retention (or whose answer was dropped). */
  expired(key: string): Error {
    return serviceError(
      'idempotencyKeyExpired',
      `idempotency key ${key} was used more than ${this.retentionMs / 1000} seconds ago`,
    );
  }

  /**
   * Drops the answers of keys past the retention, at most idempotencyExpiryRowsMax per call (the
   * process calls it periodically). Their tombstones stay: a replay is refused, never run again.
   */
  expire(store: ExpiringIdempotencyStore): Promise<number> {
    return store.expireIdempotencyAnswers(this.clock.nowMs() - this.retentionMs, idempotencyExpiryRowsMax);
  }
}
