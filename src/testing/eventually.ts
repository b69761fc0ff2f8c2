// Polls until a probe returns a value: the services' background tasks (DCP forwarding, MDS ingest,
// response, refunds, settlement) run on their own timers, so an end-to-end test waits for what they
// converge to instead of sleeping a fixed time.
import { setTimeout as sleep } from 'node:timers/promises';

/** How long the forwarding, ingest and response tasks (each on a 1 s timer or less) may take. */
export const convergeMsMax = 60_000;
/** Between two probes. */
const probeIntervalMs = 250;

/** `probe`'s first value other than undefined; fails naming `what` after `withinMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  withinMs = convergeMsMax,
): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${withinMs} ms`);
    await sleep(probeIntervalMs);
  }
}
