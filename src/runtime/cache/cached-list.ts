// `@cachedList({ cached: 'getUser' })`: a bulk front-end to a single-argument
// `@cached()` method's cache. Given keys, it serves hits from that cache, joins
// lookups already in flight, and fetches all remaining keys in ONE call of the
// decorated method, storing each fetched value under its own key so that
// `getUser(k)` and `invalidate(getUser, k)` see it. Per key, the race rules of
// LookupCache apply: a key invalidated while the batch is in flight is not
// stored, and later callers fetch it again.
//
// A key missing from the method's returned Map is stored (and returned) as
// `undefined` ("no such row"), so declare the value type as `V | undefined`.
// Returned-map keys are matched to requested keys as Map keys (SameValueZero),
// so keys should be primitives.

import {
  attachDescriptor,
  cacheDescriptorOf,
  type CacheDescriptor,
  type CachedListDescriptor,
} from './cache-descriptor.js';
import { cachesOf } from './cache-registry.js';
import { checkedMethodName } from './cached.js';
import type { LookupCache, LookupClaim } from './lookup-cache.js';

export interface CachedListOptions {
  /** Name of the single-argument `@cached()` method whose cache this method fronts. */
  readonly cached: string;
}

/** The method shape `@cachedList()` accepts: keys first, a Map over (some of) them back. */
export type ListMethod<This, KA extends readonly unknown[], V, Rest extends unknown[]> = (
  this: This,
  keys: KA,
  ...rest: Rest
) => Promise<Map<KA[number], V>>;

/** Makes an async bulk method a front-end of a `@cached()` cache; see the module comment. */
export function cachedList(options: CachedListOptions) {
  return function <This extends object, KA extends readonly unknown[], V, Rest extends unknown[]>(
    method: ListMethod<This, KA, V, Rest>,
    context: ClassMethodDecoratorContext<This, ListMethod<This, KA, V, Rest>>,
  ): ListMethod<This, KA, V, Rest> {
    const name = checkedMethodName('@cachedList()', context);
    const cachedName = options.cached;

    context.addInitializer(function (this: This) {
      // The fronted method may be declared further down this class or in a
      // subclass, so its cache may not exist yet; but the prototype chain is
      // complete during construction, so its descriptor can be checked now.
      const fronted = findCachedDescriptor(this, cachedName);
      if (fronted === undefined) {
        throw new Error(
          `@cachedList() ${name}: no class in the chain has a @cached() method ${cachedName}`,
        );
      }
      if (fronted.numArgs !== 1) {
        throw new Error(
          `@cachedList() ${name}: the cache it fronts, ${cachedName}, must have numArgs 1 ` +
            `(has ${fronted.numArgs})`,
        );
      }
    });

    const replacement = async function (
      this: This,
      keys: KA,
      ...rest: Rest
    ): Promise<Map<KA[number], V>> {
      const cache = cachesOf(this).get(cachedName) as LookupCache<V> | undefined;
      if (cache === undefined) {
        throw new Error(`@cachedList() ${name}: this object has no cache named ${cachedName}`);
      }
      if (!Array.isArray(keys)) {
        throw new TypeError(`@cachedList() ${name}: keys must be an array`);
      }
      const requested = keys as readonly KA[number][];

      const values = new Array<V | Promise<V>>(requested.length);
      const claims: { key: KA[number]; claim: LookupClaim<V> }[] = [];
      try {
        for (const [i, key] of requested.entries()) {
          const probe = cache.probe([key]);
          if (probe.state === 'hit') values[i] = probe.value;
          else if (probe.state === 'pending') values[i] = probe.promise;
          else {
            values[i] = probe.claim.promise;
            claims.push({ key, claim: probe.claim });
          }
        }
      } catch (error) {
        // A bad key halfway: release the claims already made, or they would
        // stay in flight (and block those keys) for ever.
        for (const { claim } of claims) claim.reject(error);
        throw error;
      }

      if (claims.length > 0) {
        let fetched: Map<KA[number], V>;
        try {
          const missing = claims.map((c) => c.key) as unknown as KA;
          fetched = await method.call(this, missing, ...rest);
          if (!(fetched instanceof Map)) {
            throw new TypeError(`@cachedList() ${name}: the method must resolve to a Map`);
          }
        } catch (error) {
          for (const { claim } of claims) claim.reject(error);
          throw error;
        }
        // Absent keys are stored as undefined: the fetch answered "no such row".
        for (const { key, claim } of claims) claim.resolve(fetched.get(key) as V);
      }

      const settled = await Promise.all(values);
      const result = new Map<KA[number], V>();
      for (const [i, key] of requested.entries()) result.set(key, settled[i] as V);
      return result;
    };
    Object.defineProperty(replacement, 'name', { value: name });
    Object.defineProperty(replacement, 'length', { value: method.length });
    const descriptor: CachedListDescriptor = { kind: 'cachedList', name, cached: cachedName };
    attachDescriptor(replacement, descriptor);
    return replacement;
  };
}

/**
 * The `@cached()` descriptor of method `name` anywhere on `instance`'s
 * prototype chain: an undecorated override (calling `super`) still leaves the
 * cache in place, so it must not hide it. Reads own data properties only.
 */
function findCachedDescriptor(instance: object, name: string): CacheDescriptor | undefined {
  for (let proto: unknown = Object.getPrototypeOf(instance); proto !== null;) {
    const property = Object.getOwnPropertyDescriptor(proto, name);
    const descriptor = cacheDescriptorOf(property?.value);
    if (descriptor !== undefined) return descriptor;
    proto = Object.getPrototypeOf(proto);
  }
  return undefined;
}
