// The shared idempotency-key protocol on both engines: a replay answers the stored answer, another
// request under the same key is refused, a rolled-back request leaves no claim, and concurrent
// requests under one key run the mutation once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from './database.ts';
import { IdempotencyTable, replayOrExecute } from './idempotency.ts';
import { migrate } from './migrations.ts';
import { openDatabase } from './open.ts';
import { createScratchDatabase, engines, type ScratchDatabase } from './scratch.ts';

type Result = { readonly kind: 'note'; readonly text: string } | { readonly kind: 'other' };

const table = new IdempotencyTable<Result>('contract_idempotency', {
  encode: (result) => JSON.stringify(result),
  decode: (text) => JSON.parse(text) as Result,
});

class KeyReused extends Error {}

for (const engine of engines) {
  describe(`idempotency keys on ${engine}`, () => {
    let scratch: ScratchDatabase;
    let db: Database;
    let executions = 0;
    const note = (key: string, fingerprint: string, text: string, fail = false) =>
      db.transaction((tx) =>
        replayOrExecute(
          table.in(tx),
          { participantId: 'prt_1', key, fingerprint, kind: 'note', nowMs: 1 },
          async () => {
            executions++;
            await tx.run('INSERT INTO contract_notes (text) VALUES (?)', [text]);
            if (fail) throw new RangeError('refused after the claim');
            return { kind: 'note', text };
          },
          () => new KeyReused(key),
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
  });
}
