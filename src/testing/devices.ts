// Test helpers for devices: copy a chip's memory (to replay one payment from the same state many
// times) and read both sides of a payment.
import { Device } from '../device/device.ts';
import { MemoryMedium, type Medium } from '../secure-element/store/medium.ts';
import type { PublicData } from '../device/se-client.ts';

export function cloneMedium(medium: Medium): MemoryMedium {
  const copy = new MemoryMedium();
  for (const name of medium.list()) copy.write(name, medium.read(name)!);
  return copy;
}

/** A device with the same kind, platform and memory contents as `device`, freshly powered up. */
export function cloneDevice(device: Device): Device {
  return new Device(device.kind, device.name, cloneMedium(device.medium), device.platform);
}

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
