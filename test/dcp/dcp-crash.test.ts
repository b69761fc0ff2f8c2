// Crash at every step: a fault hook throws after each local commit and each ledger call of load,
// renewal, unload and transfer (the process's state in memory is then abandoned); the DCP restarts on
// the same database, reconciles its outbox with the ledger, and the client retries with the same key
// and the same body. Exactly one issuance per operation, exactly one ledger movement, nothing lost.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { decodeCbor } from '../../src/core/cbor.ts';
import { issuanceFromCbor } from '../../src/core/issuance.ts';
import { encodeSigned } from '../../src/core/signed.ts';
import { DcpRefused, DeviceApp } from '../../src/dcp/device-app.ts';
import type { FaultPoint } from '../../src/dcp/domain/ports.ts';
import {
  loadRequestDigest,
  transferRequestDigest,
  unloadRequestDigest,
} from '../../src/dcp/domain/requests.ts';
import { startDcpServer, type DcpServer } from '../../src/dcp/server.ts';
import type { Device } from '../../src/device/device.ts';
import { startLedgerServer, type LedgerServer } from '../../src/ledger/server.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../src/storage/scratch.ts';
import {
  adminCall,
  freshKey,
  fundAccount,
  ledgerWorld,
  MemoryDirectory,
  newApiKey,
  newDevice,
  seIdOf,
  tempPki,
  verifier,
  type Supply,
} from './fixtures.ts';

let ledger: LedgerServer;
let scratch: ScratchDatabase;
let pki: ReturnType<typeof tempPki>;
let directory: MemoryDirectory;
let ledgerKey = '';
let dcpKey = '';
const operatorKey = newApiKey();
let dcp: DcpServer;
let armed: FaultPoint | undefined;

async function start(): Promise<DcpServer> {
  return startDcpServer({
    databaseUrl: scratch.url,
    host: '127.0.0.1',
    port: 0,
    pkiDir: pki.dir,
    name: 'one',
    ledgerUrl: ledger.url,
    ledgerKey: dcpKey,
    directory,
    operatorKey,
    directoryCacheMs: 0,
    faults: (point) => {
      if (point !== armed) return;
      armed = undefined;
      throw new Error(`injected crash at ${point}`);
    },
  });
}

async function invariant(): Promise<bigint> {
  const supply = await adminCall<Supply>(dcp.url, operatorKey, 'GET', '/v1/supply');
  assert.equal(supply.inFlight, '0');
  assert.equal(supply.poolBalance, supply.outstanding);
  return BigInt(supply.outstanding);
}

/** Posts once with the fault armed (it must fail), restarts, posts again with the same key and body. */
async function crashAndRetry<T>(point: FaultPoint, path: string, body: unknown): Promise<T> {
  armed = point;
  const key = freshKey('crash');
  const first = new DeviceApp({ baseUrl: dcp.url, verifier });
  await assert.rejects(
    first.call('POST', path, body, { 'idempotency-key': key }),
    (error: DcpRefused) => error.status === 500,
  );
  assert.equal(armed, undefined, `${point} was reached`);
  await dcp.close();
  dcp = await start();
  const app = new DeviceApp({ baseUrl: dcp.url, verifier });
  const answer = await app.call<T & { operationId: string }>('POST', path, body, { 'idempotency-key': key });
  const again = await app.call<T & { operationId: string }>('POST', path, body, { 'idempotency-key': key });
  assert.deepEqual(again, answer);
  return answer;
}

let card: Device;
let phone: Device;

