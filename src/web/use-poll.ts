// One hook for every live figure on the page: load now, then again every `intervalMs` while the
// page is shown, keeping the last answer (or the last failure, as the service worded it).
import { useEffect, useState } from 'preact/hooks';
import { describeFailure } from './clients.ts';

export interface Polled<T> {
  readonly value: T | undefined;
  /** The last load's failure, or undefined when it answered. */
  readonly failure: string | undefined;
  /** How many loads answered: a test or a chart knows new data arrived. */
  readonly loads: number;
}

/** `load` undefined: nothing to load (no key for that service), and nothing is called. */
export function usePoll<T>(
  load: (() => Promise<T>) | undefined,
  intervalMs: number,
  dependencies: readonly unknown[],
): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ value: undefined, failure: undefined, loads: 0 });
  useEffect(() => {
    setState({ value: undefined, failure: undefined, loads: 0 });
    if (load === undefined) return undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const value = await load();
        if (!stopped) setState((last) => ({ value, failure: undefined, loads: last.loads + 1 }));
      } catch (error) {
        if (!stopped) setState((last) => ({ ...last, failure: describeFailure(error) }));
      }
      if (!stopped && intervalMs > 0) timer = setTimeout(() => void run(), intervalMs);
    };
    void run();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
    // The caller names what the loader depends on, as with useEffect.
  }, dependencies);
  return state;
}
