// The participants table every service keeps: who may call it, found by the SHA-256 of their API key
// (the key itself is never stored). Each service has its own table and its own participant shape
// (the directory and the MDS bind a participant to a DCP, the ledger does not), created by its own
// migration with at least:
//   <table> (id TEXT PRIMARY KEY, api_key_sha256 TEXT NOT NULL UNIQUE, <the service's columns>)
// The statements are written once here; a service says its table, columns and row codec.
import type { Executor, Row, SqlValue } from './database.ts';

export interface ParticipantTableSpec<Participant> {
  /** The table, e.g. `ledger_participants`. */
  readonly table: string;
  /** The columns a participant is read from and written to, in the order `values` gives them. */
  readonly columns: readonly string[];
  readonly fromRow: (row: Row) => Participant;
  readonly values: (participant: Participant) => readonly SqlValue[];
}

export class ParticipantTable<Participant> {
  readonly #spec: ParticipantTableSpec<Participant>;
  readonly #select: string;
  readonly #insert: string;

  constructor(spec: ParticipantTableSpec<Participant>) {
    this.#spec = spec;
    const columns = spec.columns.join(', ');
    this.#select = `SELECT ${columns} FROM ${spec.table}`;
    const placeholders = spec.columns.map(() => '?').join(', ');
    // A key digest taken already is no new participant: the caller answers it as a conflict.
    this.#insert =
      `INSERT INTO ${spec.table} (${columns}, api_key_sha256) VALUES (${placeholders}, ?) ` +
      'ON CONFLICT (api_key_sha256) DO NOTHING';
  }

  async byKeyDigest(executor: Executor, apiKeySha256: string): Promise<Participant | null> {
    const rows = await executor.all(`${this.#select} WHERE api_key_sha256 = ?`, [apiKeySha256]);
    return rows[0] === undefined ? null : this.#spec.fromRow(rows[0]);
  }

  async byId(executor: Executor, id: string): Promise<Participant | null> {
    const rows = await executor.all(`${this.#select} WHERE id = ?`, [id]);
    return rows[0] === undefined ? null : this.#spec.fromRow(rows[0]);
  }

  /** False when another participant has this key digest. */
  async insert(executor: Executor, participant: Participant, apiKeySha256: string): Promise<boolean> {
    const values = [...this.#spec.values(participant), apiKeySha256];
    return (await executor.run(this.#insert, values)) === 1;
  }
}
