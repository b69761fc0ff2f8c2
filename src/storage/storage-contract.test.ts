// The storage contract, run against both engines: what every service may rely on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AssertionFailed } from '../core/assert.ts';
import { StorageUnavailable, type Database } from './database.ts';
import { columnBigint, columnText } from './decode.ts';
import { appliedMigrations, migrate, type MigrationSet } from './migrations.ts';
import { openDatabase } from './open.ts';
import { createScratchDatabase, engines, type ScratchDatabase } from '../testing/scratch.ts';

const counterSet: MigrationSet = {
  service: 'contract',
  migrations: [
    {
      version: 1,
      name: 'counters',
      statements: () => ['CREATE TABLE counters (id TEXT PRIMARY KEY, value BIGINT NOT NULL)'],
    },
    {
      version: 2,
      name: 'notes',
      // The per-engine path: bytewise text order is spelled COLLATE "C" in PostgreSQL and COLLATE
      // BINARY in SQLite. Each engine refuses the other's name, so a swapped or ignored `engine` fails
      // this migration on one of them; the order test below checks the order both promise.
      statements: (engine) => [
        `CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT ${engine === 'postgres' ? 'COLLATE "C"' : 'COLLATE BINARY'} NOT NULL)`,
      ],
    },
  ],
};

for (const engine of engines) {
  describe(`storage contract on ${engine}`, () => {
    let scratch: ScratchDatabase;
    let db: Database;

    before(async () => {
      scratch = await createScratchDatabase(engine, 'file');
      db = openDatabase(scratch.url);
      await migrate(db, counterSet, 1);
    });
    after(async () => {
      await db.close();
      await scratch.drop();
    });

    test('migrations apply once, in order, per service', async () => {
      const again = await migrate(db, counterSet, 2);
      assert.deepEqual(again.applied, []);
      assert.equal(again.version, 2);
      const other = await migrate(
        db,
        { service: 'other', migrations: [{ version: 1, name: 'x', statements: () => [] }] },
        3,
      );
      assert.deepEqual(other.applied, ['1 x']);
      assert.deepEqual(
        [...(await appliedMigrations(db, 'contract')).entries()],
        [
          [1, 'counters'],
          [2, 'notes'],
        ],
      );
    });

    test('a renamed or unknown migration is refused and changes nothing', async () => {
      const renamed: MigrationSet = {
        service: 'contract',
        migrations: [{ ...counterSet.migrations[0]!, name: 'renamed' }, counterSet.migrations[1]!],
      };
      await assert.rejects(migrate(db, renamed, 4), AssertionFailed);
      const older: MigrationSet = { service: 'contract', migrations: [counterSet.migrations[0]!] };
      await assert.rejects(migrate(db, older, 4), /does not know/);
      const gap: MigrationSet = { service: 'contract', migrations: [counterSet.migrations[1]!] };
      await assert.rejects(migrate(db, gap, 4), /must have version 1/);
    });

    test('64-bit integers round-trip as bigint, SUM cast to BIGINT included', async () => {
      const big = 9_223_372_036_854_775_807n;
      await db.run('INSERT INTO counters (id, value) VALUES (?, ?), (?, ?)', ['max', big, 'min', -big]);
      const rows = await db.all('SELECT value FROM counters WHERE id = ?', ['max']);
      assert.equal(rows[0]?.['value'], big);
      const sum = await db.all(
        "SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) AS total FROM counters WHERE id IN ('max', 'min')",
      );
      assert.equal(columnBigint(sum[0]!, 'total'), 0n);
      await db.run("DELETE FROM counters WHERE id IN ('max', 'min')");
    });

    test('run counts changed rows; ON CONFLICT DO NOTHING and RETURNING behave alike', async () => {
      assert.equal(await db.run('INSERT INTO notes (id, body) VALUES (?, ?)', ['a', 'first']), 1);
      assert.equal(
        await db.run('INSERT INTO notes (id, body) VALUES (?, ?) ON CONFLICT (id) DO NOTHING', [
          'a',
          'second',
        ]),
        0,
      );
      const returned = await db.all('UPDATE notes SET body = ? WHERE id = ? RETURNING body', ['third', 'a']);
      assert.equal(columnText(returned[0]!, 'body'), 'third');
      assert.deepEqual(await db.all('SELECT body FROM notes WHERE id = ?', ['missing']), []);
    });

    test('the per-engine migration applied: text orders bytewise on both engines', async () => {
      const bodies = ['b', 'B', 'a', 'Z'];
      for (const [index, body] of bodies.entries()) {
        await db.run('INSERT INTO notes (id, body) VALUES (?, ?)', [`order-${index}`, body]);
      }
      const rows = await db.all("SELECT body FROM notes WHERE id LIKE 'order-%' ORDER BY body", []);
      assert.deepEqual(
        rows.map((row) => columnText(row, 'body')),
        ['B', 'Z', 'a', 'b'],
      );
      await db.run("DELETE FROM notes WHERE id LIKE 'order-%'");
    });

    test('a transaction that throws leaves nothing behind', async () => {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO notes (id, body) VALUES (?, ?)', ['b', 'never']);
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.deepEqual(await db.all('SELECT id FROM notes WHERE id = ?', ['b']), []);
      const committed = await db.transaction(async (tx) => {
        await tx.run('INSERT INTO notes (id, body) VALUES (?, ?)', ['c', 'kept']);
        return 'done';
      });
      assert.equal(committed, 'done');
      assert.equal((await db.all('SELECT id FROM notes WHERE id = ?', ['c'])).length, 1);
    });

    test('concurrent read-modify-write transactions with locked rows lose no update', async () => {
      await db.run('INSERT INTO counters (id, value) VALUES (?, ?)', ['shared', 0n]);
      const writers = 40;
      await Promise.all(
        Array.from({ length: writers }, () =>
          db.transaction(async (tx) => {
            const rows = await tx.all(
              `SELECT value FROM counters WHERE id = ?${tx.engine === 'postgres' ? db.lockRows : ''}`,
              ['shared'],
            );
            const value = columnBigint(rows[0]!, 'value');
            await tx.run('UPDATE counters SET value = ? WHERE id = ?', [value + 1n, 'shared']);
          }),
        ),
      );
      const rows = await db.all('SELECT value FROM counters WHERE id = ?', ['shared']);
      assert.equal(columnBigint(rows[0]!, 'value'), BigInt(writers));
    });

    // Several processes may share one SQLite file (they queue on its lock), but one process opens a
    // file once: better-sqlite3 waits for a lock synchronously, so two connections of one process
    // would wait on each other. The concurrent run is therefore a PostgreSQL-only case.
    test('a second connection to the same database sees committed data and migrates too', async () => {
      const second = openDatabase(scratch.url);
      try {
        const results =
          engine === 'postgres'
            ? await Promise.all([migrate(db, counterSet, 5), migrate(second, counterSet, 5)])
            : [await migrate(db, counterSet, 5), await migrate(second, counterSet, 5)];
        assert.deepEqual(
          results.map((result) => result.applied),
          [[], []],
        );
        assert.equal((await second.all('SELECT id FROM notes WHERE id = ?', ['c'])).length, 1);
      } finally {
        await second.close();
      }
    });
  });
}

test('an unreachable PostgreSQL server is reported as StorageUnavailable', async () => {
  const db = openDatabase('postgres://root@127.0.0.1:1/nothing');
  try {
    await assert.rejects(db.all('SELECT 1'), StorageUnavailable);
    await assert.rejects(
      db.transaction(() => Promise.resolve()),
      StorageUnavailable,
    );
  } finally {
    await db.close();
  }
});

test('database URLs select the engine and refuse anything else', () => {
  assert.throws(() => openDatabase('mysql://x'), TypeError);
  assert.throws(() => openDatabase('sqlite:'), TypeError);
  assert.throws(() => openDatabase('sqlite:/tmp/x.sqlite?synchronous=off'), TypeError);
});
