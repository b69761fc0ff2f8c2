// The ledger's HTTP API through `inject`, on both engines: money moves, idempotency, holds,
// statements, and every kind of bad input refused with its stable code and no change at all.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines } from '../../testing/scratch.ts';
import { pathParameterLengthMax } from '../../service-kit/app.ts';
import { apiKeyDigest } from './auth.ts';
import {
  balanceOf,
  buildWorld,
  call,
  errorCode,
  freshKey,
  ledgerFixture,
  newApiKey,
  type LedgerFixture,
  type World,
} from '../../testing/ledger.ts';
import { requestBodyBytesMax } from '../domain/limits.ts';

for (const engine of engines) {
  describe(`ledger API on ${engine}`, () => {
    let fixture: LedgerFixture;
    let world: World;
    const balances = (...accounts: string[]) =>
      Promise.all(accounts.map((account) => balanceOf(fixture.app, fixture.operatorKey, account)));

    before(async () => {
      fixture = await ledgerFixture(engine);
      world = await buildWorld(fixture.app, fixture.operatorKey);
      const issued = await call(fixture.app, world.operatorKey, 'POST', '/v1/issuances', {
        key: freshKey(),
        body: { accountId: world.bankAccount, amount: '100000' },
      });
      assert.equal(issued.status, 201);
      const funded = await call(fixture.app, world.bankKey, 'POST', '/v1/payments', {
        key: freshKey(),
        body: { payerAccountId: world.bankAccount, payeeAccountId: world.poolAccount, amount: '20000' },
      });
      assert.equal(funded.status, 201);
    });
    after(() => fixture.close());

    test('issuance creates money: the issuance account goes negative by the same amount', async () => {
      assert.deepEqual(await balances('issuance', world.bankAccount, world.poolAccount), [
        -100000n,
        80000n,
        20000n,
      ]);
    });

    test('a replay answers the first answer and moves nothing; a changed body under the same key is refused', async () => {
      const key = freshKey();
      const body = {
        payerAccountId: world.poolAccount,
        payeeAccountId: world.walletAccount,
        amount: '1500',
        reference: 'load 1',
      };
      const first = await call(fixture.app, world.dcpKey, 'POST', '/v1/payments', { key, body });
      const again = await call(fixture.app, world.dcpKey, 'POST', '/v1/payments', { key, body });
      assert.equal(first.status, 201);
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, first.body);
      assert.equal(first.replayed, false);
      assert.equal(again.replayed, true);
      const before = await balances(world.poolAccount, world.walletAccount);
      const changed = await call(fixture.app, world.dcpKey, 'POST', '/v1/payments', {
        key,
        body: { ...body, amount: '1501' },
      });
      assert.equal(changed.status, 409);
      assert.equal(errorCode(changed), 'idempotencyKeyReusedWithDifferentRequest');
      assert.deepEqual(await balances(world.poolAccount, world.walletAccount), before);
      assert.deepEqual(before, [18500n, 1500n]);
      const paymentId = (first.body['payment'] as { id: string }).id;
      const read = await call(fixture.app, world.dcpKey, 'GET', `/v1/payments/${paymentId}`);
      assert.deepEqual(read.body, first.body);
      const hidden = await call(fixture.app, world.otherDcpKey, 'GET', `/v1/payments/${paymentId}`);
      assert.equal(errorCode(hidden), 'paymentNotFound');
    });

    test('bad input gets a 4xx with a stable code and changes nothing', async () => {
      const watched = [
        'issuance',
        world.bankAccount,
        world.poolAccount,
        world.walletAccount,
        world.otherWalletAccount,
      ];
      const before = await balances(...watched);
      const statementLength = async () =>
        (
          await call(
            fixture.app,
            world.operatorKey,
            'GET',
            `/v1/accounts/${world.poolAccount}/statement?limit=200`,
          )
        ).body['entries'] as unknown[];
      const entriesBefore = (await statementLength()).length;
      const pay = (amount: unknown, extra: Record<string, unknown> = {}) => ({
        payerAccountId: world.poolAccount,
        payeeAccountId: world.walletAccount,
        amount,
        ...extra,
      });
      const cases: {
        name: string;
        key?: string;
        apiKey?: string;
        method?: 'GET' | 'POST' | 'PUT';
        url?: string;
        body?: unknown;
        rawBody?: string;
        noKey?: boolean;
        status: number;
        code: string;
      }[] = [
        { name: 'amount as a JSON number', body: pay(5), status: 400, code: 'requestInvalid' },
        { name: 'zero amount', body: pay('0'), status: 400, code: 'amountMustExceedZero' },
        { name: 'negative amount', body: pay('-5'), status: 400, code: 'amountMustExceedZero' },
        {
          name: 'amount above movementAmountMax',
          body: pay('1000000000000000001'),
          status: 400,
          code: 'amountAboveMaximum',
        },
        {
          name: 'amount of 20 digits',
          body: pay('12345678901234567890'),
          status: 400,
          code: 'amountMalformed',
        },
        { name: 'amount with leading zeros', body: pay('007'), status: 400, code: 'amountMalformed' },
        { name: 'fractional amount', body: pay('1.5'), status: 400, code: 'amountMalformed' },
        { name: 'extra field', body: pay('5', { memo: 'x' }), status: 400, code: 'requestInvalid' },
        {
          name: 'missing field',
          body: { payerAccountId: world.poolAccount, amount: '5' },
          status: 400,
          code: 'requestInvalid',
        },
        { name: 'no idempotency key', body: pay('5'), noKey: true, status: 400, code: 'requestInvalid' },
        { name: 'malformed JSON', rawBody: '{"amount": ', status: 400, code: 'requestBodyMalformed' },
        {
          name: 'oversized body',
          body: pay('5', { reference: 'x'.repeat(requestBodyBytesMax) }),
          status: 413,
          code: 'requestBodyTooLarge',
        },
        {
          name: 'unknown payee',
          body: pay('5', { payeeAccountId: 'acc_nobody' }),
          status: 404,
          code: 'accountNotFound',
        },
        {
          name: "someone else's account",
          apiKey: world.otherDcpKey,
          body: pay('5'),
          status: 403,
          code: 'notAccountOwner',
        },
        {
          name: 'payer is payee',
          body: pay('5', { payeeAccountId: world.poolAccount }),
          status: 400,
          code: 'payerMustDifferFromPayee',
        },
        { name: 'more than the balance', body: pay('18501'), status: 409, code: 'insufficientBalance' },
        {
          name: 'a payment from the issuance account',
          apiKey: world.operatorKey,
          body: pay('5', { payerAccountId: 'issuance' }),
          status: 400,
          code: 'issuanceAccountOnlyIssues',
        },
        {
          name: 'issuance by a DCP',
          url: '/v1/issuances',
          body: { accountId: world.poolAccount, amount: '5' },
          status: 403,
          code: 'roleNotAllowed',
        },
        {
          name: 'issuance into a wallet',
          apiKey: world.operatorKey,
          url: '/v1/issuances',
          body: { accountId: world.walletAccount, amount: '5' },
          status: 400,
          code: 'issuanceMustCreditIntermediary',
        },
        {
          name: 'hold of zero seconds',
          url: '/v1/holds',
          body: pay('5', { expiresInSeconds: 0 }),
          status: 400,
          code: 'holdDurationOutOfRange',
        },
        { name: 'no API key', apiKey: '', body: pay('5'), status: 403, code: 'apiKeyMissing' },
        { name: 'unknown API key', apiKey: newApiKey(), body: pay('5'), status: 403, code: 'apiKeyUnknown' },
        { name: 'unknown route', url: '/v1/nothing', body: {}, status: 404, code: 'routeNotFound' },
        {
          // Fastify's own answer was `414 {"error":"Bad Request","code":"FST_ERR_MAX_PARAM_LENGTH"}`.
          name: 'account id over the router bound',
          method: 'GET',
          url: `/v1/accounts/${'a'.repeat(pathParameterLengthMax + 1)}`,
          status: 414,
          code: 'pathParameterTooLong',
        },
        {
          name: 'a path with another method',
          method: 'PUT',
          body: pay('5'),
          status: 405,
          code: 'methodNotAllowed',
        },
        {
          name: 'reading another participant account',
          apiKey: world.otherDcpKey,
          method: 'GET',
          url: `/v1/accounts/${world.poolAccount}`,
          status: 403,
          code: 'notAccountOwner',
        },
        {
          name: 'a DCP opening an account for someone else',
          url: '/v1/accounts',
          body: { kind: 'wallet', ownerId: 'prt_00000001' },
          status: 403,
          code: 'roleNotAllowed',
        },
        {
          name: 'a DCP creating participants',
          url: '/v1/participants',
          body: { name: 'x', role: 'operator', apiKeySha256: apiKeyDigest(newApiKey()) },
          status: 403,
          code: 'roleNotAllowed',
        },
        {
          name: 'statement page too large',
          method: 'GET',
          url: `/v1/accounts/${world.poolAccount}/statement?limit=500`,
          status: 400,
          code: 'requestInvalid',
        },
      ];
      for (const item of cases) {
        const apiKey = item.apiKey ?? world.dcpKey;
        const method = item.method ?? 'POST';
        const result =
          apiKey === ''
            ? await fixture.app
                .inject({ method, url: item.url ?? '/v1/payments', payload: item.body as object })
                .then((response) => ({
                  status: response.statusCode,
                  body: response.json<Record<string, unknown>>(),
                  replayed: false,
                }))
            : await call(fixture.app, apiKey, method, item.url ?? '/v1/payments', {
                ...(item.body === undefined ? {} : { body: item.body }),
                ...(item.rawBody === undefined ? {} : { rawBody: item.rawBody }),
                ...(item.noKey === true || method === 'GET' ? {} : { key: freshKey() }),
              });
        assert.equal(errorCode(result), item.code, `${item.name}: ${JSON.stringify(result.body)}`);
        assert.equal(result.status, item.status, item.name);
        const error = result.body['error'] as { number: number; message: string };
        assert.equal(typeof error.number, 'number', item.name);
        assert.deepEqual(
          Object.keys(result.body['error'] as object).sort(),
          ['code', 'message', 'number'],
          item.name,
        );
      }
      assert.deepEqual(await balances(...watched), before);
      assert.equal((await statementLength()).length, entriesBefore);
    });

    test('a hold reserves, a capture pays, a release frees, an expired hold cannot be captured', async () => {
      const holds = (body: Record<string, unknown>) =>
        call(fixture.app, world.dcpKey, 'POST', '/v1/holds', {
          key: freshKey(),
          body: {
            payerAccountId: world.walletAccount,
            payeeAccountId: world.poolAccount,
            expiresInSeconds: 60,
            ...body,
          },
        });
      const [walletBefore, poolBefore] = await balances(world.walletAccount, world.poolAccount);
      assert.equal(walletBefore, 1500n);
      const placed = await holds({ amount: '1000' });
      assert.equal(placed.status, 201);
      const holdId = (placed.body['hold'] as { id: string }).id;
      const view = await call(fixture.app, world.dcpKey, 'GET', `/v1/accounts/${world.walletAccount}`);
      assert.deepEqual(
        [view.body['account']].map((a) => {
          const { balance, held, available } = a as Record<string, string>;
          return [balance, held, available];
        }),
        [['1500', '1000', '500']],
      );
      const tooMuch = await call(fixture.app, world.dcpKey, 'POST', '/v1/payments', {
        key: freshKey(),
        body: { payerAccountId: world.walletAccount, payeeAccountId: world.poolAccount, amount: '501' },
      });
      assert.equal(errorCode(tooMuch), 'insufficientBalance');

      const captured = await call(fixture.app, world.dcpKey, 'POST', `/v1/holds/${holdId}/capture`);
      assert.equal(captured.status, 200);
      assert.equal((captured.body['hold'] as { status: string }).status, 'captured');
      const again = await call(fixture.app, world.dcpKey, 'POST', `/v1/holds/${holdId}/capture`);
      assert.deepEqual(again.body, captured.body);
      assert.equal(again.replayed, true);
      assert.deepEqual(await balances(world.walletAccount, world.poolAccount), [500n, poolBefore! + 1000n]);
      const releaseCaptured = await call(fixture.app, world.dcpKey, 'POST', `/v1/holds/${holdId}/release`);
      assert.equal(errorCode(releaseCaptured), 'holdAlreadyCaptured');
      const stranger = await call(fixture.app, world.otherDcpKey, 'POST', `/v1/holds/${holdId}/capture`);
      assert.equal(errorCode(stranger), 'holdNotFound');

      const second = await holds({ amount: '200' });
      const secondId = (second.body['hold'] as { id: string }).id;
      const released = await call(fixture.app, world.dcpKey, 'POST', `/v1/holds/${secondId}/release`);
      assert.equal((released.body['hold'] as { status: string }).status, 'released');
      const captureReleased = await call(fixture.app, world.dcpKey, 'POST', `/v1/holds/${secondId}/capture`);
      assert.equal(errorCode(captureReleased), 'holdAlreadyReleased');

      const third = await holds({ amount: '300', expiresInSeconds: 5 });
      const thirdId = (third.body['hold'] as { id: string }).id;
      fixture.clock.advance(5_000);
      const expired = await call(fixture.app, world.dcpKey, 'GET', `/v1/holds/${thirdId}`);
      assert.equal((expired.body['hold'] as { status: string }).status, 'expired');
      const late = await call(fixture.app, world.dcpKey, 'POST', `/v1/holds/${thirdId}/capture`);
      assert.equal(late.status, 409);
      assert.equal(errorCode(late), 'holdExpired');
      const freed = await call(fixture.app, world.dcpKey, 'GET', `/v1/accounts/${world.walletAccount}`);
      assert.equal((freed.body['account'] as { available: string }).available, '500');
      assert.deepEqual(await balances(world.walletAccount, world.poolAccount), [500n, poolBefore! + 1000n]);
    });

    test('the statement pages through entries in order with running balances', async () => {
      for (let i = 1; i <= 5; i++) {
        const paid = await call(fixture.app, world.bankKey, 'POST', '/v1/payments', {
          key: freshKey(),
          body: { payerAccountId: world.bankAccount, payeeAccountId: world.poolAccount, amount: String(i) },
        });
        assert.equal(paid.status, 201);
      }
      const seen: { sequence: number; direction: string; amount: string; balanceAfter: string }[] = [];
      let after: string | null = '0';
      let pages = 0;
      while (after !== null) {
        const page = await call(
          fixture.app,
          world.bankKey,
          'GET',
          `/v1/accounts/${world.bankAccount}/statement?after=${after}&limit=2`,
        );
        assert.equal(page.status, 200);
        seen.push(...(page.body['entries'] as typeof seen));
        after = page.body['next'] as string | null;
        pages++;
        assert.ok(pages < 20);
      }
      assert.deepEqual(
        seen.map((entry) => entry.sequence),
        seen.map((_entry, index) => index + 1),
      );
      let balance = 0n;
      for (const entry of seen) {
        balance += entry.direction === 'credit' ? BigInt(entry.amount) : -BigInt(entry.amount);
        assert.equal(BigInt(entry.balanceAfter), balance);
      }
      assert.equal(balance, await balanceOf(fixture.app, fixture.operatorKey, world.bankAccount));
    });

    test('accounts follow roles: kinds fit the owner, replays answer the same account', async () => {
      const me = await call(fixture.app, world.dcpKey, 'GET', '/v1/participants/me');
      const dcpId = (me.body['participant'] as { id: string }).id;
      const wrongKind = await call(fixture.app, world.dcpKey, 'POST', '/v1/accounts', {
        key: freshKey(),
        body: { kind: 'intermediary', ownerId: dcpId },
      });
      assert.equal(errorCode(wrongKind), 'accountKindNotAllowedForOwner');
      const key = freshKey();
      const first = await call(fixture.app, world.dcpKey, 'POST', '/v1/accounts', {
        key,
        body: { kind: 'wallet', ownerId: dcpId },
      });
      const again = await call(fixture.app, world.dcpKey, 'POST', '/v1/accounts', {
        key,
        body: { kind: 'wallet', ownerId: dcpId },
      });
      assert.deepEqual(again.body, first.body);
      const unknownOwner = await call(fixture.app, world.operatorKey, 'POST', '/v1/accounts', {
        key: freshKey(),
        body: { kind: 'wallet', ownerId: 'prt_nobody' },
      });
      assert.equal(errorCode(unknownOwner), 'participantNotFound');
      const sameKey = await call(fixture.app, world.operatorKey, 'POST', '/v1/participants', {
        key: freshKey(),
        body: { name: 'copy', role: 'dcp', apiKeySha256: apiKeyDigest(world.dcpKey) },
      });
      assert.equal(errorCode(sameKey), 'apiKeyAlreadyRegistered');
    });

    test('health, metrics and the OpenAPI document are served', async () => {
      const health = await fixture.app.inject({ url: '/healthz' });
      assert.deepEqual(health.json(), { status: 'ok' });
      const metrics = await fixture.app.inject({ url: '/metrics' });
      assert.match(
        metrics.body,
        /ledger_http_requests_total\{method="POST",route="\/v1\/payments",status="201"\}/,
      );
      assert.match(metrics.body, /ledger_payments_total\{kind="payment"\}/);
      const openapi = (await fixture.app.inject({ url: '/openapi.json' })).json<{
        paths: Record<string, unknown>;
      }>();
      assert.deepEqual(Object.keys(openapi.paths).sort(), [
        '/v1/accounts',
        '/v1/accounts/{accountId}',
        '/v1/accounts/{accountId}/statement',
        '/v1/holds',
        '/v1/holds/{holdId}',
        '/v1/holds/{holdId}/capture',
        '/v1/holds/{holdId}/release',
        '/v1/issuances',
        '/v1/participants',
        '/v1/participants/me',
        '/v1/payments',
        '/v1/payments/{paymentId}',
      ]);
    });
  });
}
