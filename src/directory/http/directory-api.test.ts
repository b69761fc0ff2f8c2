// The directory's HTTP API through `inject`, on both engines: registration, lookups and privacy,
// status changes and their history, signed deny list versions and deltas, participants, DCP
// endpoints, trust anchors, operations routes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fromHex, toHex } from '../../core/bytes.ts';
import { decodeCbor } from '../../core/cbor.ts';
import { purposes } from '../../core/crypto.ts';
import { signedDenyListFromCbor, type SignedDenyList } from '../../core/deny-list.ts';
import { encodeSigned } from '../../core/signed.ts';
import { NodeVerifier } from '../../crypto/node-crypto.ts';
import { engines } from '../../testing/scratch.ts';
import {
  call,
  daySeconds,
  dcpIdOf,
  directoryFixture,
  errorCode,
  freshKey,
  issueSecureElement,
  type DirectoryFixture,
} from '../../testing/directory.ts';

interface SecureElementBody {
  readonly seId: string;
  readonly status: string;
  readonly walletId: string | null;
  readonly certificate: string;
  readonly validUntil: string;
  readonly history: readonly { status: string; reason: string; changedBy: string }[];
}

const secureElementOf = (body: Record<string, unknown>) => body['secureElement'] as SecureElementBody;

function signedList(body: Record<string, unknown>): SignedDenyList {
  return signedDenyListFromCbor(decodeCbor(fromHex(body['signed'] as string)!));
}

