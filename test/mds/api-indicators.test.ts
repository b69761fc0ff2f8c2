// `GET /v1/indicators` through `inject`, on both engines (docs/mds.md, "Indicators"): the answer
// states k and carries the enclave's cells, a suppressed cell as `{suppressed: true}` and never a
// zero; the economist sees indicators and nothing else; a bad range is refused before the enclave.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines } from '../../src/testing/scratch.ts';
import {
  call,
  errorCode,
  mdsFixture,
  unreachableRevocations,
  type MdsFixture,
} from '../../src/testing/mds.ts';
import type { IndicatorBucket, IndicatorCell } from '../../src/mds/channel/protocol.ts';

const hidden: IndicatorCell = { suppressed: true };
const shown = (value: bigint): IndicatorCell => ({ suppressed: false, value });
const bucket: IndicatorBucket = {
  startMs: 0,
  endMs: 3_600_000,
  offlineValueOutstanding: shown(90_000n),
  payments: { count: shown(12n), value: shown(6_000n), average: shown(500n) },
  velocityPpm: shown(66_666n),
  generations: [
    { upTo: 1n, count: shown(12n) },
    { upTo: null, count: hidden },
  ],
  devices: { card: hidden, phone: shown(11n) },
  renewalIntervalsMs: [{ upTo: null, count: hidden }],
  balances: [{ upTo: null, count: shown(11n) }],
  fraud: { alerts: hidden, value: hidden },
  recovery: { refunds: hidden, value: hidden },
};

for (const engine of engines) {
  describe(`MDS indicators on ${engine}`, () => {
    let fixture: MdsFixture;
    before(async () => {
      fixture = await mdsFixture(engine, { revocations: await unreachableRevocations() });
      fixture.enclave.indicatorBuckets = [bucket];
    });
    after(() => fixture.close());

    test('an economist reads the buckets with k stated, suppressed cells as such', async () => {
      const answer = await call(
        fixture.app,
        fixture.keys.economist,
        'GET',
        '/v1/indicators?fromMs=0&toMs=3600000&bucketMs=3600000',
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body['secureElementsMin'], 10);
      assert.deepEqual(fixture.enclave.indicatorsAsked, {
        fromMs: 0,
        toMs: 3_600_000,
        bucketMs: 3_600_000,
        secureElementsMin: 10,
      });
      const [wire] = answer.body['buckets'] as Record<string, unknown>[];
      assert.deepEqual(wire?.['payments'], {
        count: { suppressed: false, value: '12' },
        value: { suppressed: false, value: '6000' },
        average: { suppressed: false, value: '500' },
      });
      assert.deepEqual(wire?.['devices'], {
        card: { suppressed: true },
        phone: { suppressed: false, value: '11' },
      });
      assert.deepEqual(wire?.['generations'], [
        { upTo: '1', count: { suppressed: false, value: '12' } },
        { upTo: null, count: { suppressed: true } },
      ]);
    });

    test('the economist sees nothing but indicators; an analyst sees no indicators', async () => {
      for (const path of [
        '/v1/alerts',
        `/v1/alerts/${'ab'.repeat(32)}/evidence`,
        '/v1/supply',
        '/v1/settlements',
        '/v1/audit',
        '/v1/status',
      ]) {
        const answer = await call(fixture.app, fixture.keys.economist, 'GET', path);
        assert.equal(errorCode(answer), 'roleNotAllowed', path);
        assert.equal(answer.status, 403, path);
      }
      const analyst = await call(
        fixture.app,
        fixture.keys.analyst,
        'GET',
        '/v1/indicators?fromMs=0&toMs=10&bucketMs=10',
      );
      assert.equal(errorCode(analyst), 'roleNotAllowed');
    });

    test('a range the enclave would refuse is refused with its code', async () => {
      fixture.enclave.calls.length = 0;
      const uneven = await call(
        fixture.app,
        fixture.keys.economist,
        'GET',
        '/v1/indicators?fromMs=0&toMs=10&bucketMs=3',
      );
      assert.equal(errorCode(uneven), 'indicatorsRangeInvalid');
      assert.equal(uneven.status, 400);
      assert.deepEqual(fixture.enclave.calls, []);
      const missing = await call(fixture.app, fixture.keys.economist, 'GET', '/v1/indicators?fromMs=0');
      assert.equal(errorCode(missing), 'requestInvalid');
    });
  });
}
