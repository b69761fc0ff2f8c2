// What the SQL store of every service with participants has beside its own tables (the directory's,
// the ledger's, the MDS's): its participants table (participants.ts) and its idempotency keys
// (idempotency.ts), read and written as their ports name them alike. A service's store and its
// transaction view extend these two classes with its own statements.
import type { Database, Executor } from './database.ts';
import type { IdempotencyKeys, IdempotencyTable } from './idempotency.ts';
import type { ParticipantTable } from './participants.ts';

/** A service's two shared tables. */
export interface ServiceTables<Participant, Result> {
  readonly participants: ParticipantTable<Participant>;
  readonly idempotency: IdempotencyTable<Result>;
}

/** The store outside a transaction: who a key is, idempotency expiry, and the health check's ping. */
export class ServiceStore<Participant, Result> {
  constructor(
    protected readonly db: Database,
    protected readonly tables: ServiceTables<Participant, Result>,
  ) {}

  findParticipantByKeyDigest(apiKeySha256: string): Promise<Participant | null> {
    return this.tables.participants.byKeyDigest(this.db, apiKeySha256);
  }

  expireIdempotencyAnswers(claimedAtOrBeforeMs: number, rowsMax: number): Promise<number> {
    return this.tables.idempotency.expire(this.db, claimedAtOrBeforeMs, rowsMax);
  }

  async ping(): Promise<void> {
    await this.db.all('SELECT 1 AS one');
  }
}

/** One transaction's view: its idempotency keys, and adding a participant. */
export class ServiceTransaction<Participant, Result> {
  readonly idempotencyKeys: IdempotencyKeys<Result>;

  /** `lockRows` is the engine's row lock suffix (`Database.lockRows`), for the service's reads. */
  constructor(
    protected readonly tx: Executor,
    protected readonly lockRows: string,
    protected readonly tables: ServiceTables<Participant, Result>,
  ) {
    this.idempotencyKeys = tables.idempotency.in(tx);
  }

  insertParticipant(participant: Participant, apiKeySha256: string): Promise<boolean> {
    return this.tables.participants.insert(this.tx, participant, apiKeySha256);
  }
}
