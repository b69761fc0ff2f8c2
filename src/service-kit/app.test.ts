// Every answer of a kit app is in the envelope with a catalogue code: the routes' refusals, and what
// the router, the body parser and the HTTP parser refuse, whose own bodies (fastify's
// `{"error":"Bad Request","code":"FST_ERR_..."}`, Node's bare 400) never reach a client.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import type { InjectOptions } from 'fastify';
import { catalogueFunctions, coreError, defineErrorCatalogue } from '../core/errors.ts';
import { StorageUnavailable } from '../storage/database.ts';
import { createServiceApp, pathParameterLengthMax, type ServiceApp } from './app.ts';
import { errorAnswerer } from './errors.ts';
import { HttpMetrics } from './metrics.ts';
import { strict } from './schemas.ts';
import { serviceErrors } from './service-errors.ts';
import { promtoolCheckMetrics, promtoolSkip } from '../testing/service-kit.ts';

const kitErrors = defineErrorCatalogue({
  kitThingRefused: { number: 0x7f01, kind: 'conflict', meaning: 'a domain refusal of the test app' },
});
const { error: kitError, isCode: isKitCode } = catalogueFunctions(kitErrors);
const bodyBytesMax = 256;

/** A kit app with one route of each shape, over the generic codes. */
export async function kitApp(options: { readonly processMetrics?: boolean } = {}) {
  const metrics = new (class extends HttpMetrics {
    constructor() {
      super('kit');
      this.collectProcessMetrics(options.processMetrics ?? false);
    }
  })();
  const app = await createServiceApp({
    title: 'kit',
    description: 'test',
    requestBodyBytesMax: bodyBytesMax,
    errorAnswer: errorAnswerer({
      isCode: isKitCode,
      definition: (code) => kitErrors[code],
      // Core's decoding refusals answered as the generic requestInvalid (what the DCP will do).
      translate: (error) =>
        error.code === 'fieldInvalid' ? { code: 'requestInvalid', message: error.message } : undefined,
    }),
    metrics,
    ping: () => Promise.resolve(),
  });
  app.post(
    '/v1/things',
    { schema: { body: Type.Object({ name: Type.String({ maxLength: 20 }) }, strict) } },
    (request) => ({ name: request.body.name }),
  );
  app.get('/v1/things/:thingId', (request) => {
    const { thingId } = request.params as { thingId: string };
    if (thingId === 'refused') throw kitError('kitThingRefused', 'thing refused');
    if (thingId === 'bug') throw new TypeError('a bug');
    if (thingId === 'down') throw new StorageUnavailable('connection refused');
    if (thingId === 'core') throw coreError('fieldInvalid', 'thing.name');
    return { thingId };
  });
  return app;
}

interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly number: number;
  readonly headers: Record<string, unknown>;
}

async function refusal(app: ServiceApp, request: InjectOptions): Promise<Refusal> {
  const response = await app.inject(request);
  const body = response.json<{ error: { code: string; number: number; message: string } }>();
  assert.deepEqual(Object.keys(body), ['error'], response.body);
  assert.deepEqual(Object.keys(body.error), ['code', 'number', 'message'], response.body);
  assert.equal(typeof body.error.message, 'string');
  return {
    status: response.statusCode,
    code: body.error.code,
    number: body.error.number,
    headers: response.headers,
  };
}

const json = { 'content-type': 'application/json' };

