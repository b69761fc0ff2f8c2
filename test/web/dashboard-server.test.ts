// The dashboard server without a browser: it serves the built files and nothing else, and its proxy
// forwards the caller's own key and idempotency key to the service its path names — and no other
// header, no key of its own — answering what the service answered. Refusals are the generic
// service codes in the usual envelope.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  proxyRequestBodyBytesMax,
  startDashboardServer,
  type RunningDashboard,
} from '../../src/system/dashboard-server.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let folder: string;
let upstream: Server;
let dashboard: RunningDashboard;
const seen: Seen[] = [];

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'cbdc-dashboard-server-'));
  mkdirSync(join(folder, 'assets'));
  writeFileSync(join(folder, 'index.html'), '<!doctype html><title>room</title>');
  writeFileSync(join(folder, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(folder, '..', 'cbdc-dashboard-secret.txt'), 'not served');
  upstream = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      response.writeHead(201, {
        'content-type': 'application/json',
        'idempotent-replayed': 'true',
        'set-cookie': 'x=1',
      });
      response.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const address = upstream.address();
  assert.ok(address !== null && typeof address === 'object');
  dashboard = await startDashboardServer({
    staticDirectory: folder,
    targets: new Map([
      ['mds', `http://127.0.0.1:${address.port}`],
      ['ledger', 'http://127.0.0.1:1'],
    ]),
    description: { dcps: [{ name: 'bank-a', dcpId: '00'.repeat(16) }] },
    port: 0,
  });
});

after(async () => {
  await dashboard.close();
  await new Promise((resolve) => upstream.close(resolve));
  rmSync(folder, { recursive: true, force: true });
  rmSync(join(folder, '..', 'cbdc-dashboard-secret.txt'), { force: true });
});

async function errorCode(response: Response): Promise<string> {
  const body = (await response.json()) as { error: { code: string } };
  return body.error.code;
}

test('the built files are served, the page at /, and nothing outside them', async () => {
  const page = await fetch(dashboard.url);
  assert.deepEqual([page.status, page.headers.get('content-type')], [200, 'text/html; charset=utf-8']);
  assert.equal(await page.text(), '<!doctype html><title>room</title>');
  const script = await fetch(new URL('assets/index-abc.js', dashboard.url));
  assert.deepEqual(
    [script.status, script.headers.get('cache-control')],
    [200, 'public, max-age=31536000, immutable'],
  );
  for (const path of [
    '/../cbdc-dashboard-secret.txt',
    '/%2e%2e/cbdc-dashboard-secret.txt',
    '/assets/none.js',
  ]) {
    const response = await fetch(`${dashboard.url.slice(0, -1)}${path}`);
    assert.deepEqual([response.status, await errorCode(response)], [404, 'routeNotFound'], path);
  }
  const description = await fetch(new URL('dashboard.json', dashboard.url));
  assert.deepEqual(await description.json(), { dcps: [{ name: 'bank-a', dcpId: '00'.repeat(16) }] });
  const post = await fetch(dashboard.url, { method: 'POST' });
  assert.deepEqual([post.status, await errorCode(post)], [405, 'methodNotAllowed']);
});

test('the proxy forwards the caller’s key, idempotency key and body, and no other header', async () => {
  seen.length = 0;
  const response = await fetch(new URL('api/mds/v1/alerts/ab/confirm?x=1', dashboard.url), {
    method: 'POST',
    headers: {
      authorization: 'Bearer the-callers-key',
      'idempotency-key': 'key-1',
      'content-type': 'application/json',
      cookie: 'session=secret',
      'x-forwarded-for': '10.0.0.1',
    },
    body: '{"a":1}',
  });
  assert.equal(response.status, 201);
  assert.equal(response.headers.get('idempotent-replayed'), 'true');
  assert.equal(response.headers.get('set-cookie'), null, 'the service’s other headers stay behind');
  assert.deepEqual(await response.json(), { ok: true });
  assert.equal(seen.length, 1);
  const [request] = seen;
  assert.ok(request !== undefined);
  assert.deepEqual(
    [request.method, request.url, request.body],
    ['POST', '/v1/alerts/ab/confirm?x=1', '{"a":1}'],
  );
  assert.equal(request.headers.authorization, 'Bearer the-callers-key');
  assert.equal(request.headers['idempotency-key'], 'key-1');
  assert.equal(request.headers.cookie, undefined);
  assert.equal(request.headers['x-forwarded-for'], undefined);
  const anonymous = await fetch(new URL('api/mds/v1/status', dashboard.url));
  assert.equal(anonymous.status, 201);
  assert.equal(seen[1]?.headers.authorization, undefined, 'no key of its own is added');
});

test('an unknown service, an oversized body and a service that does not answer are refused in the envelope', async () => {
  seen.length = 0;
  const unknown = await fetch(new URL('api/nowhere/v1/status', dashboard.url));
  assert.deepEqual([unknown.status, await errorCode(unknown)], [404, 'routeNotFound']);
  const large = await fetch(new URL('api/mds/v1/uploads', dashboard.url), {
    method: 'POST',
    body: 'x'.repeat(proxyRequestBodyBytesMax + 1),
  });
  assert.deepEqual([large.status, await errorCode(large)], [413, 'requestBodyTooLarge']);
  assert.equal(seen.length, 0, 'nothing reached the service');
  const down = await fetch(new URL('api/ledger/v1/participants/me', dashboard.url));
  assert.deepEqual([down.status, await errorCode(down)], [502, 'internalError']);
});
