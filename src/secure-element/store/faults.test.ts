import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AssertionFailed } from '../../core/assert.ts';
import { FaultyMedium, isPowerCut, PowerCut, tornBytes } from './faults.ts';
import { MemoryMedium } from './medium.ts';

const data = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

void describe('FaultyMedium', () => {
  void test('without a cut it passes everything through and counts writes and removes, not reads', () => {
    const inner = new MemoryMedium();
    const faulty = new FaultyMedium(inner);
    faulty.write('a', data);
    faulty.write('b', data);
    faulty.remove('a');
    faulty.read('b');
    faulty.list();
    assert.equal(faulty.writesPerformed, 3);
    assert.deepEqual(inner.list(), ['b']);
  });

  void test('the planned write is not performed: PowerCut is thrown instead', () => {
    const inner = new MemoryMedium();
    const faulty = new FaultyMedium(inner, { cutAtWrite: 1 });
    faulty.write('a', data);
    assert.throws(() => {
      faulty.write('b', data);
    }, PowerCut);
    assert.equal(faulty.isCut, true);
    assert.equal(faulty.writesPerformed, 1);
    assert.deepEqual(inner.list(), ['a']);
  });

  void test('after the cut every operation throws PowerCut', () => {
    const inner = new MemoryMedium();
    inner.write('a', data);
    const faulty = new FaultyMedium(inner, { cutAtWrite: 0 });
    assert.throws(() => {
      faulty.remove('a');
    }, PowerCut);
    const operations = [
      () => faulty.read('a'),
      () => faulty.list(),
      () => {
        faulty.write('a', data);
      },
      () => {
        faulty.remove('a');
      },
    ];
    for (const operation of operations) assert.throws(operation, (error) => isPowerCut(error));
    assert.deepEqual([...inner.read('a')!], [...data]);
  });

  void test('a prefix tear writes the first bytes, always fewer than the whole', () => {
    const inner = new MemoryMedium();
    assert.throws(() => {
      new FaultyMedium(inner, { cutAtWrite: 0, tear: { kind: 'prefix', bytes: 3 } }).write('a', data);
    }, PowerCut);
    assert.deepEqual([...inner.read('a')!], [1, 2, 3]);
    assert.equal(tornBytes(data, { kind: 'prefix', bytes: 1000 }).length, data.length - 1);
  });

  void test('a garbage tear writes different bytes of the same length, replayable from its seed', () => {
    const inner = new MemoryMedium();
    assert.throws(() => {
      new FaultyMedium(inner, { cutAtWrite: 0, tear: { kind: 'garbage', seed: 42 } }).write('a', data);
    }, PowerCut);
    const garbage = inner.read('a')!;
    assert.equal(garbage.length, data.length);
    assert.notDeepEqual([...garbage], [...data]);
    assert.deepEqual(garbage, tornBytes(data, { kind: 'garbage', seed: 42 }));
    const oneByte = Uint8Array.of(0);
    for (let seed = 0; seed < 300; seed++) {
      assert.notDeepEqual(tornBytes(oneByte, { kind: 'garbage', seed }), oneByte);
    }
  });

  void test('a removal never tears: with a tear planned it simply does not happen', () => {
    const inner = new MemoryMedium();
    inner.write('a', data);
    const faulty = new FaultyMedium(inner, { cutAtWrite: 0, tear: { kind: 'garbage', seed: 1 } });
    assert.throws(() => {
      faulty.remove('a');
    }, PowerCut);
    assert.deepEqual([...inner.read('a')!], [...data]);
  });

  void test('a plan with a tear but no cut, or a negative cut, is a programmer error', () => {
    const inner = new MemoryMedium();
    assert.throws(() => new FaultyMedium(inner, { tear: { kind: 'prefix', bytes: 1 } }), AssertionFailed);
    assert.throws(() => new FaultyMedium(inner, { cutAtWrite: -1 }), AssertionFailed);
  });

  void test('PowerCut is recognised by name', () => {
    assert.equal(new PowerCut('x').name, 'PowerCut');
    assert.equal(isPowerCut(Object.assign(new Error('x'), { name: 'PowerCut' })), true);
    assert.equal(isPowerCut(new Error('x')), false);
    assert.equal(isPowerCut('PowerCut'), false);
  });
});
