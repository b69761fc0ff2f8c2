// Every kind of bad input, on both engines: a 4xx with its exact stable code, and nothing changed
// in any directory table (compared row by row before and after). Then the deny list bound.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../core/bytes.ts';
import { certificateBodyToCbor } from '../../core/certificate.ts';
import { purposes } from '../../core/crypto.ts';
import { principalIdOf } from '../../core/ids.ts';
import { encodeSigned, signBody } from '../../core/signed.ts';
import { NodeSigner, NodeVerifier } from '../../crypto/node-crypto.ts';
import { principalSigner } from '../../pki/deployment-pki.ts';
import type { Database } from '../../storage/database.ts';
import { engines } from '../../testing/scratch.ts';
import { pathParameterLengthMax } from '../../service-kit/app.ts';
import { denyListEntriesMax, requestBodyBytesMax } from '../domain/limits.ts';
import {
  call,
  dcpIdOf,
  directoryFixture,
  errorCode,
  freshKey,
  issueSecureElement,
  testEpochSeconds,
  testPki,
  type CallResult,
  type DirectoryFixture,
} from '../../testing/directory.ts';

const tables = [
  'directory_participants',
  'directory_secure_elements',
  'directory_status_changes',
  'directory_deny_list_head',
  'directory_deny_lists',
  'directory_dcp_endpoints',
  'directory_idempotency',
];

/** Every row of every directory table, as text: equal snapshots mean nothing changed. */
async function snapshot(db: Database): Promise<string> {
  const parts: string[] = [];
  for (const table of tables) {
    const rows = await db.all(`SELECT * FROM ${table}`);
    const lines = rows.map((row) =>
      JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
    );
    parts.push(`${table}: ${lines.sort().join('\n')}`);
  }
  return parts.join('\n\n');
}

interface BadInput {
  readonly name: string;
  readonly status: number;
  readonly code: string;
  readonly send: () => Promise<CallResult>;
}

