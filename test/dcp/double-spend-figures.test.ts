// The double-spend policy in the MDS's supply figures (issue 9: "`honour` and `refuse` policies on one
// double spend: the figures of each in the supply report"), on both engines. The same double spend
// runs under each policy in `sync` mode: a thief's SE at bank-a pays a loaded token of 4,000 offline
// to its second SE at bank-b, then renews the same token at bank-a; the payee claims it at bank-b.
// `honour` renews the payee (bank-b retires the token and mints 4,000: the loss falls on bank-a's
// pool, whose issuances back both spends); `refuse` does not (the token stays observed offline, no
// pool moves). Both raise the same doubleSpend alert. The supply report and a settlement run are
// compared side by side, exact values.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import type { DoubleSpendPolicy } from '../../src/core/renewal-verdict.ts';
import type { SettleSubmission } from '../../src/dcp/api/client.ts';
import type { SupplyReport } from '../../src/mds/api/types.ts';
import { eventually } from '../../src/testing/eventually.ts';
import { engines } from '../../src/testing/scratch.ts';
import { call } from '../../src/testing/service-kit.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import { startWorld, verifier, type TestDcp, type World } from './fixtures.ts';
import { Thief } from './thief.ts';

interface Figures {
  readonly renewedAtB: number;
  /**
   * Per DCP (bank-a, bank-b): issued, retired, retiredBacked, attributed outstanding, observed
   * offline; empty for a DCP the MDS has no figure of.
   */
  readonly dcps: readonly (readonly bigint[])[];
  readonly createdByFraud: bigint;
  /** The settlement run's moves, and each pool after it. */
  readonly moved: readonly bigint[];
  readonly pools: readonly bigint[];
}

async function post(dcp: TestDcp, submission: SettleSubmission): Promise<number> {
  const answer = await call(dcp.server.app, null, 'POST', '/v1/renewals', {
    body: submission.body,
    key: toHex(crypto.getRandomValues(new Uint8Array(16))),
  });
  return answer.status;
}

function perDcp(world: World, supply: SupplyReport, pick: (dcp: SupplyReport['dcps'][number]) => bigint[]) {
  return ['bank-a', 'bank-b'].map((name) => {
    const dcpId = toHex(world.dcp(name).server.context.dcpId);
    const found = supply.dcps.find((dcp) => dcp.dcpId === dcpId);
    return found === undefined ? [] : pick(found);
  });
}

/** Plays the double spend under `policy` and reads the MDS's figures before and after a settlement. */
async function doubleSpendUnder(
  engine: (typeof engines)[number],
  policy: DoubleSpendPolicy,
): Promise<Figures> {
  const world = await startWorld(engine, {
    dcpNames: ['bank-a', 'bank-b'],
    mds: { renewalCheck: 'sync', doubleSpendPolicy: policy },
  });
  try {
    const [a, b] = [world.dcp('bank-a'), world.dcp('bank-b')];
    const wallets = [await a.createWallet('thief at a'), await b.createWallet('thief at b')];
    for (const wallet of wallets) await world.fund(wallet.accountId, 100_000n);
    const client = (dcp: TestDcp) => new DeviceApp({ baseUrl: dcp.server.url, verifier }).client;
    const spender = await Thief.at(a, wallets[0]!.id, client(a));
    const payee = await Thief.at(b, wallets[1]!.id, client(b));
    const token = await spender.load(4_000n);
    const paid = spender.pay(token, payee.seId);
    assert.equal(await post(a, await spender.settlement('renewal', [token])), 201);
    await a.server.forwardToMds();
    const claim = await payee.settlement('renewal', [paid], { payers: [spender.certificate] });
    const renewedAtB = await post(b, claim);
    const mds = world.mds!;
    for (const dcp of [a, b]) await dcp.server.forwardToMds();
    const supply = await eventually('the double spend seen', async () => {
      const read = await mds.operator.supply();
      return read.total.createdByFraud > 0n ? read : undefined;
    });
    const run = await mds.settle();
    return {
      renewedAtB,
      dcps: perDcp(world, supply, (dcp) => [
        dcp.issued,
        dcp.retired,
        dcp.retiredBacked,
        dcp.attributedOutstanding,
        dcp.observedOffline,
      ]),
      createdByFraud: supply.total.createdByFraud,
      moved: run.transfers.map((transfer) => transfer.amount),
      pools: await Promise.all(
        [a, b].map(
          async (dcp) => (await world.ledgerOperator.account(dcp.server.context.poolAccountId)).balance,
        ),
      ),
    };
  } finally {
    await world.close();
  }
}

for (const engine of engines) {
  void describe(`honour and refuse in the supply figures on ${engine}`, () => {
    test('the same double spend under each policy, side by side', async () => {
      const honour = await doubleSpendUnder(engine, 'honour');
      const refuse = await doubleSpendUnder(engine, 'refuse');
      // Honour: bank-b renewed the payee (retired 4,000, minted 4,000), so bank-a's issuances back
      // 8,000 of retired value against 8,000 issued: its attributed outstanding is 0 and the run
      // moves 4,000 of its pool to bank-b's. Refuse: nothing happened at bank-b; the paid token is
      // still observed offline, attributed to bank-a, and nothing moves.
      assert.deepEqual(honour, {
        renewedAtB: 201,
        dcps: [
          [8_000n, 4_000n, 8_000n, 0n, 0n],
          [4_000n, 4_000n, 0n, 4_000n, 0n],
        ],
        createdByFraud: 4_000n,
        moved: [4_000n],
        pools: [0n, 4_000n],
      });
      assert.deepEqual(refuse, {
        renewedAtB: 403,
        dcps: [[8_000n, 4_000n, 4_000n, 4_000n, 4_000n], []],
        createdByFraud: 4_000n,
        moved: [],
        pools: [4_000n, 0n],
      });
    });
  });
}
