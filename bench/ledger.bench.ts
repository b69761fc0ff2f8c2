// Ledger payments per second through HTTP: a real listening ledger (in this process) and
// `clientsCount` concurrent keep-alive clients (node:http), on SQLite (file, WAL) and on PostgreSQL.
// Reference: raw single-row insert transactions per second on the same engine, same concurrency,
// measured in the same run: the ratio says what the ledger costs over the storage floor.
// `http.noop` (bench/http-noop.ts) is the HTTP bound measured by the same clients; each ledger line
// also gives its share of it (`ofHttpNoop`), measured in alternating windows (no-op, ledger, no-op...)
// so that a machine whose load drifts during the run weighs on both figures alike.
// `CBDC_BENCH_ENGINES=sqlite` measures one engine.
import { Agent, request } from 'node:http';
import { apiKeyDigest } from '../src/ledger/http/auth.ts';
import { startLedgerServer } from '../src/ledger/server.ts';
import { newApiKey } from '../src/testing/ledger.ts';
import { LedgerClient } from '../src/ledger/api/client.ts';
import type { Engine } from '../src/storage/database.ts';
import { openDatabase } from '../src/storage/open.ts';
import { createScratchDatabase, engines } from '../src/testing/scratch.ts';
import { startNoopServer } from './http-noop.ts';
import { report } from './report.ts';
import { keepAliveTransport } from '../src/node-http/keep-alive-transport.ts';

const clientsCount = 32;
const accountsCount = 16;
const warmUpMs = 500;
const measureMs = 3_000;
/** Alternating windows: each load gets `windowsPerLoad` windows of `windowMs` (3 s in all). */
const windowsPerLoad = 6;
const windowMs = measureMs / windowsPerLoad;
/** Before each window: the other load's requests in flight finish, this one's ramp up. */
const windowWarmUpMs = 150;

type Load = (worker: number) => Promise<void>;

/**
 * Requests per second of each load, measured in alternating windows of `windowMs`: `clientsCount`
 * clients per load, only the active load's sending. Returns one rate per load, in their order.
 */
async function alternating(loads: readonly Load[]): Promise<number[]> {
  const stopped = -1;
  let active = stopped + 1;
  let wake: () => void = () => undefined;
  let turn = new Promise<void>((resolve) => (wake = resolve));
  const switchTo = (index: number) => {
    active = index;
    const woken = wake;
    turn = new Promise<void>((resolve) => (wake = resolve));
    woken();
  };
  const counts = loads.map(() => 0);
  const seconds = loads.map(() => 0);
  let counting = false;
  const loops = loads.flatMap((load, index) =>
    Array.from({ length: clientsCount }, async (_unused, worker) => {
      for (;;) {
        while (active !== index && active !== stopped) await turn;
        if (active === stopped) return;
        await load(worker);
        if (counting && active === index) counts[index] = (counts[index] ?? 0) + 1;
      }
    }),
  );
  await sleep(warmUpMs);
  for (let window = 0; window < windowsPerLoad; window++)
    for (let index = 0; index < loads.length; index++) {
      switchTo(index);
      await sleep(windowWarmUpMs);
      counting = true;
      const start = performance.now();
      await sleep(windowMs);
      counting = false;
      seconds[index] = (seconds[index] ?? 0) + (performance.now() - start) / 1000;
    }
  switchTo(stopped);
  await Promise.all(loops);
  return counts.map((count, index) => count / (seconds[index] ?? 1));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function forDuration(workers: number, body: (worker: number) => Promise<void>): Promise<number> {
  let counting = false;
  let count = 0;
  let stop = false;
  const loops = Array.from({ length: workers }, async (_unused, worker) => {
    while (!stop) {
      await body(worker);
      if (counting) count++;
      // SQLite transactions complete in microtasks only: yield so that timers can fire.
      if (count % 32 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  });
  await new Promise((resolve) => setTimeout(resolve, warmUpMs));
  counting = true;
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, measureMs));
  counting = false;
  const seconds = (performance.now() - start) / 1000;
  stop = true;
  await Promise.all(loops);
  return count / seconds;
}

async function rawInserts(url: string): Promise<number> {
  const db = openDatabase(url);
  try {
    await db.run('CREATE TABLE bench_rows (id TEXT PRIMARY KEY, value BIGINT NOT NULL)');
    let next = 0;
    return await forDuration(clientsCount, () =>
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO bench_rows (id, value) VALUES (?, ?)', [`row-${next++}`, 1n]);
      }),
    );
  } finally {
    await db.close();
  }
}

