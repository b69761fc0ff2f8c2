// The MDS client against a real loopback HTTP server that answers as docs/mds.md says (and, where a
// test needs it, as a broken MDS would): exact wire bodies and headers, decoded answers, a 503 then a
// 202 retried under the same idempotency key, refusals typed and never retried, malformed and
// oversized answers refused, the client-side bounds, and the bounds restated from the enclave
// interface kept equal to it.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fromHex } from '../../core/bytes.ts';
import { isCbdcError } from '../../core/errors.ts';
import * as channel from '../channel/protocol.ts';
import { MdsClient, MdsRefusal, mdsAnswerBytesMax } from './client.ts';
import {
  alertsPageMax,
  claimBytesMax,
  recoveriesListMax,
  refundsPageMax,
  reportItemsMax,
  reportedCreditIdPattern,
  sealedUploadBytesMax,
} from './types.ts';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

type Answer =
  { readonly status: number; readonly body: unknown } | { readonly status: number; readonly raw: string };

const digest = 'ab'.repeat(32);
const seId = '0f'.repeat(16);
const alertWire = {
  id: 'cd'.repeat(32),
  kind: 'doubleSpend',
  seId,
  value: '12500',
  status: 'open',
  raisedAtMs: 1_700_000_000_000,
  evidenceCount: 3,
};
const alert = { ...alertWire, value: 12_500n };

function bytes(hex: string): Uint8Array {
  const decoded = fromHex(hex);
  assert.ok(decoded !== undefined, hex);
  return decoded;
}

