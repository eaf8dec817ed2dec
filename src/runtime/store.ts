// The base of every store composition. `SQLBaseStore(dbConn, hs)` holds the
// only real constructor (mixins declare none, so every composition is
// constructible the same way), gives mixins typed cache invalidation, stream
// ID generators that apply the writer's own rows before a write returns, the
// caches stream, and replication positions. `openStore` builds a composition
// and runs each mixin's `prepare()` once, base first.
import { sql } from 'kysely';
import {
  cacheDescriptorOf,
  cachesOf,
  invalidateCached,
  invalidateCachedAll,
  invalidateCachedPrefix,
  type CacheKeyOf,
  type CacheStats,
  type CacheKeyPrefixOf,
  type CachedFunction,
} from './cache/index.js';
import { CachesStream, encodeStreamKeys, type CacheInvalidationRow } from './caches-stream.js';
import { groupByToken } from './catch-up.js';
import type { DatabaseHandle, Txn } from './database.js';
import { createStreamIdGenerator, type StreamIdGenerator } from './id-generator/index.js';
import { MemoryStreamSource } from './memory-stream.js';
import {
  applyStreamBatch,
  onReplication,
  ReplicationHandlerError,
  streamsFollowedBy,
  throwHandlerFailures,
} from './replication-handlers.js';
import { writersOf, type ServerContext } from './server-context.js';
import { StreamPositions, StreamPositionTimeoutError } from './stream-positions.js';
import type { DatabaseStreamDefinition, MemoryStreamDefinition } from './stream.js';

/** Rows the writer reads back per page when applying its own writes. */
const OWN_ROWS_PAGE = 1000;

/**
 * A write committed, but the writer could not apply it to its own caches:
 * reading its rows back failed, or an `@onReplication` handler threw. Every
 * cache of the store was dropped instead, so none is stale. `committed` is
 * true: do not repeat the write. `cause` is the failure.
 */
