// Signature verification on the machine's other cores: a fixed set of worker threads running the
// same `NodeVerifier.verify` as the caller's thread (verify-worker.ts), fed in batches. A message
// between threads costs about as much as one P-256 verify (STACK.md), so the verifies asked for in
// one turn of the event loop travel together, packed into one transferred buffer, and each worker
// has at most `verifyPoolBatchesInFlightMax` batches at once: under load the batches grow, and the
// hand-off per verify shrinks below the verify it saves the caller's thread.
//
// Bounded: at most `verifyPoolWaitingMax` verifies wait for a worker, a batch carries at most
// `verifyPoolBatchMax`, and a batch's bytes at most `verifyPoolBatchBytesMax`; a verify beyond the
// queue is refused (`VerifyPoolUnavailable`, reason `full`), never queued without end. `close`
// refuses new verifies (reason `closed`), lets the batches in flight answer, then stops the
// workers; a worker that dies refuses its batches (reason `workerFailed`), and once none is left
// every verify is refused `closed`. The pool never answers a verify it did not run: refusing is
// the caller's to turn into an error of its own (the DCP answers 503, retry later).
import { Worker } from 'node:worker_threads';
import { publicKeyBytes, signatureBytes, type Purpose } from '../core/crypto.ts';
import type { Bytes } from '../core/bytes.ts';
import { packVerifies, type PackedBatch, type VerifyJob } from './verify-batch.ts';

/** Verifies waiting for a worker (not yet sent). */
export const verifyPoolWaitingMax = 4096;
/** Verifies per message to a worker. */
export const verifyPoolBatchMax = 64;
/** Bytes of one batch (keys, signatures, purposes and messages): bounds one message's copy. */
export const verifyPoolBatchBytesMax = 1 << 20;
/** Batches one worker holds at once: one running, one waiting, so it never idles between them. */
export const verifyPoolBatchesInFlightMax = 2;
/** Workers at most, whatever the caller asks. */
export const verifyPoolWorkersMax = 16;
/** How long `close` waits for the batches in flight before it stops the workers anyway. */
export const verifyPoolCloseWaitMs = 5_000;

export type VerifyPoolRefusal = 'full' | 'closed' | 'workerFailed';

/** A verify the pool did not run: its queue was full, it was closed, or the worker died. */
export class VerifyPoolUnavailable extends Error {
  override readonly name = 'VerifyPoolUnavailable';
  constructor(
    readonly reason: VerifyPoolRefusal,
    message: string,
  ) {
    super(message);
  }
}

interface Pending extends VerifyJob {
  readonly resolve: (valid: boolean) => void;
  readonly reject: (error: Error) => void;
}

interface PoolWorker {
  readonly worker: Worker;
  /** Batches sent and not answered, by batch id, in sending order. */
  readonly inFlight: Map<number, readonly Pending[]>;
  alive: boolean;
}

export interface VerifyPoolOptions {
  /** Worker threads (1..verifyPoolWorkersMax). */
  readonly workers: number;
}

export class VerifyPool {
  readonly #workers: PoolWorker[];
  #waiting: Pending[] = [];
  #scheduled = false;
  #closed = false;
  #nextBatchId = 1;
  readonly #ready: Promise<void>;