describe('MDS client', () => {
  let server: Server;
  let baseUrl: string;
  const received: Received[] = [];
  /** What the server answers, one per request in order; the last one repeats. */
  let answers: Answer[] = [];
  const sleeps: number[] = [];
  const client = (extra: Partial<ConstructorParameters<typeof MdsClient>[0]> = {}) =>
    new MdsClient({
      baseUrl,
      apiKey: 'dcp-key',
      timeoutMs: 2_000,
      attemptsMax: 3,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      random: () => 0.5,
      ...extra,
    });

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      received.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: text === '' ? undefined : JSON.parse(text),
      });
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end('raw' in answer ? answer.raw : JSON.stringify(answer.body));
    });
  };

  before(async () => {
    server = createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  });
  beforeEach(() => {
    received.length = 0;
    sleeps.length = 0;
    answers = [];
  });

  const refusal = (status: number, code: string, message = code): Answer => ({
    status,
    body: { error: { code, number: 0, message } },
  });

  test('postUpload sends the claim and the sealed bytes as hex under the idempotency key; 202 decodes', async () => {
    answers = [{ status: 202, body: { digest, state: 'stored' } }];
    const answer = await client().postUpload('dcp-upload-1', {
      claim: bytes('a1b2c3'),
      sealed: bytes('00ff10'),
    });
    assert.deepEqual(answer, { value: { digest, state: 'stored' }, replayed: false });
    assert.equal(received.length, 1);
    const [request] = received;
    assert.equal(request!.method, 'POST');
    assert.equal(request!.url, '/v1/uploads');
    assert.deepEqual(request!.body, { claim: 'a1b2c3', sealed: '00ff10' });
    assert.equal(request!.headers['idempotency-key'], 'dcp-upload-1');
    assert.equal(request!.headers['authorization'], 'Bearer dcp-key');
    assert.equal(request!.headers['content-type'], 'application/json');
  });

  test('a 503 is retried with backoff under the same key, then the 202 answers', async () => {
    answers = [refusal(503, 'mdsEnclaveUnavailable'), { status: 202, body: { digest, state: 'ingested' } }];
    const answer = await client({ backoffMs: 100 }).postUpload('dcp-upload-2', {
      claim: bytes('01'),
      sealed: bytes('02'),
    });
    assert.deepEqual(answer.value, { digest, state: 'ingested' });
    assert.equal(received.length, 2);
    assert.deepEqual(
      received.map((request) => request.headers['idempotency-key']),
      ['dcp-upload-2', 'dcp-upload-2'],
    );
    assert.deepEqual(sleeps, [75]);
  });

  test('a 4xx refusal is an MdsRefusal with the MDS code and status, never retried', async () => {
    answers = [refusal(409, 'uploadConflict', 'posted with another claim')];
    await assert.rejects(
      client().postUpload('dcp-upload-3', { claim: bytes('01'), sealed: bytes('02') }),
      (error: unknown) =>
        error instanceof MdsRefusal &&
        error.code === 'uploadConflict' &&
        error.status === 409 &&
        error.message === 'uploadConflict: posted with another claim',
    );
    answers = [refusal(404, 'uploadUnknown')];
    await assert.rejects(
      client().uploadStatus(digest),
      (error: unknown) =>
        error instanceof MdsRefusal && error.code === 'uploadUnknown' && error.status === 404,
    );
    answers = [refusal(403, 'roleNotAllowed')];
    await assert.rejects(
      client().status(),
      (error: unknown) => error instanceof MdsRefusal && error.code === 'roleNotAllowed',
    );
    assert.equal(received.length, 3);
    assert.deepEqual(sleeps, []);
  });

  test('a refusal with a code the MDS does not have is mdsAnswerInvalid', async () => {
    answers = [refusal(409, 'noSuchCode')];
    await assert.rejects(
      client().uploadStatus(digest),
      (error: unknown) =>
        isCbdcError(error) && error.code === 'mdsAnswerInvalid' && !(error instanceof MdsRefusal),
    );
  });

  test('uploadStatus decodes a recorded refusal; a state and refusal that disagree are refused', async () => {
    answers = [{ status: 200, body: { digest, state: 'refused', refusal: 'uploadUnsealable' } }];
    assert.deepEqual(await client().uploadStatus(digest), {
      digest,
      state: 'refused',
      refusal: 'uploadUnsealable',
    });
    assert.equal(received[0]!.url, `/v1/uploads/${digest}`);
    answers = [{ status: 200, body: { digest, state: 'refused', refusal: 'signatureInvalid' } }];
    assert.equal((await client().uploadStatus(digest)).refusal, 'signatureInvalid');
    answers = [{ status: 200, body: { digest, state: 'stored', refusal: 'uploadUnsealable' } }];
    await assert.rejects(
      client().uploadStatus(digest),
      (error: unknown) =>
        isCbdcError(error) && error.code === 'mdsAnswerInvalid' && error.message.includes('answer.refusal'),
    );
    answers = [{ status: 200, body: { digest, state: 'refused', refusal: 'madeUp' } }];
    await assert.rejects(
      client().uploadStatus(digest),
      (error: unknown) =>
        isCbdcError(error) && error.code === 'mdsAnswerInvalid' && error.message.includes('answer.refusal'),
    );
  });

  test('a malformed answer is mdsAnswerInvalid naming the field; an answer that is not JSON too', async () => {
    answers = [{ status: 202, body: { digest: 'AB'.repeat(32), state: 'stored' } }];
    await assert.rejects(
      client().postUpload('k', { claim: bytes('01'), sealed: bytes('02') }),
      (error: unknown) =>
        isCbdcError(error) &&
        error.code === 'mdsAnswerInvalid' &&
        error.message === 'mdsAnswerInvalid: answer.digest is not 64 lowercase hex digits',
    );
    answers = [{ status: 202, body: { digest, state: 'merged' } }];
    await assert.rejects(
      client().postUpload('k', { claim: bytes('01'), sealed: bytes('02') }),
      (error: unknown) =>
        isCbdcError(error) &&
        error.message === 'mdsAnswerInvalid: answer.state is not stored | ingested | refused',
    );
    answers = [{ status: 200, raw: '{"issuances": 1,' }];
    await assert.rejects(
      client().postReports('k', { issuances: [], retirements: [] }),
      (error: unknown) =>
        isCbdcError(error) && error.code === 'mdsAnswerInvalid' && /not JSON/.test(error.message),
    );
    answers = [{ status: 200, body: { issuances: -1, retirements: 0 } }];
    await assert.rejects(
      client().postReports('k', { issuances: [], retirements: [] }),
      (error: unknown) =>
        isCbdcError(error) &&
        error.message === 'mdsAnswerInvalid: answer.issuances is not a non-negative integer',
    );
  });

  test('an answer longer than mdsAnswerBytesMax is mdsAnswerInvalid, not retried', async () => {
    answers = [{ status: 200, raw: JSON.stringify({ padding: 'x'.repeat(mdsAnswerBytesMax) }) }];
    await assert.rejects(
      client().status(),
      (error: unknown) =>
        isCbdcError(error) && error.code === 'mdsAnswerInvalid' && /longer than/.test(error.message),
    );
    assert.equal(received.length, 1);
  });

  test('an MDS that never answers is mdsUnavailable after attemptsMax attempts', async () => {
    await assert.rejects(
      client({ baseUrl: 'http://127.0.0.1:1', backoffMs: 10 }).uploadStatus(digest),
      (error: unknown) =>
        isCbdcError(error) && error.code === 'mdsUnavailable' && error.message.includes('(3 attempts)'),
    );
    assert.deepEqual(sleeps, [8, 15]);
    answers = [refusal(500, 'internalError')];
    await assert.rejects(
      client().uploadStatus(digest),
      (error: unknown) =>
        isCbdcError(error) && error.code === 'mdsUnavailable' && error.message.includes('HTTP 500'),
    );
    assert.equal(received.length, 3);
  });

  test('postReports sends issuances as hex and amounts as decimal strings; counts decode', async () => {
    answers = [{ status: 200, body: { issuances: 1, retirements: 2 } }];
    const retirement = (index: number) => ({
      tokenId: `${index}`.repeat(64),
      value: 9_007_199_254_740_993n + BigInt(index),
      seId,
      uploadDigest: digest,
      retiredAtMs: 1_700_000_000_000 + index,
    });
    const counts = await client().postReports('dcp-reports-1', {
      issuances: [bytes('d2845a')],
      retirements: [retirement(1), retirement(2)],
    });
    assert.deepEqual(counts, { value: { issuances: 1, retirements: 2 }, replayed: false });
    assert.equal(received[0]!.url, '/v1/reports');
    assert.equal(received[0]!.headers['idempotency-key'], 'dcp-reports-1');
    assert.deepEqual(received[0]!.body, {
      issuances: ['d2845a'],
      retirements: [
        {
          tokenId: '1'.repeat(64),
          value: '9007199254740994',
          seId,
          uploadDigest: digest,
          retiredAtMs: 1_700_000_000_001,
        },
        {
          tokenId: '2'.repeat(64),
          value: '9007199254740995',
          seId,
          uploadDigest: digest,
          retiredAtMs: 1_700_000_000_002,
        },
      ],
    });
  });

  test('what the MDS would refuse for its size is refused before sending, with its code', async () => {
    const many = Array.from({ length: reportItemsMax + 1 }, () => bytes('00'));
    await assert.rejects(
      client().postReports('k', { issuances: many, retirements: [] }),
      (error: unknown) => isCbdcError(error) && error.code === 'reportItemsLimitExceeded',
    );
    await assert.rejects(
      client().postUpload('k', { claim: new Uint8Array(claimBytesMax + 1), sealed: bytes('00') }),
      (error: unknown) =>
        isCbdcError(error) && error.code === 'uploadBytesLimitExceeded' && /claim/.test(error.message),
    );
    await assert.rejects(
      client().postUpload('k', { claim: bytes('00'), sealed: new Uint8Array(sealedUploadBytesMax + 1) }),
      (error: unknown) =>
        isCbdcError(error) &&
        error.code === 'uploadBytesLimitExceeded' &&
        /sealed upload/.test(error.message),
    );
    await assert.rejects(client().listAlerts({ limit: alertsPageMax + 1 }), RangeError);
    assert.equal(received.length, 0);
  });

  test('alerts, evidence and confirmation decode exactly; the query carries the filters', async () => {
    answers = [{ status: 200, body: { alerts: [alertWire], next: 'cursor-2' } }];
    const page = await client().listAlerts({
      kind: 'doubleSpend',
      status: 'open',
      limit: 10,
      after: 'cursor-1',
    });
    assert.deepEqual(page, { alerts: [alert], next: 'cursor-2' });
    assert.equal(received[0]!.url, '/v1/alerts?kind=doubleSpend&status=open&limit=10&after=cursor-1');

    answers = [{ status: 200, body: { alerts: [alertWire, alertWire], next: null } }];
    await assert.rejects(
      client().listAlerts({ limit: 1 }),
      (error: unknown) =>
        isCbdcError(error) && error.message === 'mdsAnswerInvalid: answer.alerts is not at most 1 items',
    );

    const entryId = 'ee'.repeat(32);
    answers = [
      {
        status: 200,
        body: {
          alert: alertWire,
          evidence: [{ entryId, kind: 'transfer', entry: 'd28443' }],
          auditSequence: 7,
        },
      },
    ];
    const evidence = await client().evidence(alert.id);
    assert.deepEqual(evidence, {
      alert,
      evidence: [{ entryId, kind: 'transfer', entry: bytes('d28443') }],
      auditSequence: 7,
    });
    assert.equal(received.at(-1)!.url, `/v1/alerts/${alert.id}/evidence`);

    answers = [
      { status: 200, body: { alert: { ...alertWire, value: '12.5' }, evidence: [], auditSequence: 8 } },
    ];
    await assert.rejects(
      client().evidence(alert.id),
      (error: unknown) =>
        isCbdcError(error) &&
        error.message === 'mdsAnswerInvalid: answer.alert.value is not a decimal amount of minor units',
    );

    answers = [{ status: 200, body: { alert: { ...alertWire, status: 'confirmed' } } }];
    const confirmed = await client().confirmAlert('confirm-1', alert.id);
    assert.deepEqual(confirmed.value, { ...alert, status: 'confirmed' });
    assert.equal(received.at(-1)!.method, 'POST');
    assert.equal(received.at(-1)!.url, `/v1/alerts/${alert.id}/confirm`);
    assert.equal(received.at(-1)!.headers['idempotency-key'], 'confirm-1');
    answers = [refusal(409, 'alertNotOpen')];
    await assert.rejects(
      client().confirmAlert('confirm-2', alert.id),
      (error: unknown) => error instanceof MdsRefusal && error.code === 'alertNotOpen',
    );
  });

  test('audit, its verification, the status and participants decode exactly', async () => {
    const entry = {
      sequence: 1,
      atMs: 1_700_000_000_000,
      participantId: 'prt_1',
      role: 'analyst',
      alertId: alert.id,
      previousDigest: '00'.repeat(32),
      digest: '11'.repeat(32),
    };
    answers = [{ status: 200, body: { entries: [entry], next: null } }];
    assert.deepEqual(await client().audit({ after: '0', limit: 5 }), { entries: [entry], next: null });
    assert.equal(received.at(-1)!.url, '/v1/audit?limit=5&after=0');

    answers = [{ status: 200, body: { entries: 4, firstBroken: 3 } }];
    assert.deepEqual(await client().auditVerify(), { entries: 4, firstBroken: 3 });
    answers = [{ status: 200, body: { entries: 4, firstBroken: null } }];
    assert.deepEqual(await client().auditVerify(), { entries: 4, firstBroken: null });

    const byStatus = { open: 1, confirmed: 0, revoked: 2 };
    const alerts = {
      doubleSpend: byStatus,
      fakeFunding: byStatus,
      counterReuse: byStatus,
      unknownSigner: byStatus,
      revokedSigner: byStatus,
    };
    answers = [{ status: 200, body: { uploads: { stored: 3, ingested: 10, refused: 1 }, alerts } }];
    assert.deepEqual(await client().status(), { uploads: { stored: 3, ingested: 10, refused: 1 }, alerts });
    answers = [{ status: 200, body: { uploads: { stored: 3, ingested: 10, refused: 1, lost: 0 }, alerts } }];
    await assert.rejects(
      client().status(),
      (error: unknown) =>
        isCbdcError(error) &&
        error.message === 'mdsAnswerInvalid: answer.uploads.lost is not one of stored | ingested | refused',
    );

    const participant = { id: 'prt_2', name: 'DCP one', role: 'dcp', dcpId: seId };
    answers = [{ status: 201, body: { participant } }];
    const created = await client().createParticipant('p-1', {
      name: 'DCP one',
      role: 'dcp',
      apiKeySha256: '22'.repeat(32),
      dcpId: seId,
    });
    assert.deepEqual(created.value, participant);
    assert.deepEqual(received.at(-1)!.body, {
      name: 'DCP one',
      role: 'dcp',
      apiKeySha256: '22'.repeat(32),
      dcpId: seId,
    });
  });

  test('the bounds restated for clients equal the enclave interface', () => {
    assert.deepEqual(
      [reportItemsMax, sealedUploadBytesMax, claimBytesMax, alertsPageMax, refundsPageMax, recoveriesListMax],
      [
        channel.reportItemsMax,
        channel.sealedUploadBytesMax,
        channel.claimBytesMax,
        channel.alertsPageMax,
        channel.refundsPageMax,
        channel.recoveriesListMax,
      ],
    );
    assert.equal(reportedCreditIdPattern.source, channel.reportedCreditIdPattern.source);
  });
});
