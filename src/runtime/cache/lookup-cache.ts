// The per-instance cache behind one `@cached()` method (Synapse's DeferredCache):
// an LRU of settled values plus a map of lookups still in flight.
//
// Rules, each one a production bug in Synapse:
// - concurrent misses on one key share one underlying call;
// - a lookup in flight when its key is invalidated (exact, prefix or all) is
//   forgotten: callers arriving after the invalidation start a fresh call, and
//   its result is not stored when it settles (it would be stale). Callers that
//   joined it before the invalidation still get its result;
// - a rejected lookup is not cached: its callers see the rejection, the next
//   call retries.
// A key is in at most one of the two maps at a time. Every live key is also in
// a prefix index (KeyIndex) so that prefix invalidation costs the number of
// matching keys, not the size of the cache.

import { LRUCache } from 'lru-cache';

import { encodeKeyParts } from './cache-key.js';
import { KeyIndex, type IndexNode } from './key-index.js';

/** What identifies a cache: its name, key length and LRU bound. */
export interface CacheOptions {
  /** The cache's name (the cached method's name). */
  readonly name: string;
  /** How many leading arguments form the key. */
  readonly numArgs: number;
  /** LRU bound on settled entries (in-flight lookups are not counted). */
  readonly maxEntries: number;
}

/** Counters of one cache. */
export interface CacheStats {
  /** Settled entries currently held. */
  readonly size: number;
  /** Lookups answered without a new underlying call (a settled value, or sharing one in flight). */
  readonly hits: number;
  /** Lookups that started an underlying call. */
  readonly misses: number;
  /** Settled entries dropped by the LRU bound (never counts invalidations). */
  readonly evictions: number;
  /** Entries dropped by invalidation: settled values plus lookups in flight. */
  readonly invalidations: number;
}

/**
 * A lookup that a caller has claimed and must settle exactly once (used by bulk
 * front-ends such as `@cachedList`, which fetch many claimed keys in one call).
 */
export interface LookupClaim<V> {
  /** Settles when the claim does; shared with callers that find it in flight. */
  readonly promise: Promise<V>;
  /** Settles the lookup; the value is stored unless the key was invalidated meanwhile. */
  readonly resolve: (value: V) => void;
  /** Fails the lookup; nothing is stored and the next lookup retries. */
  readonly reject: (error: unknown) => void;
}

/** Outcome of `probe`: a settled value, a lookup in flight to share, or a claim to settle. */
export type LookupProbe<V> =
  | { readonly state: 'hit'; readonly value: V }
  | { readonly state: 'pending'; readonly promise: Promise<V> }
  | { readonly state: 'claimed'; readonly claim: LookupClaim<V> };

// LRU values are boxed: lru-cache treats `set(k, undefined)` as a delete, and a
// cached `undefined` ("no such row") is a legitimate value. The box also holds
// the key's index leaf so an LRU eviction can unindex the key.
interface Settled<V> {
  readonly value: V;
  readonly leaf: IndexNode;
}

// Identity matters: a settling lookup stores its value only if it is still the
// record in `inFlight` for its key.
interface InFlight<V> {
  readonly promise: Promise<V>;
  readonly leaf: IndexNode;
}

export class LookupCache<V> {
  readonly name: string;
  readonly numArgs: number;
  readonly maxEntries: number;

  private readonly settled: LRUCache<string, Settled<V>>;
  private readonly inFlight = new Map<string, InFlight<V>>();
  private readonly index = new KeyIndex();
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private invalidations = 0;

  constructor(options: CacheOptions) {
    checkCacheOptions(options);
    const { name, numArgs, maxEntries } = options;
    this.name = name;
    this.numArgs = numArgs;
    this.maxEntries = maxEntries;
    this.settled = new LRUCache<string, Settled<V>>({
      max: maxEntries,
      // Runs synchronously inside set/delete/clear, so the index never lags.
      dispose: (entry, _key, reason) => {
        if (reason === 'evict') this.evictions++;
        // 'set' would mean an overwrite, which this class never does; the
        // replacing entry reuses the leaf, so it must stay.
        if (reason !== 'set') this.index.remove(entry.leaf);
      },
    });
  }

  /**
   * Returns the value for `key`, calling `compute` only if the key is neither
   * cached nor already being looked up.
   */
  lookup(key: readonly unknown[], compute: () => Promise<V>): Promise<V> {
    const probe = this.probe(key);
    switch (probe.state) {
      case 'hit':
        return Promise.resolve(probe.value);
      case 'pending':
        return probe.promise;
      case 'claimed': {
        // The executor turns a synchronous throw into a rejection, which
        // releases the claim like any other failure.
        const computed = new Promise<V>((resolve) => resolve(compute()));
        void computed.then(probe.claim.resolve, probe.claim.reject);
        return probe.claim.promise;
      }
    }
  }

  /**
   * The fast path of a cached call: the settled value for an already encoded
   * key (`encodeCallKey`), counted as a hit and refreshed in the LRU; else
   * undefined, and nothing is counted (the caller goes on to `lookup`).
   */
  settledHit(encoded: string): { readonly value: V } | undefined {
    const entry = this.settled.get(encoded);
    if (entry === undefined) return undefined;
    this.hits++;
    return entry;
  }

