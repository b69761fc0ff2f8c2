// `GET /v1/supply`, `PUT /v1/settlement-pools/{dcpId}`, `POST` and `GET /v1/settlements` through
// `inject`, on both engines, over the enclave double's supply figures and an in-memory ledger
// (docs/mds.md, "Supply and settlement"): the figures per DCP and in total, a run that brings every
// pool to its attributed outstanding and is idempotent by period, a run cut by the ledger that the
// next request continues without paying twice, and the roles (an economist sees none of it).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines } from '../../src/testing/scratch.ts';
import {
  call,
  errorCode,
  LedgerDouble,
  mdsFixture,
  unreachableRevocations,
  type MdsFixture,
} from '../../src/testing/mds.ts';
import { pairMoves } from '../../src/mds/domain/settlement.ts';

const dcpC = 'cc'.repeat(16);

for (const engine of engines) {
  describe(`MDS supply and settlement on ${engine}`, () => {
    let fixture: MdsFixture;
    const ledger = new LedgerDouble();

    /** Bank A minted 10,000 of which bank B retired 3,000 (renewed there); bank B minted 2,000. */
    const figures = (moved: bigint) => ({
      dcps: [
        {
          dcpId: fixture.dcpAId,
          issued: 10_000n,
          queued: 0n,
          retired: 0n,
          retiredBacked: moved,
          observedOffline: 4_000n,
          inFlight: 100n,
          refunded: 0n,
        },
        {
          dcpId: fixture.dcpBId,
          issued: 2_000n + moved,
          queued: 0n,
          retired: moved,
          retiredBacked: 0n,
          observedOffline: 500n,
          inFlight: 0n,
          refunded: 0n,
        },
      ],
      unbackedObservedOffline: 0n,
      unbackedRetired: 0n,
      createdByFraud: 0n,
    });
    const pools = () => [ledger.pools.get('pool-a'), ledger.pools.get('pool-b')];

    before(async () => {
      fixture = await mdsFixture(engine, {
        revocations: await unreachableRevocations(),
        settlementLedger: ledger,
      });
      ledger.pools.set('pool-a', { balance: 10_000n, settled: 0n });
      ledger.pools.set('pool-b', { balance: 2_000n, settled: 0n });
      for (const [dcpId, accountId] of [
        [fixture.dcpAId, 'pool-a'],
        [fixture.dcpBId, 'pool-b'],
      ] as const) {
        const set = await call(fixture.app, fixture.operatorKey, 'PUT', `/v1/settlement-pools/${dcpId}`, {
          body: { accountId },
        });
        assert.equal(set.status, 200);
      }
      fixture.enclave.supplyFigures = figures(3_000n);
    });
    after(() => fixture.close());

    test('the supply shows each DCP beside its pool, and the totals', async () => {
      const answer = await call(fixture.app, fixture.keys.analyst, 'GET', '/v1/supply');
      assert.equal(answer.status, 200);
      const dcps = answer.body['dcps'] as Record<string, unknown>[];
      assert.deepEqual(
        dcps.map((dcp) => [dcp['attributedOutstanding'], dcp['settled'], dcp['poolBalance']]),
        [
          ['7000', '0', '10000'],
          ['5000', '0', '2000'],
        ],
      );
      assert.deepEqual(answer.body['total'], {
        issued: '15000',
        retired: '3000',
        outstanding: '12000',
        observedOffline: '4500',
        inFlight: '100',
        refunded: '0',
        createdByFraud: '0',
        poolBalance: '12000',
      });
    });

    test('a run moves the retired backing pool to pool, once per period', async () => {
      const first = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/settlements', {
        body: { period: '2026-12-03' },
      });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const run = first.body['run'] as Record<string, unknown>;
      assert.equal(run['state'], 'completed');
      assert.deepEqual(run['transfers'], [
        {
          payerDcpId: fixture.dcpAId,
          payeeDcpId: fixture.dcpBId,
          amount: '3000',
          ledgerPaymentId: `payment-settlement-2026-12-03-${fixture.dcpAId}-${fixture.dcpBId}`,
        },
      ]);
      assert.deepEqual(pools(), [
        { balance: 7_000n, settled: -3_000n },
        { balance: 5_000n, settled: 3_000n },
      ]);
      // Every pool is its attributed outstanding now; the same period again moves nothing.
      const again = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/settlements', {
        body: { period: '2026-12-03' },
      });
      assert.deepEqual(again.body, first.body);
      const next = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/settlements', {
        body: { period: '2026-12-04' },
      });
      assert.deepEqual((next.body['run'] as Record<string, unknown>)['transfers'], []);
      assert.equal(ledger.payments.size, 1);
    });

    test('a run the ledger cut stays pending, and the next request finishes it without paying twice', async () => {
      fixture.enclave.supplyFigures = figures(3_500n);
      ledger.failing = true;
      const cut = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/settlements', {
        body: { period: '2026-12-05' },
      });
      assert.equal(errorCode(cut), 'settlementLedgerUnavailable');
      assert.equal(cut.status, 503);
      ledger.failing = false;
      // Planned already before the cut? No: the plan reads the pools, so nothing was stored.
      const listed = await call(fixture.app, fixture.keys.analyst, 'GET', '/v1/settlements');
      assert.deepEqual(
        (listed.body['runs'] as Record<string, unknown>[]).map((run) => [run['period'], run['state']]),
        [
          ['2026-12-04', 'completed'],
          ['2026-12-03', 'completed'],
        ],
      );
      const done = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/settlements', {
        body: { period: '2026-12-05' },
      });
      assert.equal((done.body['run'] as Record<string, unknown>)['state'], 'completed');
      assert.deepEqual(pools(), [
        { balance: 6_500n, settled: -3_500n },
        { balance: 5_500n, settled: 3_500n },
      ]);
    });

    test('a run whose payment the ledger refused continues under the same key', async () => {
      fixture.enclave.supplyFigures = figures(4_000n);
      const realPay = ledger.pay.bind(ledger);
      let calls = 0;
      ledger.pay = (...args) => {
        calls++;
        if (calls === 1) return Promise.reject(new Error('connection reset'));
        return realPay(...args);
      };
      const cut = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/settlements', {
        body: { period: '2026-12-06' },
      });
      assert.equal(cut.status, 500);
      const pending = await call(fixture.app, fixture.keys.analyst, 'GET', '/v1/settlements?limit=1');
      assert.equal((pending.body['runs'] as Record<string, unknown>[])[0]?.['state'], 'pending');
      // Another period first finishes the pending run, then plans from the pools it left.
      const later = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/settlements', {
        body: { period: '2026-12-07' },
      });
      assert.deepEqual((later.body['run'] as Record<string, unknown>)['transfers'], []);
      assert.deepEqual(pools(), [
        { balance: 6_000n, settled: -4_000n },
        { balance: 6_000n, settled: 4_000n },
      ]);
      ledger.pay = realPay;
    });

    test('roles: operators run, analysts read, economists and DCPs see none of it', async () => {
      for (const key of [fixture.keys.economist, fixture.keys.dcpA, fixture.keys.auditor]) {
        for (const [method, path, body] of [
          ['GET', '/v1/supply', undefined],
          ['GET', '/v1/settlements', undefined],
          ['POST', '/v1/settlements', { period: 'x' }],
          ['PUT', `/v1/settlement-pools/${dcpC}`, { accountId: 'pool-c' }],
        ] as const) {
          const answer = await call(fixture.app, key, method, path, body === undefined ? {} : { body });
          assert.equal(errorCode(answer), 'roleNotAllowed', `${method} ${path}`);
          assert.equal(answer.status, 403);
        }
      }
      const analystRun = await call(fixture.app, fixture.keys.analyst, 'POST', '/v1/settlements', {
        body: { period: 'x' },
      });
      assert.equal(errorCode(analystRun), 'roleNotAllowed');
      const badPeriod = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/settlements', {
        body: { period: 'a'.repeat(41) },
      });
      assert.equal(errorCode(badPeriod), 'requestInvalid');
    });

    test('a DCP owed or owing with no pool configured stops the run before anything moves', async () => {
      fixture.enclave.supplyFigures = {
        ...figures(4_000n),
        dcps: [
          ...figures(4_000n).dcps,
          {
            dcpId: dcpC,
            issued: 0n,
            queued: 0n,
            retired: 10n,
            retiredBacked: 0n,
            observedOffline: 0n,
            inFlight: 0n,
            refunded: 0n,
          },
        ],
      };
      const before = pools();
      const refused = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/settlements', {
        body: { period: '2026-12-08' },
      });
      assert.equal(errorCode(refused), 'settlementPoolUnknown');
      assert.deepEqual(pools(), before);
    });
  });
}

test('pairing: debtors pay creditors in DCP id order, in at most n − 1 payments', () => {
  const moves = new Map([
    ['d', 5n],
    ['a', -7n],
    ['c', 4n],
    ['b', -2n],
    ['e', 0n],
  ]);
  assert.deepEqual(
    pairMoves(moves).map((t) => [t.payerDcpId, t.payeeDcpId, t.amount]),
    [
      ['a', 'c', 4n],
      ['a', 'd', 3n],
      ['b', 'd', 2n],
    ],
  );
  assert.throws(() => pairMoves(new Map([['a', 1n]])), /sum to zero/);
});
