// The MDS forwarding as a property, over the real SQL store (SQLite in memory) and an MDS port
// scripted by fast-check: whatever uploads and report items the MDS refuses, and whichever calls
// find it away, passes repeated until nothing is due end with every good item acknowledged exactly
// once, every refused one marked with its code and never acknowledged, a refused upload posted
// exactly once, and nothing left pending. Report items are issuances, retirements and queued
// credits; a credit minted before it was reported goes only as its issuance's link, never alone. The runs are counted so that the property cannot pass
// without refusals and outages having happened.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { mdsError } from '../../mds/api/errors.ts';
import type { Database } from '../../storage/database.ts';
import { migrate } from '../../storage/migrations.ts';
import { openDatabase } from '../../storage/open.ts';
import { dcpMigrations } from '../store/migrations.ts';
import { SqlDcpStore } from '../store/sql-store.ts';
import { backoffMs, MdsForwarder } from './forwarding.ts';
import { mdsBackoffMsMax } from './limits.ts';
import type { MdsDelivery, MdsPort, PendingUpload, ReportBatch } from './ports.ts';

const seId = '0f'.repeat(16);
const hex64 = (prefix: string, index: number) => `${prefix}${String(index).padStart(6, '0')}`.padEnd(64, '0');
/** Passes after which a run must be quiet: each outage costs one, each refusal a few. */
const passesMax = 200;

/** The MDS as a script: `away` says, call by call, whether it does not answer; then it is back. */
class ScriptedMds implements MdsPort {
  readonly acknowledgedUploads: string[] = [];
  readonly postedUploads: string[] = [];
  readonly acknowledgedItems: string[] = [];
  /** Every issuance reported, with the credit ids it named (as `issuance>credit`). */
  readonly links = new Set<string>();
  calls = 0;
  outages = 0;

  constructor(
    private readonly away: readonly boolean[],
    private readonly badUploads: ReadonlySet<string>,
    private readonly badItems: ReadonlySet<string>,
  ) {}

  #away(): void {
    const away = this.away[this.calls++] ?? false;
    if (away) {
      this.outages++;
      throw mdsError('mdsUnavailable', 'scripted outage');
    }
  }

  forwardUpload(upload: PendingUpload): Promise<MdsDelivery> {
    this.#away();
    this.postedUploads.push(upload.digest);
    if (this.badUploads.has(upload.digest))
      return Promise.resolve({ refused: 'uploadClaimInvalid', message: 'scripted' });
    this.acknowledgedUploads.push(upload.digest);
    return Promise.resolve('acknowledged');
  }

  report(_key: string, batch: ReportBatch): Promise<MdsDelivery> {
    this.#away();
    const items = [
      ...batch.issuances.map((issuance) => issuance.id),
      ...batch.retirements.map((retirement) => retirement.tokenId),
      ...batch.credits.map((credit) => credit.creditId),
    ];
    if (items.some((item) => this.badItems.has(item)))
      return Promise.resolve({ refused: 'reportConflict', message: 'scripted' });
    this.acknowledgedItems.push(...items);
    for (const issuance of batch.issuances)
      for (const credit of issuance.credits) this.links.add(`${issuance.id}>${credit}`);
    return Promise.resolve('acknowledged');
  }
}

const counters = { runs: 0, withRefusals: 0, withOutages: 0 };
after(() => {
  assert.ok(counters.runs >= 50, `${counters.runs} runs`);
  assert.ok(counters.withRefusals >= 10, `${counters.withRefusals} runs with refusals`);
  assert.ok(counters.withOutages >= 10, `${counters.withOutages} runs with outages`);
});

