// End to end with real processes (DESIGN §7, §10): a ledger, a directory and two DCPs (bank-a,
// bank-b), each its own `node bin/cbdc.mjs serve ...` child process on 127.0.0.1 with its own SQLite
// file, the PKI from createDeploymentPki, bootstrapped as the docs say (harness.ts). Emulated cards
// and phones are personalised through the DCPs' HTTP API and live through onboarding, load, offline
// payments until a limit forces a renewal, renewal, unload and an online transfer across DCPs. Then
// bank-a is killed with SIGKILL (its test-only crash switch) after every local commit and every
// ledger call of load, renewal, unload and the cross-DCP transfer, restarted on the same file, and
// the device retries with the same key and body (test/dcp/crash-cases.ts). After every step, per
// DCP: the pool balance read from the ledger = value issued − value retired from the DCP's
// `/v1/supply` = the value the test expects, exactly.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isCbdcError } from '../../src/core/errors.ts';
import { poolDifference } from '../../src/dcp/domain/invariant.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import type { Device } from '../../src/device/device.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import { SecureElementRefused } from '../../src/device/se-client.ts';
import { crashCases, runCrashCases } from '../dcp/crash-cases.ts';
import {
  adminClient,
  freshKey,
  ledgerStatement,
  newDevice,
  seIdOf,
  verifier,
  type Supply,
  type Wallet,
} from '../dcp/fixtures.ts';
import { bankIssuedAmount, countRows, startDeployment, type DcpHandle, type Deployment } from './harness.ts';

