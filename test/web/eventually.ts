// Polls until a probe returns a value: the MDS's tasks (forwarding, ingest, response) run on timers.
import { setTimeout as sleep } from 'node:timers/promises';

/** How long the forwarding, ingest and response tasks (each on a 1 s timer or less) may take. */
export const convergeMsMax = 60_000;

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + convergeMsMax;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${convergeMsMax} ms`);
    await sleep(250);
  }
}
