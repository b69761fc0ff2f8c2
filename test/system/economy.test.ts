// The README's main job, as a test: the whole online side as real processes on SQLite, and the demo
// economy run against it, ending with exact balances and every DCP's supply invariant. The figures
// checked are the demo's own: the summary `runEconomy` returns and the report it prints after every
// step, read back from its lines.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runEconomy, type EconomySummary } from '../../src/demo/economy.ts';
import { startSystem } from '../../src/system/launcher.ts';

interface PrintedPool {
  readonly pool: bigint;
  readonly issued: bigint;
  readonly retired: bigint;
  readonly verdict: string;
}

/** One report the demo printed: a step's title, each holder's balances, each DCP's supply. */
interface PrintedReport {
  readonly step: string;
  readonly holders: Map<string, { device: bigint; wallet: bigint }>;
  readonly pools: Map<string, PrintedPool>;
}

const amountPattern = String.raw`(-?\d+\.\d{2}) XTS`;
const holderLine = new RegExp(
  String.raw`^  (\S+)\s+(?:card|phone)\s+@\S+\s+device\s+${amountPattern}\s+wallet\s+${amountPattern}\s`,
);
const poolLine = new RegExp(
  String.raw`^  (\S+): pool on the ledger ${amountPattern} = issued ${amountPattern} − retired ${amountPattern}: (\S+)$`,
);

/** "12.50 XTS" as printed by `formatAmount`, back to minor units. */
function minorUnits(printed: string | undefined): bigint {
  assert.ok(printed !== undefined);
  return BigInt(printed.replace('.', ''));
}

/** The reports in the demo's output: each starts with a blank line and its step's title. */
function printedReports(lines: readonly string[]): PrintedReport[] {
  const reports: PrintedReport[] = [];
  for (const line of lines) {
    if (line.startsWith('\n') && line.length > 1) {
      reports.push({ step: line.slice(1), holders: new Map(), pools: new Map() });
      continue;
    }
    const current = reports.at(-1);
    const holder = holderLine.exec(line);
    const pool = poolLine.exec(line);
    if (current !== undefined && holder?.[1] !== undefined) {
      current.holders.set(holder[1], { device: minorUnits(holder[2]), wallet: minorUnits(holder[3]) });
    } else if (current !== undefined && pool?.[1] !== undefined && pool[5] !== undefined) {
      current.pools.set(pool[1], {
        pool: minorUnits(pool[2]),
        issued: minorUnits(pool[3]),
        retired: minorUnits(pool[4]),
        verdict: pool[5],
      });
    }
  }
  return reports;
}

function sum(values: Iterable<bigint>): bigint {
  let total = 0n;
  for (const value of values) total += value;
  return total;
}

/** Central bank money behind the demo: in the wallets' accounts or in the DCPs' pools, nowhere else. */
function ledgerMoney(summary: EconomySummary | PrintedReport): bigint {
  const wallets = sum([...summary.holders.values()].map((holder) => holder.wallet));
  const pools = sum([...summary.pools.values()].map((pool) => pool.pool));
  return wallets + pools;
}

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
    assert.ok(lines.some((line) => line.includes('tap broken during')));

    const reports = printedReports(lines);
    // Onboarded, loaded, offline, renewed, unloaded, transferred: one report after every step.
    assert.equal(reports.length, 6, 'a report after every step');
    const funded = reports[0];
    assert.ok(funded !== undefined);
    assert.equal(ledgerMoney(funded), 300_000n, 'the wallets hold what the bank paid them at onboarding');
    for (const report of reports) {
      assert.deepEqual([...report.holders.keys()], ['Alice', 'Bob', 'Shop'], `${report.step}: every holder`);
      assert.deepEqual([...report.pools.keys()], ['bank-a', 'bank-b'], `${report.step}: every DCP`);
      for (const [name, pool] of report.pools) {
        assert.equal(pool.verdict, 'holds', `${report.step}: ${name}'s supply invariant`);
        assert.equal(
          pool.pool,
          pool.issued - pool.retired,
          `${report.step}: ${name} pool = issued − retired`,
        );
      }
      // Money is conserved: loads and unloads move it between wallets and pools, offline payments
      // and renewals move none on the ledger.
      assert.equal(ledgerMoney(report), ledgerMoney(funded), `${report.step}: ledger money conserved`);
      // Every unit in the pools is on a device: nothing is in flight once the broken tap resumed.
      const onDevices = sum([...report.holders.values()].map((holder) => holder.device));
      const inPools = sum([...report.pools.values()].map((pool) => pool.pool));
      assert.equal(onDevices, inPools, `${report.step}: value on devices = value in the pools`);
    }

    // What the demo printed last is what it returned.
    const last = reports.at(-1);
    assert.ok(last !== undefined);
    assert.deepEqual(Object.fromEntries(last.holders), Object.fromEntries(summary.holders));
    for (const [name, pool] of summary.pools) {
      const printed: PrintedPool | undefined = last.pools.get(name);
      assert.ok(printed !== undefined, `${name}: printed`);
      assert.equal(printed.pool, pool.pool, `${name}: printed pool`);
      assert.equal(
        printed.issued - printed.retired,
        pool.issuedMinusRetired,
        `${name}: printed issued − retired`,
      );
    }
    assert.equal(ledgerMoney(summary), ledgerMoney(funded), 'the final summary conserves the funded money');
  } finally {
    await system.stop();
    rmSync(dataDirectory, { recursive: true, force: true });
  }
});
