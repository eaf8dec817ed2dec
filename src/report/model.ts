// The coverage model: which cached reads each app keeps fresh, by which
// stream, handler and invalidation, and which it does not. Plain, frozen,
// JSON-serialisable data built by `computeCoverage(model)` from the store
// model; every formatter is a pure function of it. Locations are relative to
// the analysed project's root, as in the store model.
//
// The unit is the *pair*: (app, cached read, table it reads, write path that
// writes the table). A pair is covered when that write is followed, on that
// app, by an invalidation of that cache; uncovered when a link is missing
// (and then a store-lint rule reports it); unknown when the analyser left
// something unresolved on the way (and `analysis-unresolved` reports that).
import type { InvalidationKind, SourceLocation } from '../analysis/model.js';

export const COVERAGE_VERSION = 1;

/**
 * The `table` of the pairs whose table the analyser could not name: the
 * cached read or the write path holds a dynamic table name (or SQL it could
 * not read), so it may read or write any table. Such pairs are `unknown`.
 */
export const UNNAMED_TABLE = '?';

export type PairStatus = 'covered' | 'uncovered' | 'unknown';

/**
 * `covered`: every pair covered (or skipped), or no write can make it stale;
 * `uncovered`: no pair covered and at least one uncovered; `unknown`: no pair
 * covered, none uncovered, some unknown; `partly`: the rest.
 */
export type CacheStatus = 'covered' | 'partly' | 'uncovered' | 'unknown';

/**
 * Counts in istanbul's convention: `skipped` items (here: uncovered pairs whose
 * finding a `store-lint-disable-next-line` comment suppresses, the analogue of
 * `istanbul ignore`) are counted as covered; `pct` is `covered / total`
 * rounded to two decimals, 100 when `total` is 0. Always
 * `total = covered + uncovered + unknown`.
 */
export interface Counts {
  readonly total: number;
  readonly covered: number;
  readonly skipped: number;
  readonly uncovered: number;
  readonly unknown: number;
  readonly pct: number;
}

/** Both metrics: pairs (`invalidations`) and cached reads whose every pair is covered (`caches`). */
export interface Metrics {
  /** Cache × write pairs whose write is followed by an invalidation of the cache. */
  readonly invalidations: Counts;
  /** Cached reads (per app) all of whose pairs are covered. */
  readonly caches: Counts;
}

/** One step in the chain of facts behind a pair, with where it is in the source. */
export interface Fact {
  readonly step:
    | 'read'
    | 'write'
    | 'allocate'
    | 'handler'
    | 'invalidate'
    | 'caches-stream'
    | 'self'
    | 'missing'
    | 'unresolved';
  /** One sentence; code in backticks (formatters render it). */
  readonly text: string;
  readonly location: SourceLocation | null;
  /** False for the missing link (and an unresolved one). */
  readonly ok: boolean;
}

/** A method of a store, named by the store's class name. */
export interface MethodRef {
  readonly store: string;
  readonly method: string;
  readonly location: SourceLocation;
}

/** A write path: a method a write can start from, in a composition, run by some apps. */
export interface WriterRef extends MethodRef {
  /** Stable id: `composition:Store.method`. */
  readonly id: string;
  readonly composition: string;
  /** Apps running the composition in the role the pair concerns (writer apps for workers' pairs). */
  readonly apps: readonly string[];
}

export interface InvalidationRef {
  readonly kind: InvalidationKind;
  /** Where the call is: the handler itself or a helper it reaches, or the write path's member. */
  readonly store: string;
  readonly method: string;
  readonly keyArity: number | null;
  readonly location: SourceLocation;
}

/** How a covered pair is covered. */
export interface Route {
  /**
   * `stream`: the write allocates a token on `stream` and a handler of it in the app invalidates
   * the cache; `caches-stream`: the write path records `invalidateCacheAndStream` (every process
   * applies it); `after-commit`: the writer's own write path invalidates its cache locally
   * (writer apps only); `self`: the cached read performs the write itself (get-or-create).
   */
  readonly kind: 'stream' | 'caches-stream' | 'after-commit' | 'self';
  readonly stream: string | null;
  readonly handler: MethodRef | null;
  readonly invalidation: InvalidationRef | null;
}

export type MissingKind =
  | 'duplicate-cache'
  | 'no-stream'
  | 'no-handler'
  | 'handler-does-not-invalidate'
  | 'key-mismatch'
  | 'before-commit'
  | 'unresolved';

export interface MissingLink {
  readonly kind: MissingKind;
  /** One sentence naming the missing link. */
  readonly text: string;
  /** Where the missing link shows (the stream, the handler, the invalidation, the unresolved fact). */
  readonly location: SourceLocation | null;
  /** The store-lint finding that reports this pair; null for `unresolved` (see `analysis-unresolved`). */
  readonly finding: { readonly ruleId: string; readonly location: SourceLocation } | null;
  /** Set when an inline `store-lint-disable-next-line` comment suppresses that finding. */
  readonly suppressed: { readonly reason: string | null; readonly location: SourceLocation } | null;
}