for (const engine of engines) {
  describe(`directory API on ${engine}`, () => {
    let fixture: DirectoryFixture;
    const verifier = new NodeVerifier();

    const register = (apiKey: string, certificate: string, walletId: string, key = freshKey()) =>
      call(fixture.app, apiKey, 'POST', '/v1/secure-elements', { key, body: { certificate, walletId } });
    const changeStatus = (apiKey: string, seId: string, status: string, reason: string, key = freshKey()) =>
      call(fixture.app, apiKey, 'POST', `/v1/secure-elements/${seId}/status`, {
        key,
        body: { status, reason },
      });
    const denyList = (query = '') => call(fixture.app, null, 'GET', `/v1/deny-list${query}`);

    before(async () => {
      fixture = await directoryFixture(engine);
    });
    after(() => fixture.close());

    test('a DCP registers its SE; a replay and the same certificate under a new key answer the same', async () => {
      const se = issueSecureElement(fixture.pki, 'bank-a', 'card');
      const key = freshKey();
      const first = await register(fixture.dcpAKey, se.hex, 'wallet-1', key);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const record = secureElementOf(first.body);
      assert.equal(record.seId, se.seId);
      assert.equal(record.status, 'active');
      assert.equal(record.walletId, 'wallet-1');
      assert.equal(record.certificate, se.hex);
      assert.deepEqual(
        record.history.map((change) => [change.status, change.reason]),
        [['active', 'registered']],
      );
      assert.deepEqual(first.body['secureElement'], {
        ...record,
        dcpId: dcpIdOf(fixture.pki, 'bank-a'),
        kind: 'card',
      });
      const replay = await register(fixture.dcpAKey, se.hex, 'wallet-1', key);
      assert.equal(replay.status, 201);
      assert.equal(replay.replayed, true);
      assert.deepEqual(replay.body, first.body);
      const again = await register(fixture.dcpAKey, se.hex, 'wallet-1');
      assert.equal(again.replayed, false);
      assert.deepEqual(again.body, first.body);
    });

    test('the wallet is shown to the owning DCP and operators only, never to the MDS or another DCP', async () => {
      const se = issueSecureElement(fixture.pki, 'bank-a', 'phone');
      assert.equal((await register(fixture.dcpAKey, se.hex, 'wallet-private')).status, 201);
      const seen = async (apiKey: string) => {
        const read = await call(fixture.app, apiKey, 'GET', `/v1/secure-elements/${se.seId}`);
        assert.equal(read.status, 200);
        return secureElementOf(read.body).walletId;
      };
      assert.equal(await seen(fixture.dcpAKey), 'wallet-private');
      assert.equal(await seen(fixture.operatorKey), 'wallet-private');
      assert.equal(await seen(fixture.dcpBKey), null);
      assert.equal(await seen(fixture.mdsKey), null);
      const changed = await changeStatus(fixture.mdsKey, se.seId, 'suspended', 'clone alert 7');
      assert.equal(secureElementOf(changed.body).walletId, null);
      const read = await call(fixture.app, fixture.mdsKey, 'GET', `/v1/secure-elements/${se.seId}`);
      assert.ok(!JSON.stringify(read.body).includes('wallet-private'));
    });

    test('the same SE under another wallet conflicts; a longer-lived certificate renews it; a shorter one conflicts', async () => {
      const se = issueSecureElement(fixture.pki, 'bank-a', 'card');
      assert.equal((await register(fixture.dcpAKey, se.hex, 'wallet-r')).status, 201);
      const other = await register(fixture.dcpAKey, se.hex, 'wallet-other');
      assert.equal(errorCode(other), 'secureElementWalletConflict');
      const longer = issueSecureElement(fixture.pki, 'bank-a', 'card', {
        publicKey: se.publicKey,
        validSeconds: 400 * daySeconds,
      });
      const renewed = await register(fixture.dcpAKey, longer.hex, 'wallet-r');
      assert.equal(renewed.status, 201);
      assert.equal(secureElementOf(renewed.body).certificate, longer.hex);
      assert.equal(secureElementOf(renewed.body).history.length, 1);
      const shorter = issueSecureElement(fixture.pki, 'bank-a', 'card', {
        publicKey: se.publicKey,
        validSeconds: 300 * daySeconds,
      });
      assert.equal(
        errorCode(await register(fixture.dcpAKey, shorter.hex, 'wallet-r')),
        'secureElementCertificateConflict',
      );
      await changeStatus(fixture.operatorKey, se.seId, 'suspended', 'lost card');
      const evenLonger = issueSecureElement(fixture.pki, 'bank-a', 'card', {
        publicKey: se.publicKey,
        validSeconds: 500 * daySeconds,
      });
      assert.equal(
        errorCode(await register(fixture.dcpAKey, evenLonger.hex, 'wallet-r')),
        'secureElementNotActive',
      );
    });

    test("another DCP's certificate for the same key never replaces the record, even under the same wallet id", async () => {
      const se = issueSecureElement(fixture.pki, 'bank-a', 'phone');
      assert.equal((await register(fixture.dcpAKey, se.hex, 'wallet-shared')).status, 201);
      const takeover = issueSecureElement(fixture.pki, 'bank-b', 'phone', {
        publicKey: se.publicKey,
        validSeconds: 900 * daySeconds,
      });
      const refused = await register(fixture.dcpBKey, takeover.hex, 'wallet-shared');
      assert.equal(refused.status, 409);
      assert.equal(errorCode(refused), 'secureElementOwnedByAnotherDcp');
      const read = await call(fixture.app, fixture.operatorKey, 'GET', `/v1/secure-elements/${se.seId}`);
      assert.equal(secureElementOf(read.body).certificate, se.hex);
    });

    test('active → suspended → active → revoked, each change in the history with reason and caller; revoked is final', async () => {
      const se = issueSecureElement(fixture.pki, 'bank-b', 'phone');
      assert.equal((await register(fixture.dcpBKey, se.hex, 'wallet-s')).status, 201);
      const me = async (apiKey: string) =>
        (
          (await call(fixture.app, apiKey, 'GET', '/v1/participants/me')).body['participant'] as {
            id: string;
          }
        ).id;
      const steps: [string, string, string][] = [
        [fixture.mdsKey, 'suspended', 'double spend suspected'],
        [fixture.operatorKey, 'active', 'cleared by investigation'],
        [fixture.mdsKey, 'revoked', 'double spend, alert 12'],
      ];
      for (const [apiKey, status, reason] of steps) {
        const changed = await changeStatus(apiKey, se.seId, status, reason);
        assert.equal(changed.status, 200, JSON.stringify(changed.body));
        assert.equal(secureElementOf(changed.body).status, status);
      }
      const read = secureElementOf(
        (await call(fixture.app, fixture.operatorKey, 'GET', `/v1/secure-elements/${se.seId}`)).body,
      );
      assert.deepEqual(
        read.history.map((change) => [change.status, change.reason, change.changedBy]),
        [
          ['active', 'registered', await me(fixture.dcpBKey)],
          ['suspended', 'double spend suspected', await me(fixture.mdsKey)],
          ['active', 'cleared by investigation', await me(fixture.operatorKey)],
          ['revoked', 'double spend, alert 12', await me(fixture.mdsKey)],
        ],
      );
      for (const status of ['active', 'suspended', 'revoked']) {
        const refused = await changeStatus(fixture.operatorKey, se.seId, status, 'try again');
        assert.equal(refused.status, 409);
        assert.equal(errorCode(refused), 'secureElementRevoked');
      }
      const twice = issueSecureElement(fixture.pki, 'bank-b', 'phone');
      await register(fixture.dcpBKey, twice.hex, 'wallet-t');
      assert.equal(
        errorCode(await changeStatus(fixture.mdsKey, twice.seId, 'active', 'x')),
        'statusTransitionInvalid',
      );
    });

    test('a status change replays its first answer; the same key for another change is refused', async () => {
      const se = issueSecureElement(fixture.pki, 'bank-a', 'card');
      await register(fixture.dcpAKey, se.hex, 'wallet-i');
      const key = freshKey();
      const first = await changeStatus(fixture.mdsKey, se.seId, 'suspended', 'alert 1', key);
      const replay = await changeStatus(fixture.mdsKey, se.seId, 'suspended', 'alert 1', key);
      assert.equal(replay.replayed, true);
      assert.deepEqual(replay.body, first.body);
      const other = await changeStatus(fixture.mdsKey, se.seId, 'revoked', 'alert 1', key);
      assert.equal(errorCode(other), 'idempotencyKeyReusedWithDifferentRequest');
      const read = await call(fixture.app, fixture.mdsKey, 'GET', `/v1/secure-elements/${se.seId}`);
      assert.equal(secureElementOf(read.body).status, 'suspended');
    });

    test('every change in and out of the deny set makes a new signed version; suspended → revoked does not', async () => {
      const start = await denyList();
      const startVersion = start.body['version'] as number;
      const se = issueSecureElement(fixture.pki, 'bank-a', 'phone');
      await register(fixture.dcpAKey, se.hex, 'wallet-d');
      const suspended = await changeStatus(fixture.mdsKey, se.seId, 'suspended', 'alert 2');
      assert.equal(suspended.body['denyListVersion'], startVersion + 1);
      const revoked = await changeStatus(fixture.mdsKey, se.seId, 'revoked', 'alert 2 confirmed');
      assert.equal(revoked.body['denyListVersion'], startVersion + 1);
      const current = await denyList();
      assert.equal(current.status, 200);
      assert.equal(current.body['version'], startVersion + 1);
      assert.equal(current.body['delta'], null);
      const list = signedList(current.body);
      assert.equal(list.body.version, startVersion + 1);
      assert.equal(list.body.time, fixture.clock.seconds);
      assert.ok(list.body.entries.map(toHex).includes(se.seId));
      const directory = fixture.pki.directory.certificate;
      assert.equal(toHex(list.body.directoryId), toHex(directory.body.subjectId));
      assert.ok(verifier.verify(directory.body.publicKey, purposes.denyList, list.bodyBytes, list.signature));
      const sorted = [...list.body.entries.map(toHex)].sort();
      assert.deepEqual(list.body.entries.map(toHex), sorted);

      const delta = await denyList(`?since=${startVersion}`);
      assert.deepEqual(delta.body['delta'], {
        fromVersion: startVersion,
        toVersion: startVersion + 1,
        added: [se.seId],
        removed: [],
      });
      assert.equal(delta.body['signed'], current.body['signed']);
      const none = await denyList(`?since=${startVersion + 1}`);
      assert.deepEqual(none.body['delta'], {
        fromVersion: startVersion + 1,
        toVersion: startVersion + 1,
        added: [],
        removed: [],
      });
      const future = await denyList(`?since=${startVersion + 2}`);
      assert.equal(future.status, 404);
      assert.equal(errorCode(future), 'denyListVersionUnknown');
    });

    test('unsuspending removes the SE in the next version; the delta from before shows neither', async () => {
      const before = (await denyList()).body['version'] as number;
      const se = issueSecureElement(fixture.pki, 'bank-b', 'card');
      await register(fixture.dcpBKey, se.hex, 'wallet-u');
      await changeStatus(fixture.operatorKey, se.seId, 'suspended', 'reported lost');
      const back = await changeStatus(fixture.operatorKey, se.seId, 'active', 'found again');
      assert.equal(back.body['denyListVersion'], before + 2);
      const fromMiddle = await denyList(`?since=${before + 1}`);
      assert.deepEqual(fromMiddle.body['delta'], {
        fromVersion: before + 1,
        toVersion: before + 2,
        added: [],
        removed: [se.seId],
      });
      const fromStart = (await denyList(`?since=${before}`)).body['delta'] as {
        added: string[];
        removed: string[];
      };
      assert.ok(!fromStart.added.includes(se.seId) && !fromStart.removed.includes(se.seId));
    });

    test('a denied SE whose certificate expired is left out of the next version', async () => {
      const se = issueSecureElement(fixture.pki, 'bank-a', 'card', { validSeconds: 2 * daySeconds });
      await register(fixture.dcpAKey, se.hex, 'wallet-e');
      await changeStatus(fixture.mdsKey, se.seId, 'revoked', 'alert 3');
      assert.ok(
        signedList((await denyList()).body)
          .body.entries.map(toHex)
          .includes(se.seId),
      );
      const version = (await denyList()).body['version'] as number;
      fixture.clock.advance(3 * daySeconds * 1000);
      const other = issueSecureElement(fixture.pki, 'bank-a', 'card', { nowSeconds: fixture.clock.seconds });
      await register(fixture.dcpAKey, other.hex, 'wallet-e2');
      await changeStatus(fixture.mdsKey, other.seId, 'suspended', 'alert 4');
      const next = await denyList(`?since=${version}`);
      const entries = signedList(next.body).body.entries.map(toHex);
      assert.ok(!entries.includes(se.seId));
      assert.ok(entries.includes(other.seId));
      assert.deepEqual(next.body['delta'], {
        fromVersion: version,
        toVersion: version + 1,
        added: [other.seId],
        removed: [se.seId],
      });
      // Registering an expired certificate is refused by core's check.
      const late = issueSecureElement(fixture.pki, 'bank-a', 'card', {
        nowSeconds: fixture.clock.seconds - 10 * daySeconds,
        validSeconds: daySeconds,
      });
      assert.equal(errorCode(await register(fixture.dcpAKey, late.hex, 'wallet-e3')), 'certificateExpired');
    });

    test('roles: a DCP may not change status, the MDS may not register, only operators create participants', async () => {
      const se = issueSecureElement(fixture.pki, 'bank-a', 'card');
      assert.equal(errorCode(await register(fixture.mdsKey, se.hex, 'w')), 'roleNotAllowed');
      assert.equal(errorCode(await register(fixture.operatorKey, se.hex, 'w')), 'roleNotAllowed');
      await register(fixture.dcpAKey, se.hex, 'w');
      const byDcp = await changeStatus(fixture.dcpAKey, se.seId, 'suspended', 'mine');
      assert.equal(byDcp.status, 403);
      assert.equal(errorCode(byDcp), 'roleNotAllowed');
      const participant = await call(fixture.app, fixture.mdsKey, 'POST', '/v1/participants', {
        key: freshKey(),
        body: { name: 'x', role: 'mds' },
      });
      assert.equal(errorCode(participant), 'roleNotAllowed');
    });

    test('a created participant gets its key once per request; a replay shows the same key, which works', async () => {
      const key = freshKey();
      const body = { name: 'Bank A second key', role: 'dcp', dcpId: dcpIdOf(fixture.pki, 'bank-a') };
      const first = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/participants', { key, body });
      assert.equal(first.status, 201);
      const replay = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/participants', { key, body });
      assert.equal(replay.replayed, true);
      assert.deepEqual(replay.body, first.body);
      const apiKey = first.body['apiKey'] as string;
      const me = await call(fixture.app, apiKey, 'GET', '/v1/participants/me');
      assert.deepEqual(me.body['participant'], first.body['participant']);
      const other = await call(fixture.app, fixture.operatorKey, 'POST', '/v1/participants', {
        key: freshKey(),
        body,
      });
      assert.notEqual(other.body['apiKey'], apiKey);
    });

    test('DCP endpoints: a DCP sets its own, every participant reads it; another DCP may not set it', async () => {
      const dcpA = dcpIdOf(fixture.pki, 'bank-a');
      const missing = await call(fixture.app, fixture.dcpBKey, 'GET', `/v1/dcps/${dcpA}`);
      assert.equal(errorCode(missing), 'dcpEndpointNotFound');
      const key = freshKey();
      const put = await call(fixture.app, fixture.dcpAKey, 'PUT', `/v1/dcps/${dcpA}`, {
        key,
        body: { baseUrl: 'https://dcp-a.example:8443' },
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const replay = await call(fixture.app, fixture.dcpAKey, 'PUT', `/v1/dcps/${dcpA}`, {
        key,
        body: { baseUrl: 'https://dcp-a.example:8443' },
      });
      assert.deepEqual(replay.body, put.body);
      fixture.clock.advance(1000);
      const moved = await call(fixture.app, fixture.dcpAKey, 'PUT', `/v1/dcps/${dcpA}`, {
        key: freshKey(),
        body: { baseUrl: 'http://10.0.0.7:4300' },
      });
      assert.equal((moved.body['dcp'] as { baseUrl: string }).baseUrl, 'http://10.0.0.7:4300');
      for (const apiKey of [fixture.dcpBKey, fixture.mdsKey, fixture.operatorKey]) {
        const read = await call(fixture.app, apiKey, 'GET', `/v1/dcps/${dcpA}`);
        assert.deepEqual(read.body, moved.body);
      }
      const byOther = await call(fixture.app, fixture.dcpBKey, 'PUT', `/v1/dcps/${dcpA}`, {
        key: freshKey(),
        body: { baseUrl: 'https://evil.example' },
      });
      assert.equal(errorCode(byOther), 'dcpIdNotCaller');
    });

    test('trust anchors and the deny list are public; the anchors are the PKI trust file', async () => {
      const trust = await call(fixture.app, null, 'GET', '/v1/trust-anchors');
      assert.equal(trust.status, 200);
      const pki = fixture.pki.trust;
      assert.deepEqual(trust.body, {
        rootPublicKey: toHex(pki.rootPublicKey),
        dcpIssuers: pki.dcpIssuers.map((certificate) => toHex(encodeSigned(certificate))),
        directory: toHex(encodeSigned(pki.directory)),
        mds: toHex(encodeSigned(pki.mds)),
      });
      assert.equal((await denyList()).status, 200);
      const privateRoute = await call(fixture.app, null, 'GET', '/v1/participants/me');
      assert.equal(errorCode(privateRoute), 'apiKeyMissing');
      const unknownKey = await call(fixture.app, 'x'.repeat(40), 'GET', '/v1/participants/me');
      assert.equal(errorCode(unknownKey), 'apiKeyUnknown');
    });

    test('health, metrics and the OpenAPI document', async () => {
      const health = await fixture.app.inject({ method: 'GET', url: '/healthz' });
      assert.deepEqual(health.json(), { status: 'ok' });
      const metrics = await fixture.app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /directory_http_requests_total/);
      assert.match(metrics.body, /directory_status_changes_total\{status="revoked"\}/);
      const openapi = await fixture.app.inject({ method: 'GET', url: '/openapi.json' });
      const paths = Object.keys(openapi.json<{ paths: Record<string, unknown> }>().paths);
      for (const path of [
        '/v1/secure-elements',
        '/v1/secure-elements/{seId}/status',
        '/v1/deny-list',
        '/v1/dcps/{dcpId}',
      ])
        assert.ok(paths.includes(path), path);
    });

    test('concurrent registrations of one SE under different keys all answer the one record', async () => {
      const se = issueSecureElement(fixture.pki, 'bank-b', 'phone');
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => register(fixture.dcpBKey, se.hex, 'wallet-race')),
      );
      for (const answer of answers) {
        assert.equal(answer.status, 201, JSON.stringify(answer.body));
        assert.deepEqual(answer.body, answers[0]!.body);
      }
      assert.equal(secureElementOf(answers[0]!.body).history.length, 1);
    });

    test('concurrent changes of many SEs make consecutive versions, the last holding every denied SE', async () => {
      const ses = Array.from({ length: 12 }, () => issueSecureElement(fixture.pki, 'bank-a', 'card'));
      for (const [index, se] of ses.entries()) await register(fixture.dcpAKey, se.hex, `wallet-c${index}`);
      const before = (await denyList()).body['version'] as number;
      const answers = await Promise.all(
        ses.map((se) => changeStatus(fixture.mdsKey, se.seId, 'revoked', 'sweep')),
      );
      const versions = answers
        .map((answer) => answer.body['denyListVersion'] as number)
        .sort((a, b) => a - b);
      assert.deepEqual(
        versions,
        ses.map((_, index) => before + 1 + index),
      );
      const entries = signedList((await denyList()).body).body.entries.map(toHex);
      for (const se of ses) assert.ok(entries.includes(se.seId));
    });
  });
}
