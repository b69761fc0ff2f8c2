// Runs async jobs one at a time, in arrival order, with a bounded number waiting. SQLite has one
// connection per database here, so transactions (and reads, which would otherwise see another
// transaction's uncommitted writes on the same connection) take turns through this queue.
import { StorageUnavailable } from './database.ts';

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly waitingMax: number) {}

  run<T>(job: () => Promise<T>): Promise<T> {
    if (this.waiting >= this.waitingMax) {
      return Promise.reject(new StorageUnavailable(`more than ${this.waitingMax} database jobs waiting`));
    }
    this.waiting++;
    const result = this.tail.then(job);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.tail = settled;
    void settled.then(() => {
      this.waiting--;
    });
    return result;
  }
}
