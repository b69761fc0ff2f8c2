// The MDS API process's alert, audit, participant and operations routes through `inject`, on both
// engines, against a double of the enclave interface: every role refusal, bad ids and limits with
// their exact codes, the audit entry of an evidence read committed before the enclave is asked,
// confirmation and its replay, the audit chain, the OpenAPI document (ingest: api-ingest.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines } from '../../src/testing/scratch.ts';
import {
  alertIdOf,
  call,
  errorCode,
  freshKey,
  mdsFixture,
  type CallResult,
  type MdsFixture,
  unreachableRevocations,
} from '../../src/testing/mds.ts';

const manual = {
  doubleSpend: 'manual',
  counterReuse: 'manual',
  fakeFunding: 'manual',
  unknownSigner: 'manual',
  revokedSigner: 'manual',
} as const;
const seId = 'ab'.repeat(16);

for (const engine of engines) {
  describe(`MDS API on ${engine}`, () => {
    let fixture: MdsFixture;
    const get = (apiKey: string | null, url: string) => call(fixture.app, apiKey, 'GET', url);
    const expectRefusal = (result: CallResult, status: number, code: string) => {
      assert.equal(errorCode(result), code, JSON.stringify(result.body));
      assert.equal(result.status, status);
    };
    const auditCount = async () => {
      const [head] = await fixture.db.all('SELECT sequence FROM mds_audit_head WHERE id = 1');
      return Number(head?.['sequence']);
    };

    before(async () => {
      // A directory that is not listening: confirmations in this file stay `confirmed`.
      fixture = await mdsFixture(engine, { revocations: await unreachableRevocations(), policy: manual });
    });
    after(() => fixture.close());

    test('alerts: mirrored open, filtered, paged with a cursor; the limit is bounded', async () => {
      const ids = ['list-1', 'list-2', 'list-3'].map(alertIdOf);
      for (const [index, id] of ids.entries())
        fixture.enclave.raise({
          id,
          kind: index === 1 ? 'counterReuse' : 'doubleSpend',
          seId,
          value: 100n * BigInt(index + 1),
          raisedAtMs: 7,
          evidenceCount: 2,
        });
      assert.equal(await fixture.service.response.mirror(), 3);
      const page = await get(fixture.keys.analyst, '/v1/alerts?limit=2');
      assert.equal(page.status, 200, JSON.stringify(page.body));
      const alerts = page.body['alerts'] as { id: string; value: string; status: string }[];
      assert.deepEqual(
        alerts.map((alert) => [alert.id, alert.value, alert.status]),
        [
          [ids[0], '100', 'open'],
          [ids[1], '200', 'open'],
        ],
      );
      assert.deepEqual(alerts[0], {
        id: ids[0],
        kind: 'doubleSpend',
        seId,
        value: '100',
        status: 'open',
        raisedAtMs: 7,
        evidenceCount: 2,
      });
      const rest = await get(fixture.operatorKey, `/v1/alerts?limit=2&after=${String(page.body['next'])}`);
      assert.deepEqual(
        [(rest.body['alerts'] as { id: string }[]).map((alert) => alert.id), rest.body['next']],
        [[ids[2]], null],
      );
      const reuse = await get(fixture.keys.analyst, '/v1/alerts?kind=counterReuse&status=open');
      assert.deepEqual(
        (reuse.body['alerts'] as { id: string }[]).map((alert) => alert.id),
        [ids[1]],
      );
      expectRefusal(await get(fixture.keys.analyst, '/v1/alerts?limit=257'), 400, 'requestInvalid');
      expectRefusal(await get(fixture.keys.analyst, '/v1/alerts?limit=0'), 400, 'requestInvalid');
      expectRefusal(await get(fixture.keys.analyst, '/v1/alerts?kind=theft'), 400, 'requestInvalid');
      expectRefusal(await get(fixture.keys.analyst, '/v1/alerts?after=-1'), 400, 'requestInvalid');
      for (const role of ['dcpA', 'economist', 'auditor'] as const)
        expectRefusal(await get(fixture.keys[role], '/v1/alerts'), 403, 'roleNotAllowed');
    });

    test('evidence: audited before the enclave is asked, the answer names the entry; refusals audit nothing', async () => {
      const id = alertIdOf('evidence-1');
      const entry = { entryId: 'ee'.repeat(32), kind: 'transfer', entry: new Uint8Array([1, 2, 3]) } as const;
      fixture.enclave.raise({ id, kind: 'doubleSpend', seId, value: 900n, raisedAtMs: 8, evidenceCount: 1 }, [
        entry,
      ]);
      await fixture.service.response.mirror();
      const before = await auditCount();
      let seenByEnclave = -1;
      fixture.enclave.beforeEvidence = async () => {
        seenByEnclave = await auditCount();
      };
      const read = await get(fixture.keys.analyst, `/v1/alerts/${id}/evidence`);
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.equal(seenByEnclave, before + 1, 'the entry was committed before the enclave was asked');
      assert.deepEqual(read.body['evidence'], [
        { entryId: 'ee'.repeat(32), kind: 'transfer', entry: '010203' },
      ]);
      assert.equal(read.body['auditSequence'], before + 1);
      assert.equal((read.body['alert'] as { value: string }).value, '900');
      const audit = await get(fixture.keys.auditor, `/v1/audit?after=${before}`);
      const [logged] = audit.body['entries'] as Record<string, unknown>[];
      assert.deepEqual(
        [logged?.['sequence'], logged?.['role'], logged?.['action'], logged?.['alertId']],
        [before + 1, 'analyst', 'evidenceRead', id],
      );
      expectRefusal(
        await get(fixture.keys.analyst, `/v1/alerts/${alertIdOf('nothing')}/evidence`),
        404,
        'alertUnknown',
      );
      expectRefusal(await get(fixture.keys.analyst, '/v1/alerts/xyz/evidence'), 400, 'requestInvalid');
      for (const role of ['dcpA', 'economist', 'auditor'] as const)
        expectRefusal(await get(fixture.keys[role], `/v1/alerts/${id}/evidence`), 403, 'roleNotAllowed');
      expectRefusal(await get(fixture.operatorKey, `/v1/alerts/${id}/evidence`), 403, 'roleNotAllowed');
      assert.equal(await auditCount(), before + 1, 'refused reads append nothing');
    });

    test('confirm: an analyst confirms an open alert once, audited; a replay answers again; the directory down leaves it confirmed', async () => {
      const id = alertIdOf('confirm-1');
      fixture.enclave.raise({ id, kind: 'revokedSigner', seId, value: 40n, raisedAtMs: 9, evidenceCount: 1 });
      await fixture.service.response.mirror();
      const before = await auditCount();
      const key = freshKey();
      const confirm = (apiKey: string, k = key, alertId = id) =>
        call(fixture.app, apiKey, 'POST', `/v1/alerts/${alertId}/confirm`, { key: k });
      const first = await confirm(fixture.keys.analyst);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal((first.body['alert'] as { status: string }).status, 'confirmed');
      const replay = await confirm(fixture.keys.analyst);
      assert.deepEqual([replay.replayed, replay.body], [true, first.body]);
      expectRefusal(await confirm(fixture.keys.analyst, freshKey()), 409, 'alertNotOpen');
      expectRefusal(await confirm(fixture.keys.analyst, freshKey(), alertIdOf('none')), 404, 'alertUnknown');
      expectRefusal(await confirm(fixture.operatorKey, freshKey()), 403, 'roleNotAllowed');
      expectRefusal(await confirm(fixture.keys.dcpA, freshKey()), 403, 'roleNotAllowed');
      assert.equal(await auditCount(), before + 1);
      const status = await get(fixture.operatorKey, '/v1/status');
      assert.equal(status.status, 200, JSON.stringify(status.body));
      const revocations = status.body['revocations'] as {
        pending: number;
        lastFailure: { code: string } | null;
      };
      assert.equal(revocations.pending, 1);
      assert.equal(revocations.lastFailure?.code, 'mdsDirectoryUnavailable');
      assert.deepEqual((status.body['alerts'] as Record<string, unknown>)['revokedSigner'], {
        open: 0,
        confirmed: 1,
        revoked: 0,
      });
    });

    test('audit: the chain verifies for an auditor, pages by sequence; other roles are refused', async () => {
      const verdict = await get(fixture.keys.auditor, '/v1/audit/verify');
      assert.deepEqual(
        [verdict.status, verdict.body],
        [200, { entries: await auditCount(), firstBroken: null }],
      );
      const page = await get(fixture.keys.auditor, '/v1/audit?limit=1');
      assert.deepEqual([(page.body['entries'] as unknown[]).length, page.body['next']], [1, '1']);
      const entry = (page.body['entries'] as Record<string, unknown>[])[0];
      assert.equal(entry?.['previousDigest'], '00'.repeat(32));
      expectRefusal(await get(fixture.keys.auditor, '/v1/audit?limit=1025'), 400, 'requestInvalid');
      for (const key of [fixture.keys.analyst, fixture.operatorKey, fixture.keys.dcpA])
        expectRefusal(await get(key, '/v1/audit/verify'), 403, 'roleNotAllowed');
    });

    test('participants: operators add them with a key digest; dcpId only for a DCP of the trust file', async () => {
      const add = (body: unknown, apiKey = fixture.operatorKey, key = freshKey()) =>
        call(fixture.app, apiKey, 'POST', '/v1/participants', { key, body });
      const digest = 'ab'.repeat(32);
      const key = freshKey();
      const created = await add(
        { name: 'Second analyst', role: 'analyst', apiKeySha256: digest },
        fixture.operatorKey,
        key,
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const participant = created.body['participant'] as Record<string, unknown>;
      assert.deepEqual([participant['role'], participant['dcpId']], ['analyst', null]);
      const replay = await add(
        { name: 'Second analyst', role: 'analyst', apiKeySha256: digest },
        fixture.operatorKey,
        key,
      );
      assert.deepEqual([replay.replayed, replay.body], [true, created.body]);
      expectRefusal(
        await add({ name: 'Copy', role: 'auditor', apiKeySha256: digest }),
        409,
        'apiKeyAlreadyRegistered',
      );
      expectRefusal(
        await add({ name: 'No DCP', role: 'dcp', apiKeySha256: 'cd'.repeat(32) }),
        400,
        'requestInvalid',
      );
      expectRefusal(
        await add({ name: 'Stranger', role: 'dcp', dcpId: 'ef'.repeat(16), apiKeySha256: 'cd'.repeat(32) }),
        400,
        'requestInvalid',
      );
      expectRefusal(
        await add({ name: 'Bound', role: 'auditor', dcpId: fixture.dcpAId, apiKeySha256: 'cd'.repeat(32) }),
        400,
        'requestInvalid',
      );
      expectRefusal(
        await add({ name: 'x', role: 'analyst', apiKeySha256: 'cd'.repeat(32) }, fixture.keys.analyst),
        403,
        'roleNotAllowed',
      );
      const me = await get(fixture.keys.dcpA, '/v1/participants/me');
      assert.deepEqual([(me.body['participant'] as Record<string, unknown>)['dcpId']], [fixture.dcpAId]);
      expectRefusal(await get(null, '/v1/participants/me'), 403, 'apiKeyMissing');
      expectRefusal(await get('y'.repeat(40), '/v1/participants/me'), 403, 'apiKeyUnknown');
    });

    test('operations routes: healthz, metrics, the OpenAPI document, unknown routes in the envelope', async () => {
      assert.deepEqual((await get(null, '/healthz')).body, { status: 'ok' });
      const metrics = await fixture.app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /^mds_evidence_reads_total \d+$/m);
      const openapi = await get(null, '/openapi.json');
      const paths = Object.keys(openapi.body['paths'] as object).sort();
      assert.deepEqual(paths, [
        '/v1/alerts',
        '/v1/alerts/{alertId}/confirm',
        '/v1/alerts/{alertId}/evidence',
        '/v1/audit',
        '/v1/audit/verify',
        '/v1/indicators',
        '/v1/participants',
        '/v1/participants/me',
        '/v1/recoveries',
        '/v1/refunds',
        '/v1/refunds/{decisionId}/executed',
        '/v1/reports',
        '/v1/settlement-pools/{dcpId}',
        '/v1/settlements',
        '/v1/status',
        '/v1/supply',
        '/v1/uploads',
        '/v1/uploads/{digest}',
      ]);
      expectRefusal(await get(fixture.keys.analyst, '/v1/nothing'), 404, 'routeNotFound');
    });
  });
}
