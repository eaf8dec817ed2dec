// Model-based test: random interleavings of lookups (whose underlying reads
// are settled by hand), resolutions, rejections, writes with invalidation by
// key / prefix / all, and silent writes, run against a decorated store and a
// reference model. The invariant under test is the one Synapse's DeferredCache
// exists for: no stale value survives an invalidation, neither in the cache
// nor in what later callers are given.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  cached,
  cachesOf,
  invalidateCached,
  invalidateCachedAll,
  invalidateCachedPrefix,
  type LookupCache,
} from '../../../src/runtime/cache/index.js';
import { deferred, flush, settleOf, type Deferred } from './helpers.js';

const ROOMS = ['r1', 'r2'] as const;
const SLOTS = [0, 1, 2] as const;
type Room = (typeof ROOMS)[number];
const keyOf = (room: Room, slot: number) => `${room}/${slot}`;
const ALL_KEYS = ROOMS.flatMap((room) => SLOTS.map((slot) => [room, slot] as const));

/** The "database": a version per key, only ever increasing. */
class Db {
  readonly version = new Map<string, number>(ALL_KEYS.map(([r, s]) => [keyOf(r, s), 0]));
  /** Underlying reads, each settled by hand with the version it read at its start. */
  readonly reads: { key: string; read: number; d: Deferred<number>; open: boolean }[] = [];

  get(room: Room, slot: number): number {
    return this.version.get(keyOf(room, slot))!;
  }

  bump(room: Room, slot: number): void {
    this.version.set(keyOf(room, slot), this.get(room, slot) + 1);
  }

  startRead(room: Room, slot: number): Promise<number> {
    const d = deferred<number>();
    this.reads.push({ key: keyOf(room, slot), read: this.get(room, slot), d, open: true });
    return d.promise;
  }
}

abstract class ModelStoreBase {
  constructor(readonly db: Db) {}
  abstract lookup(room: Room, slot: number): Promise<number>;
}

/** Large enough never to evict: the model can predict every call. */
class ExactStore extends ModelStoreBase {
  @cached()
  async lookup(room: Room, slot: number): Promise<number> {
    return this.db.startRead(room, slot);
  }
}

/** Evicts constantly: only the safety invariant is predictable. */
class TinyStore extends ModelStoreBase {
  @cached({ maxEntries: 2 })
  async lookup(room: Room, slot: number): Promise<number> {
    return this.db.startRead(room, slot);
  }
}

type Op =
  | { op: 'get'; room: Room; slot: number }
  | { op: 'resolve'; pick: number }
  | { op: 'reject'; pick: number }
  | { op: 'write'; room: Room; slot: number }
  | { op: 'writePrefix'; room: Room }
  | { op: 'writeAll' }
  | { op: 'silentWrite'; room: Room; slot: number }
  | { op: 'invalidate'; room: Room; slot: number };

