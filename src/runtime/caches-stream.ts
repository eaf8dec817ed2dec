// The `caches` stream: invalidations recorded by `invalidateCacheAndStream`
// for writes that have no stream of their own. Each row names a cache (the
// cached method's name) and the keys to drop, or null for "every entry".
import { sql } from 'kysely';
import type { CacheKey } from './cache/index.js';
import { defineStream } from './stream.js';

export interface CacheInvalidationRow {
  readonly cacheName: string;
  /** Key tuples to drop; null drops every entry of the cache. */
  readonly keys: readonly CacheKey[] | null;
}

interface CacheInvalidationRecord {
  stream_id: string | number | bigint;
  cache_name: string;
  keys: unknown;
}

// Key components JSON cannot carry (`undefined`, `NaN`, ±Infinity, bigint)
// travel as tagged objects; keys never contain objects, so tags are unambiguous.
// Plain JSON would turn `[a, undefined]` into `[a, null]` and invalidate the
// wrong entry on every worker.
type Tagged = { $u: 1 } | { $n: 'NaN' | 'Infinity' | '-Infinity' } | { $b: string };

function tag(value: unknown): unknown {
  if (value === undefined) return { $u: 1 } satisfies Tagged;
  if (typeof value === 'bigint') return { $b: value.toString() } satisfies Tagged;
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return { $n: String(value) as 'NaN' | 'Infinity' | '-Infinity' } satisfies Tagged;
  }
  if (Array.isArray(value)) return value.map(tag);
  return value;
}

function untag(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untag);
  if (value !== null && typeof value === 'object') {
    const t = value as Partial<Record<'$u' | '$n' | '$b', unknown>>;
    if (t.$u === 1) return undefined;
    if (typeof t.$b === 'string') return BigInt(t.$b);
    if (t.$n === 'NaN' || t.$n === 'Infinity' || t.$n === '-Infinity') return Number(t.$n);
    throw new TypeError(`caches stream row: unexpected key component ${JSON.stringify(value)}`);
  }
  return value;
}

/** The JSON text stored in a caches row's `keys` column (null = every entry). */
export function encodeStreamKeys(keys: readonly (readonly unknown[])[] | null): string | null {
  return keys === null ? null : JSON.stringify(keys.map(tag));
}

/** The inverse of `encodeStreamKeys`, from what the driver returns for `keys`. */
export function decodeStreamKeys(raw: unknown): readonly CacheKey[] | null {
  if (raw === null || raw === undefined) return null;
  // pg and PGlite parse jsonb; accept text too.
  const value: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  if (!Array.isArray(value) || !value.every(Array.isArray)) {
    throw new TypeError('caches stream row: keys must be an array of key tuples or null');
  }
  return untag(value) as CacheKey[];
}

export const CachesStream = defineStream<CacheInvalidationRow>({
  name: 'caches',
  tables: ['storesplit_cache_invalidations'],
  getUpdates: async (db, from, to, limit, instance) => {
    const { rows } = await sql<CacheInvalidationRecord>`
      SELECT stream_id, cache_name, keys FROM storesplit_cache_invalidations
      WHERE instance_name = ${instance} AND stream_id > ${from} AND stream_id <= ${to}
      ORDER BY stream_id LIMIT ${limit}`.execute(db);
    return rows.map((r) => ({
      token: Number(r.stream_id),
      row: { cacheName: r.cache_name, keys: decodeStreamKeys(r.keys) },
    }));
  },
});