describe('a kit app answers every refusal in the envelope with a generic code', () => {
  let app: ServiceApp;
  before(async () => {
    app = await kitApp();
  });
  after(() => app.close());

  const cases: readonly {
    readonly name: string;
    readonly request: InjectOptions;
    readonly status: number;
    readonly code: string;
  }[] = [
    {
      name: 'unknown path',
      request: { method: 'GET', url: '/v1/nothing' },
      status: 404,
      code: 'routeNotFound',
    },
    {
      name: 'path segment over the router bound (fastify: 414 FST_ERR_MAX_PARAM_LENGTH)',
      request: { method: 'GET', url: `/v1/things/${'a'.repeat(pathParameterLengthMax + 1)}` },
      status: 414,
      code: 'pathParameterTooLong',
    },
    {
      name: 'bad percent-encoding (fastify: 400 FST_ERR_BAD_URL)',
      request: { method: 'GET', url: '/v1/things/%E0%A4%A' },
      status: 400,
      code: 'urlMalformed',
    },
    {
      name: 'malformed JSON',
      request: { method: 'POST', url: '/v1/things', headers: json, payload: '{"name":' },
      status: 400,
      code: 'requestBodyMalformed',
    },
    {
      name: 'empty JSON body',
      request: { method: 'POST', url: '/v1/things', headers: json, payload: '' },
      status: 400,
      code: 'requestBodyMalformed',
    },
    {
      name: 'prototype poisoning',
      request: { method: 'POST', url: '/v1/things', headers: json, payload: '{"__proto__":{"x":1}}' },
      status: 400,
      code: 'requestBodyMalformed',
    },
    {
      name: 'text/plain body',
      request: { method: 'POST', url: '/v1/things', headers: { 'content-type': 'text/plain' }, payload: 'x' },
      status: 415,
      code: 'mediaTypeUnsupported',
    },
    {
      name: 'unknown media type',
      request: {
        method: 'POST',
        url: '/v1/things',
        headers: { 'content-type': 'application/xml' },
        payload: '<a/>',
      },
      status: 415,
      code: 'mediaTypeUnsupported',
    },
    {
      name: 'body over requestBodyBytesMax',
      request: {
        method: 'POST',
        url: '/v1/things',
        headers: json,
        payload: JSON.stringify({ name: 'x'.repeat(bodyBytesMax) }),
      },
      status: 413,
      code: 'requestBodyTooLarge',
    },
    {
      name: 'schema refusal',
      request: { method: 'POST', url: '/v1/things', headers: json, payload: '{"name":5}' },
      status: 400,
      code: 'requestInvalid',
    },
    {
      name: 'domain refusal',
      request: { method: 'GET', url: '/v1/things/refused' },
      status: 409,
      code: 'kitThingRefused',
    },
    { name: 'a bug', request: { method: 'GET', url: '/v1/things/bug' }, status: 500, code: 'internalError' },
    {
      name: "another component's refusal, translated",
      request: { method: 'GET', url: '/v1/things/core' },
      status: 400,
      code: 'requestInvalid',
    },
    {
      name: 'database down',
      request: { method: 'GET', url: '/v1/things/down' },
      status: 503,
      code: 'storageUnavailable',
    },
  ];
  for (const bad of cases) {
    test(`${bad.name}: ${bad.status} ${bad.code}`, async () => {
      const answer = await refusal(app, bad.request);
      assert.equal(answer.code, bad.code);
      assert.equal(answer.status, bad.status);
      const definition =
        serviceErrors[bad.code as keyof typeof serviceErrors] ??
        kitErrors[bad.code as keyof typeof kitErrors];
      assert.equal(answer.number, definition.number);
    });
  }

  test('a known path with another method is 405 methodNotAllowed, with Allow (RFC 9110 §15.5.6)', async () => {
    const deleted = await refusal(app, { method: 'DELETE', url: '/v1/things/abc?x=1' });
    assert.equal(deleted.status, 405);
    assert.equal(deleted.code, 'methodNotAllowed');
    assert.equal(deleted.headers['allow'], 'GET, HEAD');
    const put = await refusal(app, { method: 'PUT', url: '/v1/things', headers: json, payload: '{}' });
    assert.equal(put.status, 405);
    assert.equal(put.headers['allow'], 'POST');
  });

  test('malformed HTTP on a socket is answered in the envelope, then the connection is closed', async () => {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const port = Number(new URL(address).port);
    for (const [bytes, status, code] of [
      ['GET /v1/things/a HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 400, 'requestMalformed'],
      [
        `GET /v1/things/a HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'requestHeadersTooLarge',
      ],
    ] as const) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(bytes);
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1');
        });
        socket.on('end', () => {
          resolve(text);
        });
        socket.on('error', reject);
      });
      const [head, body] = answer.split('\r\n\r\n') as [string, string];
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `));
      const parsed = JSON.parse(body) as { error: { code: string; number: number } };
      assert.equal(parsed.error.code, code);
      assert.equal(parsed.error.number, serviceErrors[code].number);
    }
  });
});

test(
  "the kit's /metrics, process metrics included, passes promtool check metrics",
  { skip: promtoolSkip() },
  async () => {
    const app = await kitApp({ processMetrics: true });
    try {
      await app.inject({ method: 'GET', url: '/v1/things/a' });
      await app.inject({ method: 'GET', url: '/v1/nothing' });
      const response = await app.inject({ method: 'GET', url: '/metrics' });
      assert.match(response.body, /^kit_http_requests_total\{/m);
      assert.match(response.body, /^nodejs_active_handles\b/m, 'process metrics are on');
      assert.doesNotMatch(response.body, /^nodejs_active_\w+_total\b/m);
      const verdict = promtoolCheckMetrics(response.body);
      assert.equal(verdict.kind, 'checked');
      assert.ok(
        verdict.kind === 'checked' && verdict.passed,
        verdict.kind === 'checked' ? verdict.output : '',
      );
    } finally {
      await app.close();
    }
  },
);
