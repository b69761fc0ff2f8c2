// Group commit on SQLite: transactions waiting together share one COMMIT, each in its own savepoint.
// What callers rely on: a transaction that throws rolls back alone, no transaction is answered
// before its group committed, and an engine-level abort refuses every member of the group.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StorageUnavailable, type Database, type Executor } from './database.ts';
import { columnText } from './decode.ts';
import { openDatabase } from './open.ts';
import { sqliteGroupTransactionsMax } from './sqlite.ts';
import { createScratchDatabase, type ScratchDatabase } from '../testing/scratch.ts';

describe('SQLite group commit', () => {
  let scratch: ScratchDatabase;
  let db: Database;
  let observer: Database;

  before(async () => {
    scratch = await createScratchDatabase('sqlite', 'file');
    db = openDatabase(scratch.url);
    observer = openDatabase(scratch.url);
    await db.run('CREATE TABLE rows (id TEXT PRIMARY KEY)');
  });
  after(async () => {
    await observer.close();
    await db.close();
    await scratch.drop();
  });

  async function ids(prefix: string): Promise<string[]> {
    const rows = await observer.all('SELECT id FROM rows WHERE id LIKE ? ORDER BY id', [`${prefix}%`]);
    return rows.map((row) => columnText(row, 'id'));
  }

  const insert = (id: string) => (tx: Executor) => tx.run('INSERT INTO rows (id) VALUES (?)', [id]);

  test('a member that throws rolls back alone; every answer comes after its commit, seen by another connection', async () => {
    const seenAtAnswer: boolean[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_unused, index) => {
        const id = `a-${String(index).padStart(2, '0')}`;
        return db
          .transaction(async (tx) => {
            await insert(id)(tx);
            if (index === 7) throw new RangeError('member 7 refuses');
            return id;
          })
          .then(async (value) => {
            seenAtAnswer.push((await ids(value)).length === 1);
            return value;
          });
      }),
    );
    assert.deepEqual(
      results.map((result) => result.status),
      results.map((_result, index) => (index === 7 ? 'rejected' : 'fulfilled')),
    );
    const refused = results[7];
    assert.ok(refused?.status === 'rejected' && refused.reason instanceof RangeError);
    assert.deepEqual(
      seenAtAnswer,
      Array.from({ length: 19 }, () => true),
    );
    assert.equal((await ids('a-')).length, 19);
    assert.deepEqual(await ids('a-07'), []);
  });

  test('a refused first member (which runs without a savepoint) rolls back alone, and the group goes on', async () => {
    const results = await Promise.allSettled(
      ['e-0', 'e-1', 'e-2'].map((id, index) =>
        db.transaction(async (tx) => {
          await insert(id)(tx);
          if (index === 0) throw new RangeError('the first member refuses');
          return id;
        }),
      ),
    );
    assert.deepEqual(
      results.map((result) => result.status),
      ['rejected', 'fulfilled', 'fulfilled'],
    );
    assert.deepEqual(await ids('e-'), ['e-1', 'e-2']);
  });

  test(`more waiting transactions than one group takes (${sqliteGroupTransactionsMax}) all commit, in several groups`, async () => {
    const count = sqliteGroupTransactionsMax * 3 + 5;
    await Promise.all(
      Array.from({ length: count }, (_unused, index) =>
        db.transaction((tx) => insert(`b-${String(index).padStart(4, '0')}`)(tx)),
      ),
    );
    assert.equal((await ids('b-')).length, count);
  });

  test('an engine-level abort refuses every member of its group, and the next group goes on', async () => {
    const results = await Promise.allSettled([
      db.transaction((tx) => insert('c-1')(tx)),
      db.transaction((tx) => insert('c-2')(tx)),
      db.transaction(async (tx) => {
        await insert('c-3')(tx);
        // What SQLite does by itself on SQLITE_FULL or an I/O error: the whole transaction is gone.
        await tx.run('ROLLBACK');
        throw new Error('disk full');
      }),
    ]);
    assert.deepEqual(
      results.map((result) => (result.status === 'rejected' ? String(result.reason) : 'fulfilled')),
      [
        'StorageUnavailable: the transaction group was rolled back',
        'StorageUnavailable: the transaction group was rolled back',
        'Error: disk full',
      ],
    );
    const first = results[0];
    assert.ok(first?.status === 'rejected' && first.reason instanceof StorageUnavailable);
    assert.deepEqual(await ids('c-'), []);
    await db.transaction((tx) => insert('c-4')(tx));
    assert.deepEqual(await ids('c-'), ['c-4']);
  });

  test('transactions begun by separate callbacks of one turn of the event loop share one group', async () => {
    // What requests read from several sockets in one poll phase do: each callback begins a
    // transaction and returns. Were each group started at once, the first would commit before the
    // second callback ran, and the third would see its row.
    const seenByThird: string[][] = [];
    const begin = (index: number) =>
      new Promise<string>((resolve, reject) => {
        setImmediate(() => {
          db.transaction(async (tx) => {
            await insert(`f-${index}`)(tx);
            if (index === 3) seenByThird.push(await ids('f-'));
            return `f-${index}`;
          }).then(resolve, reject);
        });
      });
    assert.deepEqual(await Promise.all([begin(1), begin(2), begin(3)]), ['f-1', 'f-2', 'f-3']);
    assert.deepEqual(seenByThird, [[]]);
    assert.deepEqual(await ids('f-'), ['f-1', 'f-2', 'f-3']);
  });

  test('a statement queued behind transactions sees what they committed', async () => {
    const writes = [1, 2, 3].map((index) => db.transaction((tx) => insert(`d-${index}`)(tx)));
    const read = db.all("SELECT COUNT(*) AS n FROM rows WHERE id LIKE 'd-%'");
    await Promise.all(writes);
    assert.equal((await read)[0]?.['n'], 3n);
  });
});
