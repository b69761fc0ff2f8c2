// The MDS API process's ingest routes (uploads, reports) through `inject`, on both engines, against a
// double of the enclave interface: a table of bad input (malformed hex, oversized fields, unknown
// digests, replays, reused keys, wrong roles) with its exact code and nothing reaching the enclave,
// idempotency, and an enclave that does not answer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { claimBytesMax, sealedUploadBytesMax } from '../../src/mds/domain/limits.ts';
import { engines } from '../../src/testing/scratch.ts';
import {
  call,
  errorCode,
  freshKey,
  mdsFixture,
  postedUpload,
  type CallResult,
  type MdsFixture,
  unreachableRevocations,
} from '../../src/testing/mds.ts';

const manual = {
  doubleSpend: 'manual',
  counterReuse: 'manual',
  fakeFunding: 'manual',
  unknownSigner: 'manual',
  revokedSigner: 'manual',
} as const;
const seId = 'ab'.repeat(16);
const hexOf = (bytes: number) => '00'.repeat(bytes);

for (const engine of engines) {
  describe(`MDS API ingest on ${engine}`, () => {
    let fixture: MdsFixture;
    const upload = (apiKey: string, body: unknown, key = freshKey()) =>
      call(fixture.app, apiKey, 'POST', '/v1/uploads', { key, body });
    const get = (apiKey: string | null, url: string) => call(fixture.app, apiKey, 'GET', url);
    const expectRefusal = (result: CallResult, status: number, code: string) => {
      assert.equal(errorCode(result), code, JSON.stringify(result.body));
      assert.equal(result.status, status);
    };

    before(async () => {
      // A directory that is not listening: confirmations in this file stay `confirmed`.
      fixture = await mdsFixture(engine, { revocations: await unreachableRevocations(), policy: manual });
    });
    after(() => fixture.close());

    test('a DCP posts an upload: 202 stored, a replay is marked, the same pair under a new key answers the same', async () => {
      const posted = postedUpload();
      const key = freshKey();
      const first = await upload(fixture.keys.dcpA, { claim: posted.claim, sealed: posted.sealed }, key);
      assert.equal(first.status, 202, JSON.stringify(first.body));
      assert.deepEqual(first.body, { digest: posted.digest, state: 'stored' });
      const calls = fixture.enclave.calls.length;
      const replay = await upload(fixture.keys.dcpA, { claim: posted.claim, sealed: posted.sealed }, key);
      assert.deepEqual([replay.status, replay.replayed, replay.body], [202, true, first.body]);
      assert.equal(fixture.enclave.calls.length, calls, 'a replay never reaches the enclave');
      fixture.enclave.setUploadState(posted.digest, { state: 'refused', refusal: 'uploadUnsealable' });
      const again = await upload(fixture.keys.dcpA, { claim: posted.claim, sealed: posted.sealed });
      assert.deepEqual(
        [again.status, again.replayed, again.body],
        [202, false, { digest: posted.digest, state: 'refused' }],
      );
      const status = await get(fixture.keys.dcpA, `/v1/uploads/${posted.digest}`);
      assert.deepEqual(
        [status.status, status.body],
        [200, { digest: posted.digest, state: 'refused', refusal: 'uploadUnsealable' }],
      );
      // Bank B never posted it: for B it does not exist.
      expectRefusal(await get(fixture.keys.dcpB, `/v1/uploads/${posted.digest}`), 404, 'uploadUnknown');
      expectRefusal(await get(fixture.keys.dcpA, `/v1/uploads/${'cd'.repeat(32)}`), 404, 'uploadUnknown');
      // Another DCP posting the same sealed bytes: the enclave's conflict passes through.
      expectRefusal(
        await upload(fixture.keys.dcpB, { claim: posted.claim, sealed: posted.sealed }),
        409,
        'uploadConflict',
      );
    });

    test('bad uploads are refused with their code, nothing reaches the enclave', async () => {
      const good = postedUpload();
      const other = postedUpload();
      const cases: readonly (readonly [string, unknown, number, string])[] = [
        ['sealed not hex', { claim: good.claim, sealed: 'zz' }, 400, 'requestInvalid'],
        ['sealed odd length', { claim: good.claim, sealed: 'abc' }, 400, 'requestInvalid'],
        ['sealed uppercase', { claim: good.claim, sealed: good.sealed.toUpperCase() }, 400, 'requestInvalid'],
        ['sealed empty', { claim: good.claim, sealed: '' }, 400, 'requestInvalid'],
        ['claim not hex', { claim: 'xy', sealed: good.sealed }, 400, 'uploadClaimInvalid'],
        ['claim not a claim', { claim: 'a0', sealed: good.sealed }, 400, 'uploadClaimInvalid'],
        ['claim of another upload', { claim: other.claim, sealed: good.sealed }, 400, 'uploadClaimInvalid'],
        [
          'claim too long',
          { claim: hexOf(claimBytesMax + 1), sealed: good.sealed },
          400,
          'uploadBytesLimitExceeded',
        ],
        [
          'sealed too long',
          { claim: good.claim, sealed: hexOf(sealedUploadBytesMax + 1) },
          400,
          'uploadBytesLimitExceeded',
        ],
        ['an extra field', { claim: good.claim, sealed: good.sealed, note: 1 }, 400, 'requestInvalid'],
        ['claim missing', { sealed: good.sealed }, 400, 'requestInvalid'],
      ];
      const calls = fixture.enclave.calls.length;
      for (const [label, body, status, code] of cases) {
        const result = await upload(fixture.keys.dcpA, body);
        assert.equal(errorCode(result), code, `${label}: ${JSON.stringify(result.body)}`);
        assert.equal(result.status, status, label);
      }
      expectRefusal(
        await call(fixture.app, fixture.keys.dcpA, 'POST', '/v1/uploads', {
          body: { claim: good.claim, sealed: good.sealed },
        }),
        400,
        'requestInvalid',
      );
      assert.equal(fixture.enclave.calls.length, calls);
      assert.equal(fixture.enclave.uploads.has(good.digest), false);
    });

    test('a key reused for another upload is refused before the enclave; an enclave that does not answer is 503', async () => {
      const key = freshKey();
      const first = postedUpload();
      assert.equal(
        (await upload(fixture.keys.dcpA, { claim: first.claim, sealed: first.sealed }, key)).status,
        202,
      );
      const second = postedUpload();
      expectRefusal(
        await upload(fixture.keys.dcpA, { claim: second.claim, sealed: second.sealed }, key),
        409,
        'idempotencyKeyReusedWithDifferentRequest',
      );
      assert.equal(fixture.enclave.uploads.has(second.digest), false);
      fixture.enclave.available = false;
      try {
        const third = postedUpload();
        expectRefusal(
          await upload(fixture.keys.dcpA, { claim: third.claim, sealed: third.sealed }),
          503,
          'mdsEnclaveUnavailable',
        );
        expectRefusal(await get(fixture.operatorKey, '/v1/status'), 503, 'mdsEnclaveUnavailable');
      } finally {
        fixture.enclave.available = true;
      }
    });

    test('reports: counts newly recorded, a replay answers the first counts, bounds and conflicts refused', async () => {
      const retirement = {
        tokenId: 'aa'.repeat(32),
        value: '250',
        seId,
        uploadDigest: 'bb'.repeat(32),
        retiredAtMs: 5,
      };
      const body = { issuances: ['a1b2', 'c3d4'], retirements: [retirement] };
      const key = freshKey();
      const post = (payload: unknown, k = freshKey(), apiKey = fixture.keys.dcpA) =>
        call(fixture.app, apiKey, 'POST', '/v1/reports', { key: k, body: payload });
      const first = await post(body, key);
      assert.deepEqual([first.status, first.body], [200, { issuances: 2, retirements: 1 }]);
      const replay = await post(body, key);
      assert.deepEqual([replay.replayed, replay.body], [true, { issuances: 2, retirements: 1 }]);
      const again = await post(body);
      assert.deepEqual([again.replayed, again.body], [false, { issuances: 0, retirements: 0 }]);
      expectRefusal(
        await post({ issuances: [], retirements: [{ ...retirement, value: '251' }] }),
        409,
        'reportConflict',
      );
      const calls = fixture.enclave.calls.length;
      expectRefusal(
        await post({ issuances: Array.from({ length: 257 }, () => 'ab'), retirements: [] }),
        400,
        'reportItemsLimitExceeded',
      );
      expectRefusal(
        await post({ issuances: [], retirements: Array.from({ length: 257 }, () => retirement) }),
        400,
        'reportItemsLimitExceeded',
      );
      expectRefusal(
        await post({ issuances: [], retirements: [{ ...retirement, value: '0' }] }),
        400,
        'amountMustBePositive',
      );
      expectRefusal(
        await post({ issuances: [], retirements: [{ ...retirement, value: '1000000000000001' }] }),
        400,
        'amountOutOfRange',
      );
      expectRefusal(await post({ issuances: ['abc'], retirements: [] }), 400, 'requestInvalid');
      expectRefusal(
        await post({ issuances: [], retirements: [{ ...retirement, seId: 'ab' }] }),
        400,
        'requestInvalid',
      );
      expectRefusal(
        await post({ issuances: ['ab'], retirements: [] }, key),
        409,
        'idempotencyKeyReusedWithDifferentRequest',
      );
      expectRefusal(await post(body, freshKey(), fixture.keys.analyst), 403, 'roleNotAllowed');
      assert.equal(fixture.enclave.calls.length, calls, 'no refused report reached the enclave');
    });
  });
}