/** Ledger payments per second, and the no-op's in the windows alternating with them. */
async function ledgerPayments(url: string, noop: Load): Promise<{ ledger: number; noop: number }> {
  const operatorKey = newApiKey();
  const server = await startLedgerServer({
    databaseUrl: url,
    host: '127.0.0.1',
    port: 0,
    operatorKey,
    logLevel: 'silent',
  });
  try {
    const client = (apiKey: string) =>
      new LedgerClient({ baseUrl: server.url, apiKey, transport: keepAliveTransport });
    const operator = client(operatorKey);
    const bankKey = newApiKey();
    const dcpKey = newApiKey();
    const bank = (
      await operator.createParticipant('bank', {
        name: 'Bank',
        role: 'intermediary',
        apiKeySha256: apiKeyDigest(bankKey),
      })
    ).value.id;
    const dcp = (
      await operator.createParticipant('dcp', {
        name: 'DCP',
        role: 'dcp',
        apiKeySha256: apiKeyDigest(dcpKey),
      })
    ).value.id;
    const bankAccount = (
      await operator.createAccount('bank-account', { kind: 'intermediary', ownerId: bank })
    ).value.id;
    await operator.issue('issue', { accountId: bankAccount, amount: 10n ** 15n });
    const wallets: string[] = [];
    for (let i = 0; i < accountsCount; i++) {
      const wallet = (await client(dcpKey).createAccount(`w${i}`, { kind: 'wallet', ownerId: dcp })).value.id;
      await client(bankKey).pay(`fund${i}`, {
        payerAccountId: bankAccount,
        payeeAccountId: wallet,
        amount: 10n ** 12n,
      });
      wallets.push(wallet);
    }
    let next = 0;
    const agent = new Agent({ keepAlive: true, maxSockets: clientsCount });
    const target = new URL('/v1/payments', server.url);
    const payment: Load = async (worker) => {
      const body = JSON.stringify({
        payerAccountId: wallets[worker % accountsCount],
        payeeAccountId: wallets[(worker + 1) % accountsCount],
        amount: '1',
      });
      const status = await post(agent, target, body, {
        authorization: `Bearer ${dcpKey}`,
        'content-type': 'application/json',
        'idempotency-key': `bench-${next++}`,
      });
      if (status !== 201) throw new Error(`payment answered ${status}`);
    };
    try {
      const [noopRate = 0, ledgerRate = 0] = await alternating([noop, payment]);
      return { ledger: ledgerRate, noop: noopRate };
    } finally {
      agent.destroy();
    }
  } finally {
    await server.close();
  }
}

/** The HTTP bound: the same clients posting the same payment bodies to a no-op route. */
async function noopLoad(): Promise<{ load: Load; close: () => Promise<void> }> {
  const apiKey = newApiKey();
  const server = await startNoopServer(apiKey);
  const agent = new Agent({ keepAlive: true, maxSockets: clientsCount });
  const target = new URL('/v1/noop', server.url);
  let next = 0;
  const load: Load = async (worker) => {
    const body = JSON.stringify({
      payerAccountId: `acc_${worker % accountsCount}`,
      payeeAccountId: `acc_${(worker + 1) % accountsCount}`,
      amount: '1',
    });
    const status = await post(agent, target, body, {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': `bench-${next++}`,
    });
    if (status !== 201) throw new Error(`no-op answered ${status}`);
  };
  return {
    load,
    close: async () => {
      agent.destroy();
      await server.close();
    },
  };
}

/** One POST over a keep-alive connection (node:http: lighter than fetch, so the client costs less). */
function post(agent: Agent, url: URL, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        response.resume();
        response.on('end', () => {
          resolve(response.statusCode ?? 0);
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** One engine's line; returns the no-op's rate in the windows alternating with its payments. */
async function measure(engine: Engine, noop: Load): Promise<number> {
  const raw = await createScratchDatabase(engine, 'file');
  const ledger = await createScratchDatabase(engine, 'file');
  try {
    const reference = await rawInserts(raw.url);
    const rates = await ledgerPayments(ledger.url, noop);
    report({
      name: `ledger.payments.${engine}`,
      value: rates.ledger,
      unit: 'payments/s',
      reference,
      referenceName: `raw single-row insert transactions/s on ${engine}`,
      clients: clientsCount,
      seconds: measureMs / 1000,
      httpNoop: Math.round(rates.noop),
      ofHttpNoop: Number((rates.ledger / rates.noop).toFixed(3)),
    });
    return rates.noop;
  } finally {
    await raw.drop();
    await ledger.drop();
  }
}

const asked = process.env['CBDC_BENCH_ENGINES']?.split(',') ?? engines;
const unknown = asked.filter((engine) => !engines.includes(engine as Engine));
if (unknown.length > 0) throw new RangeError(`CBDC_BENCH_ENGINES: unknown engine ${unknown.join(', ')}`);
const noop = await noopLoad();
const noopRates: number[] = [];
try {
  for (const engine of asked) noopRates.push(await measure(engine as Engine, noop.load));
} finally {
  await noop.close();
}
// The no-op's windows of every engine's run, averaged: the HTTP bound of this run.
report({
  name: 'http.noop',
  value: noopRates.reduce((sum, rate) => sum + rate, 0) / Math.max(noopRates.length, 1),
  unit: 'requests/s',
  clients: clientsCount,
  seconds: (measureMs / 1000) * noopRates.length,
});
