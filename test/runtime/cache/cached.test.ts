// @cached(): per-instance caches created during construction, keys from the
// leading arguments, descriptors on method references, typed invalidation,
// and the one-name-one-cache rule.

import { describe, expect, expectTypeOf, it } from 'vitest';

import {
  cacheDescriptorOf,
  cached,
  cachesOf,
  cacheFor,
  CACHE_DESCRIPTOR,
  DEFAULT_MAX_ENTRIES,
  invalidateCached,
  invalidateCachedAll,
  invalidateCachedPrefix,
  type CacheKeyOf,
  type CacheKeyPrefixOf,
  type KeyPrefix,
} from '../../../src/runtime/cache/index.js';
import { settleOf, flush } from './helpers.js';
import {
  BaseStore,
  FakeDb,
  MainDataStore,
  ReaderDataStore,
  UsersWorkerStore,
  type StoreCtor,
} from './fixtures.js';

function reader(): { db: FakeDb; store: ReaderDataStore } {
  const db = new FakeDb();
  db.users.set('u1', { id: 'u1', name: 'Ann' });
  db.users.set('u2', { id: 'u2', name: 'Bob' });
  return { db, store: new ReaderDataStore(db) };
}

describe('@cached(): caching', () => {
  it('caches by key on a class built from a mixin', async () => {
    const { db, store } = reader();
    expect(await store.getUser('u1')).toEqual({ id: 'u1', name: 'Ann' });
    expect(await store.getUser('u1')).toEqual({ id: 'u1', name: 'Ann' });
    expect(await store.getUser('u2')).toEqual({ id: 'u2', name: 'Bob' });
    expect(db.callsOf('getUser')).toEqual([['u1'], ['u2']]);
  });

  it('concurrent calls on one key run the method once', async () => {
    const { db, store } = reader();
    db.hold();
    const calls = [store.getUser('u1'), store.getUser('u1'), store.getUser('u1')];
    db.release();
    expect(await Promise.all(calls)).toEqual([
      { id: 'u1', name: 'Ann' },
      { id: 'u1', name: 'Ann' },
      { id: 'u1', name: 'Ann' },
    ]);
    expect(db.callsOf('getUser')).toHaveLength(1);
  });

  it('gives each instance its own cache', async () => {
    const { db, store } = reader();
    const other = new ReaderDataStore(db);
    await store.getUser('u1');
    await other.getUser('u1');
    expect(db.callsOf('getUser')).toHaveLength(2);
    expect(cachesOf(store).get('getUser')).not.toBe(cachesOf(other).get('getUser'));
  });

  it('keys on fn.length arguments by default, on numArgs if given', async () => {
    const { db, store } = reader();
    db.members.set('r/u1', 'join');
    expect(await store.getMembership('r', 'u1')).toBe('join');
    expect(await store.getMembership('r', 'u2')).toBeUndefined();
    expect(db.callsOf('getMembership')).toHaveLength(2);
    expect(cacheDescriptorOf(store.getMembership)?.numArgs).toBe(2);

    // numArgs: 1: the second argument is passed through but is not part of the key.
    expect(await store.getDisplayName('u1', { upper: true })).toBe('ANN');
    expect(await store.getDisplayName('u1', { upper: false })).toBe('ANN');
    expect(db.callsOf('getDisplayName')).toHaveLength(1);
  });

  it('pads missing key arguments with undefined, as the call sees them', async () => {
    let calls = 0;
    class Store {
      @cached()
      async find(a: string, b?: string): Promise<string> {
        calls++;
        return Promise.resolve(`${a}:${b ?? '-'}`);
      }
    }
    const store = new Store();
    expect(await store.find('x')).toBe('x:-');
    expect(await store.find('x', undefined)).toBe('x:-');
    expect(calls).toBe(1);
    expect(await store.find('x', 'y')).toBe('x:y');
    expect(calls).toBe(2);
  });

  it('honours maxEntries', async () => {
    const { db, store } = reader();
    await store.getMembership('r', 'a');
    await store.getMembership('r', 'b');
    await store.getMembership('r', 'c');
    await store.getMembership('r', 'a');
    expect(db.callsOf('getMembership')).toHaveLength(4);
    expect(cachesOf(store).stats()['getMembership']).toMatchObject({ size: 2, evictions: 2 });
  });

  it('does not cache a rejection, and the next call retries', async () => {
    const { db, store } = reader();
    db.hold();
    const first = settleOf(store.getUser('u1'));
    const shared = settleOf(store.getUser('u1'));
    db.fail(new Error('connection reset'));
    await flush();
    expect(first.outcome()).toMatchObject({ ok: false });
    expect(shared.outcome()).toMatchObject({ ok: false });
    expect(await store.getUser('u1')).toEqual({ id: 'u1', name: 'Ann' });
    expect(db.callsOf('getUser')).toHaveLength(2);
  });

  it('rejects (does not throw) on a key it cannot encode', async () => {
    class Store {
      @cached()
      async byFilter(filter: unknown): Promise<number> {
        return Promise.resolve(filter === null ? 0 : 1);
      }
    }
    const call = new Store().byFilter({ a: 1 });
    await expect(call).rejects.toThrow(/cache byFilter: key argument 0 is an object/);
  });

  it('rejects when called on an object its class never initialised', async () => {
    const proto = ReaderDataStore.prototype;
    await expect(proto.getUser.call(Object.create(proto) as ReaderDataStore, 'u1')).rejects.toThrow(
      /@cached\(\) getUser: called on an object whose cache was not created/,
    );
  });
});

