// Settlement between DCP pools on the ledger (docs/ledger.md, "Settlement"), on both engines, through
// `inject`: the `settlement` role reads pools and pays pool to pool only, as payments of kind
// `settlement` that each pool's `settled` figure sums; every other move of the role is refused and
// changes nothing. And migration 3, which widens two CHECKs, keeps the rows of a ledger in use.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, createScratchDatabase } from '../../testing/scratch.ts';
import {
  balanceOf,
  buildWorld,
  call,
  errorCode,
  freshKey,
  ledgerFixture,
  newApiKey,
  type LedgerFixture,
  type World,
} from '../../testing/ledger.ts';
import { apiKeyDigest } from './auth.ts';
import { openDatabase } from '../../storage/open.ts';
import { migrate } from '../../storage/migrations.ts';
import { ledgerMigrations } from '../store/migrations.ts';

for (const engine of engines) {
  describe(`ledger settlement on ${engine}`, () => {
    let fixture: LedgerFixture;
    let world: World;
    let settlementKey: string;
    let otherPool: string;

    const account = async (accountId: string) =>
      (await call(fixture.app, fixture.operatorKey, 'GET', `/v1/accounts/${accountId}`)).body['account'] as {
        balance: string;
        settled: string;
      };

    before(async () => {
      fixture = await ledgerFixture(engine);
      world = await buildWorld(fixture.app, fixture.operatorKey);
      settlementKey = newApiKey();
      const created = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/participants', {
        key: freshKey(),
        body: { name: 'MDS settlement', role: 'settlement', apiKeySha256: apiKeyDigest(settlementKey) },
      });
      assert.equal(created.status, 201);
      const pool = await call(fixture.app, world.otherDcpKey, 'POST', '/v1/accounts', {
        key: freshKey(),
        body: {
          kind: 'dcpPool',
          ownerId: (
            (await call(fixture.app, world.otherDcpKey, 'GET', '/v1/participants/me')).body[
              'participant'
            ] as { id: string }
          ).id,
        },
      });
      otherPool = (pool.body['account'] as { id: string }).id;
      await call(fixture.app, fixture.operatorKey, 'POST', '/v1/issuances', {
        key: freshKey(),
        body: { accountId: world.bankAccount, amount: '10000' },
      });
      await call(fixture.app, world.bankKey, 'POST', '/v1/payments', {
        key: freshKey(),
        body: { payerAccountId: world.bankAccount, payeeAccountId: world.poolAccount, amount: '5000' },
      });
    });
    after(() => fixture.close());

    test('the settlement role pays pool to pool as a settlement, once per key, and reads pools', async () => {
      const key = `settlement-p1-${freshKey()}`;
      const body = {
        payerAccountId: world.poolAccount,
        payeeAccountId: otherPool,
        amount: '700',
        reference: 'p1',
      };
      const first = await call(fixture.app, settlementKey, 'POST', '/v1/payments', { key, body });
      const again = await call(fixture.app, settlementKey, 'POST', '/v1/payments', { key, body });
      assert.equal(first.status, 201);
      assert.equal((first.body['payment'] as { kind: string }).kind, 'settlement');
      assert.deepEqual(again.body, first.body);
      assert.equal(again.replayed, true);
      const read = await call(fixture.app, settlementKey, 'GET', `/v1/accounts/${otherPool}`);
      assert.equal(read.status, 200);
      assert.deepEqual(
        [await account(world.poolAccount), await account(otherPool)].map((a) => [a.balance, a.settled]),
        [
          ['4300', '-700'],
          ['700', '700'],
        ],
      );
      // An ordinary payment between the same pools is no settlement.
      const paid = await call(fixture.app, world.dcpKey, 'POST', '/v1/payments', {
        key: freshKey(),
        body: { payerAccountId: world.poolAccount, payeeAccountId: otherPool, amount: '100' },
      });
      assert.equal((paid.body['payment'] as { kind: string }).kind, 'payment');
      assert.deepEqual((await account(otherPool)).settled, '700');
    });

    test('the settlement role moves nothing but pool to pool, and reads only pools', async () => {
      const before = await Promise.all(
        [world.poolAccount, otherPool, world.walletAccount, world.bankAccount].map((id) =>
          balanceOf(fixture.app, fixture.operatorKey, id),
        ),
      );
      const refused = [
        [
          'POST',
          '/v1/payments',
          { payerAccountId: world.poolAccount, payeeAccountId: world.walletAccount, amount: '1' },
          'settlementMustJoinPools',
        ],
        [
          'POST',
          '/v1/payments',
          { payerAccountId: world.bankAccount, payeeAccountId: otherPool, amount: '1' },
          'settlementMustJoinPools',
        ],
        [
          'POST',
          '/v1/holds',
          { payerAccountId: world.poolAccount, payeeAccountId: otherPool, amount: '1', expiresInSeconds: 60 },
          'roleNotAllowed',
        ],
        ['POST', '/v1/issuances', { accountId: world.bankAccount, amount: '1' }, 'roleNotAllowed'],
        ['GET', `/v1/accounts/${world.walletAccount}`, undefined, 'notAccountOwner'],
      ] as const;
      for (const [method, path, body, code] of refused) {
        const answer = await call(fixture.app, settlementKey, method, path, {
          key: freshKey(),
          ...(body === undefined ? {} : { body }),
        });
        assert.equal(errorCode(answer), code, `${method} ${path}`);
      }
      const after = await Promise.all(
        [world.poolAccount, otherPool, world.walletAccount, world.bankAccount].map((id) =>
          balanceOf(fixture.app, fixture.operatorKey, id),
        ),
      );
      assert.deepEqual(after, before);
    });
  });

  test(`migration 3 keeps a ledger's rows and foreign keys (${engine})`, async () => {
    const scratch = await createScratchDatabase(engine);
    const db = openDatabase(scratch.url);
    try {
      await migrate(db, { service: 'ledger', migrations: ledgerMigrations.migrations.slice(0, 2) }, 0);
      await db.run(
        "INSERT INTO ledger_participants (id, name, role, api_key_sha256, created_at_ms) VALUES ('p1', 'DCP', 'dcp', 'k1', 0)",
      );
      await db.run(
        "INSERT INTO ledger_accounts (id, kind, owner_id, balance, entry_count, created_at_ms) VALUES ('a1', 'dcpPool', 'p1', 5, 1, 0)",
      );
      await db.run(
        "INSERT INTO ledger_payments (id, kind, payer_account_id, payee_account_id, amount, created_at_ms) VALUES ('pay1', 'issuance', 'issuance', 'a1', 5, 0)",
      );
      await db.run(
        "INSERT INTO ledger_entries (account_id, sequence, payment_id, kind, direction, amount, balance_after, created_at_ms) VALUES ('a1', 1, 'pay1', 'issuance', 'credit', 5, 5, 0)",
      );
      const outcome = await migrate(
        db,
        { service: 'ledger', migrations: ledgerMigrations.migrations.slice(0, 3) },
        0,
      );
      assert.deepEqual(outcome.applied, ['3 settlement role and settlement payments between DCP pools']);
      assert.deepEqual(
        (await db.all('SELECT id, role FROM ledger_participants')).map((row) => [row['id'], row['role']]),
        [['p1', 'dcp']],
      );
      assert.equal((await db.all("SELECT id FROM ledger_payments WHERE id = 'pay1'")).length, 1);
      await db.run(
        "INSERT INTO ledger_participants (id, name, role, api_key_sha256, created_at_ms) VALUES ('p2', 'MDS', 'settlement', 'k2', 0)",
      );
      await assert.rejects(
        db.run(
          "INSERT INTO ledger_participants (id, name, role, api_key_sha256, created_at_ms) VALUES ('p3', 'X', 'auditor', 'k3', 0)",
        ),
      );
      await assert.rejects(
        db.run(
          "INSERT INTO ledger_accounts (id, kind, owner_id, balance, entry_count, created_at_ms) VALUES ('a2', 'wallet', 'nobody', 0, 0, 0)",
        ),
        'the accounts still refer to the participants',
      );
    } finally {
      await db.close();
      await scratch.drop();
    }
  });
}
