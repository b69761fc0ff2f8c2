// DirectoryClient against a real listening directory (HTTP over a socket), and against scripted
// fetches for what a real server rarely does: time out, answer 5xx, answer garbage.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../core/bytes.ts';
import { isCbdcError } from '../../core/errors.ts';
import { encodeSigned } from '../../core/signed.ts';
import { DirectoryClient, DirectoryRefusal } from './client.ts';
import {
  dcpIdOf,
  directoryFixture,
  freshKey,
  issueSecureElement,
  type DirectoryFixture,
} from '../../testing/directory.ts';

describe('DirectoryClient over HTTP', () => {
  let fixture: DirectoryFixture;
  let baseUrl: string;
  const client = (apiKey?: string) =>
    new DirectoryClient({ baseUrl, ...(apiKey === undefined ? {} : { apiKey }), timeoutMs: 2_000 });

  before(async () => {
    fixture = await directoryFixture('sqlite');
    baseUrl = await fixture.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => fixture.close());

  test('every call decodes into typed values', async () => {
    const operator = client(fixture.operatorKey);
    assert.equal((await operator.whoAmI()).role, 'operator');
    const created = await operator.createParticipant(freshKey(), { name: 'Second MDS', role: 'mds' });
    assert.equal(created.value.participant.role, 'mds');
    assert.equal(created.value.participant.dcpId, null);
    assert.equal((await client(created.value.apiKey).whoAmI()).id, created.value.participant.id);

    const dcp = client(fixture.dcpAKey);
    const se = issueSecureElement(fixture.pki, 'bank-a', 'card');
    const key = freshKey();
    const registered = await dcp.registerSecureElement(key, { certificate: se.certificate, walletId: 'w-1' });
    assert.equal(registered.replayed, false);
    assert.equal(registered.value.seId, se.seId);
    assert.equal(registered.value.kind, 'card');
    assert.equal(toHex(encodeSigned(registered.value.certificate)), se.hex);
    assert.equal(registered.value.walletId, 'w-1');
    const replay = await dcp.registerSecureElement(key, { certificate: se.certificate, walletId: 'w-1' });
    assert.equal(replay.replayed, true);
    assert.deepEqual(replay.value, registered.value);

    const mds = client(fixture.mdsKey);
    assert.equal((await mds.secureElement(se.seId)).walletId, null);
    const suspended = await mds.changeStatus(freshKey(), se.seId, { status: 'suspended', reason: 'alert' });
    assert.equal(suspended.value.secureElement.history.length, 2);
    const list = await client().denyList(suspended.value.denyListVersion - 1);
    assert.deepEqual(list.delta?.added, [se.seId]);
    assert.equal(list.signed.body.version, suspended.value.denyListVersion);
    assert.equal((await client().denyList()).delta, null);

    const trust = await client().trustAnchors();
    assert.equal(trust.dcpIssuers.length, 2);
    assert.equal(
      toHex(trust.directory.body.subjectId),
      toHex(fixture.pki.directory.certificate.body.subjectId),
    );

    const dcpId = dcpIdOf(fixture.pki, 'bank-a');
    const put = await dcp.putDcpEndpoint(freshKey(), dcpId, { baseUrl: 'https://a.example' });
    assert.deepEqual(await client(fixture.dcpBKey).dcpEndpoint(dcpId), put.value);
  });

  test('refusals become DirectoryRefusal with the code and HTTP status, never retried', async () => {
    let calls = 0;
    const counting = new DirectoryClient({
      baseUrl,
      apiKey: fixture.dcpBKey,
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    const foreign = issueSecureElement(fixture.pki, 'bank-a', 'phone');
    await assert.rejects(
      counting.registerSecureElement(freshKey(), { certificate: foreign.certificate, walletId: 'w' }),
      (error) =>
        error instanceof DirectoryRefusal &&
        error.code === 'certificateIssuerNotCaller' &&
        error.status === 403,
    );
    assert.equal(calls, 1);
    await assert.rejects(
      counting.secureElement('0'.repeat(32)),
      (error) => error instanceof DirectoryRefusal && error.code === 'secureElementNotRegistered',
    );
    await assert.rejects(
      client().whoAmI(),
      (error) => error instanceof DirectoryRefusal && error.code === 'apiKeyMissing',
    );
  });
});

describe('DirectoryClient retries and answer checks', () => {
  const noSleep = () => Promise.resolve();
  const scripted = (answers: (() => Response | Promise<Response>)[]) => {
    let index = 0;
    const fetcher: typeof fetch = () => {
      const next = answers[Math.min(index++, answers.length - 1)]!;
      return Promise.resolve(next());
    };
    return { fetcher, calls: () => index };
  };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const endpoint = {
    dcp: { dcpId: 'ab'.repeat(16), baseUrl: 'https://a.example', updatedAt: '2030-01-01T00:00:00.000Z' },
  };

  test('connection failures and 5xx are retried up to attemptsMax, then directoryUnavailable', async () => {
    const refused = () => Promise.reject(new TypeError('fetch failed'));
    const recovering = scripted([refused, () => json(503, {}), () => json(200, endpoint)]);
    const client = new DirectoryClient({
      baseUrl: 'http://x',
      apiKey: 'k'.repeat(40),
      fetch: recovering.fetcher,
      sleep: noSleep,
    });
    assert.deepEqual(await client.dcpEndpoint('ab'.repeat(16)), endpoint.dcp);
    assert.equal(recovering.calls(), 3);

    const down = scripted([refused]);
    const failing = new DirectoryClient({
      baseUrl: 'http://x',
      fetch: down.fetcher,
      sleep: noSleep,
      attemptsMax: 4,
    });
    await assert.rejects(
      failing.denyList(),
      (error) => isCbdcError(error) && error.code === 'directoryUnavailable',
    );
    assert.equal(down.calls(), 4);
  });

  test('an answer that does not decode is directoryAnswerInvalid, naming the field', async () => {
    const cases: [Response, RegExp][] = [
      [new Response('not json', { status: 200 }), /not JSON/],
      [json(200, { dcp: { ...endpoint.dcp, dcpId: 'XYZ' } }), /dcp\.dcpId/],
      [
        json(404, { error: { code: 'somethingElse', number: 1, message: 'x' } }),
        /without a known error code/,
      ],
    ];
    for (const [response, message] of cases) {
      const client = new DirectoryClient({
        baseUrl: 'http://x',
        fetch: () => Promise.resolve(response),
        sleep: noSleep,
      });
      await assert.rejects(
        client.dcpEndpoint('ab'.repeat(16)),
        (error) =>
          isCbdcError(error) && error.code === 'directoryAnswerInvalid' && message.test(error.message),
      );
    }
    const badList = new DirectoryClient({
      baseUrl: 'http://x',
      fetch: () => Promise.resolve(json(200, { version: 1, time: 0, signed: '80', delta: null })),
    });
    await assert.rejects(
      badList.denyList(),
      (error) => isCbdcError(error) && /answer\.signed/.test(error.message),
    );
  });
});