for (const engine of engines) {
  describe(`directory bad input on ${engine}`, () => {
    let fixture: DirectoryFixture;
    const foreign = testPki();
    const active = { seId: '', hex: '' };
    const revoked = { seId: '' };
    const usedKey = freshKey();

    const register = (apiKey: string | null, certificate: string, walletId = 'wallet-1', key = freshKey()) =>
      call(fixture.app, apiKey, 'POST', '/v1/secure-elements', { key, body: { certificate, walletId } });
    const status = (seId: string, body: unknown, key = freshKey()) =>
      call(fixture.app, fixture.mdsKey, 'POST', `/v1/secure-elements/${seId}/status`, { key, body });
    const participant = (body: unknown) =>
      call(fixture.app, fixture.operatorKey, 'POST', '/v1/participants', { key: freshKey(), body });
    const endpoint = (baseUrl: string) =>
      call(fixture.app, fixture.dcpAKey, 'PUT', `/v1/dcps/${dcpIdOf(fixture.pki, 'bank-a')}`, {
        key: freshKey(),
        body: { baseUrl },
      });

    before(async () => {
      fixture = await directoryFixture(engine);
      const se = issueSecureElement(fixture.pki, 'bank-a', 'card');
      Object.assign(active, { seId: se.seId, hex: se.hex });
      assert.equal((await register(fixture.dcpAKey, se.hex, 'wallet-1', usedKey)).status, 201);
      const gone = issueSecureElement(fixture.pki, 'bank-a', 'phone');
      await register(fixture.dcpAKey, gone.hex, 'wallet-2');
      revoked.seId = gone.seId;
      assert.equal((await status(gone.seId, { status: 'revoked', reason: 'fraud' })).status, 200);
    });
    after(async () => {
      await fixture.close();
      foreign.remove();
    });

    const certificateFrom = (
      signer: NodeSigner,
      body: Partial<Parameters<typeof certificateBodyToCbor>[0]>,
    ): string => {
      const key = NodeSigner.generate().publicKey;
      const full = {
        role: 'card' as const,
        subjectId: principalIdOf(new NodeVerifier(), key),
        publicKey: key,
        issuerId: fixture.pki.dcps.get('bank-a')!.certificate.body.subjectId,
        validFrom: testEpochSeconds - 60,
        validUntil: testEpochSeconds + 1000,
        profile: 'standard',
        ...body,
      };
      return toHex(encodeSigned(signBody(signer, purposes.certificate, full, certificateBodyToCbor)));
    };
    const bankA = () => principalSigner(fixture.pki.dcps.get('bank-a')!);

    const cases: BadInput[] = [
      {
        name: 'certificate not hex',
        status: 400,
        code: 'directoryHexMalformed',
        send: () => register(fixture.dcpAKey, 'zz'),
      },
      {
        name: 'certificate odd hex',
        status: 400,
        code: 'directoryHexMalformed',
        send: () => register(fixture.dcpAKey, 'abc'),
      },
      {
        name: 'certificate uppercase hex',
        status: 400,
        code: 'directoryHexMalformed',
        send: () => register(fixture.dcpAKey, active.hex.toUpperCase()),
      },
      {
        name: 'certificate empty',
        status: 400,
        code: 'directoryHexMalformed',
        send: () => register(fixture.dcpAKey, ''),
      },
      {
        name: 'certificate truncated CBOR',
        status: 400,
        code: 'cborMalformed',
        send: () => register(fixture.dcpAKey, active.hex.slice(0, -8)),
      },
      {
        name: 'certificate non-canonical CBOR',
        status: 400,
        code: 'cborNotCanonical',
        send: () => register(fixture.dcpAKey, '1817'),
      },
      {
        name: 'certificate with trailing bytes',
        status: 400,
        code: 'cborTrailingBytes',
        send: () => register(fixture.dcpAKey, `${active.hex}00`),
      },
      {
        name: 'certificate of the wrong shape',
        status: 400,
        code: 'fieldInvalid',
        send: () => register(fixture.dcpAKey, '80'),
      },
      {
        name: 'certificate from another deployment',
        status: 403,
        code: 'certificateChainInvalid',
        send: () => register(fixture.dcpAKey, issueSecureElement(foreign.pki, 'bank-a', 'card').hex),
      },
      {
        name: 'certificate naming bank A but signed by another key',
        status: 403,
        code: 'certificateChainInvalid',
        send: () => register(fixture.dcpAKey, certificateFrom(NodeSigner.generate(), {})),
      },
      {
        name: 'certificate whose subject id is not its key digest',
        status: 403,
        code: 'certificateIdMismatch',
        send: () => register(fixture.dcpAKey, certificateFrom(bankA(), { subjectId: new Uint8Array(16) })),
      },
      {
        name: 'a DCP issuer certificate posted as an SE',
        status: 403,
        code: 'certificateWrongRole',
        send: () =>
          register(fixture.dcpAKey, toHex(encodeSigned(fixture.pki.dcps.get('bank-a')!.certificate))),
      },
      {
        name: "another DCP's SE",
        status: 403,
        code: 'certificateIssuerNotCaller',
        send: () => register(fixture.dcpBKey, issueSecureElement(fixture.pki, 'bank-a', 'card').hex),
      },
      {
        name: 'SE under another wallet',
        status: 409,
        code: 'secureElementWalletConflict',
        send: () => register(fixture.dcpAKey, active.hex, 'wallet-9'),
      },
      {
        name: 'stale idempotency key with another body',
        status: 409,
        code: 'idempotencyKeyReusedWithDifferentRequest',
        send: () =>
          register(
            fixture.dcpAKey,
            issueSecureElement(fixture.pki, 'bank-a', 'card').hex,
            'wallet-1',
            usedKey,
          ),
      },
      {
        name: 'walletId with spaces',
        status: 400,
        code: 'requestInvalid',
        send: () => register(fixture.dcpAKey, active.hex, 'a wallet'),
      },
      {
        name: 'missing idempotency key',
        status: 400,
        code: 'requestInvalid',
        send: () =>
          call(fixture.app, fixture.dcpAKey, 'POST', '/v1/secure-elements', {
            body: { certificate: active.hex, walletId: 'w' },
          }),
      },
      {
        name: 'extra field',
        status: 400,
        code: 'requestInvalid',
        send: () =>
          call(fixture.app, fixture.dcpAKey, 'POST', '/v1/secure-elements', {
            key: freshKey(),
            body: { certificate: active.hex, walletId: 'w', status: 'active' },
          }),
      },
      {
        name: 'not JSON',
        status: 400,
        code: 'requestBodyMalformed',
        send: () =>
          call(fixture.app, fixture.dcpAKey, 'POST', '/v1/secure-elements', {
            key: freshKey(),
            rawBody: '{"certificate":',
          }),
      },
      {
        name: 'oversized body',
        status: 413,
        code: 'requestBodyTooLarge',
        send: () =>
          call(fixture.app, fixture.dcpAKey, 'POST', '/v1/secure-elements', {
            key: freshKey(),
            body: { certificate: 'ab'.repeat(requestBodyBytesMax), walletId: 'w' },
          }),
      },
      {
        name: 'no API key',
        status: 403,
        code: 'apiKeyMissing',
        send: () => register(null, active.hex),
      },
      {
        name: 'unknown SE lookup',
        status: 404,
        code: 'secureElementNotRegistered',
        send: () => call(fixture.app, fixture.mdsKey, 'GET', `/v1/secure-elements/${'0'.repeat(32)}`),
      },
      {
        name: 'malformed SE id',
        status: 400,
        code: 'directoryHexMalformed',
        send: () => call(fixture.app, fixture.mdsKey, 'GET', '/v1/secure-elements/xyz'),
      },
      {
        name: 'status of an unknown SE',
        status: 404,
        code: 'secureElementNotRegistered',
        send: () => status('0'.repeat(32), { status: 'suspended', reason: 'x' }),
      },
      {
        name: 'status to the same status',
        status: 409,
        code: 'statusTransitionInvalid',
        send: () => status(active.seId, { status: 'active', reason: 'x' }),
      },
      {
        name: 'status of a revoked SE',
        status: 409,
        code: 'secureElementRevoked',
        send: () => status(revoked.seId, { status: 'active', reason: 'appeal' }),
      },
      {
        name: 'unknown status',
        status: 400,
        code: 'requestInvalid',
        send: () => status(active.seId, { status: 'frozen', reason: 'x' }),
      },
      {
        name: 'empty reason',
        status: 400,
        code: 'requestInvalid',
        send: () => status(active.seId, { status: 'suspended', reason: '' }),
      },
      {
        name: 'deny list since not a number',
        status: 400,
        code: 'requestInvalid',
        send: () => call(fixture.app, null, 'GET', '/v1/deny-list?since=-1'),
      },
      {
        name: 'deny list since in the future',
        status: 404,
        code: 'denyListVersionUnknown',
        send: () => call(fixture.app, null, 'GET', '/v1/deny-list?since=999'),
      },
      {
        name: 'dcp participant without dcpId',
        status: 400,
        code: 'participantDcpIdInvalid',
        send: () => participant({ name: 'x', role: 'dcp' }),
      },
      {
        name: 'mds participant with dcpId',
        status: 400,
        code: 'participantDcpIdInvalid',
        send: () => participant({ name: 'x', role: 'mds', dcpId: dcpIdOf(fixture.pki, 'bank-a') }),
      },
      {
        name: 'dcpId of no certified DCP',
        status: 404,
        code: 'dcpIssuerUnknown',
        send: () => participant({ name: 'x', role: 'dcp', dcpId: 'ab'.repeat(16) }),
      },
      {
        name: 'dcpId not hex',
        status: 400,
        code: 'directoryHexMalformed',
        send: () => participant({ name: 'x', role: 'dcp', dcpId: 'bank-a' }),
      },
      {
        name: 'endpoint not http',
        status: 400,
        code: 'dcpBaseUrlInvalid',
        send: () => endpoint('ftp://dcp.example'),
      },
      {
        name: 'endpoint with credentials',
        status: 400,
        code: 'dcpBaseUrlInvalid',
        send: () => endpoint('https://user:pw@dcp.example'),
      },
      {
        name: 'endpoint not a URL',
        status: 400,
        code: 'dcpBaseUrlInvalid',
        send: () => endpoint('dcp.example'),
      },
      {
        name: 'unknown route',
        status: 404,
        code: 'routeNotFound',
        send: () => call(fixture.app, null, 'GET', '/nothing'),
      },
      {
        // Fastify's own answer was `414 {"error":"Bad Request","code":"FST_ERR_MAX_PARAM_LENGTH"}`.
        name: 'SE id over the router bound',
        status: 414,
        code: 'pathParameterTooLong',
        send: () =>
          call(
            fixture.app,
            fixture.dcpAKey,
            'GET',
            `/v1/secure-elements/${'a'.repeat(pathParameterLengthMax + 1)}`,
          ),
      },
      {
        name: 'a path with another method',
        status: 405,
        code: 'methodNotAllowed',
        send: () =>
          call(fixture.app, fixture.dcpAKey, 'PUT', '/v1/secure-elements', { key: freshKey(), body: {} }),
      },
      {
        name: 'a body that is not JSON',
        status: 415,
        code: 'mediaTypeUnsupported',
        send: async () => {
          const response = await fixture.app.inject({
            method: 'POST',
            url: '/v1/secure-elements',
            headers: {
              authorization: `Bearer ${fixture.dcpAKey}`,
              'idempotency-key': freshKey(),
              'content-type': 'text/plain',
            },
            payload: 'certificate',
          });
          return {
            status: response.statusCode,
            body: response.json<Record<string, unknown>>(),
            replayed: false,
          };
        },
      },
    ];

    for (const bad of cases) {
      test(`${bad.name}: ${bad.status} ${bad.code}, nothing changed`, async () => {
        const before = await snapshot(fixture.db);
        const result = await bad.send();
        assert.equal(errorCode(result), bad.code, JSON.stringify(result.body));
        assert.equal(result.status, bad.status);
        assert.equal(typeof (result.body['error'] as { number: unknown }).number, 'number');
        assert.equal(await snapshot(fixture.db), before);
      });
    }

    test(`a change that would list more than ${denyListEntriesMax} SEs is refused: denyListFull, nothing changed`, async () => {
      // Fill the deny set directly (registering a thousand SEs through the API would only be slower).
      const far = testEpochSeconds + 10 * 365 * 24 * 3600;
      const denied = denyListEntriesMax - 1; // plus the revoked one from `before`
      for (let start = 0; start < denied; start += 100) {
        const count = Math.min(100, denied - start);
        const values = Array.from({ length: count }, () => "(?, ?, 'card', 'w', 'suspended', '00', ?, 0)");
        const params = Array.from({ length: count }, (_, index) => [
          `e${(start + index).toString(16).padStart(31, '0')}`,
          dcpIdOf(fixture.pki, 'bank-a'),
          far,
        ]).flat();
        await fixture.db.run(
          'INSERT INTO directory_secure_elements (se_id, dcp_id, kind, wallet_id, status, certificate, valid_until, registered_at_ms) ' +
            `VALUES ${values.join(', ')}`,
          params,
        );
      }
      const before = await snapshot(fixture.db);
      const full = await status(active.seId, { status: 'suspended', reason: 'one too many' });
      assert.equal(errorCode(full), 'denyListFull');
      assert.equal(full.status, 409);
      assert.equal(await snapshot(fixture.db), before);
    });
  });
}
