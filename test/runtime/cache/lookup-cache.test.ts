// LookupCache: shared misses, the in-flight invalidation race, rejections,
// invalidation by key / prefix / all, the prefix index, counters.

import { LRUCache } from 'lru-cache';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { LookupCache } from '../../../src/runtime/cache/lookup-cache.js';
import { deferred, flush, settleOf, type Deferred } from './helpers.js';

/** An underlying "query" whose calls are settled by hand. */
function controlled<V>() {
  const calls: { key: readonly unknown[]; d: Deferred<V> }[] = [];
  return {
    calls,
    fn: (key: readonly unknown[]) => () => {
      const d = deferred<V>();
      calls.push({ key, d });
      return d.promise;
    },
  };
}

function newCache<V>(numArgs = 1, maxEntries = 100) {
  return new LookupCache<V>({ name: 'getThing', numArgs, maxEntries });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('LookupCache: sharing', () => {
  it('concurrent misses on one key share one underlying call', async () => {
    const cache = newCache<string>();
    const q = controlled<string>();
    const a = cache.lookup(['k'], q.fn(['k']));
    const b = cache.lookup(['k'], q.fn(['k']));
    const c = cache.lookup(['other'], q.fn(['other']));
    expect(q.calls).toHaveLength(2);
    q.calls[0]!.d.resolve('v');
    q.calls[1]!.d.resolve('w');
    expect(await a).toBe('v');
    expect(await b).toBe('v');
    expect(await c).toBe('w');
    expect(await cache.lookup(['k'], q.fn(['k']))).toBe('v');
    expect(q.calls).toHaveLength(2);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2, size: 2 });
  });

  it('stores the value before callers resume', async () => {
    const cache = newCache<number>();
    const value = await cache.lookup(['k'], () => Promise.resolve(1));
    expect(value).toBe(1);
    expect(cache.peek(['k'])).toEqual({ value: 1 });
  });

  it('caches undefined as a value ("no such row")', async () => {
    const cache = newCache<string | undefined>();
    let calls = 0;
    const compute = () => {
      calls++;
      return Promise.resolve(undefined);
    };
    expect(await cache.lookup(['k'], compute)).toBeUndefined();
    expect(await cache.lookup(['k'], compute)).toBeUndefined();
    expect(calls).toBe(1);
    expect(cache.peek(['k'])).toEqual({ value: undefined });
  });
});

describe('LookupCache: invalidation while a lookup is in flight', () => {
  const invalidations: [string, (cache: LookupCache<string>) => void][] = [
    ['invalidate(key)', (cache) => cache.invalidate(['room', 'k'])],
    ['invalidatePrefix(prefix)', (cache) => cache.invalidatePrefix(['room'])],
    ['invalidatePrefix(full key)', (cache) => cache.invalidatePrefix(['room', 'k'])],
    ['invalidateAll()', (cache) => cache.invalidateAll()],
  ];

  it.each(invalidations)(
    '%s: later callers start a fresh call and the stale result is not stored',
    async (_label, invalidate) => {
      const cache = newCache<string>(2);
      const q = controlled<string>();
      const early = cache.lookup(['room', 'k'], q.fn(['room', 'k']));
      invalidate(cache);
      expect(cache.isInFlight(['room', 'k'])).toBe(false);
      const late = cache.lookup(['room', 'k'], q.fn(['room', 'k']));
      expect(q.calls).toHaveLength(2);

      q.calls[0]!.d.resolve('stale');
      // The early caller joined before the invalidation: it gets its result.
      expect(await early).toBe('stale');
      // ... which is not stored, and does not displace the fresh lookup.
      expect(cache.peek(['room', 'k'])).toBeUndefined();
      expect(cache.isInFlight(['room', 'k'])).toBe(true);

      q.calls[1]!.d.resolve('fresh');
      expect(await late).toBe('fresh');
      expect(cache.peek(['room', 'k'])).toEqual({ value: 'fresh' });
      expect(await cache.lookup(['room', 'k'], q.fn(['room', 'k']))).toBe('fresh');
      expect(q.calls).toHaveLength(2);
    },
  );

  it.each(invalidations)(
    '%s: a stale result settling after the fresh one does not overwrite it',
    async (_label, invalidate) => {
      const cache = newCache<string>(2);
      const q = controlled<string>();
      const early = cache.lookup(['room', 'k'], q.fn(['room', 'k']));
      invalidate(cache);
      const late = cache.lookup(['room', 'k'], q.fn(['room', 'k']));
      q.calls[1]!.d.resolve('fresh');
      expect(await late).toBe('fresh');
      q.calls[0]!.d.resolve('stale');
      expect(await early).toBe('stale');
      expect(cache.peek(['room', 'k'])).toEqual({ value: 'fresh' });
    },
  );

  it('an invalidated lookup that rejects does not disturb the fresh one', async () => {
    const cache = newCache<string>(2);
    const q = controlled<string>();
    const early = settleOf(cache.lookup(['room', 'k'], q.fn(['room', 'k'])));
    cache.invalidate(['room', 'k']);
    const late = cache.lookup(['room', 'k'], q.fn(['room', 'k']));
    q.calls[0]!.d.reject(new Error('boom'));
    await flush();
    expect(early.outcome()).toMatchObject({ ok: false });
    expect(cache.isInFlight(['room', 'k'])).toBe(true);
    q.calls[1]!.d.resolve('fresh');
    expect(await late).toBe('fresh');
    expect(cache.peek(['room', 'k'])).toEqual({ value: 'fresh' });
  });

  it('prefix invalidation leaves lookups under other prefixes alone', async () => {
    const cache = newCache<string>(2);
    const q = controlled<string>();
    const a = cache.lookup(['r1', 'x'], q.fn(['r1', 'x']));
    const b = cache.lookup(['r2', 'x'], q.fn(['r2', 'x']));
    cache.invalidatePrefix(['r1']);
    q.calls[0]!.d.resolve('a');
    q.calls[1]!.d.resolve('b');
    await Promise.all([a, b]);
    expect(cache.peek(['r1', 'x'])).toBeUndefined();
    expect(cache.peek(['r2', 'x'])).toEqual({ value: 'b' });
  });
});

