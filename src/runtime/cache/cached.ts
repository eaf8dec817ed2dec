// `@cached()`: the TC39 method decorator that gives an async read method a
// per-instance LookupCache keyed by its first `numArgs` arguments.
//
// The cache is created by an initializer (`context.addInitializer`), which runs
// during construction of each instance, so an instance's registry is complete
// as soon as its constructor returns; the caches stream can then resolve every
// name. The replacement function carries the cache's descriptor, so `this.getUser`
// as a value identifies the cache for the invalidation helpers.

import { attachDescriptor, type CacheDescriptor } from './cache-descriptor.js';
import { encodeCallKey } from './cache-key.js';
import { registerCache } from './cache-registry.js';
import { checkCacheOptions, LookupCache } from './lookup-cache.js';

/** Default LRU bound of a `@cached()` method. */
export const DEFAULT_MAX_ENTRIES = 10_000;

export interface CachedOptions {
  /** LRU bound on settled entries; default 10 000. */
  readonly maxEntries?: number;
  /**
   * How many leading arguments form the key; default the method's declared
   * parameter count (`fn.length`, which stops before the first parameter with
   * a default value or a rest parameter). Further arguments are passed through
   * but not part of the key, so they must not change the result.
   */
  readonly numArgs?: number;
}

/** The method shape `@cached()` accepts: an async method. */
export type AsyncMethod<This, Args extends unknown[], R> = (
  this: This,
  ...args: Args
) => Promise<R>;

/** Caches an async method per instance; see the module comment and `CachedOptions`. */
export function cached(options: CachedOptions = {}) {
  return function <This extends object, Args extends unknown[], R>(
    method: AsyncMethod<This, Args, R>,
    context: ClassMethodDecoratorContext<This, AsyncMethod<This, Args, R>>,
  ): AsyncMethod<This, Args, R> {
    const name = checkedMethodName('@cached()', context);
    const descriptor: CacheDescriptor = {
      kind: 'cached',
      name,
      numArgs: options.numArgs ?? method.length,
      maxEntries: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
    };
    // Bad options fail at class definition rather than at each construction.
    checkCacheOptions(descriptor);

    // Caches by instance, private to this decorated method: the registry is for
    // lookups by name, this is the fast path of every call.
    const caches = new WeakMap<object, LookupCache<R>>();

    context.addInitializer(function (this: This) {
      const cache = new LookupCache<R>(descriptor);
      registerCache(this, cache as LookupCache<unknown>);
      caches.set(this, cache);
    });

    const { numArgs } = descriptor;
    const replacement = function (this: This, ...args: Args): Promise<R> {
      const cache = caches.get(this);
      if (cache === undefined) {
        return Promise.reject(
          new Error(
            `@cached() ${name}: called on an object whose cache was not created ` +
              '(called before its class initialised it, or on another object)',
          ),
        );
      }
      // A settled hit returns without building the key tuple or a claim. An
      // unsupported key throws; it is reported the way an async method
      // reports errors, as a rejection.
      let encoded: string;
      try {
        encoded = encodeCallKey(args, numArgs, name);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      const hit = cache.settledHit(encoded);
      if (hit !== undefined) return Promise.resolve(hit.value);
      // A missing trailing argument is `undefined` in the key, as it is in the
      // call, so `f(a)` and `f(a, undefined)` share an entry.
      const key: unknown[] = args.slice(0, numArgs);
      while (key.length < numArgs) key.push(undefined);
      // An unsupported key throws; the executor reports it the way an async
      // method reports errors, as a rejection.
      return new Promise<R>((resolve) =>
        resolve(cache.lookup(key, () => method.apply(this, args))),
      );
    };
    Object.defineProperty(replacement, 'name', { value: name });
    Object.defineProperty(replacement, 'length', { value: method.length });
    attachDescriptor(replacement, descriptor);
    return replacement;
  };
}

/** The method's name, checking the decorator is on a named, public, non-static method. */
export function checkedMethodName(
  decorator: string,
  context: Pick<ClassMethodDecoratorContext, 'kind' | 'name' | 'private' | 'static'>,
): string {
  if (context.kind !== 'method') {
    throw new TypeError(`${decorator} applies to methods only`);
  }
  if (typeof context.name !== 'string' || context.private) {
    throw new TypeError(
      `${decorator} ${String(context.name)}: needs a public method with a string name ` +
        '(cache names travel on the caches stream)',
    );
  }
  if (context.static) {
    throw new TypeError(`${decorator} ${context.name}: static methods have no per-instance cache`);
  }
  return context.name;
}