describe('@cached(): invalidation while a call is in flight', () => {
  it('a write during a read: the stale read is neither shared nor stored', async () => {
    const db = new FakeDb();
    db.users.set('u1', { id: 'u1', name: 'Ann' });
    const store = new MainDataStore(db);
    db.hold();
    const early = store.getUser('u1'); // reads "Ann", held
    db.release();
    db.hold();
    store.setUser({ id: 'u1', name: 'Anna' }); // writes, then invalidates
    const late = store.getUser('u1'); // must not join the stale read
    expect(db.callsOf('getUser')).toHaveLength(2);
    db.release();
    expect(await early).toEqual({ id: 'u1', name: 'Ann' });
    expect(await late).toEqual({ id: 'u1', name: 'Anna' });
    expect(await store.getUser('u1')).toEqual({ id: 'u1', name: 'Anna' });
    expect(db.callsOf('getUser')).toHaveLength(2);
  });

  it('a prefix invalidation drops reads in flight under that prefix', async () => {
    const db = new FakeDb();
    db.members.set('r1/a', 'invite');
    const store = new MainDataStore(db);
    db.hold();
    const early = store.getMembership('r1', 'a');
    const otherRoom = store.getMembership('r2', 'a');
    store.setMembership('r1', 'a', 'join');
    db.release();
    expect(await early).toBe('invite');
    await otherRoom;
    expect(await store.getMembership('r1', 'a')).toBe('join');
    expect(await store.getMembership('r2', 'a')).toBeUndefined();
    // r1/a read twice (the stale one was dropped), r2/a once (it was not).
    expect(db.callsOf('getMembership')).toEqual([
      ['r1', 'a'],
      ['r2', 'a'],
      ['r1', 'a'],
    ]);
  });
});

