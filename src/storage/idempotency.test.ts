// The shared idempotency-key protocol on both engines: a replay answers the stored answer, another
// request under the same key is refused, a rolled-back request leaves no claim, and concurrent
// requests under one key run the mutation once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from './database.ts';
import { IdempotencyTable, replayOrExecute, requestFingerprint } from './idempotency.ts';
import { migrate } from './migrations.ts';
import { openDatabase } from './open.ts';
import { createScratchDatabase, engines, type ScratchDatabase } from '../testing/scratch.ts';

type Result = { readonly kind: 'note'; readonly text: string } | { readonly kind: 'other' };

const codec = {
  encode: (result: Result) => JSON.stringify(result),
  decode: (text: string) => JSON.parse(text) as Result,
};
const table = new IdempotencyTable<Result>('contract_idempotency', codec);

class KeyReused extends Error {}
class KeyExpired extends Error {}

const retentionMs = 1_000;

for (const engine of engines) {
  describe(`idempotency keys on ${engine}`, () => {
    let scratch: ScratchDatabase;
    let db: Database;
    let executions = 0;
    let nowMs = 1;
    const note = (key: string, fingerprint: string, text: string, fail = false) =>
      db.transaction((tx) =>
        replayOrExecute(
          table.in(tx),
          { participantId: 'prt_1', key, fingerprint, kind: 'note', nowMs, retentionMs },
          async () => {
            executions++;
            await tx.run('INSERT INTO contract_notes (text) VALUES (?)', [text]);
            if (fail) throw new RangeError('refused after the claim');
            return { kind: 'note', text };
          },
          { reused: () => new KeyReused(key), expired: () => new KeyExpired(key) },
        ),
      );
    const notes = async () => (await db.all('SELECT text FROM contract_notes ORDER BY text')).length;

    before(async () => {
      scratch = await createScratchDatabase(engine, 'file');
      db = openDatabase(scratch.url);
      await migrate(
        db,
        {
          service: 'idempotency-contract',
          migrations: [
            {
              version: 1,
              name: 'keys and notes',
              statements: () => [
                // The shape storage/idempotency.ts documents.
                'CREATE TABLE contract_idempotency (participant_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, ' +
                  'fingerprint TEXT NOT NULL, result TEXT, created_at_ms BIGINT NOT NULL, ' +
                  'PRIMARY KEY (participant_id, idempotency_key))',
                'CREATE TABLE contract_notes (text TEXT NOT NULL)',
                // A table scoped by another column (the DCP's `scope`).
                'CREATE TABLE contract_scoped (scope TEXT NOT NULL, idempotency_key TEXT NOT NULL, ' +
                  'fingerprint TEXT NOT NULL, result TEXT, created_at_ms BIGINT NOT NULL, ' +
                  'PRIMARY KEY (scope, idempotency_key))',
              ],
            },
          ],
        },
        0,
      );
    });
    after(async () => {
      await db.close();
      await scratch.drop();
    });

    test('a replay answers the stored answer; another request under the key is refused', async () => {
      const first = await note('k-1', 'f-1', 'one');
      const again = await note('k-1', 'f-1', 'ignored');
      assert.deepEqual(first, { value: { kind: 'note', text: 'one' }, replayed: false });
      assert.deepEqual(again, { value: { kind: 'note', text: 'one' }, replayed: true });
      await assert.rejects(note('k-1', 'f-2', 'two'), KeyReused);
      assert.equal(await notes(), 1);
    });

    test('a request that throws after its claim leaves no claim: the key may be used again', async () => {
      await assert.rejects(note('k-2', 'f-1', 'refused', true), RangeError);
      const retried = await note('k-2', 'f-1', 'retried');
      assert.equal(retried.replayed, false);
      assert.equal(retried.value.text, 'retried');
    });

    test('concurrent requests under one key execute once and all answer the same', async () => {
      const before = executions;
      const answers = await Promise.all(Array.from({ length: 6 }, () => note('k-3', 'f-1', 'raced')));
      assert.equal(executions - before, 1);
      assert.equal(answers.filter((answer) => !answer.replayed).length, 1);
      assert.ok(answers.every((answer) => answer.value.kind === 'note' && answer.value.text === 'raced'));
    });

    test('a table may scope its keys by another column', async () => {
      const scoped = new IdempotencyTable<Result>('contract_scoped', codec, { scopeColumn: 'scope' });
      const once = () =>
        db.transaction((tx) =>
          replayOrExecute(
            scoped.in(tx),
            { participantId: 'se_1', key: 'k-s', fingerprint: 'f-1', kind: 'note', nowMs },
            () => Promise.resolve({ kind: 'note' as const, text: 'scoped' }),
            () => new KeyReused('k-s'),
          ),
        );
      assert.equal((await once()).replayed, false);
      assert.equal((await once()).replayed, true);
      assert.deepEqual(await db.all('SELECT scope FROM contract_scoped'), [{ scope: 'se_1' }]);
    });

    test('an answer replays until its retention ends; then the key is refused and nothing runs', async () => {
      nowMs = 10_000;
      await note('k-4', 'f-1', 'kept');
      const executed = executions;
      nowMs += retentionMs - 1;
      assert.equal((await note('k-4', 'f-1', 'again')).replayed, true);
      nowMs += 1;
      await assert.rejects(note('k-4', 'f-1', 'again'), KeyExpired);
      await assert.rejects(note('k-4', 'f-2', 'another'), KeyExpired, 'expired whatever the request');
      assert.equal(executions, executed);
    });

    test('expire() leaves tombstones of old answers only, bounded per call; a tombstone is refused forever', async () => {
      nowMs = 100_000;
      await note('k-5', 'f-1', 'old one');
      await note('k-6', 'f-1', 'old two');
      nowMs += retentionMs;
      await note('k-7', 'f-1', 'young');
      const cutoff = nowMs - retentionMs;
      assert.equal(await table.expire(db, cutoff, 1), 1, 'bounded by rowsMax');
      assert.ok((await table.expire(db, cutoff)) >= 1);
      assert.equal(await table.expire(db, cutoff), 0, 'nothing left to expire');
      const rows = await db.all(
        "SELECT idempotency_key, fingerprint, result FROM contract_idempotency WHERE idempotency_key IN ('k-5', 'k-6', 'k-7') ORDER BY idempotency_key",
      );
      assert.deepEqual(
        rows.map((row) => [row['idempotency_key'], row['fingerprint'], row['result'] === null]),
        [
          ['k-5', '', true],
          ['k-6', '', true],
          ['k-7', 'f-1', false],
        ],
      );
      const executed = executions;
      await assert.rejects(note('k-5', 'f-1', 'again'), KeyExpired);
      assert.equal((await note('k-7', 'f-1', 'again')).replayed, true);
      // A tombstone is refused even by a caller that passes no retention (the first form of the API).
      await assert.rejects(
        db.transaction((tx) =>
          replayOrExecute(
            table.in(tx),
            { participantId: 'prt_1', key: 'k-6', fingerprint: 'f-1', kind: 'note', nowMs },
            () => Promise.resolve({ kind: 'note' as const, text: 'never' }),
            () => new KeyReused('k-6'),
          ),
        ),
        KeyReused,
      );
      assert.equal(executions, executed);
    });
  });
}

test('the request fingerprint is canonical text of the operation and its fields', () => {
  assert.equal(requestFingerprint('pay', ['acc_1', 5n, null, true]), '["pay","acc_1","5",null,true]');
  assert.equal(requestFingerprint('pay', ['acc_1', 5n]), requestFingerprint('pay', ['acc_1', '5']));
  assert.notEqual(requestFingerprint('pay', ['a', 'b']), requestFingerprint('hold', ['a', 'b']));
  assert.notEqual(requestFingerprint('pay', ['a,b']), requestFingerprint('pay', ['a', 'b']));
});
