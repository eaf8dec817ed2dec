// Dynamic cache verification: does every cached read of every store equal a
// fresh read of the database? Generic over any storesplit composition (it
// knows caches only by name), so the runtime can export it for applications'
// own test suites; the chat server's probes are in probes.ts.
//
// For each probe (a `@cached()` method and its arguments) it reads the value
// fresh through an *oracle*: a store instance of its own, never replicated
// to, whose every cache is dropped before each probe, so the read and every
// cached read it makes go to the database. Then, on every target, it checks
// both the entry sitting in the cache (`peek`, which changes nothing: a stale
// entry is a failure even if nobody asked for it yet) and what a call serves.
//
// Precondition: quiescence. No write is in flight, and every target has
// applied every stream up to the writer's positions (wait for them first);
// otherwise a difference may only be replication that has not arrived yet.
import { isDeepStrictEqual } from 'node:util';
import { cacheDescriptorOf, cachesOf, type CacheRegistry } from '../../../src/index.js';
import type { LookupCache } from '../../../src/runtime/cache/index.js';

/** One cached read to check: a `@cached()` method of the stores, by name, and its arguments. */
export interface CacheProbe {
  readonly method: string;
  readonly args: readonly unknown[];
}

/** A store to check, named for the report (e.g. the process's instance name). */
export interface ConsistencyTarget {
  readonly name: string;
  readonly store: object;
}

export interface CacheMismatch {
  readonly target: string;
  readonly method: string;
  readonly args: readonly unknown[];
  /** `cached`: the entry in the cache differs; `served`: the value a call returned differs. */
  readonly kind: 'cached' | 'served';
  readonly actual: unknown;
  readonly fresh: unknown;
}

export interface ConsistencyReport {
  readonly probes: number;
  /** Probe × target reads compared. */
  readonly reads: number;
  /** Entries that were in a cache when checked (the interesting ones). */
  readonly cachedEntries: number;
  readonly mismatches: readonly CacheMismatch[];
  /** Per target, the caches no probe exercised (an incomplete probe set hides bugs). */
  readonly unprobedCaches: Readonly<Record<string, readonly string[]>>;
}

export interface ConsistencyOptions {
  readonly targets: readonly ConsistencyTarget[];
  /** A store of the same kind as the targets, used only for fresh reads. */
  readonly oracle: object;
  readonly probes: readonly CacheProbe[];
  /** Value equality; default `util.isDeepStrictEqual`. */
  readonly equals?: (a: unknown, b: unknown) => boolean;
}

/** Drops every cache entry of a store. */
export function dropAllCaches(store: object): void {
  const caches = cachesOf(store);
  for (const name of caches.names()) caches.invalidateByName(name, null);
}

/** Calls `method` on `store` after dropping every cache of it: a read from the database. */
export async function freshRead(
  store: object,
  method: string,
  args: readonly unknown[],
): Promise<unknown> {
  dropAllCaches(store);
  return callMethod(store, method, args);
}

function callMethod(store: object, method: string, args: readonly unknown[]): Promise<unknown> {
  const fn = (store as Record<string, unknown>)[method];
  if (typeof fn !== 'function') throw new TypeError(`the store has no method ${method}`);
  return (fn as (...a: unknown[]) => Promise<unknown>).apply(store, [...args]);
}

function cacheOf(registry: CacheRegistry, store: object, method: string): LookupCache<unknown> {
  const fn = (store as Record<string, unknown>)[method];
  if (!cacheDescriptorOf(fn)) throw new TypeError(`${method} is not a @cached() method`);
  const cache = registry.get(method);
  if (!cache) throw new TypeError(`the store has no cache named ${method}`);
  return cache;
}

/** The cache key a call with `args` uses: the first `numArgs` arguments, `undefined`-padded. */
function keyOf(cache: LookupCache<unknown>, args: readonly unknown[]): unknown[] {
  const key = args.slice(0, cache.numArgs);
  while (key.length < cache.numArgs) key.push(undefined);
  return key;
}

/** Checks every probe on every target against a fresh read; see the module comment. */
export async function checkCacheConsistency(
  options: ConsistencyOptions,
): Promise<ConsistencyReport> {
  const equals = options.equals ?? isDeepStrictEqual;
  const mismatches: CacheMismatch[] = [];
  const probed = new Set<string>();
  let reads = 0;
  let cachedEntries = 0;
  for (const { method, args } of options.probes) {
    probed.add(method);
    const fresh = await freshRead(options.oracle, method, args);
    for (const target of options.targets) {
      const cache = cacheOf(cachesOf(target.store), target.store, method);
      const entry = cache.peek(keyOf(cache, args));
      if (entry) {
        cachedEntries++;
        if (!equals(entry.value, fresh)) {
          mismatches.push({
            target: target.name,
            method,
            args,
            kind: 'cached',
            actual: entry.value,
            fresh,
          });
        }
      }
      const served = await callMethod(target.store, method, args);
      reads++;
      if (!equals(served, fresh)) {
        mismatches.push({
          target: target.name,
          method,
          args,
          kind: 'served',
          actual: served,
          fresh,
        });
      }
    }
  }
  const unprobedCaches: Record<string, string[]> = {};
  for (const target of options.targets) {
    const missing = cachesOf(target.store)
      .names()
      .filter((name) => !probed.has(name));
    if (missing.length) unprobedCaches[target.name] = missing;
  }
  return { probes: options.probes.length, reads, cachedEntries, mismatches, unprobedCaches };
}

/** A one-line description of a mismatch, for test failures and logs. */
export function describeMismatch(m: CacheMismatch): string {
  return (
    `${m.target}: ${m.method}(${m.args.map((a) => JSON.stringify(a)).join(', ')}) ` +
    `${m.kind} ${JSON.stringify(m.actual)} but the database says ${JSON.stringify(m.fresh)}`
  );
}
