// Indicators from real uploads (docs/mds.md, "Indicators"), on both engines: three phones pay each
// other once and sync; the enclave counts the payments in the bucket of the syncs that reported them,
// reads the device kind from each opened upload, and suppresses every cell once k exceeds the SEs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { engines } from '../../src/testing/scratch.ts';
import { MdsUploads, scratchEnclave } from '../../src/testing/mds-uploads.ts';

const fixture = new MdsUploads();
const { uploads } = fixture.honest();

for (const engine of engines) {
  void describe(`indicators over real uploads (${engine})`, () => {
    test('three phones: payments, value held, kinds; all suppressed with k = 4', async () => {
      const enclave = await scratchEnclave(fixture, engine);
      try {
        enclave.clock.ms = 5_000;
        for (const [index, upload] of uploads.entries())
          await enclave.service.storeUpload(fixture.request(upload, index));
        assert.equal(await enclave.service.ingestAll(uploads.length), 3);
        const range = { fromMs: 0, toMs: 20_000, bucketMs: 10_000 };
        const [bucket, later] = await enclave.service.indicators({ ...range, secureElementsMin: 3 });
        assert.ok(bucket !== undefined && later !== undefined);
        assert.deepEqual(bucket.payments, {
          count: { suppressed: false, value: 3n },
          value: { suppressed: false, value: 4_900n },
          average: { suppressed: false, value: 1_633n },
        });
        assert.deepEqual(bucket.offlineValueOutstanding, { suppressed: false, value: 15_000n });
        assert.deepEqual(bucket.devices, {
          card: { suppressed: true },
          phone: { suppressed: false, value: 3n },
        });
        // Split by generation, no bin holds three SEs; with k = 1 the three payments show.
        assert.ok(bucket.generations.every((bin) => bin.count.suppressed));
        const [open] = await enclave.service.indicators({ ...range, secureElementsMin: 1 });
        const counted = (open?.generations ?? []).map((bin) => (bin.count.suppressed ? 0n : bin.count.value));
        assert.equal(
          counted.reduce((sum, count) => sum + count, 0n),
          3n,
        );
        // Nothing was ingested in the second bucket, but the value is still held.
        assert.deepEqual(later.payments.count, { suppressed: true });
        assert.deepEqual(later.offlineValueOutstanding, { suppressed: false, value: 15_000n });
        const [strict] = await enclave.service.indicators({ ...range, secureElementsMin: 4 });
        assert.deepEqual(strict?.payments.count, { suppressed: true });
        assert.deepEqual(strict?.offlineValueOutstanding, { suppressed: true });
        assert.deepEqual(strict?.devices.phone, { suppressed: true });
      } finally {
        await enclave.close();
      }
    });
  });
}
