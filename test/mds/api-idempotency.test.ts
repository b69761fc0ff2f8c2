// Idempotency keys of the MDS past their retention, on both engines: a replay of an upload or a
// report under an expired key is refused before the enclave is asked, expiry turns answers into
// tombstones that are still refused, and a fresh key does the work again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DirectoryClient } from '../../src/directory/api/client.ts';
import { DirectoryRevocations } from '../../src/mds/adapters/directory.ts';
import {
  call,
  errorCode,
  freshKey,
  mdsFixture,
  postedUpload,
  type MdsFixture,
} from '../../src/testing/mds.ts';
import { engines } from '../../src/testing/scratch.ts';
import { freePort } from '../../src/testing/service-process.ts';

const retentionMs = 60_000;

for (const engine of engines) {
  describe(`MDS idempotency expiry on ${engine}`, () => {
    let fixture: MdsFixture;

    before(async () => {
      const revocations = new DirectoryRevocations(
        new DirectoryClient({
          baseUrl: `http://127.0.0.1:${await freePort()}`,
          apiKey: 'x'.repeat(32),
          attemptsMax: 1,
        }),
      );
      fixture = await mdsFixture(engine, { revocations, idempotencyRetentionMs: retentionMs });
    });
    after(() => fixture.close());

    test('an expired key is refused for uploads and reports, before and after its tombstone, never reaching the enclave', async () => {
      const posted = postedUpload();
      const uploadKey = freshKey();
      const reportKey = freshKey();
      const upload = (key: string) =>
        call(fixture.app, fixture.keys.dcpA, 'POST', '/v1/uploads', {
          key,
          body: { claim: posted.claim, sealed: posted.sealed },
        });
      const report = (key: string) =>
        call(fixture.app, fixture.keys.dcpA, 'POST', '/v1/reports', {
          key,
          body: { issuances: ['abcd'], retirements: [] },
        });
      assert.equal((await upload(uploadKey)).status, 202);
      assert.equal((await report(reportKey)).status, 200);
      fixture.clock.advance(retentionMs);
      const calls = fixture.enclave.calls.length;
      for (const result of [await upload(uploadKey), await report(reportKey)]) {
        assert.deepEqual([result.status, errorCode(result)], [409, 'idempotencyKeyExpired']);
      }
      assert.equal(
        await fixture.service.expireIdempotencyAnswers(),
        2 + 5,
        'two answers and the fixture participants',
      );
      for (const result of [await upload(uploadKey), await report(reportKey)]) {
        assert.deepEqual([result.status, errorCode(result)], [409, 'idempotencyKeyExpired']);
      }
      assert.equal(fixture.enclave.calls.length, calls);
      const fresh = await upload(freshKey());
      assert.deepEqual([fresh.status, fresh.replayed], [202, false]);
    });
  });
}
