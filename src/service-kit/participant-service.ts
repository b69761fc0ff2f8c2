// What the domain service of every service with participants (the directory, the ledger, the MDS)
// does the same way: it authenticates a key digest, registers the bootstrap operator, expires
// idempotency answers, and runs a mutation in one transaction under its idempotency key. A domain
// service extends this class with its own operations. Pure over the injected store and clock, so
// domains may import it.
import type { IdempotencyKeys, IdempotentAnswer } from '../storage/idempotency.ts';
import { bootstrapOperator, type BootstrapStore } from './bootstrap.ts';
import { ServiceIdempotency, type ExpiringIdempotencyStore } from './idempotency.ts';

/** What the shared operations need of a service's store (its domain port has more). */
export interface ParticipantServiceStore<
  Participant,
  Tx extends ParticipantServiceTransaction<Participant, unknown>,
>
  extends BootstrapStore<Participant>, ExpiringIdempotencyStore {
  transaction<T>(body: (tx: Tx) => Promise<T>): Promise<T>;
}

/** A transaction of such a store: its idempotency keys, and adding a participant. */
export interface ParticipantServiceTransaction<Participant, Result> {
  readonly idempotencyKeys: IdempotencyKeys<Result>;
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
