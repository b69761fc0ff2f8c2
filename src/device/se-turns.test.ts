// A device app's turns on one SE: loads together, a settlement alone (se-turns.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SecureElementTurns } from './se-turns.ts';

/** A step the test finishes by hand, logging when it starts and ends. */
function step(log: string[], name: string): { run: () => Promise<string>; finish: () => void } {
  let finish = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    run: async () => {
      log.push(`${name} starts`);
      await done;
      log.push(`${name} ends`);
      return name;
    },
    finish: () => {
      finish();
    },
  };
}

const turnsOfTheLoop = async (count: number) => {
  for (let index = 0; index < count; index++) await new Promise((resolve) => setImmediate(resolve));
};

test('loads of one SE run together; a settlement waits for them, and later loads wait for it', async () => {
  const turns = new SecureElementTurns();
  const log: string[] = [];
  const [first, second, renewal, late] = ['load 1', 'load 2', 'renewal', 'load 3'].map((name) =>
    step(log, name),
  );
  const results = [
    turns.load('se', first!.run),
    turns.load('se', second!.run),
    turns.settlement('se', renewal!.run),
    turns.load('se', late!.run),
  ];
  await turnsOfTheLoop(3);
  assert.deepEqual(log, ['load 1 starts', 'load 2 starts']);
  first!.finish();
  await turnsOfTheLoop(3);
  assert.deepEqual(log.slice(2), ['load 1 ends'], 'the renewal still waits for load 2');
  second!.finish();
  await turnsOfTheLoop(3);
  assert.deepEqual(log.slice(3), ['load 2 ends', 'renewal starts'], 'load 3 waits for the renewal');
  renewal!.finish();
  await turnsOfTheLoop(3);
  assert.deepEqual(log.slice(5), ['renewal ends', 'load 3 starts']);
  late!.finish();
  assert.deepEqual(await Promise.all(results), ['load 1', 'load 2', 'renewal', 'load 3']);
});

test('two settlements of one SE run one after the other; another SE is not held up; a failure frees the turn', async () => {
  const turns = new SecureElementTurns();
  const log: string[] = [];
  const [renewal, unload, other] = ['renewal', 'unload', 'other SE load'].map((name) => step(log, name));
  const failing = turns.settlement('se', () => Promise.reject(new Error('refused')));
  const results = [
    turns.settlement('se', renewal!.run),
    turns.settlement('se', unload!.run),
    turns.load('other', other!.run),
  ];
  await assert.rejects(failing, /refused/);
  await turnsOfTheLoop(3);
  assert.deepEqual(log, ['other SE load starts', 'renewal starts']);
  renewal!.finish();
  await turnsOfTheLoop(3);
  assert.deepEqual(log.slice(2), ['renewal ends', 'unload starts']);
  unload!.finish();
  other!.finish();
  assert.deepEqual(await Promise.all(results), ['renewal', 'unload', 'other SE load']);
});