describe('LookupCache: rejections', () => {
  it('is not cached; sharers see the rejection; the next call retries', async () => {
    const cache = newCache<string>();
    const q = controlled<string>();
    const a = settleOf(cache.lookup(['k'], q.fn(['k'])));
    const b = settleOf(cache.lookup(['k'], q.fn(['k'])));
    expect(q.calls).toHaveLength(1);
    const error = new Error('db down');
    q.calls[0]!.d.reject(error);
    await flush();
    expect(a.outcome()).toEqual({ ok: false, error });
    expect(b.outcome()).toEqual({ ok: false, error });
    expect(cache.peek(['k'])).toBeUndefined();
    expect(cache.isInFlight(['k'])).toBe(false);

    const retry = cache.lookup(['k'], q.fn(['k']));
    expect(q.calls).toHaveLength(2);
    q.calls[1]!.d.resolve('ok');
    expect(await retry).toBe('ok');
    expect(cache.indexedKeyCount()).toBe(1);
  });

  it('a synchronous throw from the underlying call is a rejection too', async () => {
    const cache = newCache<string>();
    await expect(
      cache.lookup(['k'], () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(cache.isInFlight(['k'])).toBe(false);
    expect(await cache.lookup(['k'], () => Promise.resolve('ok'))).toBe('ok');
  });
});

describe('LookupCache: invalidation', () => {
  async function filled() {
    const cache = newCache<string>(2);
    for (const [a, b] of [
      ['r1', 'x'],
      ['r1', 'y'],
      ['r2', 'x'],
      ['r10', 'x'],
    ] as const) {
      await cache.lookup([a, b], () => Promise.resolve(`${a}/${b}`));
    }
    return cache;
  }

  it('invalidate drops exactly one key', async () => {
    const cache = await filled();
    cache.invalidate(['r1', 'x']);
    expect(cache.peek(['r1', 'x'])).toBeUndefined();
    expect(cache.peek(['r1', 'y'])).toBeDefined();
    expect(cache.size).toBe(3);
  });

  it('invalidatePrefix drops the keys with that prefix and nothing else', async () => {
    const cache = await filled();
    cache.invalidatePrefix(['r1']);
    expect(cache.peek(['r1', 'x'])).toBeUndefined();
    expect(cache.peek(['r1', 'y'])).toBeUndefined();
    // 'r10' starts with the characters 'r1' but not with the component 'r1'.
    expect(cache.peek(['r10', 'x'])).toEqual({ value: 'r10/x' });
    expect(cache.peek(['r2', 'x'])).toEqual({ value: 'r2/x' });
    expect(cache.indexedKeyCount()).toBe(2);
  });

  it('invalidatePrefix does not scan the LRU (it walks the prefix index)', async () => {
    const cache = await filled();
    const scans = (
      ['keys', 'rkeys', 'entries', 'rentries', 'forEach', 'rforEach', 'values', 'dump'] as const
    ).map((method) => vi.spyOn(LRUCache.prototype, method));
    cache.invalidatePrefix(['r1']);
    for (const scan of scans) expect(scan).not.toHaveBeenCalled();
    expect(cache.size).toBe(2);
  });

  it('invalidateAll drops everything', async () => {
    const cache = await filled();
    cache.invalidateAll();
    expect(cache.size).toBe(0);
    expect(cache.indexedKeyCount()).toBe(0);
    expect(await cache.lookup(['r1', 'x'], () => Promise.resolve('again'))).toBe('again');
  });

  it('checks key lengths against numArgs', () => {
    const cache = newCache<string>(2);
    expect(() => cache.invalidate(['r1'])).toThrow(TypeError);
    expect(() => cache.invalidate(['r1', 'x', 'z'])).toThrow(/exactly 2 argument/);
    expect(() => cache.invalidatePrefix([])).toThrow(/1 to 2 key arguments/);
    expect(() => cache.invalidatePrefix(['a', 'b', 'c'])).toThrow(TypeError);
    expect(() => cache.lookup(['r1'], () => Promise.resolve('x'))).toThrow(TypeError);
    expect(() => cache.invalidate(['r1', {}])).toThrow(/cache getThing: key argument 1/);
  });

  it('a zero-argument cache has one entry', async () => {
    const cache = newCache<number>(0);
    expect(await cache.lookup([], () => Promise.resolve(1))).toBe(1);
    expect(await cache.lookup([], () => Promise.resolve(2))).toBe(1);
    cache.invalidate([]);
    expect(await cache.lookup([], () => Promise.resolve(3))).toBe(3);
    expect(() => cache.invalidatePrefix([])).toThrow(TypeError);
  });
});

describe('LookupCache: LRU and the prefix index', () => {
  it('evicts the least recently used entry and unindexes it', async () => {
    const cache = newCache<string>(2, 2);
    await cache.lookup(['a', 1], () => Promise.resolve('a1'));
    await cache.lookup(['b', 1], () => Promise.resolve('b1'));
    await cache.lookup(['a', 1], () => Promise.resolve('unused')); // refresh a1
    await cache.lookup(['c', 1], () => Promise.resolve('c1')); // evicts b1
    expect(cache.peek(['b', 1])).toBeUndefined();
    expect(cache.peek(['a', 1])).toEqual({ value: 'a1' });
    expect(cache.indexedKeyCount()).toBe(2);
    expect(cache.stats()).toMatchObject({ size: 2, evictions: 1, invalidations: 0 });
    // The evicted key's branch is gone, so a prefix invalidation finds nothing there.
    cache.invalidatePrefix(['b']);
    expect(cache.stats().invalidations).toBe(0);
  });

  it('keeps the index equal to the live keys (settled plus in flight)', async () => {
    const cache = newCache<string>(2, 3);
    const q = controlled<string>();
    for (let i = 0; i < 6; i++) await cache.lookup(['p', i], () => Promise.resolve(`v${i}`));
    const pending = cache.lookup(['q', 0], q.fn(['q', 0]));
    expect(cache.size).toBe(3);
    expect(cache.indexedKeyCount()).toBe(4);
    cache.invalidatePrefix(['p']);
    expect(cache.indexedKeyCount()).toBe(1);
    q.calls[0]!.d.resolve('q0');
    await pending;
    expect(cache.indexedKeyCount()).toBe(1);
    expect(cache.size).toBe(1);
  });
});

describe('LookupCache: counters', () => {
  it('counts hits, misses, evictions and invalidations separately', async () => {
    const cache = newCache<string>(1, 2);
    const q = controlled<string>();
    const p1 = cache.lookup(['a'], q.fn(['a'])); // miss
    const p2 = cache.lookup(['a'], q.fn(['a'])); // hit (shares the lookup in flight)
    q.calls[0]!.d.resolve('a');
    await Promise.all([p1, p2]);
    await cache.lookup(['a'], q.fn(['a'])); // hit
    await cache.lookup(['b'], () => Promise.resolve('b')); // miss
    await cache.lookup(['c'], () => Promise.resolve('c')); // miss, evicts a
    expect(cache.stats()).toEqual({ size: 2, hits: 2, misses: 3, evictions: 1, invalidations: 0 });

    void cache.lookup(['d'], q.fn(['d'])); // miss, in flight
    cache.invalidate(['b']); // 1 settled
    cache.invalidate(['zz']); // nothing there
    cache.invalidatePrefix(['d']); // 1 in flight
    expect(cache.stats()).toEqual({ size: 1, hits: 2, misses: 4, evictions: 1, invalidations: 2 });
    cache.invalidateAll(); // 1 settled
    expect(cache.stats()).toEqual({ size: 0, hits: 2, misses: 4, evictions: 1, invalidations: 3 });
    q.calls[1]!.d.resolve('d');
  });

  it('rejects bad options', () => {
    expect(() => new LookupCache({ name: 'x', numArgs: -1, maxEntries: 1 })).toThrow(TypeError);
    expect(() => new LookupCache({ name: 'x', numArgs: 1.5, maxEntries: 1 })).toThrow(TypeError);
    expect(() => new LookupCache({ name: 'x', numArgs: 1, maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
