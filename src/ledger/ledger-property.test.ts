// Conservation under concurrency, on both engines: several clients send random issuances,
// payments (some replayed concurrently under the same key), holds, captures and releases at once.
// Afterwards: the balances sum to zero (the issuance account holds minus the money issued), no
// other balance is or ever was negative, and every acknowledged payment is in the ledger exactly
// once (one debit on its payer's statement, one credit on its payee's).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { engines } from '../testing/scratch.ts';
import {
  buildWorld,
  call,
  freshKey,
  ledgerFixture,
  type LedgerFixture,
  type World,
} from '../testing/ledger.ts';

type Command =
  | { readonly op: 'issue'; readonly amount: number }
  | {
      readonly op: 'pay';
      readonly from: number;
      readonly to: number;
      readonly amount: number;
      readonly replay: boolean;
      readonly stranger: boolean;
    }
  | {
      readonly op: 'hold';
      readonly from: number;
      readonly to: number;
      readonly amount: number;
      readonly seconds: number;
    }
  | { readonly op: 'capture' | 'release'; readonly pick: number }
  | { readonly op: 'tick'; readonly ms: number };

const account = fc.integer({ min: 0, max: 3 });
const amount = fc.integer({ min: 1, max: 4_000 });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('issue' as const), amount: fc.integer({ min: 1, max: 10_000 }) }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('pay' as const),
      from: account,
      to: account,
      amount,
      replay: fc.boolean(),
      stranger: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('hold' as const),
      from: account,
      to: account,
      amount,
      seconds: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constantFrom('capture' as const, 'release' as const), pick: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 2_000 }) }),
  },
);

interface Statement {
  readonly entries: { paymentId: string; direction: string; amount: string; balanceAfter: string }[];
}

