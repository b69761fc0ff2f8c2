// The MDS's recovery routes through `inject`, on both engines, against a double of the enclave
// interface (docs/mds.md, "Recovery of value in flight"): a DCP sees only the refund orders for its
// own SEs, pages them with a cursor, and records an execution once (a replay answers the first);
// another DCP's decision is `refundUnknown`; the recoveries view is for operators and analysts only,
// amounts as decimal strings. The typed client decodes the same answers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines } from '../../src/testing/scratch.ts';
import {
  call,
  errorCode,
  mdsFixture,
  type MdsFixture,
  unreachableRevocations,
} from '../../src/testing/mds.ts';
import { decodeRecoveries, decodeRefundsPage } from '../../src/mds/api/recovery-decode.ts';

const seId = 'ab'.repeat(16);
const hex64 = (digit: string) => digit.repeat(64);

function order(digit: string, sequence: number, value: bigint) {
  return {
    decisionId: hex64(digit),
    seId,
    value,
    tokenId: hex64('7'),
    uploadDigest: hex64('8'),
    sequence,
  };
}

for (const engine of engines) {
  void describe(`MDS recovery routes on ${engine}`, () => {
    let fixture: MdsFixture;
    const get = (apiKey: string | null, url: string) => call(fixture.app, apiKey, 'GET', url);
    const post = (apiKey: string, url: string) => call(fixture.app, apiKey, 'POST', url);

    before(async () => {
      fixture = await mdsFixture(engine, { revocations: await unreachableRevocations() });
      fixture.enclave.refunds.push(
        {
          dcpId: fixture.dcpAId,
          transferId: hex64('b'),
          refund: order('1', 1, 300n),
          decidedAtMs: 1,
          executedAtMs: null,
        },
        {
          dcpId: fixture.dcpBId,
          transferId: hex64('c'),
          refund: order('2', 2, 250n),
          decidedAtMs: 2,
          executedAtMs: null,
        },
        {
          dcpId: fixture.dcpAId,
          transferId: hex64('d'),
          refund: order('3', 3, 125n),
          decidedAtMs: 3,
          executedAtMs: null,
        },
      );
    });
    after(() => fixture.close());

    test("a DCP reads only its own SEs' orders, paged by a cursor", async () => {
      const first = await get(fixture.keys.dcpA, '/v1/refunds?limit=1');
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(first.body, {
        refunds: [
          { decisionId: hex64('1'), seId, value: '300', tokenId: hex64('7'), uploadDigest: hex64('8') },
        ],
        next: '1',
      });
      const rest = await get(fixture.keys.dcpA, '/v1/refunds?limit=1&after=1');
      assert.deepEqual(
        decodeRefundsPage(rest.body, 1).refunds.map((refund) => [refund.decisionId, refund.value]),
        [[hex64('3'), 125n]],
      );
      const other = await get(fixture.keys.dcpB, '/v1/refunds');
      assert.deepEqual(
        (other.body['refunds'] as { decisionId: string }[]).map((refund) => refund.decisionId),
        [hex64('2')],
      );
      assert.equal(other.body['next'], null);
      for (const key of [fixture.keys.analyst, fixture.operatorKey]) {
        const refused = await get(key, '/v1/refunds');
        assert.deepEqual([refused.status, errorCode(refused)], [403, 'roleNotAllowed']);
      }
      const tooMany = await get(fixture.keys.dcpA, '/v1/refunds?limit=257');
      assert.deepEqual([tooMany.status, errorCode(tooMany)], [400, 'requestInvalid']);
    });

    test("an execution is recorded once; another DCP's decision is refundUnknown and changes nothing", async () => {
      const executedAtMs = fixture.clock.now;
      const refused = await post(fixture.keys.dcpB, `/v1/refunds/${hex64('1')}/executed`);
      assert.deepEqual([refused.status, errorCode(refused)], [404, 'refundUnknown']);
      assert.equal(fixture.enclave.refunds[0]!.executedAtMs, null);
      const executed = await post(fixture.keys.dcpA, `/v1/refunds/${hex64('1')}/executed`);
      assert.deepEqual([executed.status, executed.body], [200, { decisionId: hex64('1'), executedAtMs }]);
      fixture.clock.advance(4_000);
      const replay = await post(fixture.keys.dcpA, `/v1/refunds/${hex64('1')}/executed`);
      assert.deepEqual(replay.body, { decisionId: hex64('1'), executedAtMs });
      const open = await get(fixture.keys.dcpA, '/v1/refunds');
      assert.deepEqual(
        (open.body['refunds'] as { decisionId: string }[]).map((refund) => refund.decisionId),
        [hex64('3')],
        'an executed refund is no longer an order',
      );
      const bad = await post(fixture.keys.dcpA, '/v1/refunds/zz/executed');
      assert.deepEqual([bad.status, errorCode(bad)], [400, 'requestInvalid']);
    });

    test('the recoveries view: operators and analysts only, amounts in decimal', async () => {
      for (const key of [fixture.keys.dcpA, fixture.keys.economist, fixture.keys.auditor]) {
        const refused = await get(key, '/v1/recoveries');
        assert.deepEqual([refused.status, errorCode(refused)], [403, 'roleNotAllowed']);
      }
      for (const key of [fixture.operatorKey, fixture.keys.analyst]) {
        const view = await get(key, '/v1/recoveries');
        assert.equal(view.status, 200, JSON.stringify(view.body));
        const refunds = view.body['refunds'] as Record<string, unknown>;
        assert.deepEqual(
          [refunds['count'], refunds['value'], refunds['executedCount'], refunds['executedValue']],
          [3, '675', 1, '300'],
        );
        const decoded = decodeRecoveries(view.body);
        assert.deepEqual(decoded.inFlight, { count: 0, value: 0n, transfers: [] });
        assert.deepEqual(
          decoded.refunds.decisions.map((decision) => [
            decision.decisionId,
            decision.transferId,
            decision.decidedAtMs,
            decision.executedAtMs,
          ]),
          [
            [hex64('1'), hex64('b'), 1, fixture.clock.now - 4_000],
            [hex64('2'), hex64('c'), 2, null],
            [hex64('3'), hex64('d'), 3, null],
          ],
        );
      }
    });
  });
}
