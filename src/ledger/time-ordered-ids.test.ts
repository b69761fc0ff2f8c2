// The ledger's ids: 32 hex digits after the prefix, ordered by the clock, unique within one
// millisecond (their random part), and drawn from a pool of random bytes refilled as it runs out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeOrderedIds } from './server.ts';

test('ids carry the clock in their first 12 hex digits, sort by time and never repeat', () => {
  let nowMs = 0x0123_4567_89ab;
  const ids = timeOrderedIds({ nowMs: () => nowMs });
  const made: string[] = [];
  // 1,000 ids in one millisecond, then 1,000 in the next: more than the pool holds (256) each time.
  for (let index = 0; index < 1_000; index++) made.push(ids.next('pay'));
  nowMs += 1;
  for (let index = 0; index < 1_000; index++) made.push(ids.next('pay'));
  for (const id of made) assert.match(id, /^pay_[0-9a-f]{32}$/);
  assert.equal(made[0]?.slice(4, 16), '0123456789ab');
  assert.equal(made[1_999]?.slice(4, 16), '0123456789ac');
  assert.equal(new Set(made).size, made.length);
  assert.deepEqual(
    made.slice(0, 1_000).every((id) => id < (made[1_000] ?? '')),
    true,
  );
  assert.equal(ids.next('hold').slice(0, 5), 'hold_');
});