export interface PairCoverage {
  /** Stable id, usable as an anchor: `app|cache|table|writer id`. */
  readonly id: string;
  readonly writer: WriterRef;
  readonly status: PairStatus;
  /** Uncovered, but its finding is suppressed inline: counted as covered and as skipped. */
  readonly skipped: boolean;
  /** Every route that covers it (empty unless covered). */
  readonly routes: readonly Route[];
  readonly missing: MissingLink | null;
  /** Streams the write allocates a token on. */
  readonly streams: readonly string[];
  readonly chain: readonly Fact[];
}

export interface CacheTableCoverage {
  /** A table the cache reads; `UNNAMED_TABLE` (last) for the pairs no named table connects. */
  readonly table: string;
  /** Where the cache (or what it calls) reads the table. */
  readonly location: SourceLocation;
  /** One pair per write path that writes the table, sorted by writer id. */
  readonly writes: readonly PairCoverage[];
}

export interface CacheCoverage {
  /** The cache's name: its `@cached()` method's name. */
  readonly name: string;
  /** The store (class name) whose method it is. */
  readonly store: string;
  readonly location: SourceLocation;
  readonly keyArity: number;
  /** `@cachedList()` fronts that fill it. */
  readonly fronts: readonly string[];
  readonly status: CacheStatus;
  readonly invalidations: Counts;
  /** Every stream involved: allocated by its writes or on a covering route. */
  readonly streams: readonly string[];
  readonly tables: readonly CacheTableCoverage[];
}

export interface AppCoverage {
  readonly name: string;
  readonly role: 'writer' | 'worker';
  readonly composition: string;
  /** Mixins the composition names that the model has no store for: every pair is unknown. */
  readonly unknownMixins: readonly string[];
  readonly metrics: Metrics;
  /** Sorted by store, then name. */
  readonly caches: readonly CacheCoverage[];
}

export interface HandlerCoverage {
  readonly store: string;
  readonly method: string;
  /** Null for the runtime's own handler. */
  readonly location: SourceLocation | null;
  /** Caches it invalidates, directly or through helpers it calls. */
  readonly invalidates: readonly string[];
  /** It (or a helper) holds something unresolved: it may invalidate more. */
  readonly uncertain: boolean;
  /** True for the runtime's own application of `caches` stream rows. */
  readonly runtime: boolean;
}

export interface StreamCoverage {
  readonly name: string;
  /** The exported const (`ReceiptsStream`); `CachesStream` for the runtime's caches stream. */
  readonly variable: string;
  readonly kind: 'database' | 'memory' | 'caches';
  readonly tables: readonly string[];
  readonly location: SourceLocation | null;
  /** Methods that allocate on it (for `caches`: that record caches-stream invalidations), in writer apps. */
  readonly writers: readonly (MethodRef & { readonly apps: readonly string[] })[];
  /** A writer composition holds a generator for it or allocates on it (what `stream-without-handler` checks). */
  readonly announced: boolean;
  /** Per app (every role: the writer applies its own rows), the handlers that run for it. */
  readonly handlers: readonly {
    readonly app: string;
    readonly role: 'writer' | 'worker';
    readonly handlers: readonly HandlerCoverage[];
  }[];
  /** Worker apps with a handler for it. */
  readonly followedBy: readonly string[];
  /** Pairs covered through it, over all apps. */
  readonly coveredPairs: number;
}

export interface TableCoverage {
  readonly name: string;
  readonly inSchema: boolean;
  /** Methods whose reads (through calls too) include the table, with the apps that run them. */
  readonly readers: readonly (MethodRef & {
    readonly cached: 'cached' | 'cachedList' | null;
    readonly apps: readonly string[];
  })[];
  /** Write paths that write it, with the apps that run them. */
  readonly writers: readonly (MethodRef & { readonly apps: readonly string[] })[];
  /** Streams that announce its writes. */
  readonly streams: readonly string[];
}

/**
 * A store's identity. Class names are not unique (two files may each hold a
 * `TagsWorkerStore`), so stores are kept apart by file, as `file#Name`.
 */
export function storeId(file: string, name: string): string {
  return `${file}#${name}`;
}

export interface StoreCoverage {
  /** Class name (not unique: `storeId` tells two apart). */
  readonly name: string;
  readonly file: string;
  /** Over the pairs of the caches this store defines, in every app. */
  readonly metrics: Metrics;
}

export interface CoverageModel {
  readonly version: typeof COVERAGE_VERSION;
  readonly totals: Metrics;
  readonly apps: readonly AppCoverage[];
  readonly streams: readonly StreamCoverage[];
  /** Streams no worker app follows (the runtime's `caches` stream never is one). */
  readonly unfollowedStreams: readonly string[];
  readonly tables: readonly TableCoverage[];
  /** Stores that define cached reads, sorted by name, then file. */
  readonly stores: readonly StoreCoverage[];
}
