// The DCP store's transactions on both engines. On SQLite the transactions that arrive together are
// committed as one group, each in its own savepoint: these tests hold that to the contract of one
// transaction per body (a body that throws is rolled back alone and only its caller sees the error;
// an answer comes only once its writes are committed, as another connection sees them).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../storage/database.ts';
import { columnSafeInteger } from '../../storage/decode.ts';
import { migrate } from '../../storage/migrations.ts';
import { openDatabase } from '../../storage/open.ts';
import { createScratchDatabase, engines, type ScratchDatabase } from '../../testing/scratch.ts';
import { commitGroupOperationsMax } from '../domain/limits.ts';
import { dcpMigrations } from './migrations.ts';
import { SqlDcpStore } from './sql-store.ts';

class Refused extends Error {}

for (const engine of engines) {
  describe(`DCP store transactions on ${engine}`, () => {
    let scratch: ScratchDatabase;
    let db: Database;
    let other: Database;
    let store: SqlDcpStore;

    before(async () => {
      scratch = await createScratchDatabase(engine, 'file');
      db = openDatabase(scratch.url);
      await migrate(db, dcpMigrations, 1);
      other = openDatabase(scratch.url);
      store = new SqlDcpStore(db);
    });
    after(async () => {
      await other.close();
      await db.close();
      await scratch.drop();
    });

    const usedNonces = async (prefix: string): Promise<number> => {
      const rows = await other.all('SELECT COUNT(*) AS n FROM dcp_used_nonces WHERE nonce LIKE ?', [
        `${prefix}%`,
      ]);
      return columnSafeInteger(rows[0]!, 'n');
    };

    test('a body that throws among concurrent ones is rolled back alone; its caller alone gets the error', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_unused, index) =>
          store.transaction(async (tx) => {
            assert.equal(await tx.useNonce(`alone-${index}`, 1), true);
            if (index === 4) throw new Refused(`body ${index}`);
            return index;
          }),
        ),
      );
      outcomes.forEach((outcome, index) => {
        if (index === 4) assert.ok(outcome.status === 'rejected' && outcome.reason instanceof Refused);
        else assert.deepEqual(outcome, { status: 'fulfilled', value: index });
      });
      assert.equal(await usedNonces('alone-'), 9);
      assert.equal(await usedNonces('alone-4'), 0);
    });

    test('of two bodies spending one nonce, one wins: on SQLite the first, as in serial transactions', async () => {
      const first = store.transaction((tx) => tx.useNonce('serial', 1));
      const second = store.transaction((tx) => tx.useNonce('serial', 1));
      const won = await Promise.all([first, second]);
      if (engine === 'sqlite') assert.deepEqual(won, [true, false]);
      else assert.deepEqual([...won].sort(), [false, true]);
    });

    test('every answer comes after its commit: another connection already sees the writes', async () => {
      await Promise.all(
        Array.from({ length: 5 }, async (_unused, index) => {
          await store.transaction((tx) => tx.useNonce(`visible-${index}`, 1));
          assert.equal(await usedNonces(`visible-${index}`), 1);
        }),
      );
    });

    test('more bodies than one group holds are all committed (on SQLite in arrival order)', async () => {
      const count = commitGroupOperationsMax * 2 + 3;
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: count }, (_unused, index) =>
          store.transaction(async (tx) => {
            order.push(index);
            await tx.useNonce(`many-${index}`, 1);
          }),
        ),
      );
      const arrival = Array.from({ length: count }, (_unused, index) => index);
      assert.deepEqual(engine === 'sqlite' ? order : [...order].sort((a, b) => a - b), arrival);
      assert.equal(await usedNonces('many-'), count);
    });
  });
}
