// Ingest workers (docs/mds.md, "Enclave"): each runs `ingestAll` until no stored upload is left,
// then settles the issuances whose report window ended (also every `uploadsBetweenSettlesMax`
// uploads, so a steady stream does not hold settling back), then sleeps `pollMs` or until woken (a
// new upload was stored). On PostgreSQL several workers, in one process or several, take different
// uploads (`FOR UPDATE SKIP LOCKED`); on SQLite one is enough.
// A failure (the database down) is reported and retried after the pause: an upload is never lost,
// since it stays `stored` until a worker's transaction commits it as ingested or refused.
import type { EnclaveService } from './service.ts';

/** Bound on workers in one process. */
export const ingestWorkersMax = 16;
/** Uploads a worker ingests before it settles report windows even though more are waiting. */
export const uploadsBetweenSettlesMax = 100;

export interface WorkerOptions {
  readonly workers: number;
  readonly pollMs: number;
  readonly onError: (error: unknown) => void;
}

export class IngestWorkers {
  readonly #service: EnclaveService;
  readonly #options: WorkerOptions;
  readonly #loops: Promise<void>[] = [];
  readonly #sleepers = new Set<() => void>();
  #running = false;

  constructor(service: EnclaveService, options: WorkerOptions) {
    if (!Number.isSafeInteger(options.workers) || options.workers < 1 || options.workers > ingestWorkersMax)
      throw new RangeError(`workers must be an integer in [1, ${ingestWorkersMax}]`);
    if (!Number.isSafeInteger(options.pollMs) || options.pollMs < 1)
      throw new RangeError('pollMs must be a positive integer');
    this.#service = service;
    this.#options = options;
  }

  start(): void {
    this.#running = true;
    for (let index = 0; index < this.#options.workers; index++) this.#loops.push(this.#loop());
  }

  /** Wakes every sleeping worker at once. */
  wake(): void {
    for (const wake of this.#sleepers) wake();
    this.#sleepers.clear();
  }

  /** Lets each worker finish the batches it holds, then resolves. */
  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await Promise.all(this.#loops);
  }

  async #loop(): Promise<void> {
    let sinceSettled = 0;
    while (this.#running) {
      try {
        const due = sinceSettled >= uploadsBetweenSettlesMax;
        const taken = due
          ? 0
          : await this.#service.ingestAll(uploadsBetweenSettlesMax - sinceSettled, () => this.#running);
        if (taken > 0) {
          sinceSettled += taken;
          continue;
        }
        // Idle, or due: settle the issuances whose report window has ended (unreported.ts).
        sinceSettled = 0;
        const settled = await this.#service.settleIssuances();
        if (due || settled > 0) continue;
      } catch (error) {
        this.#options.onError(error);
      }
      if (this.#running) await this.#sleep();
    }
  }

  #sleep(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, this.#options.pollMs);
      this.#sleepers.add(wake);
    });
  }
}
