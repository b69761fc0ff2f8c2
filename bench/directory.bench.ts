// Directory throughput through its HTTP app (`inject`: routing, schemas, auth, domain, storage, no
// sockets), on a SQLite file and on PostgreSQL, `clientsCount` requests in flight:
// - registrations per second (certificate decoded and its chain verified on each);
// - status changes per second that each publish a deny list version (the deny set read, sorted,
//   signed and stored), with the list growing to `suspendedCount` entries;
// - deny list reads per second with a delta against version 0.
import type { Engine } from '../src/storage/database.ts';
import {
  call,
  directoryFixture,
  freshKey,
  issueSecureElement,
  type DirectoryFixture,
} from '../src/testing/directory.ts';
import { engines } from '../src/testing/scratch.ts';
import { report } from './report.ts';

const clientsCount = 16;
const registrationsCount = 2_000;
const suspendedCount = 500;
const readsCount = 2_000;

async function timed(count: number, body: (index: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clientsCount }, async () => {
      while (next < count) await body(next++);
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

async function run(engine: Engine): Promise<void> {
  const fixture: DirectoryFixture = await directoryFixture(engine);
  try {
    const certificates = Array.from({ length: registrationsCount }, () =>
      issueSecureElement(fixture.pki, 'bank-a', 'card'),
    );
    const registrations = await timed(registrationsCount, async (index) => {
      const answer = await call(fixture.app, fixture.dcpAKey, 'POST', '/v1/secure-elements', {
        key: freshKey(),
        body: { certificate: certificates[index]!.hex, walletId: `wallet-${index}` },
      });
      if (answer.status !== 201) throw new Error(`registration answered ${answer.status}`);
    });
    report({ name: `directory registrations (${engine})`, value: registrations, unit: 'registrations/s' });

    const changes = await timed(suspendedCount, async (index) => {
      const answer = await call(
        fixture.app,
        fixture.mdsKey,
        'POST',
        `/v1/secure-elements/${certificates[index]!.seId}/status`,
        { key: freshKey(), body: { status: 'suspended', reason: 'bench' } },
      );
      if (answer.status !== 200) throw new Error(`status change answered ${answer.status}`);
    });
    report({
      name: `directory status changes publishing a deny list version (${engine})`,
      value: changes,
      unit: 'versions/s',
      entriesAtEnd: suspendedCount,
    });

    const reads = await timed(readsCount, async () => {
      const answer = await call(fixture.app, null, 'GET', '/v1/deny-list?since=0');
      if (answer.status !== 200) throw new Error(`deny list answered ${answer.status}`);
    });
    const last = await call(fixture.app, null, 'GET', '/v1/deny-list');
    report({
      name: `directory deny list reads with delta (${engine})`,
      value: reads,
      unit: 'reads/s',
      entries: suspendedCount,
      signedBytes: (last.body['signed'] as string).length / 2,
    });
  } finally {
    await fixture.close();
  }
}

for (const engine of engines) await run(engine);
