// End to end across processes: the ledger runs as a real child process (`cbdc serve ledger`) on a
// SQLite file. A stream of payments flows through the gateway while the ledger is killed with
// SIGKILL at random instants and restarted on the same file; the gateway retries with the same
// idempotency keys. Afterwards every payment is in the ledger exactly once and the sum is zero.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { LedgerClient } from '../../src/ledger/api/client.ts';
import { apiKeyDigest } from '../../src/ledger/http/auth.ts';
import { newApiKey } from '../../src/testing/ledger.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../src/testing/scratch.ts';
import { freePort, repositoryRoot as root, ServiceProcess } from '../../src/testing/service-process.ts';

const paymentsTotal = 300;
const lanes = 8;
const kills = 4;

function startLedger(databaseUrl: string, port: number, operatorKey: string): Promise<ServiceProcess> {
  return ServiceProcess.start('ledger', ['--port', String(port), '--db', databaseUrl], {
    CBDC_LEDGER_OPERATOR_KEY: operatorKey,
  });
}

/** Stops the process with `signal` (if it still runs) and resolves with its exit code. */
async function kill(ledger: ServiceProcess, signal: NodeJS.Signals): Promise<number | null> {
  return (await ledger.stop(signal)).code;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('ledger process crash safety', () => {
  let scratch: ScratchDatabase;
  let port: number;
  let ledger: ServiceProcess;
  const operatorKey = newApiKey();

  before(async () => {
    scratch = await createScratchDatabase('sqlite', 'file');
    port = await freePort();
    ledger = await startLedger(scratch.url, port, operatorKey);
  });
  after(async () => {
    await kill(ledger, 'SIGKILL');
    await scratch.drop();
  });

  test('payments survive SIGKILL and restarts exactly once; the sum stays zero', async () => {
    const baseUrl = `http://127.0.0.1:${port}`;
    const client = (apiKey: string) =>
      new LedgerClient({ baseUrl, apiKey, timeoutMs: 3_000, attemptsMax: 60, backoffMs: 25 });
    const operator = client(operatorKey);
    const dcpKey = newApiKey();
    const bankKey = newApiKey();
    const bank = await operator.createParticipant('bank', {
      name: 'Bank',
      role: 'intermediary',
      apiKeySha256: apiKeyDigest(bankKey),
    });
    const dcpId = (
      await operator.createParticipant('dcp', {
        name: 'DCP',
        role: 'dcp',
        apiKeySha256: apiKeyDigest(dcpKey),
      })
    ).value.id;
    const dcp = client(dcpKey);
    const bankAccount = (
      await operator.createAccount('bank-account', { kind: 'intermediary', ownerId: bank.value.id })
    ).value.id;
    const pool = (await dcp.createAccount('pool', { kind: 'dcpPool', ownerId: dcpId })).value.id;
    const wallet = (await dcp.createAccount('wallet', { kind: 'wallet', ownerId: dcpId })).value.id;
    await operator.issue('issue', { accountId: bankAccount, amount: 1_000_000n });
    await client(bankKey).pay('fund-pool', {
      payerAccountId: bankAccount,
      payeeAccountId: pool,
      amount: 100_000n,
    });

    const acknowledged = new Map<string, bigint>();
    let next = 0;
    const lane = async () => {
      while (next < paymentsTotal) {
        const index = next++;
        const amount = BigInt(1 + (index % 7));
        const paid = await dcp.pay(`crash-${index}`, {
          payerAccountId: pool,
          payeeAccountId: wallet,
          amount,
        });
        assert.equal(paid.value.amount, amount);
        assert.ok(!acknowledged.has(paid.value.id), 'each key gets its own payment');
        acknowledged.set(paid.value.id, amount);
      }
    };
    // Kill points: random numbers of acknowledged payments, so every kill lands mid-stream.
    const killPoints = Array.from(
      { length: kills },
      () => 10 + Math.floor(Math.random() * (paymentsTotal - 40)),
    ).sort((a, b) => a - b);
    const killedAt: number[] = [];
    const killer = async () => {
      for (const point of killPoints) {
        while (acknowledged.size < point) await sleep(1);
        killedAt.push(acknowledged.size);
        await kill(ledger, 'SIGKILL');
        await sleep(Math.random() * 50);
        ledger = await startLedger(scratch.url, port, operatorKey);
      }
    };
    await Promise.all([...Array.from({ length: lanes }, lane), killer()]);
    assert.equal(acknowledged.size, paymentsTotal);
    assert.equal(killedAt.length, kills);
    assert.ok(
      killedAt.every((count) => count < paymentsTotal),
      `killed at ${killedAt.join(', ')}`,
    );
    assert.ok(next >= paymentsTotal);

    const entries = [];
    for (let after = '0' as string | null; after !== null;) {
      const page = await dcp.statement(wallet, { after, limit: 200 });
      entries.push(...page.entries);
      after = page.next;
    }
    assert.equal(entries.length, paymentsTotal, 'no payment lost, none doubled');
    const paymentIds = new Set(entries.map((entry) => entry.paymentId));
    assert.equal(paymentIds.size, paymentsTotal);
    for (const entry of entries) assert.equal(acknowledged.get(entry.paymentId), entry.amount);
    const moved = [...acknowledged.values()].reduce((sum, amount) => sum + amount, 0n);
    const balances = await Promise.all(
      ['issuance', bankAccount, pool, wallet].map((id) => operator.account(id)),
    );
    assert.deepEqual(
      balances.map((account) => account.balance),
      [-1_000_000n, 900_000n, 100_000n - moved, moved],
    );
    assert.equal(
      balances.reduce((sum, account) => sum + account.balance, 0n),
      0n,
    );
  });

  test('SIGTERM stops the ledger cleanly with exit code 0', async () => {
    assert.equal(await kill(ledger, 'SIGTERM'), 0);
  });

  test('cbdc migrate reports an up-to-date schema; an unknown service is refused', () => {
    const migrated = spawnSync(process.execPath, ['bin/cbdc.mjs', 'migrate', 'ledger', '--db', scratch.url], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(migrated.status, 0, migrated.stderr);
    assert.match(migrated.stdout, /ledger: nothing to apply; schema at version 4/);
    const unknown = spawnSync(process.execPath, ['bin/cbdc.mjs', 'migrate', 'nothing'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /unknown service nothing/);
  });
});
