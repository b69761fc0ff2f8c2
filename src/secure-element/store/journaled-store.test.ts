import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AssertionFailed } from '../../core/assert.ts';
import { CbdcError } from '../../core/errors.ts';
import { FaultyMedium, isPowerCut } from './faults.ts';
import { JournaledStore, storeBlocksMax, storeBytesMax } from './journaled-store.ts';
import { MemoryMedium } from './medium.ts';
import { fileMediumKind, filledBytes, memoryMediumKind, snapshot } from '../../testing/se-store.ts';

const put = (...entries: [string, Uint8Array | null][]): ReadonlyMap<string, Uint8Array | null> =>
  new Map(entries);

for (const kind of [memoryMediumKind(), fileMediumKind()]) {
  void describe(`JournaledStore on ${kind.name}`, () => {
    after(() => {
      kind.dispose();
    });

    void test('a fresh store is empty', () => {
      const store = JournaledStore.open(kind.fresh());
      assert.equal(store.get('a'), undefined);
      assert.equal(store.has('a'), false);
      assert.deepEqual(store.keys(), []);
      assert.equal(store.blocksUsed, 0);
      assert.equal(store.bytesUsed, 0);
    });

    void test('commit puts, updates and deletes, and a re-open sees the same', () => {
      const medium = kind.fresh();
      const store = JournaledStore.open(medium);
      store.commit(
        put(['purse/balance', Uint8Array.of(1)], ['token/a', Uint8Array.of(2, 2)], ['log', Uint8Array.of()]),
      );
      store.commit(put(['purse/balance', Uint8Array.of(9)], ['token/a', null]));
      assert.deepEqual([...store.get('purse/balance')!], [9]);
      assert.equal(store.has('token/a'), false);
      assert.equal(store.get('log')!.length, 0);
      assert.deepEqual(store.keys(), ['log', 'purse/balance']);
      assert.equal(store.bytesUsed, 'purse/balance'.length + 1 + 'log'.length);
      assert.deepEqual(snapshot(JournaledStore.open(medium)), snapshot(store));
      assert.deepEqual(medium.list().length, 2);
    });

    void test('keys(prefix) returns exactly the keys that start with it, sorted', () => {
      const store = JournaledStore.open(kind.fresh());
      const keys = ['tokens/x', 'token/b', 'a', 'token', 'token/a', 'tokeo'];
      store.commit(new Map(keys.map((key) => [key, Uint8Array.of(0)])));
      assert.deepEqual(store.keys('token/'), ['token/a', 'token/b']);
      assert.deepEqual(store.keys('token'), ['token', 'token/a', 'token/b', 'tokens/x']);
      assert.deepEqual(store.keys('zzz'), []);
      assert.deepEqual(store.keys(), [...keys].sort());
      store.commit(put(['token/a', null], ['token/0', Uint8Array.of(1)]));
      assert.deepEqual(store.keys('token/'), ['token/0', 'token/b']);
    });

    void test('the store copies committed values: changing the caller buffer changes nothing', () => {
      const medium = kind.fresh();
      const store = JournaledStore.open(medium);
      const value = Uint8Array.of(1, 2, 3);
      store.commit(put(['k', value]));
      value[0] = 99;
      assert.deepEqual([...store.get('k')!], [1, 2, 3]);
      assert.deepEqual([...JournaledStore.open(medium).get('k')!], [1, 2, 3]);
    });
  });
}