const room = fc.constantFrom(...ROOMS);
const slot = fc.constantFrom(...SLOTS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('get' as const), room, slot }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('resolve' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reject' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('write' as const), room, slot }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('writePrefix' as const), room }) },
  { weight: 1, arbitrary: fc.constant({ op: 'writeAll' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('silentWrite' as const), room, slot }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidate' as const), room, slot }) },
);

/** The reference model of one cache: settled values and the current read in flight, per key. */
class Model {
  readonly settled = new Map<string, number>();
  /** Key -> index into db.reads of the read later callers would share. */
  readonly inFlight = new Map<string, number>();

  drop(key: string): void {
    this.settled.delete(key);
    this.inFlight.delete(key);
  }
}

async function run(ops: readonly Op[], exact: boolean): Promise<void> {
  const db = new Db();
  const store: ModelStoreBase = exact ? new ExactStore(db) : new TinyStore(db);
  const cache = cachesOf(store).get('lookup') as LookupCache<number>;
  const model = new Model();
  // Db version of each key at its last invalidation: nothing older may be served after it.
  const floor = new Map<string, number>(ALL_KEYS.map(([r, s]) => [keyOf(r, s), 0]));
  const gets: {
    key: string;
    floor: number;
    expected: number | undefined;
    result: ReturnType<typeof settleOf<number>>;
  }[] = [];

  const invalidated = (key: string) => {
    const [r, s] = key.split('/') as [Room, string];
    floor.set(key, db.get(r, Number(s)));
    model.drop(key);
  };

  const check = () => {
    for (const [r, s] of ALL_KEYS) {
      const key = keyOf(r, s);
      const entry = cache.peek([r, s]);
      if (entry !== undefined) {
        // Safety: the cached value is what the db held at or after the last invalidation.
        expect(entry.value).toBeGreaterThanOrEqual(floor.get(key)!);
        expect(entry.value).toBeLessThanOrEqual(db.get(r, s));
      }
      if (exact) {
        expect(entry?.value).toBe(model.settled.get(key));
        expect(cache.isInFlight([r, s])).toBe(model.inFlight.has(key));
      }
    }
    for (const g of gets) {
      const outcome = g.result.outcome();
      if (outcome?.ok === true) {
        expect(outcome.value).toBeGreaterThanOrEqual(g.floor);
        if (exact && g.expected !== undefined) expect(outcome.value).toBe(g.expected);
      }
    }
    const inFlight = ALL_KEYS.filter(([r, s]) => cache.isInFlight([r, s])).length;
    expect(cache.indexedKeyCount()).toBe(cache.size + inFlight);
  };

  for (const step of ops) {
    switch (step.op) {
      case 'get': {
        const key = keyOf(step.room, step.slot);
        const readsBefore = db.reads.length;
        const expected = model.settled.get(key);
        const shared = model.inFlight.get(key);
        const result = settleOf(store.lookup(step.room, step.slot));
        if (exact) {
          // A new read happens exactly when the key is neither cached nor in flight.
          const fresh = expected === undefined && shared === undefined;
          expect(db.reads.length).toBe(readsBefore + (fresh ? 1 : 0));
          if (fresh) model.inFlight.set(key, readsBefore);
        }
        const joined = model.inFlight.get(key);
        gets.push({
          key,
          floor: floor.get(key)!,
          expected: expected ?? (joined === undefined ? undefined : db.reads[joined]!.read),
          result,
        });
        break;
      }
      case 'resolve':
      case 'reject': {
        const open = db.reads.map((r, i) => [r, i] as const).filter(([r]) => r.open);
        if (open.length === 0) break;
        const [read, index] = open[step.pick % open.length]!;
        read.open = false;
        const current = model.inFlight.get(read.key) === index;
        if (step.op === 'resolve') {
          read.d.resolve(read.read);
          if (current) model.settled.set(read.key, read.read);
        } else {
          read.d.reject(new Error('read failed'));
        }
        if (current) model.inFlight.delete(read.key);
        break;
      }
      case 'write':
        db.bump(step.room, step.slot);
        invalidateCached(store, store.lookup, step.room, step.slot);
        invalidated(keyOf(step.room, step.slot));
        break;
      case 'writePrefix':
        for (const s of SLOTS) db.bump(step.room, s);
        invalidateCachedPrefix(store, store.lookup, step.room);
        for (const s of SLOTS) invalidated(keyOf(step.room, s));
        break;
      case 'writeAll':
        for (const [r, s] of ALL_KEYS) db.bump(r, s);
        invalidateCachedAll(store, store.lookup);
        for (const [r, s] of ALL_KEYS) invalidated(keyOf(r, s));
        break;
      case 'silentWrite':
        // A write nobody announced: staleness is allowed until the next invalidation.
        db.bump(step.room, step.slot);
        break;
      case 'invalidate':
        invalidateCached(store, store.lookup, step.room, step.slot);
        invalidated(keyOf(step.room, step.slot));
        break;
    }
    await flush();
    check();
  }

  // Settle every read still open: every caller gets an answer, and the checks still hold.
  for (const read of db.reads) {
    if (!read.open) continue;
    read.open = false;
    read.d.resolve(read.read);
    const index = db.reads.indexOf(read);
    if (model.inFlight.get(read.key) === index) {
      model.settled.set(read.key, read.read);
      model.inFlight.delete(read.key);
    }
  }
  await flush();
  check();
  for (const g of gets) expect(g.result.outcome()).toBeDefined();
}

describe('LookupCache model', () => {
  it('matches the reference model exactly when nothing is evicted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), (ops) => run(ops, true)),
      { numRuns: 300 },
    );
  });

  it('never keeps or serves a value older than the last invalidation, under eviction', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), (ops) => run(ops, false)),
      { numRuns: 300 },
    );
  });
});