export class OwnWriteNotAppliedError extends Error {
  override name = 'OwnWriteNotAppliedError';
  readonly committed = true;
  constructor(
    readonly stream: string,
    readonly ids: readonly number[],
    cause: unknown,
  ) {
    super(
      `stream ${stream}: the write committed, but applying it to the writer's own caches failed ` +
        `(every cache of the store was dropped instead): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** The runtime's start-up hook on a store (exported so mixin declarations can name it). */
export const startUp: unique symbol = Symbol('storesplit.startUp');

/**
 * The constructor type a store mixin accepts as its base:
 * `export function FooWorkerStore<B extends StoreBase<MyDB>>(Base: B) { … }`.
 */
// Mixin constructors must take `...args: any[]` (TypeScript's mixin rule).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StoreBase<DB = unknown> = abstract new (...args: any[]) => SQLBaseStore<DB>;

export class SQLBaseStore<DB = unknown> {
  /** How far this process has applied each stream it follows (per writer instance). */
  readonly streamPositions = new StreamPositions();
  readonly #generators = new Map<string, StreamIdGenerator>();
  readonly #memorySources = new Map<string, MemoryStreamSource<unknown>>();
  readonly #cachesIdGen: StreamIdGenerator | undefined;

  constructor(
    readonly dbConn: DatabaseHandle<DB>,
    readonly hs: ServerContext,
  ) {
    // Any writer may record cache invalidations; workers never write.
    this.#cachesIdGen = hs.role === 'writer' ? this.streamIdGenerator(CachesStream) : undefined;
  }

  /**
   * Async start-up of a mixin (load state, prefill caches). `openStore` calls
   * each class's own `prepare` once, base first; do not call `super.prepare()`.
   */
  async prepare(): Promise<void> {}

  /**
   * The ID generator for a stream this store writes, to hold in a field:
   * `readonly receiptsIdGen = this.streamIdGenerator(ReceiptsStream);`.
   * After a write's transaction commits and before `withNextId` returns, the
   * rows written at its IDs are read back with the stream's `getUpdates` and
   * this composition's `@onReplication` handlers run on them, so the writer
   * invalidates with the same code as every worker and reads its own writes.
   */
  streamIdGenerator<Row>(stream: DatabaseStreamDefinition<Row>): StreamIdGenerator {
    if (this.#generators.has(stream.name)) {
      throw new Error(
        `${this.constructor.name} creates two ID generators for stream ${stream.name}`,
      );
    }
    this.hs.streams.register(stream);
    const generator = createStreamIdGenerator(this.#untypedDb(), {
      stream: stream.name,
      instanceName: this.hs.instanceName,
      writers: writersOf(this.hs, stream.name),
      onCommitted: (ids) => this.#applyOwnRows(stream, ids),
    });
    this.#generators.set(stream.name, generator);
    return generator;
  }

  /**
   * The writer side of an in-memory stream: `append(rows)` gives the rows a
   * token, runs this composition's handlers on them and wakes replication.
   */
  memoryStream<Row>(stream: MemoryStreamDefinition<Row>): MemoryStreamSource<Row> {
    if (this.#memorySources.has(stream.name)) {
      throw new Error(
        `${this.constructor.name} creates two sources for memory stream ${stream.name}`,
      );
    }
    this.hs.streams.register(stream);
    const source = new MemoryStreamSource<Row>(stream, (token, rows) =>
      applyStreamBatch(this, stream, this.hs.instanceName, token, rows, this.streamPositions),
    );
    this.#memorySources.set(stream.name, source as MemoryStreamSource<unknown>);
    return source;
  }

  /** The generators this store owns, by stream name (for the replication server). */
  idGenerators(): ReadonlyMap<string, StreamIdGenerator> {
    return this.#generators;
  }

  /** The in-memory stream sources this store owns, by stream name. */
  memoryStreamSources(): ReadonlyMap<string, MemoryStreamSource<unknown>> {
    return this.#memorySources;
  }

  /**
   * The token this process has for `stream`/`instance`: the generator's for
   * a stream it writes, else how far replication has applied it.
   */
  streamToken(stream: string, instance: string): number {
    const generator = this.#generators.get(stream);
    if (generator) return generator.currentTokenFor(instance);
    const source = this.#memorySources.get(stream);
    if (source && instance === this.hs.instanceName) return source.currentToken();
    return this.streamPositions.get(stream, instance);
  }

  /** Resolves once this process has applied `stream`/`instance` up to `token`. */
  waitForStreamPosition(
    stream: string,
    instance: string,
    token: number,
    timeoutMs: number,
  ): Promise<void> {
    if (this.streamToken(stream, instance) >= token) return Promise.resolve();
    // A stream this process writes advances through its generator or memory
    // source, never through replicated positions.
    const local =
      this.#generators.get(stream) ??
      (instance === this.hs.instanceName ? this.#memorySources.get(stream) : undefined);
    if (!local) return this.streamPositions.waitFor(stream, instance, token, timeoutMs);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(
          new StreamPositionTimeoutError(
            `timed out after ${timeoutMs} ms waiting for ${stream}/${instance} to reach ${token} ` +
              `(at ${this.streamToken(stream, instance)})`,
          ),
        );
      }, timeoutMs);
      const unsubscribe = local.onAdvance(() => {
        if (this.streamToken(stream, instance) < token) return;
        clearTimeout(timer);
        unsubscribe();
        resolve();
      });
    });
  }

  /**
   * Applies one token's rows received over replication: every handler, then
   * the position, then the waiters. Rows at or below the applied position
   * and streams this process does not know are skipped (and counted).
   */
  processReplicationRows(
    streamName: string,
    instance: string,
    token: number,
    rows: readonly unknown[],
  ): boolean {
    const stream = this.hs.streams.get(streamName);
    if (!stream) {
      this.hs.metrics.inc('storesplit_replication_unknown_stream_total', { stream: streamName });
      return false;
    }
    if (token <= this.streamPositions.get(streamName, instance)) {
      this.hs.metrics.inc('storesplit_replication_stale_rows_total', { stream: streamName });
      return false;
    }
    applyStreamBatch(this, stream, instance, token, rows, this.streamPositions);
    this.hs.metrics.inc(
      'storesplit_replication_rows_applied_total',
      { stream: streamName },
      rows.length,
    );
    return true;
  }

  /** Hit, miss, eviction and invalidation counters of every cache of this store, by cache name. */
  cacheStats(): Record<string, CacheStats> {
    return cachesOf(this).stats();
  }

  /** Drops one cached entry: `this.invalidate(this.getReceiptsForRoom, roomId)`. */
  invalidate<F extends CachedFunction>(fn: F, ...key: CacheKeyOf<F>): void {
    invalidateCached(this, fn, ...key);
  }

  /** Drops every entry whose key starts with `prefix`. */
  invalidatePrefix<F extends CachedFunction>(fn: F, ...prefix: CacheKeyPrefixOf<F>): void {
    invalidateCachedPrefix(this, fn, ...prefix);
  }

  /** Drops every entry of a cache. */
  invalidateAll(fn: CachedFunction): void {
    invalidateCachedAll(this, fn);
  }

  /**
   * For a write no stream of its own announces: records the invalidation in
   * the `caches` stream inside `txn` and invalidates locally after commit.
   * Returns the caches-stream token, which a worker can wait for.
   */
  async invalidateCacheAndStream<F extends CachedFunction>(
    txn: Txn<DB>,
    fn: F,
    ...key: CacheKeyOf<F>
  ): Promise<number> {
    return this.#recordInvalidation(txn, fn, [key]);
  }

  /** `invalidateCacheAndStream` for several keys of one cache, in one stream row. */
  async invalidateCacheAndStreamBulk<F extends CachedFunction>(
    txn: Txn<DB>,
    fn: F,
    keys: readonly CacheKeyOf<F>[],
  ): Promise<number | undefined> {
    return keys.length ? this.#recordInvalidation(txn, fn, keys) : undefined;
  }

  /** Invalidates every entry of a cache on every process, through the `caches` stream. */
  async invalidateAllCacheAndStream(txn: Txn<DB>, fn: CachedFunction): Promise<number> {
    return this.#recordInvalidation(txn, fn, null);
  }

  /** Applies `caches` stream rows: by cache name; unknown names are counted and skipped (#4702). */
  @onReplication(CachesStream)
  applyCacheInvalidations(rows: readonly CacheInvalidationRow[]): void {
    const caches = cachesOf(this);
    for (const { cacheName, keys } of rows) {
      let known = true;
      if (keys === null) known = caches.invalidateByName(cacheName, null);
      else for (const key of keys) known = caches.invalidateByName(cacheName, key) && known;
      if (!known)
        this.hs.metrics.inc('storesplit_unknown_cache_invalidations_total', { cache: cacheName });
    }
  }

  /**
   * Closes the ID generators (persisting their positions and releasing
   * their writer locks). The database handle stays open. Every generator is
   * closed even when one fails: a generator left open would keep its stream's
   * writer lock, and no writer could start for that stream. A failure is
   * thrown once all are closed (several: as an `AggregateError`).
   */
  async close(): Promise<void> {
    const failures: unknown[] = [];
    for (const generator of this.#generators.values()) {
      try {
        await generator.close();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1)
      throw new AggregateError(failures, `${failures.length} ID generators failed to close`);
  }

  async #recordInvalidation(
    txn: Txn<DB>,
    fn: CachedFunction,
    keys: readonly (readonly unknown[])[] | null,
  ): Promise<number> {
    const descriptor = cacheDescriptorOf(fn);
    if (!descriptor) throw new TypeError('invalidateCacheAndStream needs a @cached method');
    const generator = this.#cachesIdGen;
    if (!generator) {
      throw new Error(
        `${this.hs.instanceName} is a worker: workers never write, so they cannot invalidate through the caches stream`,
      );
    }
    const name = descriptor.name;
    // Local invalidation after commit, registered before the stream ID so it
    // happens before the caches token advances.
    txn.callAfter(() => {
      if (keys === null) invalidateCachedAll(this, fn);
      else for (const key of keys) cachesOf(this).invalidateByName(name, key);
    });
    const streamId = await generator.nextIdInTxn(txn);
    await sql`INSERT INTO storesplit_cache_invalidations (stream_id, instance_name, cache_name, keys, invalidated_ts)
      VALUES (${streamId}, ${this.hs.instanceName}, ${name}, ${encodeStreamKeys(keys)}, ${this.hs.clock.now()})`.execute(
      txn,
    );
    return streamId;
  }

  async #applyOwnRows<Row>(
    stream: DatabaseStreamDefinition<Row>,
    ids: readonly number[],
  ): Promise<void> {
    if (!ids.length) return;
    const wanted = new Set(ids);
    // Loops, not Math.max(...ids): a batch can hold more IDs than a call takes arguments.
    let to = -Infinity;
    let from = Infinity;
    for (const id of ids) {
      to = Math.max(to, id);
      from = Math.min(from, id - 1);
    }
    // A handler that throws on one token must not leave the caches of the
    // next ones stale (#4702): every token is applied, then failures thrown.
    const failures: ReplicationHandlerError[] = [];
    try {
      for (;;) {
        const page = await stream.getPage(
          this.#untypedDb(),
          from,
          to,
          OWN_ROWS_PAGE,
          this.hs.instanceName,
        );
        for (const [token, rows] of groupByToken(page.updates)) {
          if (!wanted.has(token)) continue;
          try {
            applyStreamBatch(this, stream, this.hs.instanceName, token, rows);
          } catch (error) {
            if (!(error instanceof ReplicationHandlerError)) throw error;
            failures.push(error);
          }
        }
        if (!page.limited) break;
        from = page.upTo;
      }
      throwHandlerFailures(failures);
    } catch (error) {
      // The rows committed, but what they invalidate on this writer is not
      // known (unread, or a handler failed): every cache is dropped, which is
      // always safe, and the caller learns that the write happened.
      cachesOf(this).invalidateEverything();
      throw new OwnWriteNotAppliedError(stream.name, ids, error);
    }
  }

  /** The handle for runtime code that names its own tables (Kysely's DB type is invariant). */
  #untypedDb(): DatabaseHandle<unknown> {
    return this.dbConn as unknown as DatabaseHandle<unknown>;
  }

  /** Runs by `openStore` before any `prepare`: loads generators and registers followed streams. */
  async [startUp](): Promise<void> {
    for (const stream of streamsFollowedBy(this)) this.hs.streams.register(stream);
    for (const generator of this.#generators.values()) await generator.load();
  }
}

/** The database row type a store was built over. */
export type DatabaseOf<S> = S extends SQLBaseStore<infer DB> ? DB : never;

/**
 * Constructs a composition and starts it: loads its stream ID generators,
 * then runs each class's own `prepare()` once, from `SQLBaseStore` down to
 * the composition.
 */
export async function openStore<S extends SQLBaseStore<DatabaseOf<S>>>(
  Composition: new (dbConn: DatabaseHandle<DatabaseOf<S>>, hs: ServerContext) => S,
  dbConn: DatabaseHandle<DatabaseOf<S>>,
  hs: ServerContext,
): Promise<S> {
  const store = new Composition(dbConn, hs);
  await store[startUp]();
  const chain: object[] = [];
  for (
    let proto: object | null = Object.getPrototypeOf(store) as object;
    proto && proto !== Object.prototype;
  ) {
    chain.unshift(proto);
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  for (const proto of chain) {
    if (proto === SQLBaseStore.prototype || !Object.hasOwn(proto, 'prepare')) continue;
    const prepare = (proto as { prepare: () => Promise<void> | void }).prepare;
    await prepare.call(store);
  }
  return store;
}
