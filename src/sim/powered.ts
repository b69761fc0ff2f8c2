// The chips a run keeps powered: at 100,000 devices their RAM would not fit (a powered chip holds its
// store's cache and decoded records, about 150 KB after a few days; its memory alone is a few KB), so
// the least recently used rest (`Device.rest`: unpowered, as a card out of the field, nothing lost)
// and power up again at their next command. What a chip answers does not depend on it: only the
// time of a power-up (its caches filled again) is spent.
import type { Device } from '../device/device.ts';

/** Chips powered at once, outside those in use; the rest are at rest until their next command. */
export const chipsPoweredMax = 4_096;

export class PoweredChips {
  readonly #max: number;
  /** Least recently used first (a Map keeps insertion order). */
  readonly #recent = new Map<Device, true>();
  /** Devices in the middle of a step (`during`), which never rest then: a sync spans HTTP calls. */
  readonly #inUse = new Map<Device, number>();

  constructor(max = chipsPoweredMax) {
    this.#max = max;
  }

  /** Marks `devices` used now, and rests the least recently used chips beyond the bound. */
  used(...devices: readonly Device[]): void {
    for (const device of devices) {
      this.#recent.delete(device);
      this.#recent.set(device, true);
    }
    // Each pass rests one chip or stops: at most the chips over the bound, skipping those in use.
    for (const device of this.#recent.keys()) {
      if (this.#recent.size <= this.#max) return;
      if (this.#inUse.has(device)) continue;
      this.#recent.delete(device);
      device.rest();
    }
  }

  /** Runs `step` with `devices` kept powered throughout, then marks them used. */
  async during<R>(devices: readonly Device[], step: () => Promise<R>): Promise<R> {
    for (const device of devices) this.#inUse.set(device, (this.#inUse.get(device) ?? 0) + 1);
    try {
      return await step();
    } finally {
      for (const device of devices) {
        const count = (this.#inUse.get(device) ?? 1) - 1;
        if (count === 0) this.#inUse.delete(device);
        else this.#inUse.set(device, count);
      }
      this.used(...devices);
    }
  }

  /** How many chips are powered (used and not rested since). */
  get size(): number {
    return this.#recent.size;
  }
}
