// A token paid away offline and still claimed at a DCP is spent twice (issue 14, "double spend"): the
// enclave raises it from the transfer it merged and the retirement the DCP reported, whichever came
// first, as the same alert blaming the owner that spent it, for the token's value.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.ts';
import type { EnclaveAlert } from '../../src/mds/channel/protocol.ts';
import { MdsUploads, scratchEnclave, type ScratchEnclave } from '../../src/testing/mds-uploads.ts';
import { engines } from '../../src/testing/scratch.ts';

const shown = (alerts: readonly EnclaveAlert[]) =>
  alerts.map(({ id, kind, seId, value, evidenceCount }) => ({ id, kind, seId, value, evidenceCount }));

async function withEnclave(
  uploads: MdsUploads,
  engine: (typeof engines)[number],
  body: (enclave: ScratchEnclave) => Promise<void>,
) {
  const enclave = await scratchEnclave(uploads, engine);
  try {
    await body(enclave);
  } finally {
    await enclave.close();
  }
}

for (const engine of engines) {
  void describe(`a token spent offline and retired at a DCP (${engine})`, () => {
    void test('ingest then report, and report then ingest, raise the same one doubleSpend alert', async () => {
      const uploads = new MdsUploads();
      const scenario = uploads.spentAndRetired();
      const [upload] = scenario.uploads;
      assert.ok(upload !== undefined);
      const report = { dcpId: uploads.dcpId, issuances: [], retirements: [scenario.retirement] };
      const expected = { kind: 'doubleSpend', seId: toHex(scenario.thief.id), value: 800n, evidenceCount: 1 };

      const raised: ReturnType<typeof shown>[] = [];
      for (const order of ['ingest first', 'report first'] as const) {
        await withEnclave(uploads, engine, async (enclave) => {
          const ingest = async () => {
            await enclave.service.storeUpload(uploads.request(upload));
            assert.equal(await enclave.service.ingestAll(10), 1);
          };
          if (order === 'ingest first') await ingest();
          assert.deepEqual(await enclave.service.recordReports(report), { issuances: 0, retirements: 1 });
          if (order === 'report first') {
            assert.deepEqual(
              (await enclave.service.alertsAfter(0, 256)).alerts,
              [],
              'a retirement alone is no fraud',
            );
            await ingest();
          }
          // The same report again records nothing and raises nothing more.
          assert.deepEqual(await enclave.service.recordReports(report), { issuances: 0, retirements: 0 });
          const alerts = shown((await enclave.service.alertsAfter(0, 256)).alerts);
          assert.deepEqual(
            alerts.map(({ id: _id, ...rest }) => rest),
            [expected],
            order,
          );
          raised.push(alerts);
        });
      }
      assert.equal(raised[0]?.[0]?.id, raised[1]?.[0]?.id, 'one alert id whatever the order');
    });
  });
}