  /**
   * Looks `key` up and, on a miss, registers a lookup in flight that the
   * caller must settle through the returned claim. Counts a hit or a miss.
   */
  probe(key: readonly unknown[]): LookupProbe<V> {
    this.checkFullKey(key, 'key');
    const parts = encodeKeyParts(key, this.name);
    const encoded = parts.join('');
    const entry = this.settled.get(encoded);
    if (entry !== undefined) {
      this.hits++;
      return { state: 'hit', value: entry.value };
    }
    const pending = this.inFlight.get(encoded);
    if (pending !== undefined) {
      this.hits++;
      return { state: 'pending', promise: pending.promise };
    }
    this.misses++;
    return { state: 'claimed', claim: this.claim(encoded, parts) };
  }

  private claim(encoded: string, parts: readonly string[]): LookupClaim<V> {
    let resolvePromise!: (value: V) => void;
    let rejectPromise!: (error: unknown) => void;
    const promise = new Promise<V>((resolve, reject) => {
      resolvePromise = resolve;
      rejectPromise = reject;
    });
    // The claim's owner may not await this promise (a bulk front-end awaits its
    // batch instead); callers that share it still see the rejection.
    promise.catch(() => undefined);
    const record: InFlight<V> = { promise, leaf: this.index.insert(parts, encoded) };
    this.inFlight.set(encoded, record);
    let done = false;
    return {
      promise,
      resolve: (value: V) => {
        if (done) return;
        done = true;
        // Store before resolving, so a caller resuming after `await` finds it.
        if (this.inFlight.get(encoded) === record) {
          this.inFlight.delete(encoded);
          this.settled.set(encoded, { value, leaf: record.leaf });
        }
        resolvePromise(value);
      },
      reject: (error: unknown) => {
        if (done) return;
        done = true;
        if (this.inFlight.get(encoded) === record) {
          this.inFlight.delete(encoded);
          this.index.remove(record.leaf);
        }
        rejectPromise(error);
      },
    };
  }

  /**
   * The settled value for `key`, without counting a hit or refreshing its LRU
   * position; undefined if it is not cached (in flight does not count).
   */
  peek(key: readonly unknown[]): { readonly value: V } | undefined {
    this.checkFullKey(key, 'key');
    const entry = this.settled.peek(encodeKeyParts(key, this.name).join(''));
    return entry === undefined ? undefined : { value: entry.value };
  }

  /** Whether a lookup for `key` is in flight (and not invalidated). */
  isInFlight(key: readonly unknown[]): boolean {
    this.checkFullKey(key, 'key');
    return this.inFlight.has(encodeKeyParts(key, this.name).join(''));
  }

  /** Drops the entry and any lookup in flight for one full key. */
  invalidate(key: readonly unknown[]): void {
    this.checkFullKey(key, 'invalidate key');
    this.drop(encodeKeyParts(key, this.name).join(''));
  }

  /** Drops every entry and lookup in flight whose key starts with `prefix`. */
  invalidatePrefix(prefix: readonly unknown[]): void {
    if (!Array.isArray(prefix) || prefix.length === 0 || prefix.length > this.numArgs) {
      throw new TypeError(
        `cache ${this.name}: invalidatePrefix needs 1 to ${this.numArgs} key arguments, ` +
          `got ${describeLength(prefix)}`,
      );
    }
    for (const encoded of this.index.detachPrefix(encodeKeyParts(prefix, this.name))) {
      this.drop(encoded);
    }
  }

  /** Drops every entry and every lookup in flight. */
  invalidateAll(): void {
    this.invalidations += this.settled.size + this.inFlight.size;
    this.inFlight.clear();
    // Clear the index first: the LRU's dispose calls then unindex detached leaves.
    this.index.clear();
    this.settled.clear();
  }

  stats(): CacheStats {
    return {
      size: this.settled.size,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      invalidations: this.invalidations,
    };
  }

  /** Number of settled entries. */
  get size(): number {
    return this.settled.size;
  }

  /** Number of keys in the prefix index (settled plus in flight); for tests. */
  indexedKeyCount(): number {
    return this.index.countKeys();
  }

  private drop(encoded: string): void {
    const pending = this.inFlight.get(encoded);
    if (pending !== undefined) {
      this.inFlight.delete(encoded);
      this.index.remove(pending.leaf);
      this.invalidations++;
    }
    // The LRU's dispose unindexes the settled entry.
    if (this.settled.delete(encoded)) this.invalidations++;
  }

  private checkFullKey(key: readonly unknown[], what: string): void {
    if (!Array.isArray(key) || key.length !== this.numArgs) {
      throw new TypeError(
        `cache ${this.name}: ${what} must have exactly ${this.numArgs} argument(s), ` +
          `got ${describeLength(key)}`,
      );
    }
  }
}

/** Throws a TypeError if `options` cannot describe a cache. */
export function checkCacheOptions(options: CacheOptions): void {
  const { name, numArgs, maxEntries } = options;
  if (!Number.isInteger(numArgs) || numArgs < 0) {
    throw new TypeError(`cache ${name}: numArgs must be a non-negative integer, got ${numArgs}`);
  }
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError(`cache ${name}: maxEntries must be a positive integer, got ${maxEntries}`);
  }
}

function describeLength(key: unknown): string {
  return Array.isArray(key) ? String(key.length) : `a ${typeof key}`;
}
