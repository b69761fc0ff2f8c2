// Order independence as a property (docs/mds.md, "Enclave"): any order of the same uploads, with any
// of them delivered again, and ingest interleaved with delivery at random, ends with the same alerts
// (ids, kinds, SEs, values, evidence) and the same graph, report windows settled along the way and
// at the end. The reference run must raise all thirteen alerts of its frauds, so the property cannot
// pass vacuously.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { engines } from '../../src/testing/scratch.ts';
import {
  MdsUploads,
  scratchEnclave,
  type GraphCounts,
  type RelayedUpload,
} from '../../src/testing/mds-uploads.ts';
import type { Engine } from '../../src/storage/database.ts';
import { issuanceReportWindowMsDefault } from '../../src/mds/enclave/unreported.ts';

const fixture = new MdsUploads();
const relayed: RelayedUpload[] = [
  ...fixture.honest().uploads,
  ...fixture.doubleSpend().uploads,
  ...fixture.counterReuse().uploads,
  ...fixture.clone().uploads,
  fixture.fakeFunding(5_000n).upload,
  fixture.unknownSigner().upload,
];

interface Outcome {
  readonly alerts: readonly string[];
  readonly graph: GraphCounts;
  readonly ingested: number;
}

async function run(engine: Engine, order: readonly number[], ingestEvery: number): Promise<Outcome> {
  const enclave = await scratchEnclave(fixture, engine);
  try {
    for (const [position, index] of order.entries()) {
      await enclave.service.storeUpload(fixture.request(relayed[index]!, position));
      if ((position + 1) % ingestEvery === 0) {
        await enclave.service.ingestAll(relayed.length);
        enclave.clock.ms += 1;
        await enclave.service.settleIssuances();
      }
    }
    await enclave.service.ingestAll(relayed.length);
    // Every report window ends: the DCP-signed issuances no DCP reported (all of them here) raise.
    enclave.clock.ms += issuanceReportWindowMsDefault;
    while ((await enclave.service.settleIssuances()) > 0);
    const page = await enclave.service.alertsAfter(0, 256);
    const alerts: string[] = [];
    for (const alert of page.alerts) {
      const evidence = (await enclave.service.evidence(alert.id)) ?? [];
      alerts.push(
        [
          alert.id,
          alert.kind,
          alert.seId,
          alert.value,
          alert.evidenceCount,
          ...evidence.map((item) => item.entryId),
        ].join(' '),
      );
    }
    const status = await enclave.service.status();
    return { alerts: alerts.sort(), graph: await enclave.graphCounts(), ingested: status.uploads.ingested };
  } finally {
    await enclave.close();
  }
}

/** A permutation of every upload with up to five of them delivered again at random places. */
const deliveries = fc
  .record({
    order: fc.shuffledSubarray(
      relayed.map((_, index) => index),
      { minLength: relayed.length, maxLength: relayed.length },
    ),
    again: fc.array(fc.tuple(fc.nat({ max: relayed.length - 1 }), fc.nat()), { maxLength: 5 }),
    ingestEvery: fc.integer({ min: 1, max: relayed.length }),
  })
  .map(({ order, again, ingestEvery }) => {
    const sequence = [...order];
    for (const [index, place] of again) sequence.splice(place % (sequence.length + 1), 0, index);
    return { sequence, ingestEvery };
  });

const runsByEngine: Readonly<Record<Engine, number>> = { sqlite: 25, postgres: 4 };

for (const engine of engines) {
  void describe(`ingest is order-independent (${engine})`, () => {
    void test('random orders with duplicates give the same alerts, evidence and graph', async () => {
      const reference = await run(
        engine,
        relayed.map((_, index) => index),
        relayed.length,
      );
      assert.equal(
        reference.alerts.length,
        13,
        'two double spends, two counter reuses, a fake funding, an unknown signer, and the seven unreported DCP issuances',
      );
      assert.equal(reference.ingested, relayed.length);
      await fc.assert(
        fc.asyncProperty(deliveries, async ({ sequence, ingestEvery }) => {
          assert.deepEqual(await run(engine, sequence, ingestEvery), reference);
        }),
        { numRuns: runsByEngine[engine] },
      );
    });
  });
}
