// `cbdc start`, the README's run line, as a user runs it: a first start creates the data folder and
// runs the tour and the living economy; a restart on the same folder resumes it with the same keys,
// holders and balances; SIGTERM stops every service cleanly; `--db postgres://…` gives each service
// its own database; bad options exit 2 with one line.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { reachableMaintenanceUrl } from '../../src/testing/scratch.ts';
import { repositoryRoot } from '../../src/testing/service-process.ts';

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: readonly string[];
  readonly stderr: string;
}

/** Runs `cbdc start <args>`; with `stopAfterRounds`, sends SIGTERM once it printed that many rounds. */
async function start(args: readonly string[], stopAfterRounds?: number): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['bin/cbdc.mjs', 'start', '--port-base', '0', '--round-ms', '50', ...args],
    {
      cwd: repositoryRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let stopped = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const played = stdout.split('\n').filter((line) => roundLine.test(line)).length;
    if (stopAfterRounds !== undefined && played >= stopAfterRounds && !stopped) {
      stopped = true;
      child.kill('SIGTERM');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, lines: stdout.split('\n'), stderr };
}

const roundLine = /^round (\d+): (\d+) offline payments .*; on devices (\d+\.\d{2}) XTS; (.*)$/;

function rounds(run: Run): { round: number; payments: number; verdicts: string }[] {
  return run.lines.flatMap((line) => {
    const match = roundLine.exec(line);
    return match === null
      ? []
      : [{ round: Number(match[1]), payments: Number(match[2]), verdicts: match[4]! }];
  });
}

async function urlReachable(url: string): Promise<boolean> {
  try {
    await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

test('cbdc start runs the system and the demo economy, resumes on restart, and stops cleanly on SIGTERM', async () => {
  const data = mkdtempSync(join(tmpdir(), 'cbdc-start-'));
  try {
    const first = await start(['--data', data, '--rounds', '2']);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(first.lines.includes(`created ${data}/ (PKI, keys)`));
    assert.ok(
      first.lines.some((line) => line.includes('tap broken during')),
      'the tour ran',
    );
    assert.deepEqual(
      rounds(first).map((round) => round.round),
      [1, 2],
    );
    for (const round of rounds(first)) assert.doesNotMatch(round.verdicts, /BROKEN/);
    assert.equal(first.lines.at(-2), 'all services stopped cleanly');
    const keys = readFileSync(join(data, 'system.json'), 'utf8');
    const ledgerUrl = first.lines.find((line) => line.startsWith('ledger '))?.split(/\s+/)[1];
    assert.ok(ledgerUrl !== undefined);
    assert.equal(await urlReachable(ledgerUrl), false, 'the ledger stopped with the run');

    const second = await start(['--data', data], 1);
    assert.deepEqual([second.code, second.signal], [0, null], second.stderr);
    assert.ok(second.lines.includes(`resumed ${data}/`));
    assert.ok(second.lines.includes('resuming the demo economy at round 3 with Alice, Bob, Shop'));
    assert.equal(rounds(second)[0]?.round, 3, 'the rounds go on where they stopped');
    assert.equal(
      readFileSync(join(data, 'system.json'), 'utf8'),
      keys,
      'the same keys, nothing registered again',
    );
    assert.equal(second.lines.filter((line) => line === 'all services stopped cleanly').length, 1);
    const economy = JSON.parse(readFileSync(join(data, 'economy.json'), 'utf8')) as { round: number };
    assert.ok(economy.round >= 3, 'the economy kept the rounds it played');
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('cbdc start --db postgres://… gives each service its own PostgreSQL database', async () => {
  const data = mkdtempSync(join(tmpdir(), 'cbdc-start-pg-'));
  const base = `cbdc_start_${process.pid}`;
  const services = ['ledger', 'directory', 'mds', 'mds_enclave', 'dcp_bank_a'];
  const maintenance = new URL(await reachableMaintenanceUrl());
  const admin = new pg.Client({ connectionString: maintenance.toString() });
  await admin.connect();
  const server = new URL(maintenance);
  server.pathname = `/${base}`;
  try {
    const run = await start(['--data', data, '--rounds', '1', '--dcps', 'bank-a', '--db', server.toString()]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(rounds(run).length, 1);
    const found = await admin.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname',
      [`${base}_%`],
    );
    assert.deepEqual(
      found.rows.map((row) => row.datname),
      services.map((service) => `${base}_${service}`).sort(),
    );
  } finally {
    for (const service of services)
      await admin.query(`DROP DATABASE IF EXISTS ${base}_${service} WITH (FORCE)`);
    await admin.end();
    rmSync(data, { recursive: true, force: true });
  }
});

test('cbdc start refuses bad options with exit code 2 and one line', () => {
  for (const args of [['--bogus'], ['--rounds', 'x'], ['--dcps', 'Bank A'], ['--port-base', '70000']]) {
    const run = spawnSync(process.execPath, ['bin/cbdc.mjs', 'start', ...args], {
      cwd: repositoryRoot,
      encoding: 'utf8',
    });
    assert.equal(run.status, 2, args.join(' '));
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^error: /);
  }
});