describe('@cached(): descriptors and typed invalidation', () => {
  it('a method reference carries its cache descriptor', () => {
    const { store } = reader();
    expect(cacheDescriptorOf(store.getUser)).toEqual({
      kind: 'cached',
      name: 'getUser',
      numArgs: 1,
      maxEntries: DEFAULT_MAX_ENTRIES,
    });
    expect(cacheDescriptorOf(store.getMembership)).toMatchObject({ numArgs: 2, maxEntries: 2 });
    expect(store.getUser.name).toBe('getUser');
    expect(store.getMembership.length).toBe(2);
    expect(CACHE_DESCRIPTOR in store.getUser).toBe(true);
    expect(cacheDescriptorOf(() => 1)).toBeUndefined();
    expect(cacheDescriptorOf(undefined)).toBeUndefined();
    expect(cacheFor(store, store.getUser)).toBe(cachesOf(store).get('getUser'));
  });

  it('invalidates by method reference: key, prefix, all', async () => {
    const { db, store } = reader();
    for (const u of ['a', 'b']) for (const r of ['r1', 'r2']) db.members.set(`${r}/${u}`, 'join');
    const cache = cachesOf(store).get('getUser')!;
    await store.getUser('u1');
    await store.getUser('u2');
    invalidateCached(store, store.getUser, 'u1');
    expect(cache.peek(['u1'])).toBeUndefined();
    expect(cache.peek(['u2'])).toBeDefined();
    invalidateCachedAll(store, store.getUser);
    expect(cache.size).toBe(0);

    const members = cachesOf(store).get('getMembership')!;
    await store.getMembership('r1', 'a');
    await store.getMembership('r2', 'a');
    invalidateCachedPrefix(store, store.getMembership, 'r1');
    expect(members.peek(['r1', 'a'])).toBeUndefined();
    expect(members.peek(['r2', 'a'])).toEqual({ value: 'join' });
    invalidateCachedPrefix(store, store.getMembership, 'r2', 'a');
    expect(members.size).toBe(0);
  });

  it('checks the key length at run time', () => {
    const { store } = reader();
    // Types allow any prefix; only the full length is an exact key.
    expect(() => invalidateCached(store, store.getMembership, 'r1')).toThrow(
      /cache getMembership: invalidate key must have exactly 2 argument/,
    );
    expect(() => invalidateCached(store, store.getMembership)).toThrow(TypeError);
  });

  it('refuses functions that are not cached methods', () => {
    const { store } = reader();
    const notCached = async (id: string) => Promise.resolve(id);
    expect(() => invalidateCached(store, notCached, 'x')).toThrow(/is not a @cached\(\) method/);
    expect(() => invalidateCached(store, store.getUsers, ['x'])).toThrow(
      /getUsers is a @cachedList\(\) front-end; invalidate the cache it fronts, getUser/,
    );
    expect(() => invalidateCachedAll({}, store.getUser)).toThrow(/no cache named getUser/);
  });

  it('derives key types from the method parameters', () => {
    const { store } = reader();
    expectTypeOf<KeyPrefix<[string, number]>>().toEqualTypeOf<[] | [string] | [string, number]>();
    expectTypeOf<KeyPrefix<[]>>().toEqualTypeOf<[]>();
    expectTypeOf<KeyPrefix<[a: string, b?: number]>>().toEqualTypeOf<
      [] | [string] | [string, number | undefined]
    >();
    expectTypeOf<KeyPrefix<[a: string, ...rest: number[]]>>().toEqualTypeOf<
      [] | [string, ...number[]]
    >();
    expectTypeOf<CacheKeyOf<typeof store.getMembership>>().toEqualTypeOf<
      [] | [string] | [string, string]
    >();
    expectTypeOf<CacheKeyPrefixOf<typeof store.getMembership>>().toEqualTypeOf<
      [string] | [string, string]
    >();

    // Compile-time failures (these lines are type-checked by tsc, never run).
    const typeErrors = () => {
      // @ts-expect-error a number is not a user id
      invalidateCached(store, store.getUser, 1);
      // @ts-expect-error too many key arguments
      invalidateCached(store, store.getUser, 'u1', 'extra');
      // @ts-expect-error a nested tuple is not the key (Synapse #13863)
      invalidateCached(store, store.getMembership, ['r1', 'a']);
      // @ts-expect-error a prefix is never empty
      invalidateCachedPrefix(store, store.getMembership);
    };
    expect(typeof typeErrors).toBe('function');
  });
});

