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
// wrong entry on every worker. Strings that jsonb refuses (a NUL, a lone
// surrogate) travel as their UTF-16 code units, or the write itself would fail.
type Tagged =
  { $u: 1 } | { $n: 'NaN' | 'Infinity' | '-Infinity' } | { $b: string } | { $s: number[] };

/** A key component the caches stream cannot carry (an object): the row drops every entry instead. */
class UnsupportedComponent extends Error {}

/** A NUL, or a surrogate that is not half of a pair. */
const NOT_JSONB_SAFE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function tag(value: unknown): unknown {
  if (value === undefined) return { $u: 1 } satisfies Tagged;
  if (typeof value === 'bigint') return { $b: value.toString() } satisfies Tagged;
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return { $n: String(value) as 'NaN' | 'Infinity' | '-Infinity' } satisfies Tagged;
  }
  if (typeof value === 'string' && NOT_JSONB_SAFE.test(value)) {
    return { $s: Array.from({ length: value.length }, (_, i) => value.charCodeAt(i)) };
  }
  if (Array.isArray(value)) return value.map(tag);
  if (
    value !== null &&
    typeof value !== 'string' &&
    typeof value !== 'number' &&
    typeof value !== 'boolean'
  )
    throw new UnsupportedComponent();
  return value;
}

function untag(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untag);
  if (value !== null && typeof value === 'object') {
    const t = value as Partial<Record<'$u' | '$n' | '$b' | '$s', unknown>>;
    if (t.$u === 1) return undefined;
    if (typeof t.$b === 'string') return BigInt(t.$b);
    if (t.$n === 'NaN' || t.$n === 'Infinity' || t.$n === '-Infinity') return Number(t.$n);
    if (Array.isArray(t.$s) && t.$s.every((c) => Number.isInteger(c) && c >= 0 && c <= 0xffff))
      return String.fromCharCode(...(t.$s as number[]));
    throw new UnsupportedComponent();
  }
  return value;
}

/**
 * The JSON text stored in a caches row's `keys` column (null = every entry).
 * A key with a component no cache key can hold (an object) becomes "every
 * entry", as the writer's own local invalidation does.
 */
export function encodeStreamKeys(keys: readonly (readonly unknown[])[] | null): string | null {
  if (keys === null) return null;
  try {
    return JSON.stringify(keys.map(tag));
  } catch (error) {
    if (error instanceof UnsupportedComponent) return null;
    throw error;
  }
}

/**
 * The inverse of `encodeStreamKeys`, from what the driver returns for `keys`.
 * A row it cannot read (written by another version, or by hand) drops every
 * entry of its cache rather than fail: a row that throws here would stop the
 * worker's `caches` stream at that token for good (Synapse #4702).
 */
export function decodeStreamKeys(raw: unknown): readonly CacheKey[] | null {
  if (raw === null || raw === undefined) return null;
  try {
    // pg and PGlite parse jsonb; accept text too.
    const value: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
    if (!Array.isArray(value) || !value.every(Array.isArray)) return null;
    return untag(value) as CacheKey[];
  } catch {
    return null;
  }
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
