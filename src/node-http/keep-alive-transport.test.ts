// The Node transport against a real HTTP server on loopback: answers and headers as sent, the
// answer's bound enforced while reading, a hanging server timed out, and sockets reused between
// calls (the point of the agent) yet recovered from when the server closed one.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { keepAliveTransport } from './keep-alive-transport.ts';

let server: Server;
let baseUrl: string;
const sockets = new Set<unknown>();
let handle: (request: IncomingMessage, body: string, response: ServerResponse) => void;

before(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => handle(request, body, response));
  });
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const request = (overrides: Partial<Parameters<typeof keepAliveTransport>[0]> = {}) =>
  keepAliveTransport({
    method: 'POST',
    url: `${baseUrl}/echo`,
    headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1' },
    body: '{"amount":"€5"}',
    timeoutMs: 2_000,
    answerBytesMax: 1_024,
    ...overrides,
  });

test('sends method, headers and body; answers status, text and headers by lowercase name', async () => {
  handle = (incoming, body, response) => {
    response.writeHead(201, { 'content-type': 'application/json', 'Idempotent-Replayed': 'true' });
    response.end(JSON.stringify({ method: incoming.method, key: incoming.headers['idempotency-key'], body }));
  };
  const answer = await request();
  assert.equal(answer.kind, 'answer');
  assert.ok(answer.kind === 'answer');
  assert.equal(answer.status, 201);
  assert.deepEqual(JSON.parse(answer.text), { method: 'POST', key: 'k-1', body: '{"amount":"€5"}' });
  assert.equal(answer.header('idempotent-replayed'), 'true');
  assert.equal(answer.header('x-absent'), null);
});

test('an answer over its bound is cut off and reported as tooLong; one at the bound is read', async () => {
  handle = (_incoming, _body, response) => response.end('x'.repeat(1_025));
  assert.deepEqual(await request(), { kind: 'tooLong' });
  handle = (_incoming, _body, response) => response.end('x'.repeat(1_024));
  const exact = await request();
  assert.ok(exact.kind === 'answer');
  assert.equal(exact.text.length, 1_024);
});

test('a server that never answers, or stops halfway through the body, is a thrown error', async () => {
  handle = () => undefined;
  await assert.rejects(request({ timeoutMs: 50 }), (error: Error) => error.name === 'TimeoutError');
  handle = (_incoming, _body, response) => {
    response.writeHead(200, { 'content-length': '100' });
    response.write('{"half":');
  };
  await assert.rejects(request({ timeoutMs: 100 }), (error: Error) => error.name === 'TimeoutError');
});

test('consecutive calls share one kept-alive socket; after the server dropped it, a fresh one serves', async () => {
  handle = (_incoming, _body, response) => response.end('{}');
  sockets.clear();
  for (let call = 0; call < 5; call++) assert.equal((await request()).kind, 'answer');
  assert.equal(sockets.size, 1);
  server.closeAllConnections();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal((await request()).kind, 'answer');
  assert.equal(sockets.size, 2);
});
