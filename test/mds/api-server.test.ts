// The MDS API process's wiring (src/mds/server.ts) in this process, with the enclave interface's
// double as what the starter returns: it is handed the PKI folder and the enclave's own database,
// never the API's; the API process starts without the MDS key file (it reads trust.json only); the bootstrap operator key works; close stops the API before the enclave; a
// start that fails after the enclave started stops the enclave again.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startMdsServer, type EnclaveHandle, type EnclaveStarter } from '../../src/mds/server.ts';
import { testPki } from '../../src/testing/directory.ts';
import { call, EnclaveDouble, newApiKey } from '../../src/testing/mds.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../src/testing/scratch.ts';
import { freePort } from '../../src/testing/service-process.ts';

describe('MDS API server wiring', () => {
  let pki: ReturnType<typeof testPki>;
  let api: ScratchDatabase;
  let directoryUrl: string;
  const events: string[] = [];
  /** Whether the API still listens, read when the enclave is closed. */
  let listening: () => boolean = () => false;
  const started: { databaseUrl: string; pkiDirectory: string }[] = [];
  const starter: EnclaveStarter = (options) => {
    started.push({ ...options });
    const enclave = new EnclaveDouble() as EnclaveDouble & EnclaveHandle;
    enclave.close = () => {
      events.push(listening() ? 'enclave closed while the API listens' : 'enclave closed');
      return Promise.resolve();
    };
    return Promise.resolve(enclave);
  };

  before(async () => {
    pki = testPki();
    // The API process never opens the MDS key file: without it, it starts all the same.
    rmSync(join(pki.dir, 'mds.json'));
    api = await createScratchDatabase('sqlite', 'file');
    directoryUrl = `http://127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    await api.drop();
    pki.remove();
  });

  test('starts the enclave with the PKI folder and its own database, serves, closes the API then the enclave', async () => {
    const operatorKey = newApiKey();
    const server = await startMdsServer({
      databaseUrl: api.url,
      enclaveDatabaseUrl: 'sqlite:/tmp/enclave-not-opened-here.sqlite',
      host: '127.0.0.1',
      port: 0,
      pkiDir: pki.dir,
      startEnclave: starter,
      directoryUrl,
      directoryKey: newApiKey(),
      operatorKey,
    });
    assert.deepEqual(started, [
      { databaseUrl: 'sqlite:/tmp/enclave-not-opened-here.sqlite', pkiDirectory: pki.dir },
    ]);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const me = await call(server.app, operatorKey, 'GET', '/v1/participants/me');
    assert.equal((me.body['participant'] as { role: string }).role, 'operator');
    listening = () => server.app.server.listening;
    await server.close();
    assert.deepEqual(events, ['enclave closed']);
  });

  test('a start that fails after the enclave started (a bad operator key) stops the enclave', async () => {
    events.length = 0;
    listening = () => false;
    await assert.rejects(
      startMdsServer({
        databaseUrl: api.url,
        enclaveDatabaseUrl: 'sqlite::memory:',
        host: '127.0.0.1',
        port: 0,
        pkiDir: pki.dir,
        startEnclave: starter,
        directoryUrl,
        directoryKey: newApiKey(),
        operatorKey: 'short',
      }),
      /operator key/,
    );
    assert.deepEqual(events, ['enclave closed']);
  });
});
