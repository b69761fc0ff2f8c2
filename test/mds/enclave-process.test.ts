// The enclave as its own process, through the channel the API process uses: it opens its database
// and key file, ingests what is stored, answers refusals as typed errors with their codes, and exits
// cleanly when the channel closes. Both engines (SQLite file, PostgreSQL scratch database).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { isCbdcError } from '../../src/core/errors.ts';
import { startEnclave, type EnclaveProcess } from '../../src/mds/channel/enclave-client.ts';
import { createScratchDatabase, engines, type ScratchDatabase } from '../../src/testing/scratch.ts';
import { MdsUploads } from '../../src/testing/mds-uploads.ts';
import type { UploadStatus } from '../../src/mds/channel/protocol.ts';

/** Polls until the upload leaves `stored` (the workers run on their own), at most `attemptsMax` times. */
async function settled(
  enclave: EnclaveProcess,
  dcpId: string,
  digest: string,
): Promise<UploadStatus | undefined> {
  const attemptsMax = 200;
  for (let attempt = 0; attempt < attemptsMax; attempt++) {
    const status = await enclave.uploadStatus(dcpId, digest);
    if (status?.state !== 'stored') return status;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`upload ${digest} still stored`);
}

async function refusalCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isCbdcError(error)) return error.code;
    throw error;
  }
  assert.fail('the call was not refused');
}

for (const engine of engines) {
  void describe(`the enclave process (${engine})`, () => {
    let uploads: MdsUploads;
    let folder: string;
    let scratch: ScratchDatabase;
    let enclave: EnclaveProcess;
    before(async () => {
      uploads = new MdsUploads();
      folder = mkdtempSync(join(tmpdir(), 'cbdc-enclave-'));
      uploads.writePkiDirectory(folder);
      scratch = await createScratchDatabase(engine, 'file');
      enclave = await startEnclave({ databaseUrl: scratch.url, pkiDirectory: folder, pollMs: 20 });
    });
    after(async () => {
      await enclave.close();
      await scratch.drop();
      rmSync(folder, { recursive: true, force: true });
    });

    void test('stores, ingests and raises a doubleSpend through the channel', async () => {
      const { uploads: relayed, thief } = uploads.doubleSpend();
      for (const upload of relayed) {
        const stored = await enclave.storeUpload(uploads.request(upload));
        assert.equal(stored.state, 'stored');
        assert.deepEqual(await settled(enclave, uploads.dcpId, stored.digest), {
          digest: stored.digest,
          state: 'ingested',
          refusal: null,
        });
      }
      const page = await enclave.alertsAfter(0, 10);
      assert.deepEqual(
        page.alerts.map((alert) => [alert.kind, alert.seId, alert.value, alert.evidenceCount]),
        [['doubleSpend', toHex(thief.id), 1_000n, 2]],
      );
      const evidence = await enclave.evidence(page.alerts[0]!.id);
      assert.equal(evidence?.length, 2);
      assert.ok(evidence.every((item) => item.entry instanceof Uint8Array && item.entry.length > 64));
      assert.deepEqual((await enclave.status()).uploads, { stored: 0, ingested: 2, refused: 0 });
    });

    void test('refusals cross as typed errors with their codes; bad requests name the field', async () => {
      const [upload] = uploads.doubleSpend().uploads;
      const other = '11'.repeat(16);
      const stored = await enclave.storeUpload(uploads.request(upload!));
      // Ingested before the tests below close this enclave, so the next one finds nothing stored.
      assert.equal((await settled(enclave, uploads.dcpId, stored.digest))?.state, 'ingested');
      assert.equal(
        await refusalCode(enclave.storeUpload(uploads.request(upload!, 1, other))),
        'uploadConflict',
      );
      assert.equal(
        await refusalCode(
          enclave.storeUpload({ ...uploads.request(upload!), claim: new Uint8Array([1, 2, 3]) }),
        ),
        'uploadClaimInvalid',
      );
      assert.equal(await refusalCode(enclave.uploadStatus('zz', '00')), 'fieldInvalid');
      assert.equal(
        await enclave.uploadStatus(other, toHex(uploads.pki.verifier.sha256(upload!.sealed))),
        undefined,
      );
      assert.equal(await refusalCode(enclave.alertsAfter(0, 257)), 'fieldInvalid');
    });

    void test('closing the channel ends the process cleanly; later calls are mdsEnclaveUnavailable', async () => {
      const pid = enclave.pid;
      assert.ok(pid !== undefined);
      await enclave.close();
      assert.deepEqual(await enclave.exited, { code: 0, signal: null });
      assert.throws(() => process.kill(pid, 0), /ESRCH/);
      assert.equal(await refusalCode(enclave.status()), 'mdsEnclaveUnavailable');
    });

    void test('SIGTERM ends a second enclave on the same database cleanly, after it answered', async () => {
      const second = await startEnclave({ databaseUrl: scratch.url, pkiDirectory: folder, pollMs: 20 });
      assert.equal((await second.status()).uploads.stored, 0);
      assert.ok(second.pid !== undefined);
      process.kill(second.pid, 'SIGTERM');
      assert.deepEqual(await second.exited, { code: 0, signal: null });
      assert.equal(await refusalCode(second.status()), 'mdsEnclaveUnavailable');
    });
  });
}