before(async () => {
  ledgerKey = newApiKey();
  ledger = await startLedgerServer({
    databaseUrl: 'sqlite::memory:',
    host: '127.0.0.1',
    port: 0,
    operatorKey: ledgerKey,
    logLevel: 'silent',
  });
  const world = await ledgerWorld(ledger.url, ledgerKey, 1);
  dcpKey = world.dcpKeys[0]!;
  pki = tempPki(['one']);
  directory = new MemoryDirectory(pki.pki);
  scratch = await createScratchDatabase('sqlite', 'file');
  dcp = await start();
  const { wallet } = await adminCall<{ wallet: { id: string; accountId: string } }>(
    dcp.url,
    operatorKey,
    'POST',
    '/v1/wallets',
    { name: 'Bob' },
  );
  await fundAccount(ledger.url, world, wallet.accountId, 1_000_000n);
  const app = new DeviceApp({ baseUrl: dcp.url, verifier });
  card = newDevice('card', 'card');
  phone = newDevice('phone', 'phone');
  await app.personalise(card.client(), 'card', wallet.id, operatorKey, freshKey());
  await app.personalise(phone.client(), 'phone', wallet.id, operatorKey, freshKey());
});

after(async () => {
  await dcp.close();
  await ledger.close();
  await scratch.drop();
  pki.remove();
});

test('a crash after any step of a load leaves exactly one load', async () => {
  let expected = 0n;
  for (const point of [
    'load.afterIntent',
    'load.afterHold',
    'load.afterCapture',
    'load.afterCommit',
  ] as const) {
    const client = phone.client();
    const data = client.getData();
    const seId = toHex(data.seId);
    const app = new DeviceApp({ baseUrl: dcp.url, verifier });
    const nonce = await app.nonce(seId);
    const request = client.authenticate(nonce, loadRequestDigest(verifier, 1_000n, data.balance));
    const body = {
      seId,
      amount: '1000',
      balance: data.balance.toString(),
      deviceRequest: toHex(encodeSigned(request)),
    };
    const answer = await crashAndRetry<{ issuance: string; operationId: string }>(point, '/v1/loads', body);
    assert.equal(await dcp.context.store.countIssuances(answer.operationId), 1);
    expected += 1_000n;
    assert.equal(client.load(issuanceFromCbor(decodeCbor(fromHex(answer.issuance)!))), expected);
    assert.equal(await invariant(), expected);
  }
});

test('a crash after any step of a renewal, an unload or a transfer leaves exactly one of each', async () => {
  const app = () => new DeviceApp({ baseUrl: dcp.url, verifier });
  const cases: { point: FaultPoint; kind: 'renewal' | 'unload' | 'transfer'; change: bigint }[] = [
    { point: 'settle.afterCommit', kind: 'renewal', change: 0n },
    { point: 'settle.afterCommit', kind: 'unload', change: -100n },
    { point: 'unload.afterPayment', kind: 'unload', change: -100n },
    { point: 'unload.afterCommit', kind: 'unload', change: -100n },
    { point: 'settle.afterCommit', kind: 'transfer', change: 0n },
  ];
  let outstanding = await invariant();
  for (const { point, kind, change } of cases) {
    const client = phone.client();
    const nonce = await app().nonce(seIdOf(phone));
    const { claim, sealedUpload } = client.beginSync(nonce);
    const base = { claim: toHex(encodeSigned(claim)), sealedUpload: toHex(sealedUpload) };
    const body =
      kind === 'renewal'
        ? base
        : kind === 'unload'
          ? {
              ...base,
              amount: '100',
              deviceRequest: toHex(
                encodeSigned(
                  client.authenticate(nonce, unloadRequestDigest(verifier, 100n, claim.bodyBytes)),
                ),
              ),
            }
          : {
              ...base,
              amount: '100',
              payeeSeId: seIdOf(card),
              deviceRequest: toHex(
                encodeSigned(
                  client.authenticate(
                    nonce,
                    transferRequestDigest(verifier, 100n, card.client().getData().seId, claim.bodyBytes),
                  ),
                ),
              ),
            };
    const path = kind === 'renewal' ? '/v1/renewals' : kind === 'unload' ? '/v1/unloads' : '/v1/transfers';
    const answer = await crashAndRetry<Parameters<DeviceApp['complete']>[1]>(point, path, body);
    assert.equal(await dcp.context.store.countIssuances(answer.operationId), 1);
    app().complete(client, answer);
    outstanding += change;
    assert.equal(await invariant(), outstanding);
  }
  // The transfer's credit reaches the card at its next sync.
  assert.equal(await app().renew(card.client(), freshKey()), 100n);
  assert.equal(await invariant(), outstanding);
});
