// Cache descriptors: the metadata a decorated method carries on its replacement
// function, so that a plain method reference (`this.getUser`) names its cache.
// Invalidation helpers, the caches stream and store-lint's runtime checks all
// start from a function reference and read its descriptor.

/** Property under which a decorated method's replacement carries its descriptor. */
export const CACHE_DESCRIPTOR: unique symbol = Symbol('storesplit.cacheDescriptor');

/** Descriptor of a `@cached()` method; `name` is also the cache's name. */
export interface CacheDescriptor {
  readonly kind: 'cached';
  readonly name: string;
  readonly numArgs: number;
  readonly maxEntries: number;
}

/** Descriptor of a `@cachedList()` method: `name` is the method, `cached` the cache it fronts. */
export interface CachedListDescriptor {
  readonly kind: 'cachedList';
  readonly name: string;
  readonly cached: string;
}

type AnyDescriptor = CacheDescriptor | CachedListDescriptor;

/** Attaches a descriptor to a decorator's replacement function (non-enumerable, read-only). */
export function attachDescriptor(fn: object, descriptor: AnyDescriptor): void {
  Object.defineProperty(fn, CACHE_DESCRIPTOR, { value: Object.freeze({ ...descriptor }) });
}

function descriptorOf(fn: unknown): AnyDescriptor | undefined {
  if (typeof fn !== 'function') return undefined;
  // Own property only: a function object never inherits one, but be explicit.
  if (!Object.prototype.hasOwnProperty.call(fn, CACHE_DESCRIPTOR)) return undefined;
  return (fn as unknown as { [CACHE_DESCRIPTOR]: AnyDescriptor })[CACHE_DESCRIPTOR];
}

/** The cache a `@cached()` method reference stands for; undefined for anything else. */
export function cacheDescriptorOf(fn: unknown): CacheDescriptor | undefined {
  const descriptor = descriptorOf(fn);
  return descriptor?.kind === 'cached' ? descriptor : undefined;
}

/** The descriptor of a `@cachedList()` method reference; undefined for anything else. */
export function cachedListDescriptorOf(fn: unknown): CachedListDescriptor | undefined {
  const descriptor = descriptorOf(fn);
  return descriptor?.kind === 'cachedList' ? descriptor : undefined;
}
