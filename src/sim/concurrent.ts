// Online steps of different devices run concurrently: each is a chain of HTTP calls that waits on a
// service most of its time, so while one waits another's SE works. What a step changes is the device's
// own state and a commutative count, so the run's report is the same whatever order they finish in
// (the callers say why, step by step); every loop here is bounded by the items it is given.

/**
 * Steps in flight at once: enough to keep the services' single event loops busy on both cores, and
 * well within the keep-alive agent's sockets per service (src/node-http, `socketsPerHostMax`).
 */
export const stepsInFlightMax = 16;

/**
 * Runs `step` on every item, at most `inFlightMax` at once, and answers the results in the items'
 * order. The first failure is thrown once every started step has ended, so nothing runs on after.
 */
export async function eachConcurrently<T, R>(
  items: readonly T[],
  step: (item: T) => Promise<R>,
  inFlightMax = stepsInFlightMax,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  // One iterator shared by the lanes: each takes the next item when its last step ended.
  const queue = items.entries();
  let failure: { readonly error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    for (const [index, item] of queue) {
      if (failure !== undefined) return;
      try {
        results[index] = await step(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlightMax, items.length) }, lane));
  if (failure !== undefined) throw failure.error;
  return results;
}
