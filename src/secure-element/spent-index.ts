// Which tokens the SE's stored transfers spend, in RAM: RECEIVE asks it for every input of a new
// transfer (history.ts heldHistoryConflict) instead of reading every `e/` record at every payment.
// Built from the records at the first question after power-up, then kept in step with each commit
// (SecureElementView.commit): an entry put is indexed when next asked, an entry removed leaves at
// once. It holds at most one key per stored input, so it is bounded by the store's blocks. A commit
// that throws leaves the store unusable until it is re-opened, with a new view and a new index.
import { recordPrefixes } from './records.ts';

/** The spent token keys (`idKey`) of the stored entry at a record key; none for an issuance. */
export type StoredEntryInputs = (entryKey: string) => readonly string[];

export class SpentIndex {
  readonly #inputsOf: StoredEntryInputs;
  /** Entry record key → the inputs it was indexed with; undefined until the first question. */
  #indexed: Map<string, readonly string[]> | undefined;
  /** Entry record keys put since the last question, not yet read. */
  readonly #unindexed = new Set<string>();
  /** Token key → how many stored transfers spend it (one, unless a chip's memory was rewritten). */
  readonly #spenders = new Map<string, number>();

  constructor(inputsOf: StoredEntryInputs) {
    this.#inputsOf = inputsOf;
  }

  /** True when a stored transfer spends the token `tokenKey` (an `idKey`). */
  spends(tokenKey: string, entryKeys: () => readonly string[]): boolean {
    if (this.#indexed === undefined) {
      this.#indexed = new Map();
      for (const key of entryKeys()) this.#unindexed.add(key);
    }
    for (const key of this.#unindexed) this.#add(key);
    this.#unindexed.clear();
    return this.#spenders.has(tokenKey);
  }

  /** Notes a committed change set: puts and removals of entry records. */
  committed(changes: ReadonlyMap<string, Uint8Array | null>): void {
    if (this.#indexed === undefined) return;
    for (const [key, value] of changes) {
      if (!key.startsWith(recordPrefixes.entry)) continue;
      // A put over an existing record (never done today) is a removal and a new put.
      this.#remove(key);
      if (value !== null) this.#unindexed.add(key);
    }
  }

  #add(key: string): void {
    const inputs = this.#inputsOf(key);
    this.#indexed?.set(key, inputs);
    for (const input of inputs) this.#spenders.set(input, (this.#spenders.get(input) ?? 0) + 1);
  }

  #remove(key: string): void {
    this.#unindexed.delete(key);
    const inputs = this.#indexed?.get(key);
    if (inputs === undefined) return;
    this.#indexed?.delete(key);
    for (const input of inputs) {
      const count = (this.#spenders.get(input) ?? 0) - 1;
      if (count > 0) this.#spenders.set(input, count);
      else this.#spenders.delete(input);
    }
  }
}