describe('the online system as real processes: ledger, directory, DCPs bank-a and bank-b', () => {
  let system: Deployment;
  let bankA: DcpHandle;
  let bankB: DcpHandle;
  let appA: DeviceApp;
  let appB: DeviceApp;
  let walletA: Wallet;
  let walletB: Wallet;
  const devices: Record<'cardA' | 'phoneA' | 'shopA' | 'cardB' | 'phoneB', Device> = {
    cardA: newDevice('card', 'card of bank-a'),
    phoneA: newDevice('phone', 'phone of bank-a'),
    shopA: newDevice('phone', 'merchant phone of bank-a'),
    cardB: newDevice('card', 'card of bank-b'),
    phoneB: newDevice('phone', 'phone of bank-b'),
  };
  const expected = { 'bank-a': 0n, 'bank-b': 0n };

  const supply = (dcp: DcpHandle): Promise<Supply> => adminClient(dcp.url, dcp.operatorKey).supply();
  const balanceOf = async (accountId: string) => (await system.ledger.account(accountId)).balance;
  const seBalance = (device: Device) => device.client().getData().balance;
  /** Per DCP: nothing in flight; pool on the ledger = issued − retired = what the test expects. */
  const invariant = async () => {
    for (const dcp of [bankA, bankB]) {
      const figures = await supply(dcp);
      const pool = await balanceOf(dcp.poolAccountId);
      assert.equal(figures.inFlight, 0n, dcp.name);
      assert.equal(
        poolDifference({ ...figures, poolBalance: pool }),
        0n,
        `${dcp.name}: pool ${String(pool)} = issued ${String(figures.issued)} − retired ${String(figures.retired)}`,
      );
      assert.equal(pool, expected[dcp.name as keyof typeof expected], dcp.name);
    }
    // The ledger as a whole: these are all its accounts; the issuance account holds minus the money
    // issued, and every other balance sums to it.
    const balances = await Promise.all(
      [
        'issuance',
        system.bankAccount,
        walletA.accountId,
        walletB.accountId,
        bankA.poolAccountId,
        bankB.poolAccountId,
      ].map(balanceOf),
    );
    assert.equal(balances[0], -bankIssuedAmount);
    assert.equal(
      balances.reduce((sum, balance) => sum + balance, 0n),
      0n,
    );
  };
  /** Pays offline until the payer's SE refuses; returns how many payments completed and the code. */
  const payUntilRefused = (payer: Device, payee: Device, amount: bigint) => {
    for (let completed = 0; completed < 100; completed++) {
      try {
        assert.deepEqual(new OfflinePayment(payer, payee, amount).tap(), { outcome: 'completed' });
      } catch (error) {
        assert.ok(error instanceof SecureElementRefused, String(error));
        return { completed, code: error.code };
      }
    }
    assert.fail('no limit was reached');
  };

  before(async () => {
    system = await startDeployment(['bank-a', 'bank-b']);
    bankA = system.dcp('bank-a');
    bankB = system.dcp('bank-b');
    appA = new DeviceApp({ baseUrl: bankA.url, verifier });
    appB = new DeviceApp({ baseUrl: bankB.url, verifier });
    const wallet = (dcp: DcpHandle, name: string): Promise<Wallet> =>
      adminClient(dcp.url, dcp.operatorKey).createWallet(freshKey(), { name });
    [walletA, walletB] = await Promise.all([wallet(bankA, 'Alice'), wallet(bankB, 'Bob')]);
    for (const [account, amount] of [
      [walletA.accountId, 500_000n],
      [walletB.accountId, 200_000n],
    ] as const)
      await system.bank.pay(freshKey(), {
        payerAccountId: system.bankAccount,
        payeeAccountId: account,
        amount,
      });
  });

  after(async () => {
    await system.stop();
  });

  test('a card and a phone: onboarding, load, offline payments to the limit, renewal, unload', async () => {
    // Onboarding: the key is made inside each SE; the DCP certifies it and registers it in the directory.
    for (const [name, dcp, app, wallet] of [
      ['cardA', bankA, appA, walletA],
      ['phoneA', bankA, appA, walletA],
      ['shopA', bankA, appA, walletA],
      ['cardB', bankB, appB, walletB],
      ['phoneB', bankB, appB, walletB],
    ] as const) {
      const device = devices[name];
      const seId = await app.personalise(
        device.client(),
        device.kind,
        wallet.id,
        dcp.operatorKey,
        freshKey(),
      );
      assert.equal(seId, seIdOf(device));
      const record = await system.directory.secureElement(seId);
      assert.deepEqual(
        [record.dcpId, record.kind, record.status, record.walletId],
        [dcp.dcpId, device.kind, 'active', wallet.id],
      );
    }
    await invariant();

    // Load: wallet → pool on the ledger, an issuance into each SE.
    assert.equal(await appA.load(devices.cardA.client(), 20_000n, freshKey()), 20_000n);
    assert.equal(await appA.load(devices.phoneA.client(), 100_000n, freshKey()), 100_000n);
    assert.equal(await appB.load(devices.cardB.client(), 10_000n, freshKey()), 10_000n);
    assert.equal(await appB.load(devices.phoneB.client(), 40_000n, freshKey()), 40_000n);
    expected['bank-a'] = 120_000n;
    expected['bank-b'] = 50_000n;
    await invariant();
    assert.deepEqual(
      [await balanceOf(walletA.accountId), await balanceOf(walletB.accountId)],
      [380_000n, 150_000n],
    );

    // Offline: every payment spends the change of the one before, one generation deeper, until the
    // payer's SE refuses the next one (card generationMax 8, phone 16): renewal required.
    assert.deepEqual(payUntilRefused(devices.cardA, devices.phoneA, 1_000n), {
      completed: 8,
      code: 'generationLimitExceeded',
    });
    assert.deepEqual(payUntilRefused(devices.phoneA, devices.shopA, 2_000n), {
      completed: 16,
      code: 'generationLimitExceeded',
    });
    assert.deepEqual(
      [seBalance(devices.cardA), seBalance(devices.phoneA), seBalance(devices.shopA)],
      [12_000n, 76_000n, 32_000n],
    );
    await invariant();

    // Renewal: each claimed token retired, one fresh token of the same value minted; the limit resets.
    const supplyBefore = await supply(bankA);
    assert.equal(await appA.renew(devices.cardA.client(), freshKey()), 12_000n);
    assert.equal(await appA.renew(devices.phoneA.client(), freshKey()), 76_000n);
    assert.equal(await appA.renew(devices.shopA.client(), freshKey()), 32_000n);
    const supplyAfter = await supply(bankA);
    assert.equal(supplyAfter.minted - supplyBefore.minted, 120_000n);
    assert.equal(supplyAfter.retired - supplyBefore.retired, 120_000n);
    assert.deepEqual(new OfflinePayment(devices.cardA, devices.phoneA, 1_000n).tap(), {
      outcome: 'completed',
    });
    await invariant();

    // Unload: the value leaves the SE and the pool, back to the wallet's ledger account.
    assert.equal(await appA.unload(devices.cardA.client(), 5_000n, freshKey()), 6_000n);
    assert.equal(await appA.unload(devices.phoneA.client(), 27_000n, freshKey()), 50_000n);
    expected['bank-a'] -= 32_000n;
    await invariant();
    assert.equal(await balanceOf(walletA.accountId), 380_000n + 32_000n);
  });

  test('a phone of bank-a pays a card of bank-b online; the card gets the credit at its next sync', async () => {
    const poolEntries = (dcp: DcpHandle) => ledgerStatement(system.ledger, dcp.poolAccountId);
    const [entriesA, entriesB] = [await poolEntries(bankA), await poolEntries(bankB)];
    assert.equal(
      await appA.transfer(devices.phoneA.client(), seIdOf(devices.cardB), 3_000n, freshKey()),
      47_000n,
    );
    expected['bank-a'] -= 3_000n;
    expected['bank-b'] += 3_000n;
    await invariant();
    const [paid, received] = [
      (await poolEntries(bankA)).slice(entriesA.length),
      (await poolEntries(bankB)).slice(entriesB.length),
    ];
    assert.deepEqual(
      [...paid, ...received].map((entry) => [entry.kind, entry.direction, entry.amount]),
      [
        ['payment', 'debit', 3_000n],
        ['payment', 'credit', 3_000n],
      ],
    );
    assert.equal(paid[0]!.paymentId, received[0]!.paymentId);
    assert.equal((await supply(bankB)).queued, 3_000n);
    assert.equal(await appB.renew(devices.cardB.client(), freshKey()), 13_000n);
    assert.equal((await supply(bankB)).queued, 0n);
    await invariant();
  });

  test('SIGKILL after every local commit and ledger call: one issuance, one movement, nothing lost', async () => {
    // SIGTERM stops a DCP cleanly; it comes back armed for the first crash.
    assert.deepEqual(await bankA.process.stop('SIGTERM'), { code: 0, signal: null });
    await bankA.restart({ crashAt: crashCases[0]!.point });
    const changed = await runCrashCases(
      {
        ledger: system.ledger,
        payerUrl: () => bankA.url,
        payerPool: bankA.poolAccountId,
        payeePool: bankB.poolAccountId,
        walletAccount: walletA.accountId,
        supply: (dcp) => supply(dcp === 'payer' ? bankA : bankB),
        countIssuances: (operationId) =>
          Promise.resolve(
            countRows(
              bankA.databaseFile,
              'SELECT COUNT(*) AS n FROM dcp_issuances WHERE operation_id = ?',
              operationId,
            ),
          ),
        crash: async (point, next, request) => {
          // The connection dies with the process: no answer at all (fetch fails; one attempt).
          await assert.rejects(request(), (error: unknown) => {
            assert.ok(isCbdcError(error) && error.code === 'dcpUnavailable', String(error));
            assert.match(error.message, /TypeError/);
            return true;
          });
          assert.deepEqual(await bankA.process.exited, { code: null, signal: 'SIGKILL' });
          assert.match(
            bankA.process.stderr,
            new RegExp(`dcp crash switch: SIGKILL at ${point.replace('.', '\\.')}`),
          );
          await bankA.restart(next === undefined ? {} : { crashAt: next });
        },
      },
      devices.phoneA,
      devices.cardB,
      appB,
    );
    expected['bank-a'] += changed.payer;
    expected['bank-b'] += changed.payee;
    await invariant();
  });
});
