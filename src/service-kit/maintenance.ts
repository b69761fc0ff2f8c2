// Periodic housekeeping of a service process (today: expiring idempotency answers). The domain
// decides what a run does and bounds it; this file only says when: every `intervalMs`, never two
// runs at once, a failure logged and retried at the next tick, stopped when the app closes. The
// timer is unref'd, so it never keeps a process alive on its own.

export interface MaintenanceTask {
  /** For the log lines. */
  readonly name: string;
  readonly intervalMs: number;
  /** One bounded run; what it resolves to is logged when it is a positive count. */
  run(): Promise<unknown>;
}

/** What scheduling needs of an app: its close hook and its logger. */
export interface MaintainedApp {
  addHook(name: 'onClose', hook: () => Promise<void>): unknown;
  readonly log: {
    info(fields: object, message: string): void;
    error(fields: object, message: string): void;
  };
}

export function scheduleMaintenance(app: MaintainedApp, task: MaintenanceTask): void {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running !== undefined) return;
    running = task
      .run()
      .then(
        (done) => {
          if (typeof done === 'number' && done > 0) app.log.info({ task: task.name, done }, 'maintenance');
        },
        (error: unknown) => {
          app.log.error({ err: error, task: task.name }, 'maintenance failed');
        },
      )
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, task.intervalMs);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    // A run in flight finishes before the database closes.
    await running;
  });
}

/**
 * A service's idempotency expiry (storage/idempotency.ts): dropping answers past their retention, a
 * bounded batch per run. None when `intervalMs` is left out (tests, where expiry is called by hand).
 */
export function idempotencyExpiry(
  intervalMs: number | undefined,
  run: () => Promise<number>,
): readonly MaintenanceTask[] {
  return intervalMs === undefined ? [] : [{ name: 'idempotency expiry', intervalMs, run }];
}
