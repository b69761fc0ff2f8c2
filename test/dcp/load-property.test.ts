// No honest user loses value (issue 8), as a property: random concurrent loads, renewals and unloads
// of one card with a random balance limit, the settlements from another client than the loads, with
// offline payments into the card landing between a load's AUTHENTICATE and its LOAD (so the card
// meets its limit and refuses loads the DCP issued),
// never leave value that no SE holds and no wallet got back. After every run, over HTTP and APDUs:
// both wallets + both devices = what the wallets were funded with, the DCP's outstanding value is
// what the devices hold, and the pool invariant holds with nothing in flight. A real ledger, the real
// directory and a DCP, on SQLite in this process.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Issuance } from '../../src/core/issuance.ts';
import { DcpRefusal } from '../../src/dcp/api/client.ts';
import { poolDifference } from '../../src/dcp/domain/invariant.ts';
import { DeviceApp, type SecureElementPort } from '../../src/device/device-app.ts';
import type { Device } from '../../src/device/device.ts';
import { OfflinePayment } from '../../src/device/offline-payment.ts';
import { SecureElementRefused } from '../../src/device/se-client.ts';
import { freshKey, newDevice, startWorld, verifier } from './fixtures.ts';

const cardFunded = 1_000_000n;
const phoneFunded = 1_000_000n;
const phoneLoaded = 400_000n;

/** DCP refusals an honest app meets when it asks for more than the card may hold or holds. */
const expectedDcpRefusals = new Set([
  'loadBalanceLimitExceeded',
  'loadUnseenExceedsBalanceLimit',
  'unloadExceedsClaim',
  'claimEmpty',
]);
/** SE refusals of an offline payment into a full card. */
const expectedPaymentRefusals = new Set(['balanceLimitExceeded', 'paymentLimitExceeded']);

const settlement = fc.oneof(
  fc.constant({ kind: 'renewal' as const }),
  fc.record({ kind: fc.constant('unload' as const), amount: fc.bigInt({ min: 1n, max: 40_000n }) }),
);
const round = fc.record({
  loads: fc.array(fc.bigInt({ min: 1n, max: 25_000n }), { maxLength: 6 }),
  settlement: fc.option(settlement, { nil: undefined }),
  /** A load the DCP answers before the round's settlement starts and the card installs after it. */
  late: fc.option(fc.bigInt({ min: 1n, max: 25_000n }), { nil: undefined }),
  /** An offline payment into the card, made just before the round's first LOAD. */
  received: fc.option(fc.bigInt({ min: 1n, max: 15_000n }), { nil: undefined }),
});
const scenario = fc.record({
  balanceMax: fc.bigInt({ min: 10_000n, max: 60_000n }),
  rounds: fc.array(round, { minLength: 1, maxLength: 4 }),
});

interface Counts {
  installed: number;
  refusedByCard: number;
  settled: number;
}

/** The card as its app sees it, paid offline by `phone` just before the next LOAD when one is due. */
function cardPort(card: Device, phone: Device, counts: Counts) {
  const client = card.client();
  let due: bigint | undefined;
  const port: SecureElementPort = {
    initialise: () => client.initialise(),
    personalise: (personalisation) => {
      client.personalise(personalisation);
    },
    getData: () => client.getData(),
    load: (issuance: Issuance) => {
      if (due !== undefined) payOffline(phone, card, due);
      due = undefined;
      const balance = client.load(issuance);
      counts.installed++;
      return balance;
    },
    refuseLoad: (issuance) => {
      counts.refusedByCard++;
      return client.refuseLoad(issuance);
    },
    beginSync: (nonce) => client.beginSync(nonce),
    completeSync: (renewal, credits, limits, denyList) =>
      client.completeSync(renewal, credits, limits, denyList),
    authenticate: (nonce, digest) => client.authenticate(nonce, digest),
    updateLimits: (limits) => {
      client.updateLimits(limits);
    },
    updateDenyList: (list) => {
      client.updateDenyList(list);
    },
  };
  return { port, receiveBeforeNextLoad: (amount: bigint | undefined) => (due = amount) };
}

function payOffline(payer: Device, payee: Device, amount: bigint): void {
  try {
    assert.deepEqual(new OfflinePayment(payer, payee, amount).tap(), { outcome: 'completed' });
  } catch (error) {
    if (!(error instanceof SecureElementRefused && expectedPaymentRefusals.has(error.code ?? '')))
      throw error;
  }
}

