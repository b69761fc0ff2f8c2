// The README's main job, as a test: the whole online side as real processes on SQLite, and the demo
// economy run against it, ending with exact balances and every DCP's supply invariant.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runEconomy } from '../../src/demo/economy.ts';
import { startSystem } from '../../src/system/launcher.ts';

test('the demo economy runs on ledger, directory and two DCP processes and ends with exact balances', async () => {
  const dataDirectory = mkdtempSync(join(tmpdir(), 'cbdc-system-'));
  const system = await startSystem({ dataDirectory, dcpNames: ['bank-a', 'bank-b'] });
  try {
    const lines: string[] = [];
    const summary = await runEconomy(system, (line) => {
      lines.push(line);
    });
    assert.deepEqual(Object.fromEntries(summary.holders), {
      Alice: { device: 21_250n, wallet: 80_000n },
      Bob: { device: 31_901n, wallet: 160_000n },
      Shop: { device: 6_849n, wallet: 0n },
    });
    assert.deepEqual(Object.fromEntries(summary.pools), {
      'bank-a': { pool: 58_000n, issuedMinusRetired: 58_000n },
      'bank-b': { pool: 2_000n, issuedMinusRetired: 2_000n },
    });
    // Money is conserved: what the bank gave the wallets is in wallets, pools, or in flight nowhere.
    assert.equal(80_000n + 160_000n + 58_000n + 2_000n, 300_000n);
    assert.ok(lines.some((line) => line.includes('tap broken during')));
  } finally {
    await system.stop();
    rmSync(dataDirectory, { recursive: true, force: true });
  }
});
