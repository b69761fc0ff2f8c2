import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { HttpPeers } from './peers.ts';

async function listen(status: number, body: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, url: `http://127.0.0.1:${address.port}` };
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'resolved';
}

test('a payee DCP that is down or failing is unavailable (retry later), one that refuses is payeeNotFound', async () => {
  const peers = new HttpPeers({ timeoutMs: 2_000 });
  const down = await listen(200, '{}');
  const downUrl = down.url;
  await new Promise<void>((resolve) => {
    down.server.close(() => {
      resolve();
    });
  });
  assert.equal(await code(peers.credit(downUrl, 'payment-1')), 'dcpPeerUnavailable');
  assert.equal(await code(peers.describe(downUrl)), 'dcpPeerUnavailable');

  const failing = await listen(503, '{"error":{"code":"storageUnavailable"}}');
  const refusing = await listen(404, '{"error":{"code":"paymentNotFound"}}');
  const accepting = await listen(201, '{"seId":"00112233445566778899aabbccddeeff","amount":"1"}');
  try {
    assert.equal(await code(peers.credit(failing.url, 'payment-1')), 'dcpPeerUnavailable');
    assert.equal(await code(peers.credit(refusing.url, 'payment-1')), 'payeeNotFound');
    assert.equal(await code(peers.credit(accepting.url, 'payment-1')), 'resolved');
  } finally {
    for (const { server } of [failing, refusing, accepting]) server.close();
  }
});