for (const engine of engines) {
  describe(`ledger conservation on ${engine}`, () => {
    let fixture: LedgerFixture;
    const allAccounts = new Set<string>(['issuance']);
    let movedPayments = 0;
    let runs = 0;
    const acknowledged = new Map<string, { payer: string; payee: string; amount: string }>();

    before(async () => {
      fixture = await ledgerFixture(engine);
    });
    after(() => fixture.close());

    const runClient = async (
      world: World,
      owners: readonly string[],
      keys: readonly string[],
      client: number,
      commands: readonly Command[],
    ) => {
      const accounts = [world.bankAccount, world.poolAccount, world.walletAccount, world.otherWalletAccount];
      const holds: string[] = [];
      const acknowledge = (body: Record<string, unknown>) => {
        const payment = body['payment'] as {
          id: string;
          payerAccountId: string;
          payeeAccountId: string;
          amount: string;
        };
        const earlier = acknowledged.get(payment.id);
        const record = {
          payer: payment.payerAccountId,
          payee: payment.payeeAccountId,
          amount: payment.amount,
        };
        if (earlier !== undefined) assert.deepEqual(earlier, record);
        acknowledged.set(payment.id, record);
      };
      for (const item of commands) {
        switch (item.op) {
          case 'issue': {
            const result = await call(fixture.app, world.operatorKey, 'POST', '/v1/issuances', {
              key: freshKey(),
              body: { accountId: world.bankAccount, amount: String(item.amount) },
            });
            assert.equal(result.status, 201);
            acknowledge(result.body);
            break;
          }
          case 'pay': {
            // The owner of the payer account pays, or (stranger) the next client, who must be refused.
            const payerOwner = keys.indexOf(owners[item.from]!);
            const apiKey = keys[item.stranger ? (payerOwner + 1) % keys.length : payerOwner]!;
            const request = {
              key: freshKey(),
              body: {
                payerAccountId: accounts[item.from],
                payeeAccountId: accounts[item.to],
                amount: String(item.amount),
              },
            };
            const results = await Promise.all(
              (item.replay ? [1, 2] : [1]).map(() =>
                call(fixture.app, apiKey, 'POST', '/v1/payments', request),
              ),
            );
            for (const result of results) {
              assert.ok([201, 400, 403, 409].includes(result.status), JSON.stringify(result.body));
              if (result.status === 201) acknowledge(result.body);
            }
            if (item.stranger) assert.ok(results.every((result) => result.status !== 201));
            break;
          }
          case 'hold': {
            const holder = keys.indexOf(owners[item.from]!);
            const result = await call(fixture.app, keys[holder]!, 'POST', '/v1/holds', {
              key: freshKey(),
              body: {
                payerAccountId: accounts[item.from],
                payeeAccountId: accounts[item.to],
                amount: String(item.amount),
                expiresInSeconds: item.seconds,
              },
            });
            if (result.status === 201) holds.push(`${holder}:${(result.body['hold'] as { id: string }).id}`);
            break;
          }
          case 'capture':
          case 'release': {
            if (holds.length === 0) break;
            const [owner, holdId] = holds[item.pick % holds.length]!.split(':') as [string, string];
            const result = await call(
              fixture.app,
              keys[Number(owner)]!,
              'POST',
              `/v1/holds/${holdId}/${item.op}`,
            );
            assert.ok([200, 409].includes(result.status), JSON.stringify(result.body));
            if (item.op === 'capture' && result.status === 200) acknowledge(result.body);
            break;
          }
          case 'tick':
            fixture.clock.advance(item.ms);
            break;
        }
      }
      return client;
    };

    test('balances sum to zero, never go negative, and every acknowledged payment is there once', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(command, { minLength: 10, maxLength: 30 }), { minLength: 3, maxLength: 4 }),
          async (clients) => {
            runs++;
            const world = await buildWorld(fixture.app, fixture.operatorKey);
            const accounts = [
              world.bankAccount,
              world.poolAccount,
              world.walletAccount,
              world.otherWalletAccount,
            ];
            accounts.forEach((id) => allAccounts.add(id));
            // Owner of each account (by key) and the client keys, indexed alike.
            const keys = [world.bankKey, world.dcpKey, world.otherDcpKey];
            const owners = [world.bankKey, world.dcpKey, world.dcpKey, world.otherDcpKey];
            // Seed money into every account, acknowledged like any other payment.
            const seeds = [
              [world.operatorKey, '/v1/issuances', { accountId: world.bankAccount, amount: '20000' }],
              [
                world.bankKey,
                '/v1/payments',
                { payerAccountId: world.bankAccount, payeeAccountId: world.poolAccount, amount: '6000' },
              ],
              [
                world.bankKey,
                '/v1/payments',
                {
                  payerAccountId: world.bankAccount,
                  payeeAccountId: world.otherWalletAccount,
                  amount: '4000',
                },
              ],
              [
                world.dcpKey,
                '/v1/payments',
                { payerAccountId: world.poolAccount, payeeAccountId: world.walletAccount, amount: '3000' },
              ],
            ] as const;
            for (const [apiKey, url, body] of seeds) {
              const seeded = await call(fixture.app, apiKey, 'POST', url, { key: freshKey(), body });
              assert.equal(seeded.status, 201);
              const payment = seeded.body['payment'] as {
                id: string;
                payerAccountId: string;
                payeeAccountId: string;
                amount: string;
              };
              acknowledged.set(payment.id, {
                payer: payment.payerAccountId,
                payee: payment.payeeAccountId,
                amount: payment.amount,
              });
            }
            await Promise.all(
              clients.map((commands, client) => runClient(world, owners, keys, client, commands)),
            );
            await checkLedger();
          },
        ),
        { numRuns: 8 },
      );
      // The property is only meaningful if money actually moved between participants.
      assert.ok(movedPayments > 50, `only ${movedPayments} payments went through`);
    });

    async function statementOf(accountId: string): Promise<Statement['entries']> {
      const entries: Statement['entries'] = [];
      let next: string | null = '0';
      for (let page = 0; next !== null; page++) {
        assert.ok(page < 1_000);
        const result = await call(
          fixture.app,
          fixture.operatorKey,
          'GET',
          `/v1/accounts/${accountId}/statement?after=${next}&limit=200`,
        );
        entries.push(...(result.body['entries'] as Statement['entries']));
        next = result.body['next'] as string | null;
      }
      return entries;
    }

    async function checkLedger(): Promise<void> {
      let sum = 0n;
      const seen = new Map<string, { debit: number; credit: number }>();
      for (const id of allAccounts) {
        const view = await call(fixture.app, fixture.operatorKey, 'GET', `/v1/accounts/${id}`);
        const balance = BigInt((view.body['account'] as { balance: string }).balance);
        sum += balance;
        const entries = await statementOf(id);
        for (const entry of entries) {
          if (id !== 'issuance') assert.ok(BigInt(entry.balanceAfter) >= 0n, `${id} went negative`);
          const count = seen.get(entry.paymentId) ?? { debit: 0, credit: 0 };
          count[entry.direction as 'debit' | 'credit']++;
          seen.set(entry.paymentId, count);
          const acked = acknowledged.get(entry.paymentId);
          assert.ok(acked !== undefined, `payment ${entry.paymentId} in the ledger was never acknowledged`);
          assert.equal(entry.amount, acked.amount);
          assert.equal(id, entry.direction === 'debit' ? acked.payer : acked.payee);
        }
        if (id === 'issuance') assert.ok(balance <= 0n);
        else assert.ok(balance >= 0n);
      }
      assert.equal(sum, 0n);
      movedPayments = acknowledged.size - 4 * runs;
      for (const paymentId of acknowledged.keys()) {
        assert.deepEqual(seen.get(paymentId), { debit: 1, credit: 1 }, `payment ${paymentId}`);
      }
    }
  });
}
