// Crash at every step, in this process, on both engines: bank-a's fault hook throws after each local
// commit and each ledger call of load, renewal, unload and an online transfer to a card of bank-b (the
// request fails with 500 and the server's state in memory is abandoned); bank-a restarts on the same
// database, reconciles its outbox with the ledger, and the device retries with the same key and body
// (crash-cases.ts). The real ledger and the real directory service run in this process too. The same
// scenario with real processes killed by SIGKILL is test/e2e/online-system.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isCbdcError } from '../../src/core/errors.ts';
import { DeviceApp } from '../../src/device/device-app.ts';
import type { FaultPoint } from '../../src/dcp/domain/ports.ts';
import { crashAtEnvironment, crashHookFromEnvironment } from '../../src/dcp/server.ts';
import { engines } from '../../src/testing/scratch.ts';
import { runCrashCases } from './crash-cases.ts';
import { freshKey, newDevice, startWorld, verifier, type World } from './fixtures.ts';

for (const engine of engines) {
  describe(`DCP crash safety on ${engine}`, () => {
    let world: World;
    let armed: FaultPoint | undefined;

    before(async () => {
      world = await startWorld(engine, {
        dcpNames: ['bank-a', 'bank-b'],
        faults: {
          'bank-a': (point) => {
            if (point !== armed) return;
            armed = undefined;
            throw new Error(`injected crash at ${point}`);
          },
        },
      });
    });

    after(async () => {
      await world.close();
    });

    test('a crash after any step of a load, renewal, unload or cross-DCP transfer leaves exactly one of each', async () => {
      const bankA = world.dcp('bank-a');
      const bankB = world.dcp('bank-b');
      const wallet = await bankA.createWallet('Bob');
      await world.fund(wallet.accountId, 1_000_000n);
      const phone = newDevice('phone', 'phone');
      const card = newDevice('card', 'card-b');
      const appB = new DeviceApp({ baseUrl: bankB.server.url, verifier });
      await new DeviceApp({ baseUrl: bankA.server.url, verifier }).personalise(
        phone.client(),
        'phone',
        wallet.id,
        bankA.operatorKey,
        freshKey(),
      );
      const walletB = await bankB.createWallet('Carol');
      await appB.personalise(card.client(), 'card', walletB.id, bankB.operatorKey, freshKey());

      await runCrashCases(
        {
          ledger: world.ledgerOperator,
          payerUrl: () => bankA.server.url,
          payerPool: bankA.server.context.poolAccountId,
          payeePool: bankB.server.context.poolAccountId,
          walletAccount: wallet.accountId,
          supply: (dcp) => (dcp === 'payer' ? bankA : bankB).supply(),
          countIssuances: (operationId) => bankA.server.context.store.countIssuances(operationId),
          crash: async (point, _next, request) => {
            armed = point;
            // The DCP answered 500 (internalError); the device's client tried once and says so.
            await assert.rejects(request(), (error: unknown) => {
              assert.ok(isCbdcError(error) && error.code === 'dcpUnavailable', String(error));
              assert.match(error.message, /HTTP 500/);
              return true;
            });
            assert.equal(armed, undefined, `${point} was reached`);
            await bankA.restart();
          },
        },
        phone,
        card,
        appB,
      );
    });
  });
}

test('the test-only crash switch is off unless set, and refuses a name that is not a fault point', () => {
  assert.equal(crashHookFromEnvironment({}), undefined);
  assert.equal(crashHookFromEnvironment({ [crashAtEnvironment]: '' }), undefined);
  assert.throws(
    () => crashHookFromEnvironment({ [crashAtEnvironment]: 'load.afterLunch' }),
    (error: unknown) => error instanceof RangeError && error.message.includes('load.afterIntent'),
  );
  // Armed for one point, it lets every other point pass (the SIGKILL itself: test/e2e/).
  const hook = crashHookFromEnvironment({ [crashAtEnvironment]: 'unload.afterCommit' });
  assert.ok(hook !== undefined);
  hook('load.afterIntent');
  hook('unload.afterPayment');
});