/** A load answered by the DCP but not installed yet (or undefined when the DCP refused it). */
async function answeredLoad(app: DeviceApp, port: SecureElementPort, amount: bigint) {
  try {
    return await app.client.load(freshKey(), await app.prepareLoad(port, amount));
  } catch (error) {
    if (!(error instanceof DcpRefusal && expectedDcpRefusals.has(error.code))) throw error;
    return undefined;
  }
}

/**
 * Installs a load a settlement may have overtaken: that sync delivered it again, so LOAD is then a
 * no-op, or `issuanceRefused` when COMPLETE SYNC could not hold it and its value went back.
 */
async function installLate(app: DeviceApp, port: SecureElementPort, issuance: Issuance): Promise<void> {
  try {
    await app.install(port, issuance);
  } catch (error) {
    if (!(error instanceof SecureElementRefused && error.code === 'issuanceRefused')) throw error;
  }
}

async function honestly(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (error) {
    if (!(error instanceof DcpRefusal && expectedDcpRefusals.has(error.code))) throw error;
  }
}

test('random concurrent loads, renewals and unloads never leave value no SE holds and no wallet got back', async () => {
  const totals: Counts = { installed: 0, refusedByCard: 0, settled: 0 };
  await fc.assert(
    fc.asyncProperty(scenario, async ({ balanceMax, rounds }) => {
      // With an MDS: an unload of value the card received offline passes the unload gate on its yes.
      const world = await startWorld('sqlite', {
        dcpNames: ['bank'],
        limits: { version: 1, card: { balanceMax } },
        mds: { renewalCheck: 'async' },
      });
      try {
        const dcp = world.dcp('bank');
        const app = new DeviceApp({ baseUrl: dcp.server.url, verifier });
        // Settlements from another client (a second reader or app): nothing orders them after the
        // loads in flight, so a sync may overtake a load the DCP answered (it delivers it again).
        const syncer = new DeviceApp({ baseUrl: dcp.server.url, verifier });
        const [cardWallet, phoneWallet] = [await dcp.createWallet('card'), await dcp.createWallet('phone')];
        await world.fund(cardWallet.accountId, cardFunded);
        await world.fund(phoneWallet.accountId, phoneFunded);
        const card = newDevice('card', 'card');
        const phone = newDevice('phone', 'phone');
        await app.personalise(card.client(), 'card', cardWallet.id, dcp.operatorKey, freshKey());
        await app.personalise(phone.client(), 'phone', phoneWallet.id, dcp.operatorKey, freshKey());
        await app.load(phone.client(), phoneLoaded, freshKey());
        const counts: Counts = { installed: 0, refusedByCard: 0, settled: 0 };
        const { port, receiveBeforeNextLoad } = cardPort(card, phone, counts);
        for (const { loads, settlement, late, received } of rounds) {
          const lateAnswer = late === undefined ? undefined : await answeredLoad(app, port, late);
          receiveBeforeNextLoad(received);
          const settling =
            settlement === undefined
              ? []
              : [
                  honestly(
                    (settlement.kind === 'renewal'
                      ? syncer.renew(port, freshKey())
                      : syncer.unload(port, settlement.amount, freshKey())
                    ).then(() => counts.settled++),
                  ),
                ];
          await Promise.all([
            ...loads.map((amount) => honestly(app.load(port, amount, freshKey()))),
            ...settling,
          ]);
          receiveBeforeNextLoad(undefined);
          if (lateAnswer !== undefined) await installLate(app, port, lateAnswer.issuance);
        }
        const balance = async (accountId: string) => (await world.ledgerOperator.account(accountId)).balance;
        const held = card.client().getData().balance + phone.client().getData().balance;
        const wallets = (await balance(cardWallet.accountId)) + (await balance(phoneWallet.accountId));
        assert.equal(wallets + held, cardFunded + phoneFunded, 'value no SE holds and no wallet got back');
        assert.ok(card.client().getData().balance <= balanceMax);
        const supply = await dcp.supply();
        const pool = await balance(dcp.server.context.poolAccountId);
        assert.equal(supply.inFlight, 0n);
        assert.equal(supply.outstanding, held, 'every value issued and not retired is on a device');
        assert.equal(poolDifference({ ...supply, poolBalance: pool }), 0n);
        totals.installed += counts.installed;
        totals.refusedByCard += counts.refusedByCard;
        totals.settled += counts.settled;
      } finally {
        await world.close();
      }
    }),
    { numRuns: 12 },
  );
  // Not vacuous: loads were installed, loads were refused by the card and returned, settlements ran.
  assert.ok(totals.installed > 0, `installed ${totals.installed}`);
  assert.ok(totals.refusedByCard > 0, `refused by the card ${totals.refusedByCard}`);
  assert.ok(totals.settled > 0, `settled ${totals.settled}`);
});
