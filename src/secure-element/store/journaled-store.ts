// The secure element's persistent store: a key-value map whose `commit` is atomic across power
// loss, like Java Card's beginTransaction/commitTransaction (DESIGN.md §2, §10 item 2).
//
// Write order of a commit, each step one physical write (formats in journal.ts):
//
//   1. write `journal`: the whole change set and its SHA-256            <- the commit point
//   2. write or remove each changed value block
//   3. remove `journal`
//
// Why every power cut leaves the state before or after the commit, never between:
// - No journal exists when a commit starts: `open` removes any it finds, and every commit removes
//   its own before returning.
// - A cut in step 1 (the write not done, or torn to a prefix or garbage) leaves every value block
//   untouched and the journal absent or failing its checksum: `open` discards it -> before.
// - A cut in step 2 or 3 finds the journal complete: `open` replays it -> after. Replay is
//   idempotent, because each entry writes the entire final content of a block or removes it, no
//   matter what a torn or already applied write left there; so a cut during replay is recovered by
//   replaying again, and the journal is removed only once every entry is applied.
// - A value block can be torn only while a complete journal that rewrites it exists, so after
//   recovery every value block is whole (`open` asserts it).
// Reads come from a RAM cache loaded at `open`, as an applet reads EEPROM: `get` is one Map lookup.
// The cache changes only after step 3; a store whose commit threw (power cut or I/O error) cannot
// tell which state the medium holds, and refuses all use until it is re-opened.
import { assert } from '../../core/assert.ts';
import { coreError } from '../../core/errors.ts';
import {
  decodeJournal,
  decodeValueBlock,
  encodeJournal,
  isStoreKey,
  isValueBlockName,
  journalBlock,
  storeKeyBytesMax,
  valueBlockName,
  valueOfBody,
  type Change,
  type JournalEntry,
} from './journal.ts';
import type { Medium } from './medium.ts';

/** Most keys (value blocks) a store may hold. */
export const storeBlocksMax = 4096;
/** Most bytes of keys and values a store may hold (block framing and the journal not counted). */
export const storeBytesMax = 8 * 1024 * 1024;

export interface StoreLimits {
  readonly blocksMax: number;
  readonly bytesMax: number;
}

// A cached value with its block name, so that updates and deletes do not hash the key again.
interface Stored {
  readonly value: Uint8Array;
  readonly block: string;
}

export class JournaledStore {
  readonly limits: StoreLimits;
  readonly #medium: Medium;
  readonly #values: Map<string, Stored>;
  // Kept sorted on every commit so that `keys(prefix)` is a binary search, not a sort per call.
  readonly #sortedKeys: string[];
  #bytesUsed: number;
  #mustReopen = false;

  /** Recovers an interrupted commit if there is one, then loads every value into RAM. */
  static open(medium: Medium, limits: Partial<StoreLimits> = {}): JournaledStore {
    const resolved: StoreLimits = {
      blocksMax: limits.blocksMax ?? storeBlocksMax,
      bytesMax: limits.bytesMax ?? storeBytesMax,
    };
    assert(isLimit(resolved.blocksMax, storeBlocksMax), `blocksMax must be in 1..${storeBlocksMax}`);
    assert(isLimit(resolved.bytesMax, storeBytesMax), `bytesMax must be in 1..${storeBytesMax}`);
    recover(medium);
    return new JournaledStore(medium, resolved, load(medium));
  }

  private constructor(medium: Medium, limits: StoreLimits, values: Map<string, Stored>) {
    this.#medium = medium;
    this.limits = limits;
    this.#values = values;
    this.#sortedKeys = [...values.keys()].sort();
    let bytes = 0;
    for (const [key, { value }] of values) bytes += key.length + value.length;
    this.#bytesUsed = bytes;
  }

  /** The stored bytes: the store's own, to be read and never modified (copy before changing). */
  get(key: string): Uint8Array | undefined {
    this.#assertUsable();
    return this.#values.get(key)?.value;
  }

  has(key: string): boolean {
    this.#assertUsable();
    return this.#values.has(key);
  }

