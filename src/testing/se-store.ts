// Helpers shared by the store's tests: states as comparable maps, media with a known prior state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournaledStore } from '../secure-element/store/journaled-store.ts';
import { FileMedium, MemoryMedium, type Medium } from '../secure-element/store/medium.ts';

/** A store's visible state, values in hex, so that `assert.deepStrictEqual` compares it. */
export type State = ReadonlyMap<string, string>;

export function snapshot(store: JournaledStore): State {
  const state = new Map<string, string>();
  for (const key of store.keys()) state.set(key, hex(store.get(key)!));
  return state;
}

/** The state a change set leads to, computed without any store. */
export function applyChanges(state: State, changes: ReadonlyMap<string, Uint8Array | null>): State {
  const next = new Map(state);
  for (const [key, value] of changes) {
    if (value === null) next.delete(key);
    else next.set(key, hex(value));
  }
  return next;
}

// Buffer's native hex, not core's toHex: the tear tests snapshot a 256 KiB value thousands of times.
function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function filledBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seed * 31 + i * 7) & 0xff;
  return bytes;
}

/** Makes fresh, empty media of one kind; `dispose` removes whatever they left on disk. */
export interface MediumKind {
  readonly name: string;
  fresh(): Medium;
  dispose(): void;
}

export function memoryMediumKind(): MediumKind {
  return { name: 'MemoryMedium', fresh: () => new MemoryMedium(), dispose: () => undefined };
}

export function fileMediumKind(): MediumKind {
  const root = mkdtempSync(join(tmpdir(), 'cbdc-store-'));
  let made = 0;
  return {
    name: 'FileMedium',
    // Not durable: fsync proves nothing in a test and costs milliseconds per write.
    fresh: () => new FileMedium(join(root, `medium-${made++}`), { durable: false }),
    dispose: () => {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A fresh medium holding `prior`, committed in one go. */
export function mediumWith(kind: MediumKind, prior: ReadonlyMap<string, Uint8Array | null>): Medium {
  const medium = kind.fresh();
  JournaledStore.open(medium).commit(prior);
  return medium;
}
