// The participants table every service keeps: who may call it, found by the SHA-256 of their API key
// (the key itself is never stored). Each service has its own table and its own participant shape
// (the directory and the MDS bind a participant to a DCP, the ledger does not), created by its own
// migration with at least:
//   <table> (id TEXT PRIMARY KEY, api_key_sha256 TEXT NOT NULL UNIQUE, <the service's columns>)
// The statements are written once here; a service says its table, columns and row codec, or takes
// one of the two shapes the services have (`participantTable`, `dcpBoundParticipantTable`).
import type { Executor, Row, SqlValue } from './database.ts';
import { columnOneOf, columnSafeInteger, columnText, columnTextOrNull } from './decode.ts';

/** A participant as every service keeps it: columns id, name, role, created_at_ms. */
export interface ServiceParticipant<Role extends string> {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAtMs: number;
}

/** A participant bound to a DCP (the directory's, the MDS's): column dcp_id, null for other roles. */
export interface DcpBoundParticipant<Role extends string> extends ServiceParticipant<Role> {
  readonly dcpId: string | null;
}

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

  /** A participant of a row of this table's columns (also what a stored answer holds). */
  fromRow(row: Row): Participant {
    return this.#spec.fromRow(row);
  }

  /** The participant as a row of this table's columns, e.g. in a stored answer (`fromRow` reads it). */
  toRow(participant: Participant): Record<string, SqlValue> {
    const values = this.#spec.values(participant);
    return Object.fromEntries(this.#spec.columns.map((column, index) => [column, values[index] ?? null]));
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

/** The table of participants without a DCP (the ledger's): `<table> (id, name, role, created_at_ms, …)`. */
export function serviceParticipantTable<Role extends string>(
  table: string,
  roles: readonly Role[],
): ParticipantTable<ServiceParticipant<Role>> {
  return new ParticipantTable({
    table,
    columns: ['id', 'name', 'role', 'created_at_ms'],
    fromRow: (row) => ({
      id: columnText(row, 'id'),
      name: columnText(row, 'name'),
      role: columnOneOf(row, 'role', roles),
      createdAtMs: columnSafeInteger(row, 'created_at_ms'),
    }),
    values: ({ id, name, role, createdAtMs }) => [id, name, role, createdAtMs],
  });
}

/** The table of participants bound to a DCP: `<table> (id, name, role, dcp_id, created_at_ms, …)`. */
export function dcpBoundParticipantTable<Role extends string>(
  table: string,
  roles: readonly Role[],
): ParticipantTable<DcpBoundParticipant<Role>> {
  return new ParticipantTable({
    table,
    columns: ['id', 'name', 'role', 'dcp_id', 'created_at_ms'],
    fromRow: (row) => ({
      id: columnText(row, 'id'),
      name: columnText(row, 'name'),
      role: columnOneOf(row, 'role', roles),
      dcpId: columnTextOrNull(row, 'dcp_id'),
      createdAtMs: columnSafeInteger(row, 'created_at_ms'),
    }),
    values: ({ id, name, role, dcpId, createdAtMs }) => [id, name, role, dcpId, createdAtMs],
  });
}