  /** Keys that start with `prefix`, in ascending order. */
  keys(prefix = ''): string[] {
    this.#assertUsable();
    const found: string[] = [];
    for (let i = lowerBound(this.#sortedKeys, prefix); i < this.#sortedKeys.length; i++) {
      const key = this.#sortedKeys[i]!;
      if (!key.startsWith(prefix)) break;
      found.push(key);
    }
    return found;
  }

  get blocksUsed(): number {
    return this.#values.size;
  }

  get bytesUsed(): number {
    return this.#bytesUsed;
  }

  /**
   * Applies every change or none, even across a power cut: a value puts, null deletes. Throws
   * `storeFull` (and writes nothing) when the result would exceed the limits. A change set with no
   * effect (empty, or deleting only absent keys) writes nothing. The values are copied.
   */
  commit(changes: ReadonlyMap<string, Uint8Array | null>): void {
    this.#assertUsable();
    const effective: Change[] = [];
    let blocks = this.#values.size;
    let bytes = this.#bytesUsed;
    for (const [key, value] of changes) {
      assert(isStoreKey(key), `store key must match [a-z0-9/._-]{1,${storeKeyBytesMax}}: ${key}`);
      const old = this.#values.get(key);
      if (old === undefined && value === null) continue;
      if (old === undefined) blocks++;
      else bytes -= key.length + old.value.length;
      if (value === null) blocks--;
      else bytes += key.length + value.length;
      effective.push({ key, block: old?.block ?? valueBlockName(key), value });
    }
    if (effective.length === 0) return;
    if (blocks > this.limits.blocksMax || bytes > this.limits.bytesMax) {
      throw coreError(
        'storeFull',
        `the commit needs ${blocks} blocks and ${bytes} bytes; the store holds ${this.limits.blocksMax} and ${this.limits.bytesMax}`,
      );
    }
    // The journal is bounded too: its puts are all in the state checked above, its deletes are keys
    // that were stored.
    const journal = encodeJournal(effective);
    // Set before the first write and cleared after the last: if any write throws, it stays set.
    this.#mustReopen = true;
    this.#medium.write(journalBlock, journal.bytes);
    applyEntries(this.#medium, journal.entries);
    this.#medium.remove(journalBlock);
    this.#mustReopen = false;
    for (const entry of journal.entries) this.#cache(entry);
    this.#bytesUsed = bytes;
  }

  #cache({ key, block, body }: JournalEntry): void {
    const index = lowerBound(this.#sortedKeys, key);
    const present = this.#sortedKeys[index] === key;
    if (body === null) {
      this.#values.delete(key);
      if (present) this.#sortedKeys.splice(index, 1);
      return;
    }
    // A view of the block's own buffer, which nobody modifies (see Medium.write): no copy.
    this.#values.set(key, { value: valueOfBody(body, key), block });
    if (!present) this.#sortedKeys.splice(index, 0, key);
  }

  #assertUsable(): void {
    assert(!this.#mustReopen, 'a commit of this store failed: re-open it to learn its state');
  }
}

/** Rolls an interrupted commit forward (complete journal) or back (torn journal). */
function recover(medium: Medium): void {
  const bytes = medium.read(journalBlock);
  if (bytes === undefined) return;
  const entries = decodeJournal(bytes);
  if (entries !== undefined) applyEntries(medium, entries);
  medium.remove(journalBlock);
}

function applyEntries(medium: Medium, entries: readonly JournalEntry[]): void {
  for (const { block, body } of entries) {
    if (body === null) medium.remove(block);
    else medium.write(block, body);
  }
}

function load(medium: Medium): Map<string, Stored> {
  const values = new Map<string, Stored>();
  for (const name of medium.list()) {
    assert(isValueBlockName(name), `the store medium holds a foreign block: ${name}`);
    const body = medium.read(name);
    assert(body !== undefined, `block ${name} vanished while loading`);
    const decoded = decodeValueBlock(body);
    assert(decoded !== undefined, `value block ${name} is corrupt`);
    assert(valueBlockName(decoded.key) === name, `value block ${name} holds key ${decoded.key}`);
    values.set(decoded.key, { value: decoded.value, block: name });
  }
  return values;
}

function isLimit(value: number, max: number): boolean {
  return Number.isSafeInteger(value) && value >= 1 && value <= max;
}

// First index whose key is >= `key`. Keys are ASCII, so `<` on strings is byte order.
function lowerBound(sorted: readonly string[], key: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < key) low = middle + 1;
    else high = middle;
  }
  return low;
}
