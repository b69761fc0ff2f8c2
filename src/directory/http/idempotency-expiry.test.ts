// Idempotency keys expire on the directory too (issue 8, item 10): an answer replays for the
// retention (7 days by default), then the key is refused with idempotencyKeyExpired and nothing is
// created again; the process drops expired answers and keeps a tombstone of the key.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { idempotencyRetentionMsDefault } from '../../storage/idempotency.ts';
import { engines } from '../../testing/scratch.ts';
import {
  call,
  directoryFixture,
  errorCode,
  freshKey,
  type DirectoryFixture,
} from '../../testing/directory.ts';

for (const engine of engines) {
  describe(`directory idempotency expiry on ${engine}`, () => {
    let fixture: DirectoryFixture;
    before(async () => {
      fixture = await directoryFixture(engine);
    });
    after(() => fixture.close());

    const participants = async () => (await fixture.db.all('SELECT id FROM directory_participants')).length;

    test('a creation replays for 7 days, then is idempotencyKeyExpired forever; nothing is created twice', async () => {
      const key = freshKey();
      const create = () =>
        call(fixture.app, fixture.operatorKey, 'POST', '/v1/participants', {
          key,
          body: { name: 'MDS two', role: 'mds' },
        });
      const first = await create();
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const count = await participants();
      fixture.clock.advance(idempotencyRetentionMsDefault - 1);
      const replay = await create();
      assert.deepEqual([replay.status, replay.replayed, replay.body], [201, true, first.body]);
      assert.equal(await fixture.expireIdempotencyAnswers(), 0, 'nothing has expired yet');
      fixture.clock.advance(1);
      const late = await create();
      assert.deepEqual([late.status, errorCode(late)], [409, 'idempotencyKeyExpired']);
      assert.ok((await fixture.expireIdempotencyAnswers()) >= 1);
      const rows = await fixture.db.all(
        'SELECT fingerprint, result FROM directory_idempotency WHERE idempotency_key = ?',
        [key],
      );
      assert.deepEqual(
        rows.map((row) => [row['fingerprint'], row['result']]),
        [['', null]],
      );
      fixture.clock.advance(365 * 24 * 3600 * 1000);
      assert.equal(errorCode(await create()), 'idempotencyKeyExpired');
      assert.equal(await participants(), count);
    });
  });
}
