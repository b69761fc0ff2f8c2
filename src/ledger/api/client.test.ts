// The gateway against the real ledger (the fastify app listening on loopback): idempotent calls,
// typed refusals, bounded retries with backoff (injected sleep), timeouts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isCbdcError } from '../../core/errors.ts';
import { apiKeyDigest } from '../http/auth.ts';
import { ledgerFixture, newApiKey, type LedgerFixture } from '../../testing/ledger.ts';
import { LedgerClient, LedgerRefusal } from './client.ts';

describe('ledger gateway', () => {
  let fixture: LedgerFixture;
  let baseUrl: string;
  let operator: LedgerClient;
  let dcp: LedgerClient;
  let dcpKey: string;
  let pool: string;
  let wallet: string;
  const sleeps: number[] = [];
  const client = (apiKey: string, extra: Partial<ConstructorParameters<typeof LedgerClient>[0]> = {}) =>
    new LedgerClient({
      baseUrl,
      apiKey,
      timeoutMs: 2_000,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      random: () => 0.5,
      ...extra,
    });

  before(async () => {
    fixture = await ledgerFixture('sqlite');
    baseUrl = await fixture.app.listen({ host: '127.0.0.1', port: 0 });
    operator = client(fixture.operatorKey);
    const bankKey = newApiKey();
    dcpKey = newApiKey();
    const bank = await operator.createParticipant('p-bank', {
      name: 'Bank',
      role: 'intermediary',
      apiKeySha256: apiKeyDigest(bankKey),
    });
    const dcpParticipant = await operator.createParticipant('p-dcp', {
      name: 'DCP',
      role: 'dcp',
      apiKeySha256: apiKeyDigest(dcpKey),
    });
    dcp = client(dcpKey);
    const bankAccount = (
      await operator.createAccount('a-bank', { kind: 'intermediary', ownerId: bank.value.id })
    ).value.id;
    pool = (await dcp.createAccount('a-pool', { kind: 'dcpPool', ownerId: dcpParticipant.value.id })).value
      .id;
    wallet = (await dcp.createAccount('a-wallet', { kind: 'wallet', ownerId: dcpParticipant.value.id })).value
      .id;
    await operator.issue('i-1', { accountId: bankAccount, amount: 50_000n });
    await client(bankKey).pay('b-1', { payerAccountId: bankAccount, payeeAccountId: pool, amount: 10_000n });
  });
  after(() => fixture.close());

  test('a repeated call with the same key is answered by the first payment', async () => {
    const first = await dcp.pay('load-1', {
      payerAccountId: pool,
      payeeAccountId: wallet,
      amount: 700n,
      reference: 'load',
    });
    const again = await dcp.pay('load-1', {
      payerAccountId: pool,
      payeeAccountId: wallet,
      amount: 700n,
      reference: 'load',
    });
    assert.equal(first.replayed, false);
    assert.equal(again.replayed, true);
    assert.deepEqual(again.value, first.value);
    assert.equal(first.value.amount, 700n);
    assert.deepEqual(await dcp.payment(first.value.id), first.value);
    assert.equal((await dcp.account(wallet)).balance, 700n);
    const page = await dcp.statement(wallet, { limit: 10 });
    assert.deepEqual(
      page.entries.map((entry) => [entry.direction, entry.amount, entry.balanceAfter]),
      [['credit', 700n, 700n]],
    );
  });

  test('refusals are typed errors with the ledger code, and are not retried', async () => {
    sleeps.length = 0;
    await assert.rejects(
      dcp.pay('too-much', { payerAccountId: wallet, payeeAccountId: pool, amount: 1_000_000n }),
      (error: unknown) =>
        error instanceof LedgerRefusal && error.code === 'insufficientBalance' && error.status === 409,
    );
    await assert.rejects(
      dcp.pay('load-1', { payerAccountId: pool, payeeAccountId: wallet, amount: 701n }),
      (error: unknown) =>
        error instanceof LedgerRefusal && error.code === 'idempotencyKeyReusedWithDifferentRequest',
    );
    await assert.rejects(
      dcp.account('acc_unknown'),
      (error: unknown) => isCbdcError(error) && error.code === 'accountNotFound',
    );
    assert.deepEqual(sleeps, []);
  });

  test('holds: place, capture twice (same answer), release refused after capture', async () => {
    const hold = await dcp.placeHold('unload-1', {
      payerAccountId: wallet,
      payeeAccountId: pool,
      amount: 200n,
      expiresInSeconds: 60,
    });
    assert.equal(hold.value.status, 'held');
    assert.equal((await dcp.account(wallet)).available, 500n);
    const captured = await dcp.captureHold(hold.value.id);
    const again = await dcp.captureHold(hold.value.id);
    assert.deepEqual(again.value, captured.value);
    assert.equal(again.replayed, true);
    assert.equal(captured.value.payment.amount, 200n);
    await assert.rejects(
      dcp.releaseHold(hold.value.id),
      (error: unknown) => isCbdcError(error) && error.code === 'holdAlreadyCaptured',
    );
    const other = await dcp.placeHold('unload-2', {
      payerAccountId: wallet,
      payeeAccountId: pool,
      amount: 100n,
      expiresInSeconds: 60,
    });
    assert.equal((await dcp.releaseHold(other.value.id)).value.status, 'released');
    assert.equal((await dcp.hold(other.value.id)).status, 'released');
  });

  test('lost answers and 5xx are retried with exponential backoff, then the payment exists once', async () => {
    sleeps.length = 0;
    let calls = 0;
    // The first attempt reaches the ledger but its answer is lost; the second meets a 503.
    const flaky: typeof fetch = async (input, init) => {
      calls++;
      if (calls === 1) {
        await fetch(input, init);
        throw new TypeError('fetch failed: socket hang up');
      }
      if (calls === 2) return new Response('{}', { status: 503 });
      return fetch(input, init);
    };
    const retrying = client(dcpKey, { fetch: flaky, backoffMs: 100 });
    const paid = await retrying.pay('flaky-1', { payerAccountId: pool, payeeAccountId: wallet, amount: 5n });
    assert.equal(calls, 3);
    assert.equal(paid.replayed, true);
    assert.deepEqual(sleeps, [75, 150]);
    const entries = (await dcp.statement(wallet, { limit: 200 })).entries.filter(
      (entry) => entry.paymentId === paid.value.id,
    );
    assert.equal(entries.length, 1);
  });

  test('a ledger that never answers fails after attemptsMax attempts with ledgerUnavailable', async () => {
    sleeps.length = 0;
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => {
          reject(new DOMException('timed out', 'TimeoutError'));
        });
      });
    const patient = client(dcpKey, { fetch: hanging, timeoutMs: 20, attemptsMax: 3, backoffMs: 10 });
    await assert.rejects(
      patient.account(wallet),
      (error: unknown) => isCbdcError(error) && error.code === 'ledgerUnavailable',
    );
    assert.deepEqual(sleeps, [8, 15]);
    const refused = client(dcpKey, { baseUrl: 'http://127.0.0.1:1', attemptsMax: 2 });
    await assert.rejects(
      refused.whoAmI(),
      (error: unknown) => isCbdcError(error) && error.code === 'ledgerUnavailable',
    );
  });

  test('an answer that does not decode is ledgerAnswerInvalid, naming the field', async () => {
    const liar: typeof fetch = () =>
      Promise.resolve(
        new Response(JSON.stringify({ account: { id: 'a', kind: 'wallet', ownerId: null, balance: 5 } }), {
          status: 200,
        }),
      );
    await assert.rejects(
      client(dcpKey, { fetch: liar }).account(wallet),
      (error: unknown) =>
        isCbdcError(error) && error.code === 'ledgerAnswerInvalid' && /account\.balance/.test(error.message),
    );
  });
});