async function seed(db: Database, uploads: number, items: number): Promise<SqlDcpStore> {
  await migrate(db, dcpMigrations, 1);
  const store = new SqlDcpStore(db);
  await store.transaction(async (tx) => {
    for (let index = 0; index < uploads; index++)
      await tx.insertUpload(
        { digest: hex64('d1', index), seId, operationId: `op${index}`, claim: 'c1', sealed: '5e' },
        1_000 + index,
      );
    for (let index = 0; index < items; index++) {
      await tx.insertIssuance(
        {
          id: `iss_${index}`,
          requestReference: `ref-${index}`,
          kind: 'renewal',
          seId,
          value: 1n,
          operationId: `op${index}`,
          signed: 'd2',
          time: 1_000 + index,
          tokens: [],
        },
        1_000 + index,
      );
      await tx.retireToken(
        {
          tokenId: hex64('70', index),
          seId,
          value: 1n,
          operationId: `op${index}`,
          uploadDigest: 'ab'.repeat(32),
        },
        1_000 + index,
      );
      // Every item has a queued credit; an even one was minted by its issuance before any report.
      await tx.queueCredit(`cr_${index}`, seId, 'refund', 1n, 1_000 + index);
      if (index % 2 === 0) await tx.markCreditMinted(`cr_${index}`, `iss_${index}`);
    }
  });
  return store;
}

test('every good item is acknowledged once, every refused one marked, whatever the MDS refuses and when it is away', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: 40 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      fc.array(fc.boolean(), { maxLength: 24 }),
      async (uploads, items, badUploadPicks, badItemPicks, away) => {
        counters.runs++;
        const badUploads = new Set(
          uploads === 0 ? [] : badUploadPicks.map((pick) => hex64('d1', pick % uploads)),
        );
        const allItems = Array.from({ length: items }, (_unused, index) => [
          `iss_${index}`,
          hex64('70', index),
          ...(index % 2 === 0 ? [] : [`cr_${index}`]),
        ]).flat();
        const badItems = new Set(
          items === 0 ? [] : badItemPicks.map((pick) => allItems[pick % allItems.length]!),
        );
        const mds = new ScriptedMds(away, badUploads, badItems);
        const db = openDatabase('sqlite::memory:');
        try {
          const store = await seed(db, uploads, items);
          let nowMs = 10_000;
          const forwarder = new MdsForwarder({
            store: store.mdsOutbox,
            mds,
            clock: { nowMs: () => nowMs },
            sha256: () => new Uint8Array(32),
          });
          for (let passes = 0; passes < passesMax; passes++) {
            await forwarder.pass();
            nowMs += mdsBackoffMsMax + backoffMs(1);
            const figures = await store.mdsOutbox.figures();
            const { uploads, issuances, retirements, credits } = figures;
            if (uploads.pending + issuances.pending + retirements.pending + credits.pending === 0) break;
          }
          const figures = await store.mdsOutbox.figures();
          assert.deepEqual(figures, {
            uploads: { pending: 0, refused: badUploads.size, unforwardable: 0 },
            issuances: {
              pending: 0,
              refused: [...badItems].filter((item) => item.startsWith('iss_')).length,
            },
            retirements: {
              pending: 0,
              refused: [...badItems].filter((item) => /^[0-9a-f]{64}$/.test(item)).length,
              unreportable: 0,
            },
            credits: {
              pending: 0,
              refused: [...badItems].filter((item) => item.startsWith('cr_')).length,
            },
          });
          assert.deepEqual(
            [...mds.links].sort(),
            Array.from({ length: items }, (_unused, index) => index)
              .filter((index) => index % 2 === 0 && !badItems.has(`iss_${index}`))
              .map((index) => `iss_${index}>cr_${index}`)
              .sort(),
            'a minted credit travels as its issuance link',
          );
          const goodUploads = Array.from({ length: uploads }, (_unused, index) => hex64('d1', index)).filter(
            (digest) => !badUploads.has(digest),
          );
          assert.deepEqual([...mds.acknowledgedUploads].sort(), goodUploads);
          for (const digest of badUploads)
            assert.equal(mds.postedUploads.filter((posted) => posted === digest).length, 1, digest);
          assert.deepEqual(
            [...mds.acknowledgedItems].sort(),
            allItems.filter((item) => !badItems.has(item)).sort(),
          );
          if (badUploads.size + badItems.size > 0) counters.withRefusals++;
          if (mds.outages > 0) counters.withOutages++;
        } finally {
          await db.close();
        }
      },
    ),
    { numRuns: 80 },
  );
});
