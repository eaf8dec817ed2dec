// @cachedList(): a bulk front-end sharing a single-argument @cached() cache.

import { describe, expect, it } from 'vitest';

import {
  cacheDescriptorOf,
  cached,
  cachedList,
  cachedListDescriptorOf,
  cachesOf,
  invalidateCached,
} from '../../../src/runtime/cache/index.js';
import { flush, settleOf } from './helpers.js';
import { FakeDb, MainDataStore, ReaderDataStore, type User } from './fixtures.js';

const ann: User = { id: 'u1', name: 'Ann' };
const bob: User = { id: 'u2', name: 'Bob' };

function reader(): { db: FakeDb; store: ReaderDataStore } {
  const db = new FakeDb();
  db.users.set('u1', ann);
  db.users.set('u2', bob);
  return { db, store: new ReaderDataStore(db) };
}

describe('@cachedList()', () => {
  it('serves hits from the shared cache and fetches only the misses, in one call', async () => {
    const { db, store } = reader();
    await store.getUser('u1');
    const result = await store.getUsers(['u1', 'u2', 'u3']);
    expect([...result]).toEqual([
      ['u1', ann],
      ['u2', bob],
      ['u3', undefined],
    ]);
    expect(db.callsOf('getUsers')).toEqual([[['u2', 'u3']]]);
    // Each fetched key is stored per key, u3 as undefined ("no such user").
    expect(await store.getUser('u2')).toEqual(bob);
    expect(await store.getUser('u3')).toBeUndefined();
    expect(db.callsOf('getUser')).toHaveLength(1);
    const cache = cachesOf(store).get('getUser')!;
    expect(cache.peek(['u3'])).toEqual({ value: undefined });
  });

  it('makes no call when every key is cached, and answers duplicates', async () => {
    const { db, store } = reader();
    await store.getUsers(['u1', 'u2']);
    const again = await store.getUsers(['u2', 'u1', 'u2']);
    expect([...again]).toEqual([
      ['u2', bob],
      ['u1', ann],
    ]);
    expect(db.callsOf('getUsers')).toHaveLength(1);
    expect(await store.getUsers([])).toEqual(new Map());
    expect(db.callsOf('getUsers')).toHaveLength(1);
  });

  it('fetches a duplicated missing key once', async () => {
    const { db, store } = reader();
    await store.getUsers(['u1', 'u1']);
    expect(db.callsOf('getUsers')).toEqual([[['u1']]]);
  });

  it('joins single lookups in flight, and single lookups join its keys', async () => {
    const { db, store } = reader();
    db.hold();
    const single = store.getUser('u1');
    const bulk = store.getUsers(['u1', 'u2']);
    await flush();
    const joiner = store.getUser('u2');
    db.release();
    expect(await single).toEqual(ann);
    expect([...(await bulk)]).toEqual([
      ['u1', ann],
      ['u2', bob],
    ]);
    expect(await joiner).toEqual(bob);
    expect(db.callsOf('getUser')).toEqual([['u1']]);
    expect(db.callsOf('getUsers')).toEqual([[['u2']]]);
  });

  it('a key invalidated while the batch is in flight is not stored; later callers refetch', async () => {
    const db = new FakeDb();
    db.users.set('u1', ann);
    db.users.set('u2', bob);
    const store = new MainDataStore(db);
    db.hold();
    const bulk = store.getUsers(['u1', 'u2']);
    await flush();
    store.setUser({ id: 'u1', name: 'Anna' }); // invalidates u1 mid-batch
    const late = store.getUser('u1');
    expect(db.callsOf('getUser')).toEqual([['u1']]);
    db.release(1);
    // The bulk caller asked before the write: it gets what it read.
    expect([...(await bulk)]).toEqual([
      ['u1', ann],
      ['u2', bob],
    ]);
    // ... but u1 was not stored, and the fresh read is still the one in flight.
    const cache = cachesOf(store).get('getUser')!;
    expect(cache.peek(['u1'])).toBeUndefined();
    expect(cache.isInFlight(['u1'])).toBe(true);
    expect(cache.peek(['u2'])).toEqual({ value: bob });
    db.release();
    expect(await late).toEqual({ id: 'u1', name: 'Anna' });
    expect(cache.peek(['u1'])).toEqual({ value: { id: 'u1', name: 'Anna' } });
    expect(cache.peek(['u2'])).toEqual({ value: bob });
  });

  it('a rejected batch stores nothing, fails its sharers, and the next call retries', async () => {
    const { db, store } = reader();
    db.hold();
    const bulk = settleOf(store.getUsers(['u1', 'u2']));
    await flush();
    const sharer = settleOf(store.getUser('u2'));
    const error = new Error('timeout');
    db.fail(error);
    await flush();
    expect(bulk.outcome()).toEqual({ ok: false, error });
    expect(sharer.outcome()).toEqual({ ok: false, error });
    const cache = cachesOf(store).get('getUser')!;
    expect(cache.size).toBe(0);
    expect(cache.isInFlight(['u1'])).toBe(false);
    expect([...(await store.getUsers(['u1', 'u2'])).keys()]).toEqual(['u1', 'u2']);
    expect(db.callsOf('getUsers')).toHaveLength(2);
  });

  it('a bad key rejects the call and releases the keys it had claimed', async () => {
    const { db, store } = reader();
    const bad = ['u1', { id: 'u2' }] as unknown as string[];
    await expect(store.getUsers(bad)).rejects.toThrow(/cache getUser: key argument 0 is an object/);
    expect(cachesOf(store).get('getUser')!.isInFlight(['u1'])).toBe(false);
    expect(await store.getUser('u1')).toEqual(ann);
    expect(db.callsOf('getUsers')).toHaveLength(0);
  });

  it('rejects a method result that is not a Map, releasing its claims', async () => {
    class Store {
      @cachedList({ cached: 'get' })
      async getMany(ids: readonly string[]): Promise<Map<string, number>> {
        return Promise.resolve(Object.fromEntries(ids.map((id) => [id, 1])) as never);
      }
      @cached()
      async get(id: string): Promise<number | undefined> {
        return Promise.resolve(id.length);
      }
    }
    const store = new Store();
    await expect(store.getMany(['a'])).rejects.toThrow(/must resolve to a Map/);
    expect(await store.get('a')).toBe(1);
  });

  it('passes further arguments through to the method', async () => {
    const seen: unknown[] = [];
    class Store {
      @cachedList({ cached: 'get' })
      async getMany(ids: readonly string[], tag: string): Promise<Map<string, string>> {
        seen.push(tag);
        return Promise.resolve(new Map(ids.map((id) => [id, `${tag}:${id}`])));
      }
      @cached({ numArgs: 1 })
      async get(id: string, tag: string): Promise<string | undefined> {
        return Promise.resolve(`${tag}:${id}`);
      }
    }
    expect([...(await new Store().getMany(['a'], 't'))]).toEqual([['a', 't:a']]);
    expect(seen).toEqual(['t']);
  });

  it('carries a descriptor naming the cache it fronts', () => {
    const { store } = reader();
    expect(cachedListDescriptorOf(store.getUsers)).toEqual({
      kind: 'cachedList',
      name: 'getUsers',
      cached: 'getUser',
    });
    expect(cacheDescriptorOf(store.getUsers)).toBeUndefined();
    expect(cachedListDescriptorOf(store.getUser)).toBeUndefined();
    // It has no cache of its own.
    expect(cachesOf(store).names()).not.toContain('getUsers');
    expect(() => invalidateCached(store, store.getUsers, ['u1'])).toThrow(TypeError);
  });

  it('throws at construction if the fronted cache does not take exactly one argument', () => {
    class Store {
      @cachedList({ cached: 'getPair' })
      async getPairs(ids: readonly string[]): Promise<Map<string, string>> {
        return Promise.resolve(new Map(ids.map((id) => [id, id])));
      }
      @cached()
      async getPair(a: string, b: string): Promise<string> {
        return Promise.resolve(a + b);
      }
    }
    expect(() => new Store()).toThrow(
      /@cachedList\(\) getPairs: the cache it fronts, getPair, must have numArgs 1 \(has 2\)/,
    );
  });

  it('throws at construction if the fronted name is not a cached method', () => {
    class Store {
      @cachedList({ cached: 'getOne' })
      async getMany(ids: readonly string[]): Promise<Map<string, string>> {
        return Promise.resolve(new Map(ids.map((id) => [id, id])));
      }
      async getOne(id: string): Promise<string> {
        return Promise.resolve(id);
      }
    }
    expect(() => new Store()).toThrow(/no class in the chain has a @cached\(\) method getOne/);
  });

  it('may front a cache declared in a subclass', async () => {
    abstract class Front {
      @cachedList({ cached: 'get' })
      async getMany(ids: readonly string[]): Promise<Map<string, string>> {
        return Promise.resolve(new Map(ids.map((id) => [id, `v${id}`])));
      }
      abstract get(id: string): Promise<string | undefined>;
    }
    class Back extends Front {
      @cached()
      async get(id: string): Promise<string | undefined> {
        return Promise.resolve(`single${id}`);
      }
    }
    const store = new Back();
    await store.getMany(['a']);
    expect(await store.get('a')).toBe('va');
  });
});
