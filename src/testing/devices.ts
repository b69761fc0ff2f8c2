// Test helpers for devices: copy a chip's memory (to replay one payment from the same state many
// times: the attacker's copies of sim/chip-memory.ts, shared) and read both sides of a payment.
import type { Device } from '../device/device.ts';
import type { Medium } from '../secure-element/store/medium.ts';
import type { PublicData } from '../device/se-client.ts';

export { cloneDevice, copyMemory } from '../sim/chip-memory.ts';

/** Every block of a memory medium as hex, for byte-exact "nothing changed" assertions. */
export function mediumSnapshot(medium: Medium): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const name of medium.list()) blocks.set(name, Buffer.from(medium.read(name)!).toString('hex'));
  return blocks;
}

/** GET DATA in a session of its own (as a new tap: no chain or answer left over from a broken one). */
export function publicData(device: Device): PublicData {
  device.endSession();
  return device.client().getData();
}