describe('@cached(): registry and construction', () => {
  it('registers every cache during construction', () => {
    const { store } = reader();
    expect(cachesOf(store).names()).toEqual(['getUser', 'getMembership', 'getDisplayName']);
    expect(Object.keys(cachesOf(store).stats())).toEqual(cachesOf(store).names());
    expect(cachesOf({}).names()).toEqual([]);
  });

  it('throws at construction when a cached method overrides a cached method', () => {
    class P {
      @cached()
      async getFoo(x: string): Promise<string> {
        return Promise.resolve(`p${x}`);
      }
    }
    class Q extends P {
      @cached()
      override async getFoo(x: string): Promise<string> {
        return Promise.resolve(`q${x}`);
      }
    }
    expect(() => new P()).not.toThrow();
    expect(() => new Q()).toThrow(/Q has two @cached\(\) methods named "getFoo"/);
  });

  it('throws at construction when two mixins in one chain cache the same name', () => {
    function ExtraUsersStore<B extends StoreCtor>(Base: B) {
      abstract class ExtraUsersStore extends UsersWorkerStore(Base) {
        @cached()
        override async getUser(id: string) {
          return Promise.resolve({ id, name: 'override' });
        }
      }
      return ExtraUsersStore;
    }
    class Composition extends ExtraUsersStore(BaseStore) {}
    expect(() => new Composition(new FakeDb())).toThrow(/two @cached\(\) methods named "getUser"/);
  });

  it('an undecorated override keeps the cache (through super) but hides the descriptor', async () => {
    class Overriding extends ReaderDataStore {
      override async getUser(id: string) {
        return super.getUser(id);
      }
    }
    const db = new FakeDb();
    db.users.set('u1', { id: 'u1', name: 'Ann' });
    const store = new Overriding(db);
    await store.getUser('u1');
    await store.getUser('u1');
    expect(db.callsOf('getUser')).toHaveLength(1);
    expect(cacheDescriptorOf(store.getUser)).toBeUndefined();
    expect(() => invalidateCached(store, store.getUser, 'u1')).toThrow(/not a @cached\(\) method/);
    // By name, as the caches stream does, it still works.
    expect(cachesOf(store).invalidateByName('getUser', ['u1'])).toBe(true);
    await store.getUser('u1');
    expect(db.callsOf('getUser')).toHaveLength(2);
  });

  it('refuses static, private and symbol-named methods and bad options at class definition', () => {
    expect(() => {
      class S {
        @cached()
        static async load(): Promise<number> {
          return Promise.resolve(1);
        }
      }
      return S;
    }).toThrow(/static methods have no per-instance cache/);
    expect(() => {
      class P {
        @cached()
        async #load(): Promise<number> {
          return Promise.resolve(1);
        }
        run() {
          return this.#load();
        }
      }
      return P;
    }).toThrow(/needs a public method with a string name/);
    const sym = Symbol('load');
    expect(() => {
      class Y {
        @cached()
        async [sym](): Promise<number> {
          return Promise.resolve(1);
        }
      }
      return Y;
    }).toThrow(/needs a public method with a string name/);
    expect(() => {
      class M {
        @cached({ maxEntries: 0 })
        async load(): Promise<number> {
          return Promise.resolve(1);
        }
      }
      return M;
    }).toThrow(/maxEntries must be a positive integer/);
  });
});

describe('CacheRegistry.invalidateByName', () => {
  async function warmed() {
    const { db, store } = reader();
    db.members.set('r1/a', 'join');
    db.members.set('r2/a', 'join');
    await store.getUser('u1');
    await store.getUser('u2');
    await store.getMembership('r1', 'a');
    await store.getMembership('r2', 'a');
    return { db, store, registry: cachesOf(store) };
  }

  it('returns false for an unknown name, without throwing or touching any cache', async () => {
    const { registry } = await warmed();
    expect(registry.invalidateByName('getUserr', ['u1'])).toBe(false);
    expect(registry.invalidateByName('getUserr', null)).toBe(false);
    expect(registry.stats()['getUser']?.size).toBe(2);
  });

  it('invalidates a full key, a prefix, or everything (null)', async () => {
    const { registry } = await warmed();
    expect(registry.invalidateByName('getUser', ['u1'])).toBe(true);
    expect(registry.get('getUser')!.peek(['u1'])).toBeUndefined();
    expect(registry.get('getUser')!.size).toBe(1);
    expect(registry.invalidateByName('getMembership', ['r1'])).toBe(true);
    expect(registry.get('getMembership')!.peek(['r1', 'a'])).toBeUndefined();
    expect(registry.get('getMembership')!.size).toBe(1);
    expect(registry.invalidateByName('getUser', null)).toBe(true);
    expect(registry.get('getUser')!.size).toBe(0);
  });

  it('drops the whole cache, never throws, on a key the cache cannot use', async () => {
    for (const bad of [[], ['r1', 'a', 'extra'], [{ not: 'a key' }]]) {
      const { registry } = await warmed();
      expect(registry.invalidateByName('getMembership', bad)).toBe(true);
      expect(registry.get('getMembership')!.size).toBe(0);
      expect(registry.get('getUser')!.size).toBe(2);
    }
  });
});
