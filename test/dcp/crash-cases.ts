// The crash scenario shared by the in-process crash test (a fault hook that throws, both engines) and
// the end-to-end one (a child process that SIGKILLs itself): for load, renewal, unload and an online
// transfer to a device of another DCP, the payer DCP crashes at each step boundary — after each local
// commit and each ledger call — and comes back on the same database; the device retries with the same
// idempotency key and body. Then: the answer is the same on every replay, exactly one issuance per
// operation, exactly one ledger movement in each statement it touches, nothing lost, and per DCP the
// ledger pool balance = value issued − value retired = what the test expects.
import assert from 'node:assert/strict';
import type { DcpClientOptions } from '../../src/dcp/api/client.ts';
import { poolDifference } from '../../src/dcp/domain/invariant.ts';
import { faultPoints, type FaultPoint } from '../../src/dcp/domain/ports.ts';
import type { Device } from '../../src/device/device.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import type { LedgerClient } from '../../src/ledger/api/client.ts';
import {
  freshKey,
  ledgerStatement,
  loadRequest,
  seIdOf,
  settleRequest,
  verifier,
  type SettleKind,
  type Supply,
} from './fixtures.ts';

export interface CrashCase {
  readonly kind: 'load' | SettleKind;
  readonly point: FaultPoint;
  readonly amount: bigint;
}

/**
 * Every fault point, each for an operation that reaches it. The order lets a process armed for the
 * next case be started right after a crash: finishing an interrupted operation (at start or on the
 * client's retry) passes only the points of its own kind that follow its crash point
 * (`stillAhead`), and the next case's point is never among them (`crashCases` is checked below).
 */
export const crashCases: readonly CrashCase[] = [
  { kind: 'load', point: 'load.afterIntent', amount: 1_001n },
  { kind: 'renewal', point: 'settle.afterCommit', amount: 0n },
  { kind: 'load', point: 'load.afterHold', amount: 1_002n },
  { kind: 'unload', point: 'unload.afterPayment', amount: 201n },
  { kind: 'load', point: 'load.afterCapture', amount: 1_003n },
  { kind: 'transfer', point: 'transfer.afterPayment', amount: 301n },
  { kind: 'load', point: 'load.afterCommit', amount: 1_004n },
  { kind: 'unload', point: 'unload.afterCommit', amount: 202n },
  { kind: 'transfer', point: 'transfer.afterCredit', amount: 302n },
  { kind: 'unload', point: 'settle.afterCommit', amount: 203n },
  { kind: 'transfer', point: 'settle.afterCommit', amount: 303n },
];

/** The points of each kind in the order an operation passes them. */
const pointsByKind: Readonly<Record<CrashCase['kind'], readonly FaultPoint[]>> = {
  load: ['load.afterIntent', 'load.afterHold', 'load.afterCapture', 'load.afterCommit'],
  renewal: ['settle.afterCommit'],
  unload: ['settle.afterCommit', 'unload.afterPayment', 'unload.afterCommit'],
  transfer: ['settle.afterCommit', 'transfer.afterPayment', 'transfer.afterCredit'],
};

/** The points an operation interrupted at `point` still passes when it is driven to its end. */
function stillAhead(kind: CrashCase['kind'], point: FaultPoint): readonly FaultPoint[] {
  const points = pointsByKind[kind];
  return points.slice(points.indexOf(point) + 1);
}

assert.deepEqual(
  [...new Set(crashCases.map((each) => each.point))].sort(),
  [...faultPoints].sort(),
  'every fault point is crashed at',
);
for (let index = 0; index + 1 < crashCases.length; index++) {
  const { kind, point } = crashCases[index]!;
  assert.ok(!stillAhead(kind, point).includes(crashCases[index + 1]!.point), `case ${index}`);
}

/** How a test makes the payer DCP crash and come back; the rest of the scenario is shared. */
export interface CrashTarget {
  /** The ledger operator: reads pool and wallet accounts and their statements. */
  readonly ledger: LedgerClient;
  /** The payer DCP's URL now (an in-process restart may move it). */
  payerUrl(): string;
  readonly payerPool: string;
  readonly payeePool: string;
  /** The ledger account of the wallet of `phone`. */
  readonly walletAccount: string;
  supply(dcp: 'payer' | 'payee'): Promise<Supply>;
  countIssuances(operationId: string): Promise<number>;
  /** How the device's client calls the payer: crashing requests are not retried (one attempt). */
  readonly callOptions?: Omit<DcpClientOptions, 'baseUrl'>;
  /**
   * Runs `request` so that the payer DCP crashes at `point` (the request must fail), and brings the
   * DCP back on the same database; `next` is the point the following case will crash at.
   */
  crash(point: FaultPoint, next: FaultPoint | undefined, request: () => Promise<unknown>): Promise<void>;
}

/**
 * `phone` is a device of the payer DCP; `payee` a card of the payee DCP (its app: `payeeApp`).
 * Returns how much each pool changed.
 */
