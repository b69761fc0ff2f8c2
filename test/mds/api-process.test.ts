// `cbdc serve mds` as a real child process on SQLite files: it starts its enclave process, answers
// the typed client (the bootstrap operator reads the status, a DCP posts an upload and reads its
// state), and SIGTERM stops the API then the enclave, exiting 0.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fromHex } from '../../src/core/bytes.ts';
import { MdsClient } from '../../src/mds/api/client.ts';
import { createDeploymentPki } from '../../src/pki/deployment-pki.ts';
import { apiKeyDigest } from '../../src/service-kit/api-key.ts';
import { dcpIdOf } from '../../src/testing/directory.ts';
import { freshKey, newApiKey, postedUpload, testEpochSeconds } from '../../src/testing/mds.ts';
import { freePort, ServiceProcess } from '../../src/testing/service-process.ts';

describe('cbdc serve mds process', () => {
  let dir: string;
  let mds: ServiceProcess | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cbdc-mds-process-'));
  });
  after(async () => {
    await mds?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves with its enclave, answers the typed client, and exits 0 on SIGTERM', async () => {
    const pki = createDeploymentPki(
      join(dir, 'pki'),
      ['bank-a'],
      Math.max(testEpochSeconds, Math.floor(Date.now() / 1000)),
    );
    const operatorKey = newApiKey();
    const port = await freePort();
    mds = await ServiceProcess.start(
      'mds',
      [
        '--port',
        String(port),
        '--db',
        `sqlite:${join(dir, 'mds.sqlite')}`,
        '--enclave-db',
        `sqlite:${join(dir, 'mds-enclave.sqlite')}`,
        '--pki',
        join(dir, 'pki'),
        '--directory',
        `http://127.0.0.1:${await freePort()}`,
      ],
      { CBDC_MDS_OPERATOR_KEY: operatorKey, CBDC_MDS_DIRECTORY_KEY: newApiKey() },
    );
    const baseUrl = `http://127.0.0.1:${port}`;
    const operator = new MdsClient({ baseUrl, apiKey: operatorKey });
    const status = await operator.status();
    assert.deepEqual(status.uploads, { stored: 0, ingested: 0, refused: 0 });
    const dcpKey = newApiKey();
    await operator.createParticipant(freshKey(), {
      name: 'Bank A',
      role: 'dcp',
      apiKeySha256: apiKeyDigest(dcpKey),
      dcpId: dcpIdOf(pki, 'bank-a'),
    });
    const dcp = new MdsClient({ baseUrl, apiKey: dcpKey });
    const posted = postedUpload();
    const claim = fromHex(posted.claim);
    const sealed = fromHex(posted.sealed);
    assert.ok(claim !== undefined && sealed !== undefined);
    const stored = await dcp.postUpload(freshKey(), { claim, sealed });
    assert.deepEqual(stored.value, { digest: posted.digest, state: 'stored' });
    // Random bytes under a well-formed claim: the enclave cannot open them (uploadUnsealable).
    let state = await dcp.uploadStatus(posted.digest);
    for (let attempt = 0; attempt < 60 && state.state === 'stored'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      state = await dcp.uploadStatus(posted.digest);
    }
    assert.equal(state.state, 'refused');
    assert.equal(state.refusal, 'uploadUnsealable');
    const exit = await mds.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
  });
});
