// Per-instance cache registry: every store instance's caches by name. The
// caches stream names caches by string, so the worker side resolves names here;
// an unknown name is reported (false), never thrown, because one exception in a
// batch of invalidations would leave every later cache stale (Synapse #4702).
//
// Cache names are unique per instance. Two `@cached()` methods with one name in
// a class chain (a cached method overridden by another cached method, e.g. two
// mixins both caching `getFoo`) would otherwise create two caches that share a
// name, of which invalidation by name could reach only one; construction fails
// instead, naming the cache.

import type { CacheStats, LookupCache } from './lookup-cache.js';

/** The caches of one store instance. */
export interface CacheRegistry {
  /** The cache with this name, if the instance has one. */
  get(name: string): LookupCache<unknown> | undefined;
  /** Names of the instance's caches, in registration (construction) order. */
  names(): string[];
  /** Counters per cache name. */
  stats(): Record<string, CacheStats>;
  /**
   * Invalidates by name, as the caches stream does: `key` null means all; a key
   * of the cache's full length drops that key, a shorter non-empty one drops
   * that prefix. Returns false if the instance has no cache of that name (the
   * caller counts and skips it). Never throws: a key the cache cannot use
   * (wrong length, unsupported component) drops the whole cache instead,
   * because over-invalidating is safe and a stale cache is not.
   */
  invalidateByName(name: string, key: readonly unknown[] | null): boolean;
  /**
   * Drops every entry of every cache: the safe answer when what some rows
   * invalidate cannot be known (their handlers failed, or they could not be
   * read).
   */
  invalidateEverything(): void;
}

class Registry implements CacheRegistry {
  private readonly caches = new Map<string, LookupCache<unknown>>();

  constructor(private readonly owner: object) {}

  add(cache: LookupCache<unknown>): void {
    if (this.caches.has(cache.name)) {
      throw new Error(
        `storesplit: ${ownerName(this.owner)} has two @cached() methods named "${cache.name}" ` +
          '(a cached method overridden by another cached method); a cache name must be unique ' +
          'within a composition, so rename one or drop the decorator from the override',
      );
    }
    this.caches.set(cache.name, cache);
  }

  get(name: string): LookupCache<unknown> | undefined {
    return this.caches.get(name);
  }

  names(): string[] {
    return [...this.caches.keys()];
  }

  invalidateEverything(): void {
    for (const cache of this.caches.values()) cache.invalidateAll();
  }

  stats(): Record<string, CacheStats> {
    const out: Record<string, CacheStats> = {};
    for (const [name, cache] of this.caches) out[name] = cache.stats();
    return out;
  }

  invalidateByName(name: string, key: readonly unknown[] | null): boolean {
    const cache = this.caches.get(name);
    if (cache === undefined) return false;
    try {
      if (key === null) cache.invalidateAll();
      else if (Array.isArray(key) && key.length === cache.numArgs) cache.invalidate(key);
      else cache.invalidatePrefix(key);
    } catch {
      cache.invalidateAll();
    }
    return true;
  }
}

function ownerName(owner: object): string {
  const ctor = (owner as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'a store instance';
}

const registries = new WeakMap<object, Registry>();

function registryOf(instance: object): Registry {
  let registry = registries.get(instance);
  if (registry === undefined) {
    registry = new Registry(instance);
    registries.set(instance, registry);
  }
  return registry;
}

/** The caches of `instance` (an empty registry if it has none). */
export function cachesOf(instance: object): CacheRegistry {
  return registryOf(instance);
}

/**
 * Registers a cache with its instance; the decorators call this during
 * construction. Throws if the instance already has a cache of that name.
 */
export function registerCache(instance: object, cache: LookupCache<unknown>): void {
  registryOf(instance).add(cache);
}
