// `cbdc simulate --against DIR` drives the services of a running `cbdc start --data DIR --no-economy`
// (real processes): two short runs one after the other, the second on a system the first already
// used, each with every invariant holding on the run's own figures; the start then stops cleanly and
// forgets its addresses, and a folder with no running start is refused with exit 2.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SimulationReport } from '../../src/sim/report.ts';
import { addressesFile } from '../../src/system/connect.ts';
import { repositoryRoot } from '../../src/testing/service-process.ts';

const readyLine = 'services only, no demo economy; Ctrl-C stops everything';

function simulate(args: readonly string[]): {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
} {
  return spawnSync(process.execPath, ['bin/cbdc.mjs', 'simulate', ...args], {
    cwd: repositoryRoot,
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
}

test('cbdc simulate --against drives a running cbdc start, run after run, every invariant holding', async () => {
  const data = mkdtempSync(join(tmpdir(), 'cbdc-against-'));
  const start = spawn(
    process.execPath,
    ['bin/cbdc.mjs', 'start', '--data', data, '--port-base', '0', '--no-economy'],
    {
      cwd: repositoryRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  start.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = once(start, 'close');
  try {
    await new Promise<void>((resolve, reject) => {
      start.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes(readyLine)) resolve();
      });
      start.once('exit', () => {
        reject(new Error(`cbdc start exited: ${stderr}`));
      });
    });
    for (const days of ['1', '2']) {
      const run = simulate([
        '--against',
        data,
        '--devices',
        '4',
        '--merchants',
        '1',
        '--days',
        days,
        '--json',
      ]);
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(run.stdout) as SimulationReport;
      assert.deepEqual(
        report.invariants.filter((check) => !check.holds),
        [],
      );
      assert.equal(report.invariantsHold, true);
    }
    start.kill('SIGINT');
    const [code] = (await closed) as [number | null];
    assert.equal(code, 0, stderr);
    assert.ok(stdout.includes('all services stopped cleanly'));
    assert.equal(existsSync(join(data, addressesFile)), false);
    const refused = simulate(['--against', data]);
    assert.equal(refused.status, 2);
    assert.equal(
      refused.stderr,
      `error: option '--against <dir>' argument '${data}' is invalid. ${data} holds no running cbdc start (no ${addressesFile})\n`,
    );
  } finally {
    if (start.exitCode === null) start.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  }
});
