import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { AssertionFailed } from '../../core/assert.ts';
import { FileMedium } from './medium.ts';
import { fileMediumKind, memoryMediumKind } from '../../testing/se-store.ts';

for (const kind of [memoryMediumKind(), fileMediumKind()]) {
  void describe(`${kind.name} contract`, () => {
    after(() => {
      kind.dispose();
    });

    void test('an absent block reads as undefined and a written one reads back', () => {
      const medium = kind.fresh();
      assert.equal(medium.read('a'), undefined);
      medium.write('a', Uint8Array.of(1, 2, 3));
      assert.deepEqual([...medium.read('a')!], [1, 2, 3]);
    });

    void test('a write replaces the whole block, including with zero bytes', () => {
      const medium = kind.fresh();
      medium.write('a', Uint8Array.of(1, 2, 3));
      medium.write('a', Uint8Array.of(9));
      assert.deepEqual([...medium.read('a')!], [9]);
      medium.write('a', new Uint8Array(0));
      assert.equal(medium.read('a')!.length, 0);
    });

    void test('remove deletes a block and ignores an absent one', () => {
      const medium = kind.fresh();
      medium.write('a', Uint8Array.of(1));
      medium.remove('a');
      medium.remove('never-written');
      assert.equal(medium.read('a'), undefined);
      assert.deepEqual(medium.list(), []);
    });

    void test('list names every block, sorted', () => {
      const medium = kind.fresh();
      for (const name of ['v.b', 'journal', 'v.a', '0_x-y']) medium.write(name, Uint8Array.of(0));
      assert.deepEqual(medium.list(), ['0_x-y', 'journal', 'v.a', 'v.b']);
    });

    void test('block names outside [a-z0-9._-]{1,64} are programmer errors', () => {
      const medium = kind.fresh();
      for (const name of ['', 'A', 'a/b', '.', '..', 'a~tmp', 'x'.repeat(65)]) {
        assert.throws(() => {
          medium.write(name, Uint8Array.of(0));
        }, AssertionFailed);
      }
      medium.write('x'.repeat(64), Uint8Array.of(0));
    });
  });
}

void describe('FileMedium', () => {
  const root = mkdtempSync(join(tmpdir(), 'cbdc-file-medium-'));
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  void test('blocks survive into a new instance on the same directory (durable by default)', () => {
    const directory = join(root, 'persist');
    new FileMedium(directory).write('a', Uint8Array.of(5));
    assert.deepEqual([...new FileMedium(directory).read('a')!], [5]);
  });

  void test('a temporary file left by a crash is not a block and is cleared on open', () => {
    const directory = join(root, 'stale');
    new FileMedium(directory, { durable: false }).write('a', Uint8Array.of(1));
    writeFileSync(join(directory, 'a~tmp'), Uint8Array.of(2));
    const medium = new FileMedium(directory, { durable: false });
    assert.deepEqual(medium.list(), ['a']);
    assert.deepEqual([...medium.read('a')!], [1]);
    assert.equal(existsSync(join(directory, 'a~tmp')), false);
  });

  void test('a write leaves no temporary file behind', () => {
    const directory = join(root, 'clean');
    const medium = new FileMedium(directory, { durable: false });
    medium.write('a', Uint8Array.of(1));
    medium.write('a', Uint8Array.of(2));
    assert.deepEqual(readdirSync(directory), ['a']);
  });
});
