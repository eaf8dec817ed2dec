// Cached reads: `@cached()` / `@cachedList()` methods, their per-instance caches,
// the registry that resolves caches by name, and typed invalidation helpers.

export type { CacheKey, KeyComponent, KeyScalar } from './cache-key.js';
export { encodeKey, encodeKeyParts } from './cache-key.js';
export type { CacheOptions, CacheStats, LookupClaim, LookupProbe } from './lookup-cache.js';
export { LookupCache } from './lookup-cache.js';
export type { CacheDescriptor, CachedListDescriptor } from './cache-descriptor.js';
export { CACHE_DESCRIPTOR, cacheDescriptorOf, cachedListDescriptorOf } from './cache-descriptor.js';
export type { CacheRegistry } from './cache-registry.js';
export { cachesOf } from './cache-registry.js';
export type {
  CachedFunction,
  CacheKeyOf,
  CacheKeyPrefixOf,
  KeyPrefix,
  NonEmptyKeyPrefix,
} from './invalidation.js';
export {
  cacheFor,
  invalidateCached,
  invalidateCachedAll,
  invalidateCachedPrefix,
} from './invalidation.js';
export type { AsyncMethod, CachedOptions } from './cached.js';
export { cached, DEFAULT_MAX_ENTRIES } from './cached.js';
export type { CachedListOptions, ListMethod } from './cached-list.js';
export { cachedList } from './cached-list.js';
