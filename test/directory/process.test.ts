// The directory as a real child process (`node bin/cbdc.mjs serve directory`) on a SQLite file and a
// random free port: register an SE, revoke it, read the deny list over HTTP, stop it with SIGTERM,
// start it again on the same file, and find everything as it was.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { purposes } from '../../src/core/crypto.ts';
import { encodeSigned } from '../../src/core/signed.ts';
import { NodeVerifier } from '../../src/crypto/node-crypto.ts';
import { DirectoryClient } from '../../src/directory/api/client.ts';
import { dcpIdOf, freshKey, issueSecureElement, newApiKey } from '../../src/testing/directory.ts';
import { createDeploymentPki, type CreatedPki } from '../../src/pki/deployment-pki.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../src/testing/scratch.ts';
import { freePort, repositoryRoot as root, ServiceProcess } from '../../src/testing/service-process.ts';

function startDirectory(
  databaseUrl: string,
  port: number,
  pkiDir: string,
  operatorKey: string,
): Promise<ServiceProcess> {
  return ServiceProcess.start('directory', ['--port', String(port), '--db', databaseUrl, '--pki', pkiDir], {
    CBDC_DIRECTORY_OPERATOR_KEY: operatorKey,
  });
}

/** Stops the process with `signal` (if it still runs) and resolves with its exit code. */
async function stop(directory: ServiceProcess, signal: NodeJS.Signals): Promise<number | null> {
  return (await directory.stop(signal)).code;
}

describe('directory process', () => {
  let scratch: ScratchDatabase;
  let pkiDir: string;
  let pki: CreatedPki;
  let port: number;
  let directory: ServiceProcess;
  const operatorKey = newApiKey();
  const client = (apiKey?: string) =>
    new DirectoryClient({
      baseUrl: `http://127.0.0.1:${port}`,
      ...(apiKey === undefined ? {} : { apiKey }),
      timeoutMs: 3_000,
    });

  before(async () => {
    pkiDir = mkdtempSync(join(tmpdir(), 'cbdc-directory-process-'));
    pki = createDeploymentPki(pkiDir, ['bank-a'], Math.floor(Date.now() / 1000));
    scratch = await createScratchDatabase('sqlite', 'file');
    port = await freePort();
    directory = await startDirectory(scratch.url, port, pkiDir, operatorKey);
  });
  after(async () => {
    await stop(directory, 'SIGKILL');
    await scratch.drop();
    rmSync(pkiDir, { recursive: true, force: true });
  });

  test('register, revoke, read the deny list; SIGTERM exits 0; a restart on the same file has it all', async () => {
    const operator = client(operatorKey);
    const dcp = await operator.createParticipant(freshKey(), {
      name: 'Bank A',
      role: 'dcp',
      dcpId: dcpIdOf(pki, 'bank-a'),
    });
    const mds = await operator.createParticipant(freshKey(), { name: 'MDS', role: 'mds' });
    const se = issueSecureElement(pki, 'bank-a', 'card', { nowSeconds: Math.floor(Date.now() / 1000) });
    const registered = await client(dcp.value.apiKey).registerSecureElement(freshKey(), {
      certificate: se.certificate,
      walletId: 'wallet-process',
    });
    assert.equal(registered.value.status, 'active');
    const revoked = await client(mds.value.apiKey).changeStatus(freshKey(), se.seId, {
      status: 'revoked',
      reason: 'process test',
    });
    assert.equal(revoked.value.denyListVersion, 1);
    const list = await client().denyList(0);
    assert.deepEqual(list.delta?.added, [se.seId]);
    const directoryKey = pki.directory.certificate.body.publicKey;
    assert.ok(
      new NodeVerifier().verify(
        directoryKey,
        purposes.denyList,
        list.signed.bodyBytes,
        list.signed.signature,
      ),
    );
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.deepEqual(await health.json(), { status: 'ok' });

    assert.equal(await stop(directory, 'SIGTERM'), 0);
    directory = await startDirectory(scratch.url, port, pkiDir, operatorKey);

    const after = await client(operatorKey).secureElement(se.seId);
    assert.equal(after.status, 'revoked');
    assert.equal(after.walletId, 'wallet-process');
    assert.deepEqual(
      after.history.map((change) => [change.status, change.reason]),
      [
        ['active', 'registered'],
        ['revoked', 'process test'],
      ],
    );
    const again = await client().denyList();
    assert.equal(again.version, 1);
    assert.equal(toHex(encodeSigned(again.signed)), toHex(encodeSigned(list.signed)));
    assert.equal((await client(dcp.value.apiKey).whoAmI()).id, dcp.value.participant.id);
  });

  test('cbdc migrate directory finds the schema current; serve without --pki refuses to start', () => {
    const migrated = spawnSync(
      process.execPath,
      ['bin/cbdc.mjs', 'migrate', 'directory', '--db', scratch.url],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    assert.equal(migrated.status, 0, migrated.stderr);
    assert.match(migrated.stdout, /directory: nothing to apply; schema at version 2/);
    const noPki = spawnSync(process.execPath, ['bin/cbdc.mjs', 'serve', 'directory', '--port', '0'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.notEqual(noPki.status, 0);
    assert.match(noPki.stderr, /--pki/);
  });
});