void describe('JournaledStore commits', () => {
  void test('a change set without effect writes nothing', () => {
    const counting = new FaultyMedium(new MemoryMedium());
    const store = JournaledStore.open(counting);
    store.commit(new Map());
    store.commit(put(['absent', null]));
    assert.equal(counting.writesPerformed, 0);
  });

  void test('a commit of n effective changes takes n + 2 physical writes; deletes of absent keys are dropped', () => {
    const counting = new FaultyMedium(new MemoryMedium());
    const store = JournaledStore.open(counting);
    store.commit(put(['a', Uint8Array.of(1)], ['b', Uint8Array.of(2)], ['absent', null]));
    assert.equal(counting.writesPerformed, 4);
  });

  void test('an invalid key is a programmer error and writes nothing', () => {
    const counting = new FaultyMedium(new MemoryMedium());
    const store = JournaledStore.open(counting);
    for (const key of ['', 'Upper', 'a b', 'x'.repeat(97), 'é']) {
      assert.throws(() => {
        store.commit(put(['ok', Uint8Array.of(1)], [key, Uint8Array.of(1)]));
      }, AssertionFailed);
    }
    assert.equal(counting.writesPerformed, 0);
    store.commit(put(['x'.repeat(96), Uint8Array.of(1)]));
  });

  void test('after a failed commit the instance refuses use until re-opened', () => {
    const medium = new MemoryMedium();
    const store = JournaledStore.open(new FaultyMedium(medium, { cutAtWrite: 1 }));
    assert.throws(() => {
      store.commit(put(['a', Uint8Array.of(1)]));
    }, isPowerCut);
    assert.throws(() => store.get('a'), AssertionFailed);
    assert.throws(() => store.keys(), AssertionFailed);
    assert.deepEqual([...JournaledStore.open(medium).get('a')!], [1]);
  });

  void test('a medium holding a block that is not the store’s is refused', () => {
    const medium = new MemoryMedium();
    medium.write('stranger', Uint8Array.of(1));
    assert.throws(() => JournaledStore.open(medium), AssertionFailed);
  });

  void test('limits must lie between 1 and the named maxima', () => {
    const medium = new MemoryMedium();
    assert.throws(() => JournaledStore.open(medium, { blocksMax: 0 }), AssertionFailed);
    assert.throws(() => JournaledStore.open(medium, { blocksMax: storeBlocksMax + 1 }), AssertionFailed);
    assert.throws(() => JournaledStore.open(medium, { bytesMax: storeBytesMax + 1 }), AssertionFailed);
    assert.deepEqual(JournaledStore.open(medium, { blocksMax: 8 }).limits, {
      blocksMax: 8,
      bytesMax: storeBytesMax,
    });
  });
});

void describe('JournaledStore limits (storeFull)', () => {
  const isStoreFull = (error: unknown): boolean =>
    error instanceof CbdcError && error.code === 'storeFull' && error.definition.kind === 'notEnoughMemory';

  function fullStore(): { store: JournaledStore; medium: MemoryMedium; counting: FaultyMedium } {
    const medium = new MemoryMedium();
    const counting = new FaultyMedium(medium);
    // Three one-byte keys with four-byte values: 3 blocks, 15 bytes.
    const store = JournaledStore.open(counting, { blocksMax: 3, bytesMax: 20 });
    store.commit(put(['a', filledBytes(4, 1)], ['b', filledBytes(4, 2)], ['c', filledBytes(4, 3)]));
    return { store, medium, counting };
  }

  void test('one block too many throws storeFull and changes nothing', () => {
    const { store, medium, counting } = fullStore();
    const before = snapshot(store);
    const writes = counting.writesPerformed;
    assert.throws(() => {
      store.commit(put(['a', null], ['d', Uint8Array.of()], ['e', Uint8Array.of()]));
    }, isStoreFull);
    assert.equal(counting.writesPerformed, writes);
    assert.deepEqual(snapshot(store), before);
    assert.deepEqual(snapshot(JournaledStore.open(medium)), before);
    assert.equal(store.blocksUsed, 3);
  });

  void test('one byte too many throws storeFull and changes nothing', () => {
    const { store, counting } = fullStore();
    const before = snapshot(store);
    const writes = counting.writesPerformed;
    assert.throws(() => {
      store.commit(put(['a', filledBytes(10, 9)]));
    }, isStoreFull);
    assert.equal(counting.writesPerformed, writes);
    assert.deepEqual(snapshot(store), before);
    assert.equal(store.bytesUsed, 15);
  });

  void test('the limits apply to the state after the commit, so a full store can swap and shrink', () => {
    const { store } = fullStore();
    store.commit(put(['a', null], ['d', filledBytes(9, 4)]));
    assert.deepEqual(store.keys(), ['b', 'c', 'd']);
    assert.equal(store.bytesUsed, 20);
    store.commit(put(['d', Uint8Array.of()]));
    assert.equal(store.bytesUsed, 11);
  });

  void test('the default byte limit is storeBytesMax', () => {
    const store = JournaledStore.open(new MemoryMedium());
    assert.throws(() => {
      store.commit(put(['big', new Uint8Array(storeBytesMax)]));
    }, isStoreFull);
    assert.deepEqual(store.keys(), []);
  });
});
