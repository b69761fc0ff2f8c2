// The two shapes every MDS mutation takes (storage/idempotency.ts): a mutation of the API process's
// own database runs in one transaction with its idempotency key; a mutation the enclave performs
// (storing an upload, recording reports) is checked against the key first, so a replay or a reused
// key never reaches the enclave, then performed there (its calls are idempotent by content) and its
// answer stored under the key in a transaction of its own — the enclave is another process, and no
// transaction here waits on it.
import { assert } from '../../core/assert.ts';
import { isExpired, type IdempotentAnswer } from '../../storage/idempotency.ts';
import type { ServiceIdempotency } from '../../service-kit/idempotency.ts';
import { serviceError } from '../../service-kit/service-errors.ts';
import type { MdsStore, MdsTransaction } from './ports.ts';
import type { Clock, Participant, StoredResult } from './types.ts';

export type Answer<T> = IdempotentAnswer<T>;
type Stored<K extends StoredResult['kind']> = Extract<StoredResult, { kind: K }>;

export interface IdempotentRequest<K extends StoredResult['kind']> {
  readonly caller: Participant;
  readonly key: string;
  readonly fingerprint: string;
  readonly kind: K;
}

export class Transactions {
  constructor(
    private readonly store: MdsStore,
    private readonly clock: Clock,
    private readonly idempotency: ServiceIdempotency,
  ) {}

  /** Runs `execute` in one transaction under the request's idempotency key. */
  idempotent<K extends StoredResult['kind']>(
    request: IdempotentRequest<K>,
    execute: (tx: MdsTransaction, nowMs: number) => Promise<Stored<K>>,
  ): Promise<Answer<Stored<K>>> {
    return this.store.transaction((tx) => {
      const nowMs = this.clock.nowMs();
      const { caller, key, fingerprint, kind } = request;
      return this.idempotency.run(
        tx.idempotencyKeys,
        { participantId: caller.id, key, fingerprint, kind, nowMs },
        () => execute(tx, nowMs),
      );
    });
  }

  /**
   * The enclave's mutation under the key: the earlier answer if the key has one, a refusal if it was
   * used for another request or has expired, else `perform`'s answer, stored with `record`'s writes.
   */
  async relayed<K extends StoredResult['kind']>(
    request: IdempotentRequest<K>,
    perform: (nowMs: number) => Promise<Stored<K>>,
    record: (tx: MdsTransaction, result: Stored<K>, nowMs: number) => Promise<void> = async () => {},
  ): Promise<Answer<Stored<K>>> {
    const earlier = await this.store.idempotencyRecord(request.caller.id, request.key);
    if (earlier !== null) {
      // The refusals ServiceIdempotency.run gives inside a transaction, before the enclave is asked.
      const { retentionMs } = this.idempotency;
      if (isExpired(earlier, this.clock.nowMs(), retentionMs)) {
        throw serviceError(
          'idempotencyKeyExpired',
          `idempotency key ${request.key} was used more than ${retentionMs / 1000} seconds ago`,
        );
      }
      if (earlier.fingerprint !== request.fingerprint)
        throw serviceError('idempotencyKeyReusedWithDifferentRequest', `idempotency key ${request.key}`);
      assert(earlier.result?.kind === request.kind, 'equal fingerprints name the same operation');
      return { value: earlier.result as Stored<K>, replayed: true };
    }
    const result = await perform(this.clock.nowMs());
    // A concurrent request under the same key may have stored its answer meanwhile: the transaction
    // then replays that one (the enclave's calls are idempotent, so nothing was done twice).
    return this.idempotent(request, async (tx, nowMs) => {
      await record(tx, result, nowMs);
      return result;
    });
  }
}