export async function runCrashCases(
  target: CrashTarget,
  phone: Device,
  payee: Device,
  payeeApp: DeviceApp,
): Promise<{ readonly payer: bigint; readonly payee: bigint }> {
  const start = {
    payer: (await target.ledger.account(target.payerPool)).balance,
    payee: (await target.ledger.account(target.payeePool)).balance,
  };
  const expected = { ...start };
  const invariant = async () => {
    for (const [dcp, pool] of [
      ['payer', target.payerPool],
      ['payee', target.payeePool],
    ] as const) {
      const supply = await target.supply(dcp);
      const balance = (await target.ledger.account(pool)).balance;
      assert.equal(supply.inFlight, 0n, dcp);
      assert.equal(
        poolDifference({ ...supply, poolBalance: balance }),
        0n,
        `${dcp}: pool = issued − retired`,
      );
      assert.equal(balance, expected[dcp], dcp);
    }
  };
  await invariant();
  const accounts = [target.payerPool, target.payeePool, target.walletAccount] as const;
  // A new app per call: an in-process restart moves the payer DCP to another port.
  const payerApp = () =>
    new DeviceApp({ ...target.callOptions, baseUrl: target.payerUrl(), verifier, attemptsMax: 1 });
  let credited = 0n;
  for (const [index, { kind, point, amount }] of crashCases.entries()) {
    const request =
      kind === 'load'
        ? await loadRequest(payerApp(), phone, amount)
        : await settleRequest(payerApp(), phone, kind, {
            amount,
            ...(kind === 'transfer' ? { payeeSeId: seIdOf(payee) } : {}),
          });
    const claimed =
      'claim' in request ? request.claim.body.tokens.reduce((sum, token) => sum + token.value, 0n) : 0n;
    const before = await Promise.all(accounts.map((account) => ledgerStatement(target.ledger, account)));
    const supplyBefore = { payer: await target.supply('payer'), payee: await target.supply('payee') };
    const key = freshKey('crash');
    const post = () =>
      request.kind === 'load'
        ? payerApp().client.load(key, request.body)
        : payerApp().client.settle(key, request);
    await target.crash(point, crashCases[index + 1]?.point, post);
    const answer = await post();
    assert.deepEqual(await post(), answer, `${point}: a replay answers the same`);
    const what = `${kind} crashed at ${point}`;
    assert.equal(await target.countIssuances(answer.operationId), 1, `${what}: one issuance`);

    // Exactly one movement in each statement the operation touches, none in the others.
    const after = await Promise.all(accounts.map((account) => ledgerStatement(target.ledger, account)));
    const moved = after.map((all, position) =>
      all.slice(before[position]!.length).map((entry) => [entry.kind, entry.direction, entry.amount]),
    );
    const expectedMoves = {
      load: [[['capture', 'credit', amount]], [], [['capture', 'debit', amount]]],
      renewal: [[], [], []],
      unload: [[['payment', 'debit', amount]], [], [['payment', 'credit', amount]]],
      transfer: [[['payment', 'debit', amount]], [['payment', 'credit', amount]], []],
    }[kind];
    assert.deepEqual(moved, expectedMoves, `${what}: ledger movements`);
    if (kind === 'transfer')
      assert.equal(after[0]!.at(-1)!.paymentId, after[1]!.at(-1)!.paymentId, `${what}: pool to pool`);

    // The SE installs the answer; every value is where it should be.
    const supplyAfter = { payer: await target.supply('payer'), payee: await target.supply('payee') };
    const delta = (dcp: 'payer' | 'payee', figure: 'minted' | 'retired' | 'queued') =>
      supplyAfter[dcp][figure] - supplyBefore[dcp][figure];
    const balance = phone.client().getData().balance;
    if ('issuance' in answer) {
      const installed = phone.client().load(answer.issuance);
      assert.equal(installed, balance + amount, what);
      assert.deepEqual([delta('payer', 'minted'), delta('payer', 'retired')], [amount, 0n], what);
      expected.payer += amount;
    } else {
      const completed = payerApp().complete(phone.client(), answer);
      assert.equal(completed, claimed - amount, what);
      assert.deepEqual(
        [delta('payer', 'minted'), delta('payer', 'retired')],
        [claimed - amount, claimed],
        what,
      );
      expected.payer -= amount;
    }
    if (kind === 'transfer') {
      assert.equal(delta('payee', 'queued'), amount, `${what}: one credit queued`);
      expected.payee += amount;
      credited += amount;
    } else assert.equal(delta('payee', 'queued'), 0n, what);
    await invariant();
  }
  // Nothing lost: the payee device gets every transfer, once, at its next sync.
  const payeeBalance = payee.client().getData().balance;
  assert.equal(await payeeApp.renew(payee.client(), freshKey()), payeeBalance + credited);
  assert.equal((await target.supply('payee')).queued, 0n);
  await invariant();
  return { payer: expected.payer - start.payer, payee: expected.payee - start.payee };
}
