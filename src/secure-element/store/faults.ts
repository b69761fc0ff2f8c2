// Fault injection for the physical medium: a power cut at a chosen physical write, optionally
// tearing that write first. Tests count the physical writes of a command, then cut at every index
// to prove that the store is always in the state before or after the command (DESIGN.md §10.2).
import { assert, unreachable } from '../../core/assert.ts';
import { bytesEqual } from '../../core/bytes.ts';
import type { Medium } from './medium.ts';

/** The chip lost power. Layers above rethrow it untouched (test it with `isPowerCut`). */
export class PowerCut extends Error {
  override readonly name = 'PowerCut';
}

/** By name rather than by class, so that a copy of this module loaded twice still matches. */
export function isPowerCut(error: unknown): boolean {
  return error instanceof Error && error.name === 'PowerCut';
}

/** What an interrupted write leaves behind: the first `bytes` bytes, or garbage of the same length. */
export type Tear =
  { readonly kind: 'prefix'; readonly bytes: number } | { readonly kind: 'garbage'; readonly seed: number };

export interface FaultPlan {
  /** Index, from 0, of the physical write that the power cut interrupts; no cut when absent. */
  readonly cutAtWrite?: number;
  /** What the interrupted write leaves; when absent the write simply does not happen. */
  readonly tear?: Tear;
}

/**
 * Wraps a medium, counts its physical writes and cuts the power where the plan says: the planned
 * write is not performed (or only torn), `PowerCut` is thrown, and every later operation throws
 * `PowerCut` too — the chip is dead until the test re-opens a store on the inner medium.
 */
export class FaultyMedium implements Medium {
  readonly #inner: Medium;
  readonly #plan: FaultPlan;
  #writesPerformed = 0;
  #cut = false;

  constructor(inner: Medium, plan: FaultPlan = {}) {
    const at = plan.cutAtWrite;
    assert(at === undefined || (Number.isSafeInteger(at) && at >= 0), 'cutAtWrite must be an index >= 0');
    assert(plan.tear === undefined || at !== undefined, 'a tear needs a cutAtWrite');
    this.#inner = inner;
    this.#plan = plan;
  }

  /** Physical writes completed so far; the interrupted one does not count. */
  get writesPerformed(): number {
    return this.#writesPerformed;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  read(name: string): Uint8Array | undefined {
    this.#refuseIfCut();
    return this.#inner.read(name);
  }

  list(): string[] {
    this.#refuseIfCut();
    return this.#inner.list();
  }

  write(name: string, bytes: Uint8Array): void {
    this.#refuseIfCut();
    if (this.#isPlannedCut()) {
      this.#cut = true;
      const tear = this.#plan.tear;
      if (tear !== undefined) this.#inner.write(name, tornBytes(bytes, tear));
      throw new PowerCut(`power cut at physical write ${this.#writesPerformed} (write ${name})`);
    }
    this.#inner.write(name, bytes);
    this.#writesPerformed++;
  }

  remove(name: string): void {
    this.#refuseIfCut();
    if (this.#isPlannedCut()) {
      // A removal does not tear (medium.ts): with or without a tear it simply does not happen.
      this.#cut = true;
      throw new PowerCut(`power cut at physical write ${this.#writesPerformed} (remove ${name})`);
    }
    this.#inner.remove(name);
    this.#writesPerformed++;
  }

  #isPlannedCut(): boolean {
    return this.#writesPerformed === this.#plan.cutAtWrite;
  }

  #refuseIfCut(): void {
    if (this.#cut) throw new PowerCut('the chip has no power: re-open the store');
  }
}

/**
 * The bytes a torn write leaves. A tear always loses something: a prefix is shorter than the write
 * and garbage differs from it in at least one byte (a write of zero bytes cannot tear).
 */
export function tornBytes(bytes: Uint8Array, tear: Tear): Uint8Array {
  switch (tear.kind) {
    case 'prefix': {
      const length = Math.max(0, Math.min(tear.bytes, bytes.length - 1));
      return bytes.slice(0, length);
    }
    case 'garbage': {
      const garbage = pseudoRandomBytes(bytes.length, tear.seed);
      if (garbage.length > 0 && bytesEqual(garbage, bytes)) garbage[0] = garbage[0]! ^ 0xff;
      return garbage;
    }
    default:
      return unreachable(tear, 'tear kind');
  }
}

// xorshift32 (Marsaglia 2003): deterministic, so that a failing tear replays from its seed.
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  let state = seed >>> 0 || 0x9e3779b9;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = state & 0xff;
  }
  return out;
}