  constructor(options: VerifyPoolOptions) {
    if (
      !Number.isSafeInteger(options.workers) ||
      options.workers < 1 ||
      options.workers > verifyPoolWorkersMax
    )
      throw new RangeError(`workers must be a whole number 1..${verifyPoolWorkersMax}`);
    this.#workers = Array.from({ length: options.workers }, () => this.#start());
    this.#ready = Promise.all(
      this.#workers.map(
        (each) =>
          new Promise<void>((resolve, reject) => {
            each.worker.once('online', resolve);
            each.worker.once('error', reject);
          }),
      ),
    ).then(() => undefined);
    // A failed start is reported by `ready`, and by the verifies it refuses.
    this.#ready.catch(() => undefined);
  }

  /** Resolves once every worker runs (rejects if one could not start). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Verifies waiting for a worker now (for metrics and tests). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * As `Verifier.verify` (false, never a throw, for a bad key or signature), on a worker; rejects
   * with `VerifyPoolUnavailable` only when the pool could not run it.
   */
  verify(publicKey: Bytes, purpose: Purpose, message: Bytes, signature: Bytes): Promise<boolean> {
    // Malformed lengths are answered here: they cannot verify, and the packing relies on them.
    if (publicKey.length !== publicKeyBytes || signature.length !== signatureBytes)
      return Promise.resolve(false);
    if (this.#closed || !this.#workers.some((each) => each.alive))
      return Promise.reject(new VerifyPoolUnavailable('closed', 'the verify pool is closed'));
    if (this.#waiting.length >= verifyPoolWaitingMax)
      return Promise.reject(
        new VerifyPoolUnavailable('full', `${verifyPoolWaitingMax} verifies are waiting for a worker`),
      );
    return new Promise<boolean>((resolve, reject) => {
      this.#waiting.push({ publicKey, purpose, message, signature, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // Every verify asked in this turn of the event loop joins the batch.
        queueMicrotask(() => {
          this.#scheduled = false;
          this.#dispatch();
        });
      }
    });
  }

  /** Refuses new verifies, waits for the batches in flight (bounded), stops the workers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#waiting.splice(0))
      pending.reject(new VerifyPoolUnavailable('closed', 'the verify pool is closed'));
    const deadline = Date.now() + verifyPoolCloseWaitMs;
    while (this.#workers.some((each) => each.alive && each.inFlight.size > 0) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await Promise.all(this.#workers.map((each) => this.#stop(each)));
  }

  #start(): PoolWorker {
    // Node 20 does not pass tsx's loader on to workers: the worker registers it, then loads its file.
    const worker = new Worker(
      `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
        `.then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.resolve('./verify-worker.ts'))}); })`,
      { eval: true },
    );
    // Idle workers never keep a process alive (a verify in flight has its caller waiting anyway).
    worker.unref();
    const pool: PoolWorker = { worker, inFlight: new Map(), alive: true };
    worker.on('message', (answer: { readonly id: number; readonly valid: Uint8Array }) => {
      this.#answered(pool, answer.id, answer.valid);
    });
    worker.on('error', (error) => {
      this.#failed(pool, error.message);
    });
    worker.on('exit', (code) => {
      this.#failed(pool, `the verify worker exited with code ${code}`);
    });
    return pool;
  }

  #answered(pool: PoolWorker, id: number, valid: Uint8Array): void {
    const batch = pool.inFlight.get(id);
    if (batch === undefined) return;
    pool.inFlight.delete(id);
    batch.forEach((pending, index) => {
      pending.resolve(valid[index] === 1);
    });
    this.#dispatch();
  }

  #failed(pool: PoolWorker, why: string): void {
    if (!pool.alive) return;
    pool.alive = false;
    for (const batch of pool.inFlight.values())
      for (const pending of batch) pending.reject(new VerifyPoolUnavailable('workerFailed', why));
    pool.inFlight.clear();
    if (!this.#workers.some((each) => each.alive))
      for (const pending of this.#waiting.splice(0))
        pending.reject(new VerifyPoolUnavailable('closed', `no verify worker is left: ${why}`));
    else this.#dispatch();
  }

  /** Sends the waiting verifies to the workers with room, least loaded first. */
  #dispatch(): void {
    while (this.#waiting.length > 0) {
      const target = this.#leastLoaded();
      if (target === undefined) return;
      const batch = this.#takeBatch();
      const packed: PackedBatch = packVerifies(batch);
      const id = this.#nextBatchId++;
      target.inFlight.set(id, batch);
      target.worker.postMessage({ id, buffer: packed.buffer, count: batch.length }, [packed.buffer]);
    }
  }

  #leastLoaded(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const each of this.#workers) {
      if (!each.alive || each.inFlight.size >= verifyPoolBatchesInFlightMax) continue;
      if (best === undefined || each.inFlight.size < best.inFlight.size) best = each;
    }
    return best;
  }

  /** The next batch from the queue's head: at most `verifyPoolBatchMax`, at most the byte bound. */
  #takeBatch(): Pending[] {
    let bytes = 0;
    let count = 0;
    for (const pending of this.#waiting) {
      const size = publicKeyBytes + signatureBytes + 8 + pending.purpose.length * 3 + pending.message.length;
      if (count === verifyPoolBatchMax || (count > 0 && bytes + size > verifyPoolBatchBytesMax)) break;
      bytes += size;
      count++;
    }
    return this.#waiting.splice(0, count);
  }

  async #stop(pool: PoolWorker): Promise<void> {
    if (!pool.alive) return;
    pool.alive = false;
    for (const batch of pool.inFlight.values())
      for (const pending of batch)
        pending.reject(new VerifyPoolUnavailable('closed', 'the verify pool closed before it answered'));
    pool.inFlight.clear();
    await pool.worker.terminate();
  }
}
