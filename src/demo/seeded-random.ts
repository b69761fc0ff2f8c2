// A small deterministic generator for the demo's choices (who pays whom, how much), so a run with the
// same seed makes the same choices. Not for keys or nonces: those come from node:crypto.
// SplitMix32-style mixing over a Weyl sequence (Steele, Lea & Flood, "Fast splittable pseudorandom
// number generators", OOPSLA 2014), 32-bit so it stays in Math.imul's exact range.

export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A uniform integer in [0, bound), bound ≤ 2^32. */
  below(bound: number): number {
    if (!Number.isSafeInteger(bound) || bound <= 0 || bound > 2 ** 32)
      throw new RangeError(`bound must be an integer in 1..2^32: ${bound}`);
    return Math.floor((this.next() / 2 ** 32) * bound);
  }

  /** True with probability numerator / denominator. */
  chance(numerator: number, denominator: number): boolean {
    return this.below(denominator) < numerator;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }
}
