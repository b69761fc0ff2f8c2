// Payments and captures decided on a view and posted after it (sql-store.ts `decideAndPost`): on
// PostgreSQL the view is read without locks, so concurrent requests decide on the same balance and
// the post must re-check it. These tests race them through the HTTP boundary on both engines.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines } from '../../testing/scratch.ts';
import {
  balanceOf,
  buildWorld,
  call,
  errorCode,
  freshKey,
  ledgerFixture,
  type LedgerFixture,
  type World,
} from '../../testing/ledger.ts';

/** Requests raced at once: more than a PostgreSQL pool's connections, so some queue. */
const racersCount = 12;

for (const engine of engines) {
  describe(`concurrent payments on ${engine}`, () => {
    let fixture: LedgerFixture;
    let world: World;

    before(async () => {
      fixture = await ledgerFixture(engine);
      world = await buildWorld(fixture.app, fixture.operatorKey);
      const issued = await call(fixture.app, world.operatorKey, 'POST', '/v1/issuances', {
        key: freshKey(),
        body: { accountId: world.bankAccount, amount: '10000' },
      });
      const funded = await call(fixture.app, world.bankKey, 'POST', '/v1/payments', {
        key: freshKey(),
        body: { payerAccountId: world.bankAccount, payeeAccountId: world.poolAccount, amount: '5000' },
      });
      assert.deepEqual([issued.status, funded.status], [201, 201]);
    });
    after(() => fixture.close());

    const pay = (payer: string, payee: string, amount: string, key = freshKey()) =>
      call(fixture.app, world.dcpKey, 'POST', '/v1/payments', {
        key,
        body: { payerAccountId: payer, payeeAccountId: payee, amount },
      });

    test('racing payments that together overdraw: as many pass as the balance covers, the rest are refused', async () => {
      assert.equal((await pay(world.poolAccount, world.walletAccount, '1000')).status, 201);
      const results = await Promise.all(
        Array.from({ length: racersCount }, () => pay(world.walletAccount, world.poolAccount, '300')),
      );
      assert.deepEqual(results.map((result) => result.status).sort(), [
        201,
        201,
        201,
        ...Array<number>(racersCount - 3).fill(409),
      ]);
      assert.ok(
        results
          .filter((result) => result.status === 409)
          .every((result) => errorCode(result) === 'insufficientBalance'),
      );
      assert.equal(await balanceOf(fixture.app, fixture.operatorKey, world.walletAccount), 100n);
      const statement = await call(
        fixture.app,
        world.dcpKey,
        'GET',
        `/v1/accounts/${world.walletAccount}/statement?after=0&limit=10`,
      );
      const entries = statement.body['entries'] as { sequence: number; balanceAfter: string }[];
      assert.deepEqual(
        entries.map((entry) => [entry.sequence, entry.balanceAfter]),
        [
          [1, '1000'],
          [2, '700'],
          [3, '400'],
          [4, '100'],
        ],
      );
    });

    test('racing replays of one key make one payment and all answer it', async () => {
      const key = freshKey();
      const before = await balanceOf(fixture.app, fixture.operatorKey, world.poolAccount);
      const results = await Promise.all(
        Array.from({ length: racersCount }, () => pay(world.poolAccount, world.otherWalletAccount, '7', key)),
      );
      assert.deepEqual(new Set(results.map((result) => result.status)), new Set([201]));
      const ids = new Set(results.map((result) => (result.body['payment'] as { id: string }).id));
      assert.equal(ids.size, 1);
      assert.equal(results.filter((result) => result.replayed).length, racersCount - 1);
      assert.equal(await balanceOf(fixture.app, fixture.operatorKey, world.poolAccount), before - 7n);
    });

    test('a hold raced by payments of its payer: the capture and the payments never overdraw', async () => {
      assert.equal((await pay(world.poolAccount, world.walletAccount, '900')).status, 201);
      const placed = await call(fixture.app, world.dcpKey, 'POST', '/v1/holds', {
        key: freshKey(),
        body: {
          payerAccountId: world.walletAccount,
          payeeAccountId: world.poolAccount,
          amount: '600',
          expiresInSeconds: 60,
        },
      });
      assert.equal(placed.status, 201);
      const holdId = (placed.body['hold'] as { id: string }).id;
      const capture = () => call(fixture.app, world.dcpKey, 'POST', `/v1/holds/${holdId}/capture`);
      const results = await Promise.all([
        capture(),
        ...Array.from({ length: racersCount }, () => pay(world.walletAccount, world.poolAccount, '100')),
        capture(),
      ]);
      const [firstCapture, ...rest] = results;
      const secondCapture = rest.pop();
      assert.equal(firstCapture?.status, 200);
      assert.deepEqual(secondCapture?.body, firstCapture?.body);
      // 1,000 on the wallet, 600 of it held: four payments of 100 pass, whatever the order.
      assert.equal(rest.filter((result) => result.status === 201).length, 4);
      assert.equal(await balanceOf(fixture.app, fixture.operatorKey, world.walletAccount), 0n);
    });
  });
}
