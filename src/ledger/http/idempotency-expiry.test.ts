// Idempotency keys expire (issue 8, item 10): an answer replays for the retention (7 days by
// default), then the key is refused with idempotencyKeyExpired; the process drops expired answers
// but keeps a tombstone, so a replay, however late, never moves money a second time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { idempotencyRetentionMsDefault } from '../../storage/idempotency.ts';
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

for (const engine of engines) {
  describe(`ledger idempotency expiry on ${engine}`, () => {
    let fixture: LedgerFixture;
    let world: World;
    before(async () => {
      fixture = await ledgerFixture(engine);
      world = await buildWorld(fixture.app, fixture.operatorKey);
      const issued = await call(fixture.app, world.operatorKey, 'POST', '/v1/issuances', {
        key: freshKey(),
        body: { accountId: world.bankAccount, amount: '1000000' },
      });
      assert.equal(issued.status, 201);
    });
    after(() => fixture.close());

    const watched = () =>
      Promise.all(
        [world.bankAccount, world.poolAccount, 'issuance'].map((id) =>
          balanceOf(fixture.app, world.operatorKey, id),
        ),
      );
    const pay = (key: string, amount = '100') =>
      call(fixture.app, world.bankKey, 'POST', '/v1/payments', {
        key,
        body: { payerAccountId: world.bankAccount, payeeAccountId: world.poolAccount, amount },
      });
    const answerOf = async (key: string) => {
      const rows = await fixture.db.all(
        'SELECT fingerprint, result FROM ledger_idempotency WHERE idempotency_key = ?',
        [key],
      );
      assert.equal(rows.length, 1, 'the key is never forgotten');
      return { fingerprint: rows[0]!['fingerprint'], hasAnswer: rows[0]!['result'] !== null };
    };

    test('a payment replays for 7 days; then its key is idempotencyKeyExpired and nothing moves', async () => {
      const key = freshKey();
      const first = await pay(key);
      assert.equal(first.status, 201);
      const paid = await watched();
      fixture.clock.advance(idempotencyRetentionMsDefault - 1);
      const replay = await pay(key);
      assert.deepEqual([replay.status, replay.replayed, replay.body], [201, true, first.body]);
      fixture.clock.advance(1);
      for (const late of [await pay(key), await pay(key, '999')]) {
        assert.equal(errorCode(late), 'idempotencyKeyExpired', JSON.stringify(late.body));
        assert.equal(late.status, 409);
      }
      assert.deepEqual(await watched(), paid);
    });

    test('expired answers are dropped in bounded batches; the tombstone refuses replays forever', async () => {
      const keys = [freshKey(), freshKey()];
      for (const key of keys) assert.equal((await pay(key)).status, 201);
      fixture.clock.advance(idempotencyRetentionMsDefault);
      const young = freshKey();
      assert.equal((await pay(young)).status, 201);
      const paid = await watched();
      let dropped = 0;
      for (let run = 0; run < 10; run++) dropped += await fixture.expireIdempotencyAnswers();
      assert.ok(dropped >= keys.length, `dropped ${dropped}`);
      for (const key of keys) assert.deepEqual(await answerOf(key), { fingerprint: '', hasAnswer: false });
      assert.equal((await answerOf(young)).hasAnswer, true, 'a young answer is kept');
      assert.equal((await pay(young)).replayed, true);
      fixture.clock.advance(10 * 365 * 24 * 3600 * 1000);
      for (const key of keys) {
        const late = await pay(key);
        assert.deepEqual([late.status, errorCode(late)], [409, 'idempotencyKeyExpired']);
      }
      const hold = await call(fixture.app, world.bankKey, 'POST', '/v1/holds', {
        key: keys[0]!,
        body: {
          payerAccountId: world.bankAccount,
          payeeAccountId: world.poolAccount,
          amount: '5',
          expiresInSeconds: 60,
        },
      });
      assert.deepEqual([hold.status, errorCode(hold)], [409, 'idempotencyKeyExpired']);
      assert.deepEqual(await watched(), paid);
    });

    test('the retention is configurable', async () => {
      const short = await ledgerFixture(engine, { idempotencyRetentionMs: 60_000 });
      try {
        const key = freshKey();
        const create = () =>
          call(short.app, short.operatorKey, 'POST', '/v1/participants', {
            key,
            body: { name: 'Bank', role: 'intermediary', apiKeySha256: 'a'.repeat(64) },
          });
        const first = await create();
        assert.equal(first.status, 201, JSON.stringify(first.body));
        short.clock.advance(59_999);
        assert.equal((await create()).replayed, true);
        assert.equal(await short.expireIdempotencyAnswers(), 0, 'not yet expired');
        short.clock.advance(1);
        assert.equal(errorCode(await create()), 'idempotencyKeyExpired');
        assert.equal(await short.expireIdempotencyAnswers(), 1);
        assert.equal(errorCode(await create()), 'idempotencyKeyExpired');
      } finally {
        await short.close();
      }
    });
  });
}
