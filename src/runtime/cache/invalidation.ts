// Typed invalidation by method reference: `invalidateCached(store, store.getUser, id)`.
// The key's type comes from the method's parameters, so a key of the wrong
// shape fails to compile (Synapse #13863: a tuple nested in a tuple made
// invalidations silent no-ops). The store base class wraps these as
// `this.invalidate(fn, …key)`, `this.invalidatePrefix(…)`, `this.invalidateAll(fn)`.
//
// Types cannot know numArgs (an option read at run time), so the key type is
// any prefix of the parameter list and the run time checks the exact length.

import { cacheDescriptorOf, cachedListDescriptorOf } from './cache-descriptor.js';
import { cachesOf } from './cache-registry.js';
import type { LookupCache } from './lookup-cache.js';

/** A method reference the helpers accept; they read its parameter types. */
export type CachedFunction = (...args: never[]) => Promise<unknown>;

/**
 * Every prefix of a parameter tuple, the empty one included:
 * `KeyPrefix<[a: string, b: number]>` is `[] | [string] | [string, number]`.
 * An optional parameter gives an optional-valued position; a rest parameter
 * allows any number of further elements.
 */
export type KeyPrefix<P extends readonly unknown[]> = P extends readonly []
  ? []
  : P extends readonly [infer H, ...infer R]
    ? [] | [H, ...KeyPrefix<R>]
    : number extends P['length']
      ? P extends readonly (infer E)[]
        ? E[]
        : never
      : P extends readonly [(infer H)?, ...infer R]
        ? [] | [H | undefined, ...KeyPrefix<R>]
        : never;

/** A non-empty prefix of a parameter tuple (what `invalidatePrefix` takes). */
export type NonEmptyKeyPrefix<P extends readonly unknown[]> = Exclude<KeyPrefix<P>, []>;

/** The key `invalidate` takes for method `F`: a prefix of its parameters (run time checks the length). */
export type CacheKeyOf<F extends CachedFunction> = KeyPrefix<Parameters<F>>;

/** The prefix `invalidatePrefix` takes for method `F`: a non-empty prefix of its parameters. */
export type CacheKeyPrefixOf<F extends CachedFunction> = NonEmptyKeyPrefix<Parameters<F>>;

/** Drops one full key of `fn`'s cache on `instance`. The key length must equal numArgs. */
export function invalidateCached<F extends CachedFunction>(
  instance: object,
  fn: F,
  ...key: CacheKeyOf<F>
): void {
  cacheFor(instance, fn, 'invalidateCached').invalidate(key);
}

/** Drops every key of `fn`'s cache on `instance` that starts with `prefix` (1 to numArgs elements). */
export function invalidateCachedPrefix<F extends CachedFunction>(
  instance: object,
  fn: F,
  ...prefix: CacheKeyPrefixOf<F>
): void {
  cacheFor(instance, fn, 'invalidateCachedPrefix').invalidatePrefix(prefix);
}

/** Drops every entry of `fn`'s cache on `instance`. */
export function invalidateCachedAll(instance: object, fn: CachedFunction): void {
  cacheFor(instance, fn, 'invalidateCachedAll').invalidateAll();
}

/** The cache that method reference `fn` stands for on `instance`; throws on a programming bug. */
export function cacheFor(instance: object, fn: unknown, caller = 'cacheFor'): LookupCache<unknown> {
  const descriptor = cacheDescriptorOf(fn);
  if (descriptor === undefined) {
    const list = cachedListDescriptorOf(fn);
    if (list !== undefined) {
      throw new TypeError(
        `${caller}: ${list.name} is a @cachedList() front-end; invalidate the cache it fronts, ${list.cached}`,
      );
    }
    const name = typeof fn === 'function' && fn.name !== '' ? fn.name : String(fn);
    throw new TypeError(
      `${caller}: ${name} is not a @cached() method (an undecorated override hides the cached one)`,
    );
  }
  const cache = cachesOf(instance).get(descriptor.name);
  if (cache === undefined) {
    throw new Error(`${caller}: this instance has no cache named ${descriptor.name}`);
  }
  return cache;
}
