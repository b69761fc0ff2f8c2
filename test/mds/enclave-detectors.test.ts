// The enclave's ingest and detectors on both engines, with uploads from real SEs driven through their
// APDUs: honest traffic raises nothing; each fraud raises exactly one alert of its kind, blaming the
// right SE with the right value and evidence; ingest is idempotent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import { engines } from '../../src/testing/scratch.ts';
import {
  MdsUploads,
  scratchEnclave,
  type RelayedUpload,
  type ScratchEnclave,
} from '../../src/testing/mds-uploads.ts';
import type { EnclaveAlert } from '../../src/mds/channel/protocol.ts';

async function ingest(enclave: ScratchEnclave, uploads: MdsUploads, relayed: readonly RelayedUpload[]) {
  for (const upload of relayed) {
    const status = await enclave.service.storeUpload(uploads.request(upload));
    assert.equal(status.state, 'stored', upload.label);
  }
  assert.equal(await enclave.service.ingestAll(1_000), relayed.length);
  for (const upload of relayed) {
    const digest = toHex(uploads.pki.verifier.sha256(upload.sealed));
    assert.deepEqual(await enclave.service.uploadStatus(uploads.dcpId, digest), {
      digest,
      state: 'ingested',
      refusal: null,
    });
  }
}

const shown = (alerts: readonly EnclaveAlert[]) =>
  alerts.map((alert) => ({
    kind: alert.kind,
    seId: alert.seId,
    value: alert.value,
    evidenceCount: alert.evidenceCount,
  }));

for (const engine of engines) {
  void describe(`enclave ingest and detectors (${engine})`, () => {
    let uploads: MdsUploads;
    let enclave: ScratchEnclave;
    before(async () => {
      uploads = new MdsUploads();
      enclave = await scratchEnclave(uploads, engine);
    });
    after(async () => {
      await enclave.close();
    });

    void test('honest payments between three phones: ingested, merged, and no alert at all', async () => {
      const { uploads: relayed } = uploads.honest();
      await ingest(enclave, uploads, relayed);
      // 3 loads + 3 transfers; tokens: 3 load outputs + 3 payments + 3 changes; each transfer spends one token.
      assert.deepEqual(await enclave.graphCounts(), {
        entries: 6,
        tokens: 9,
        spends: 3,
        counters: 3,
        holdings: 6,
        evidence: 0,
      });
      assert.deepEqual((await enclave.service.alertsAfter(0, 256)).alerts, []);
      const status = await enclave.service.status();
      assert.deepEqual(status.uploads, { stored: 0, ingested: 3, refused: 0 });
    });

    void test('the same uploads again change nothing (ingest is idempotent)', async () => {
      const before = await enclave.graphCounts();
      const { uploads: relayed } = uploads.honest();
      await ingest(enclave, uploads, relayed);
      const grown = await enclave.graphCounts();
      for (const upload of relayed) {
        const again = await enclave.service.storeUpload(uploads.request(upload));
        assert.equal(again.state, 'ingested', 'the same pair answers its current state');
      }
      assert.equal(await enclave.service.ingestAll(10), 0);
      assert.deepEqual(await enclave.graphCounts(), grown);
      assert.equal(grown.entries, before.entries + 6);
    });

    void test('a token spent twice towards two honest payees: one doubleSpend alert, the thief, the token value', async () => {
      const start = (await enclave.service.alertsAfter(0, 256)).sequence;
      const { uploads: relayed, thief } = uploads.doubleSpend();
      await ingest(enclave, uploads, relayed);
      const page = await enclave.service.alertsAfter(start, 256);
      assert.deepEqual(shown(page.alerts), [
        { kind: 'doubleSpend', seId: toHex(thief.id), value: 1_000n, evidenceCount: 2 },
      ]);
      const evidence = await enclave.service.evidence(page.alerts[0]!.id);
      assert.deepEqual(
        evidence?.map((item) => item.kind),
        ['transfer', 'transfer'],
      );
    });

    void test('one counter on two transfers: one counterReuse alert valued at the smaller payment', async () => {
      const start = (await enclave.service.alertsAfter(0, 256)).sequence;
      const { uploads: relayed, thief } = uploads.counterReuse();
      await ingest(enclave, uploads, relayed);
      assert.deepEqual(shown((await enclave.service.alertsAfter(start, 256)).alerts), [
        { kind: 'counterReuse', seId: toHex(thief.id), value: 100n, evidenceCount: 2 },
      ]);
    });

    void test('a cloned chip: a doubleSpend of its 2,000 and a counterReuse of the smaller payment, both blaming it', async () => {
      const start = (await enclave.service.alertsAfter(0, 256)).sequence;
      const { uploads: relayed, original } = uploads.clone();
      await ingest(enclave, uploads, relayed);
      const seId = uploads.seIdOf(original);
      assert.deepEqual(
        shown((await enclave.service.alertsAfter(start, 256)).alerts).sort((a, b) =>
          a.kind.localeCompare(b.kind),
        ),
        [
          { kind: 'counterReuse', seId, value: 500n, evidenceCount: 2 },
          { kind: 'doubleSpend', seId, value: 2_000n, evidenceCount: 2 },
        ],
      );
    });

    void test('a claimed token a fake DCP minted: one fakeFunding alert on the claiming SE with its value', async () => {
      const start = (await enclave.service.alertsAfter(0, 256)).sequence;
      const { upload, thief } = uploads.fakeFunding(5_000n);
      await ingest(enclave, uploads, [upload]);
      const page = await enclave.service.alertsAfter(start, 256);
      assert.deepEqual(shown(page.alerts), [
        { kind: 'fakeFunding', seId: toHex(thief.id), value: 5_000n, evidenceCount: 1 },
      ]);
      const evidence = await enclave.service.evidence(page.alerts[0]!.id);
      assert.deepEqual(
        evidence?.map((item) => item.kind),
        ['issuance'],
      );
    });

    void test('a transfer paying out more than its inputs: one fakeFunding alert on its signer for the excess', async () => {
      const start = (await enclave.service.alertsAfter(0, 256)).sequence;
      const { upload, thief } = uploads.valueCreation();
      await ingest(enclave, uploads, [upload]);
      const page = await enclave.service.alertsAfter(start, 256);
      assert.deepEqual(shown(page.alerts), [
        { kind: 'fakeFunding', seId: toHex(thief.id), value: 200n, evidenceCount: 1 },
      ]);
      const evidence = await enclave.service.evidence(page.alerts[0]!.id);
      assert.deepEqual(
        evidence?.map((item) => item.kind),
        ['transfer'],
      );
    });

    void test('a payer certified by a fake DCP: one unknownSigner alert on it, valued at what it paid', async () => {
      const start = (await enclave.service.alertsAfter(0, 256)).sequence;
      const { upload, stranger } = uploads.unknownSigner();
      await ingest(enclave, uploads, [upload]);
      assert.deepEqual(shown((await enclave.service.alertsAfter(start, 256)).alerts), [
        { kind: 'unknownSigner', seId: toHex(stranger.id), value: 900n, evidenceCount: 1 },
      ]);
    });

    void test('status counts every alert by kind', async () => {
      assert.deepEqual((await enclave.service.status()).alerts, {
        doubleSpend: 2,
        fakeFunding: 2,
        counterReuse: 2,
        unknownSigner: 1,
        revokedSigner: 0,
      });
      assert.equal(await enclave.service.evidence('00'.repeat(32)), undefined);
    });
  });
}
