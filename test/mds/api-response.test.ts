// The alert response through a real directory service (listening on loopback, reached by the
// directory's typed client): alerts the policy confirms are revoked at the directory and reach its
// deny list; a manual kind waits for an analyst; a refusal the directory would repeat is kept on the
// alert; a directory that does not answer leaves the alert confirmed and a later run revokes it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { decodeCbor } from '../../src/core/cbor.ts';
import { signedDenyListFromCbor } from '../../src/core/deny-list.ts';
import { isCbdcError } from '../../src/core/errors.ts';
import { DirectoryClient } from '../../src/directory/api/client.ts';
import { DirectoryRevocations } from '../../src/mds/adapters/directory.ts';
import type { RevocationPort } from '../../src/mds/domain/ports.ts';
import { directoryFixture, issueSecureElement, type DirectoryFixture } from '../../src/testing/directory.ts';
import { alertIdOf, call, freshKey, mdsFixture, type MdsFixture } from '../../src/testing/mds.ts';
import { engines } from '../../src/testing/scratch.ts';
import { freePort } from '../../src/testing/service-process.ts';

for (const engine of engines) {
  describe(`MDS alert response through the directory, MDS on ${engine}`, () => {
    let directory: DirectoryFixture;
    let mds: MdsFixture;
    let reachable: RevocationPort;
    let unreachable: RevocationPort;
    /** The port the MDS uses, switched by the test between the directory and a closed port. */
    const switched = { target: undefined as RevocationPort | undefined };

    const registered = async (): Promise<string> => {
      const se = issueSecureElement(directory.pki, 'bank-a', 'card');
      const answer = await call(directory.app, directory.dcpAKey, 'POST', '/v1/secure-elements', {
        key: freshKey(),
        body: { certificate: se.hex, walletId: 'wallet-1' },
      });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      return se.seId;
    };
    const directoryStatus = async (seId: string) => {
      const answer = await call(directory.app, directory.operatorKey, 'GET', `/v1/secure-elements/${seId}`);
      return (answer.body['secureElement'] as { status: string }).status;
    };
    const alertStatus = async (id: string) =>
      (await mds.service.alerts(analyst(), { afterPosition: 0, limit: 256 })).find(
        (alert) => alert.id === id,
      );
    const analyst = () =>
      ({ id: 'prt_test', name: 'test', role: 'analyst', dcpId: null, createdAtMs: 0 }) as const;

    before(async () => {
      directory = await directoryFixture('sqlite');
      const url = await directory.app.listen({ host: '127.0.0.1', port: 0 });
      reachable = new DirectoryRevocations(
        new DirectoryClient({ baseUrl: url, apiKey: directory.mdsKey, attemptsMax: 1 }),
      );
      unreachable = new DirectoryRevocations(
        new DirectoryClient({
          baseUrl: `http://127.0.0.1:${await freePort()}`,
          apiKey: directory.mdsKey,
          attemptsMax: 1,
        }),
      );
      switched.target = reachable;
      mds = await mdsFixture(engine, {
        revocations: {
          revoke: (seId, reason, key) => {
            assert.ok(switched.target !== undefined);
            return switched.target.revoke(seId, reason, key);
          },
        },
      });
    });
    after(async () => {
      await mds.close();
      await directory.close();
    });

    test('a double spend is confirmed by policy and its SE revoked at the directory, on the deny list', async () => {
      const seId = await registered();
      const id = alertIdOf(`${engine}-double-spend`);
      mds.enclave.raise({ id, kind: 'doubleSpend', seId, value: 700n, raisedAtMs: 1, evidenceCount: 2 });
      assert.equal(await mds.service.response.run(), 2, 'one alert copied, one revoked');
      assert.equal((await alertStatus(id))?.status, 'revoked');
      assert.equal(await directoryStatus(seId), 'revoked');
      const denyList = await call(directory.app, null, 'GET', '/v1/deny-list');
      const signed = fromHex(denyList.body['signed'] as string);
      assert.ok(signed !== undefined);
      assert.ok(signedDenyListFromCbor(decodeCbor(signed)).body.entries.map(toHex).includes(seId));
      // A second alert against the same SE: already revoked is revoked.
      const second = alertIdOf(`${engine}-counter-reuse`);
      mds.enclave.raise({
        id: second,
        kind: 'counterReuse',
        seId,
        value: 50n,
        raisedAtMs: 2,
        evidenceCount: 2,
      });
      assert.equal(await mds.service.response.run(), 2);
      assert.equal((await alertStatus(second))?.status, 'revoked');
      // Nothing new: a run changes nothing.
      assert.equal(await mds.service.response.run(), 0);
    });

    test('a manual kind stays open until an analyst confirms it; then the directory revokes', async () => {
      const seId = await registered();
      const id = alertIdOf(`${engine}-revoked-signer`);
      mds.enclave.raise({ id, kind: 'revokedSigner', seId, value: 30n, raisedAtMs: 3, evidenceCount: 1 });
      await mds.service.response.run();
      assert.equal((await alertStatus(id))?.status, 'open');
      assert.equal(await directoryStatus(seId), 'active');
      const confirmed = await call(mds.app, mds.keys.analyst, 'POST', `/v1/alerts/${id}/confirm`, {
        key: freshKey(),
      });
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      assert.equal((confirmed.body['alert'] as { status: string }).status, 'revoked');
      assert.equal(await directoryStatus(seId), 'revoked');
    });

    test('an SE the directory never registered: confirmed, the refusal kept, not retried', async () => {
      const id = alertIdOf(`${engine}-unknown-signer`);
      mds.enclave.raise({
        id,
        kind: 'unknownSigner',
        seId: 'fe'.repeat(16),
        value: 10n,
        raisedAtMs: 4,
        evidenceCount: 1,
      });
      await mds.service.response.run();
      const alert = await alertStatus(id);
      assert.deepEqual(
        [alert?.status, alert?.revocationRefusal],
        ['confirmed', 'secureElementNotRegistered'],
      );
      assert.equal(
        await mds.service.response.revokePending(),
        0,
        'nothing pending: the refusal is not asked again',
      );
    });

    test('the directory down: the alert stays confirmed, the run reports mdsDirectoryUnavailable, a later run revokes', async () => {
      const seId = await registered();
      const id = alertIdOf(`${engine}-fake-funding`);
      mds.enclave.raise({ id, kind: 'fakeFunding', seId, value: 1_000n, raisedAtMs: 5, evidenceCount: 3 });
      switched.target = unreachable;
      await assert.rejects(mds.service.response.run(), (error: unknown) => {
        assert.ok(isCbdcError(error));
        assert.equal(error.code, 'mdsDirectoryUnavailable');
        return true;
      });
      assert.equal((await alertStatus(id))?.status, 'confirmed');
      assert.equal(await directoryStatus(seId), 'active');
      const status = await call(mds.app, mds.operatorKey, 'GET', '/v1/status');
      const revocations = status.body['revocations'] as {
        pending: number;
        lastFailure: { code: string } | null;
      };
      assert.deepEqual([revocations.pending, revocations.lastFailure?.code], [1, 'mdsDirectoryUnavailable']);
      switched.target = reachable;
      assert.equal(await mds.service.response.run(), 1);
      assert.equal((await alertStatus(id))?.status, 'revoked');
      assert.equal(await directoryStatus(seId), 'revoked');
      const after = await call(mds.app, mds.operatorKey, 'GET', '/v1/status');
      assert.deepEqual(after.body['revocations'], { pending: 0, lastFailure: null });
    });
  });
}
