// What the domain service of every service with participants (the directory, the ledger, the MDS)
// does the same way: it authenticates a key digest, registers the bootstrap operator, expires
// idempotency answers, and runs a mutation in one transaction under its idempotency key. A domain
// service extends this class with its own operations. Pure over the injected store and clock, so
// domains may import it.
import type { IdempotencyKeys, IdempotentAnswer } from '../storage/idempotency.ts';
import { bootstrapOperator, type BootstrapStore } from './bootstrap.ts';
import { ServiceIdempotency, type ExpiringIdempotencyStore } from './idempotency.ts';

/**
 * The part of a service's store port every such service has (its domain port extends it): its
 * transactions, who a key digest is, idempotency expiry and the health check.
 */
export interface ParticipantServiceStore<
  Participant,
  Tx extends ParticipantServiceTransaction<Participant, unknown>,
>
  extends BootstrapStore<Participant>, ExpiringIdempotencyStore {
  transaction<T>(body: (tx: Tx) => Promise<T>): Promise<T>;
  findParticipantByKeyDigest(apiKeySha256: string): Promise<Participant | null>;
  /**
   * Drops the answers of up to `rowsMax` idempotency keys claimed at or before the time, keeping
   * their tombstones (storage/idempotency.ts); returns how many.
   */
  expireIdempotencyAnswers(claimedAtOrBeforeMs: number, rowsMax: number): Promise<number>;
  /** Database round trip for health checks. */
  ping(): Promise<void>;
}

/** The part of a service's transaction port every such service has (its domain port extends it). */
export interface ParticipantServiceTransaction<Participant, Result> {
  /** Claimed first, answered last (the shared protocol of `storage/idempotency.ts`). */
  readonly idempotencyKeys: IdempotencyKeys<Result>;
  /** Returns false (and inserts nothing) if the key digest is taken. */
  insertParticipant(participant: Participant, apiKeySha256: string): Promise<boolean>;
}

export interface ParticipantServiceParts<Participant, Store> {
  readonly store: Store;
  readonly clock: { nowMs(): number };
  readonly ids: { next(prefix: string): string };
  /** How long an idempotency key's answer replays (default idempotencyRetentionMsDefault, 7 days). */
  readonly idempotencyRetentionMs?: number | undefined;
  /** The service's operator participant of this id, name and creation time. */
  readonly operator: (id: string, name: string, createdAtMs: number) => Participant;
}

export abstract class ParticipantService<
  Participant extends { readonly id: string },
  Result extends { readonly kind: string },
  Tx extends ParticipantServiceTransaction<Participant, Result>,
  Store extends ParticipantServiceStore<Participant, Tx>,
> {
  protected readonly store: Store;
  protected readonly clock: { nowMs(): number };
  protected readonly keys: ServiceIdempotency;
  readonly #parts: ParticipantServiceParts<Participant, Store>;

  constructor(parts: ParticipantServiceParts<Participant, Store>) {
    this.#parts = parts;
    this.store = parts.store;
    this.clock = parts.clock;
    this.keys = new ServiceIdempotency(parts.clock, parts.idempotencyRetentionMs);
  }

  /** Drops the answers of keys past the retention, a bounded batch per call (the process calls it). */
  expireIdempotencyAnswers(): Promise<number> {
    return this.keys.expire(this.store);
  }

  authenticate(apiKeySha256: string): Promise<Participant | null> {
    return this.store.findParticipantByKeyDigest(apiKeySha256);
  }

  /** Creates an operator for a bootstrap key unless a participant already has this key. */
  bootstrapOperator(apiKeySha256: string, name: string): Promise<Participant> {
    return bootstrapOperator(this.store, apiKeySha256, () =>
      this.#parts.operator(this.#parts.ids.next('prt'), name, this.clock.nowMs()),
    );
  }

  /** Runs `execute` in one transaction under the caller's idempotency key (ServiceIdempotency.run). */
  protected idempotent<K extends Result['kind']>(
    caller: Participant,
    key: string,
    print: string,
    kind: K,
    execute: (tx: Tx, nowMs: number) => Promise<Extract<Result, { kind: K }>>,
  ): Promise<IdempotentAnswer<Extract<Result, { kind: K }>>> {
    return this.store.transaction((tx) => {
      const nowMs = this.clock.nowMs();
      return this.keys.run(
        tx.idempotencyKeys,
        { participantId: caller.id, key, fingerprint: print, kind, nowMs },
        () => execute(tx, nowMs),
      );
    });
  }
}
