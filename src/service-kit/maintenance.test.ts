// Maintenance runs periodically, never two at once, survives a failing run and stops with the app.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { scheduleMaintenance, type MaintainedApp } from './maintenance.ts';

test('runs every interval, one at a time, logs failures and stops when the app closes', async () => {
  const closeHooks: (() => Promise<void>)[] = [];
  const errors: object[] = [];
  const app: MaintainedApp = {
    addHook: (_name, hook) => closeHooks.push(hook),
    log: { info: () => undefined, error: (fields) => errors.push(fields) },
  };
  let running = 0;
  let overlapped = false;
  let runs = 0;
  scheduleMaintenance(app, {
    name: 'test',
    intervalMs: 2,
    run: async () => {
      runs++;
      running++;
      overlapped ||= running > 1;
      await sleep(10);
      running--;
      if (runs === 1) throw new Error('first run fails');
      return 1;
    },
  });
  while (runs < 3) await sleep(5);
  for (const hook of closeHooks) await hook();
  const stoppedAt = runs;
  await sleep(30);
  assert.equal(runs, stoppedAt, 'no run after close');
  assert.equal(running, 0, 'close waited for the run in flight');
  assert.equal(overlapped, false);
  assert.equal(errors.length, 1);
});
