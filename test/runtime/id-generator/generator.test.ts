import { sql } from 'kysely';
import { afterEach, expect, it, vi } from 'vitest';
import type { DatabaseHandle } from '../../../src/runtime/database.js';
import {
  createStreamIdGenerator,
  sequenceName,
  toStreamId,
  type StreamIdGenerator,
  type StreamIdGeneratorOptions,
} from '../../../src/runtime/id-generator/index.js';
import { persistPosition, readPositions } from '../../../src/runtime/id-generator/persistence.js';
import { describeEachDatabase } from '../../support/databases.js';
import { deferred, tick } from './deferred.js';

interface DB {
  things: { id: number; note: string };
}

const open: StreamIdGenerator[] = [];

/**
 * Inside the suite, so that it runs before the harness closes the database.
 * close() waits for every allocation to finish, so a leaked ID fails here.
 */
function closeGeneratorsAfterEach(): void {
  afterEach(async () => {
    for (const generator of open.splice(0)) {
      let timer: NodeJS.Timeout | undefined;
      const leaked = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('close() did not return: an ID was never finished')),
          3000,
        );
      });
      try {
        await Promise.race([generator.close(), leaked]);
      } finally {
        clearTimeout(timer);
      }
    }
  });
}

async function loaded<DB>(
  db: DatabaseHandle<DB>,
  options: Partial<StreamIdGeneratorOptions> = {},
): Promise<StreamIdGenerator> {
  const generator = createStreamIdGenerator(db, {
    stream: 'things',
    instanceName: 'main',
    ...options,
  });
  await generator.load();
  open.push(generator);
  return generator;
}

/** An allocation body that writes nothing. */
const nothing = (): Promise<void> => Promise.resolve();
const echo = <T>(value: T): Promise<T> => Promise.resolve(value);

async function createThings(db: DatabaseHandle<DB>): Promise<void> {
  await sql`CREATE TABLE things (id bigint PRIMARY KEY, note text NOT NULL)`.execute(db);
}

it('validates stream names and normalises IDs', () => {
  expect(sequenceName('receipts_2')).toBe('storesplit_seq_receipts_2');
  for (const bad of ['', 'Receipts', '2x', 'a-b', 'a;drop', 'x'.repeat(49)]) {
    expect(() => sequenceName(bad)).toThrow(/invalid stream name/);
  }
  expect(toStreamId('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  expect(toStreamId(5n)).toBe(5);
  expect(() => toStreamId('9007199254740993')).toThrow(/safe/);
  expect(() => toStreamId('1.5')).toThrow(/not a stream ID/);
});

describeEachDatabase('stream ID generator', (backend) => {
  closeGeneratorsAfterEach();

  it('hands out increasing numeric IDs and advances the current token when they finish', async () => {
    const db = await backend.open();
    const gen = await loaded(db);
    expect(gen.currentToken()).toBe(0);
    const events: number[] = [];
    gen.onAdvance((t) => events.push(t));
    const id = await gen.withNextId(echo);
    expect(id).toBe(1);
    expect(typeof id).toBe('number');
    expect(gen.currentToken()).toBe(1);
    const ids = await gen.withNextIds(3, echo);
    expect(ids).toEqual([2, 3, 4]);
    expect(gen.currentToken()).toBe(4);
    expect(gen.positions()).toEqual({ main: 4 });
    expect(events).toEqual([1, 4]);
    expect(await gen.maxAllocatedToken()).toBe(4);
  });

  it('allocates n IDs in one round trip', async () => {
    const db = await backend.open();
    const gen = await loaded(db);
    const executor = db.getExecutor();
    const spy = vi.spyOn(executor, 'executeQuery');
    const ids = await gen.withNextIds(50, (ids) => {
      expect(spy.mock.calls.map(([query]) => query.sql)).toEqual([
        expect.stringMatching(/nextval\(.*generate_series/s),
      ]);
      return Promise.resolve(ids);
    });
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
    spy.mockRestore();
  });

  it('never passes an ID still in flight: IDs finishing out of order', async () => {
    const db = await backend.open();
    const gen = await loaded(db);
    const first = deferred();
    const second = deferred();
    const started: number[] = [];
    const a = gen.withNextId(async (id) => (started.push(id), await first.promise, id));
    const b = gen.withNextId(async (id) => (started.push(id), await second.promise, id));
    await vi.waitFor(() => expect(started).toHaveLength(2));
    second.resolve();
    expect(await b).toBe(2);
    expect(gen.currentToken()).toBe(0);
    first.resolve();
    expect(await a).toBe(1);
    expect(gen.currentToken()).toBe(2);
  });

  it('finishes the ID when fn throws: a gap the token passes', async () => {
    const db = await backend.open();
    const gen = await loaded(db);
    await expect(gen.withNextId(() => Promise.reject(new Error('write failed')))).rejects.toThrow(
      'write failed',
    );
    expect(gen.currentToken()).toBe(1);
    expect(await gen.withNextId(echo)).toBe(2);
    expect(gen.currentToken()).toBe(2);
  });

  it('runs onCommitted after fn and before the IDs finish, and finishes them if it throws', async () => {
    const db = await backend.open();
    let failNext = false;
    const seen: Array<{ ids: readonly number[]; token: number }> = [];
    const background: unknown[] = [];
    const gen = createStreamIdGenerator(db, {
      stream: 'things',
      instanceName: 'main',
      onCommitted: (ids) => {
        seen.push({ ids, token: gen.currentToken() });
        if (failNext) throw new Error('applying own rows failed');
      },
      onBackgroundError: (error) => background.push(error),
    });
    await gen.load();
    open.push(gen);
    await gen.withNextIds(2, nothing);
    expect(seen).toEqual([{ ids: [1, 2], token: 0 }]);
    expect(gen.currentToken()).toBe(2);
    // Also after a failed fn, which may have committed before it threw
    // (a callAfter that threw): the caller still gets fn's error.
    await expect(gen.withNextId(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(seen).toEqual([
      { ids: [1, 2], token: 0 },
      { ids: [3], token: 2 },
    ]);
    failNext = true;
    await expect(gen.withNextId(nothing)).rejects.toThrow('applying own rows failed');
    expect(gen.currentToken()).toBe(4);
    // Both failed: fn's error for the caller, the other one reported.
    await expect(gen.withNextId(() => Promise.reject(new Error('write failed')))).rejects.toThrow(
      'write failed',
    );
    expect(background).toEqual([new Error('applying own rows failed')]);
    expect(gen.currentToken()).toBe(5);
  });

  it('allocates nothing when the signal is already aborted', async () => {
    const db = await backend.open();
    const gen = await loaded(db);
    const reason = new Error('request cancelled');
    const fn = vi.fn(nothing);
    await expect(gen.withNextId(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    expect(await gen.maxAllocatedToken()).toBe(0);
  });

  it('an abort while the sequence is asked finishes the ID without running fn', async () => {
    const db = await backend.open();
    const gen = await loaded(db);
    const controller = new AbortController();
    const fn = vi.fn(nothing);
    const result = gen.withNextId(fn, { signal: controller.signal });
    controller.abort(new Error('gone'));
    await expect(result).rejects.toThrow('gone');
    expect(fn).not.toHaveBeenCalled();
    expect(gen.currentToken()).toBe(1);
    await gen.close();
  });

  it('an abort after allocation keeps the ID in flight until fn settles (its transaction may commit)', async () => {
    const db = await backend.open<DB>();
    await createThings(db);
    const gen = await loaded(db);
    const controller = new AbortController();
    const inTxn = deferred();
    const release = deferred();
    const result = gen.withNextId(
      (id) =>
        db.runInteraction('insert thing', async (txn) => {
          await txn.insertInto('things').values({ id, note: 'late' }).execute();
          inTxn.resolve();
          await release.promise; // fn ignores the signal: its commit is still coming
          return id;
        }),
      { signal: controller.signal },
    );
    await inTxn.promise;
    controller.abort(new Error('client went away'));
    await tick();
    expect(gen.currentToken()).toBe(0);
    release.resolve();
    expect(await result).toBe(1);
    expect(gen.currentToken()).toBe(1);
    const rows = await db.selectFrom('things').select('note').execute();
    expect(rows).toEqual([{ note: 'late' }]);
  });

  it('nextIdInTxn: in flight until commit, finished after it; a rolled-back ID finishes too', async () => {
    const db = await backend.open<DB>();
    await createThings(db);
    const gen = await loaded(db);
    const committed = await db.runInteraction('insert', async (txn) => {
      const id = await gen.nextIdInTxn(txn);
      await txn.insertInto('things').values({ id, note: 'kept' }).execute();
      expect(gen.currentToken()).toBe(0);
      return id;
    });
    expect(committed).toBe(1);
    expect(gen.currentToken()).toBe(1);
    let rolledBack = 0;
    await expect(
      db.runInteraction('insert then fail', async (txn) => {
        rolledBack = await gen.nextIdInTxn(txn);
        await txn.insertInto('things').values({ id: rolledBack, note: 'lost' }).execute();
        throw new Error('constraint check failed');
      }),
    ).rejects.toThrow('constraint check failed');
    expect(rolledBack).toBe(2);
    expect(gen.currentToken()).toBe(2);
    expect(await db.selectFrom('things').select('note').execute()).toEqual([{ note: 'kept' }]);
    await gen.close(); // would hang if an ID had leaked
  });

  // An attempt that is rolled back and retried must release the ID it took,
  // or that ID pins the token for good (#19800).
  it('nextIdInTxn: an ID allocated by a retried attempt finishes too', async () => {
    const db = await backend.open<DB>();
    await createThings(db);
    const gen = createStreamIdGenerator(db, { stream: 'things', instanceName: 'main' });
    await gen.load();
    let attempts = 0;
    const id = await db.runInteraction('retried insert', async (txn) => {
      const id = await gen.nextIdInTxn(txn);
      await txn.insertInto('things').values({ id, note: 'x' }).execute();
      if (++attempts === 1)
        throw Object.assign(new Error('serialization failure'), { code: '40001' });
      return id;
    });
    expect(id).toBe(2);
    expect(gen.currentToken()).toBe(2);
    await gen.close(); // would hang if the first attempt's ID had leaked
  });

  it('refuses to allocate on an instance that is not a writer, and such an instance never writes', async () => {
    const db = await backend.open();
    const worker = await loaded(db, { instanceName: 'worker1', writers: ['main'] });
    const fn = vi.fn(nothing);
    await expect(worker.withNextId(fn)).rejects.toThrow(
      'instance worker1 is not a writer of stream things',
    );
    await expect(worker.withNextIds(2, fn)).rejects.toThrow(/not a writer/);
    await expect(db.runInteraction('t', (txn) => worker.nextIdInTxn(txn))).rejects.toThrow(
      /not a writer/,
    );
    expect(fn).not.toHaveBeenCalled();
    const { rows } = await sql<{
      r: unknown;
    }>`SELECT to_regclass('storesplit_seq_things') AS r`.execute(db);
    expect(rows[0]!.r).toBeNull();
    expect(await readPositions(db, 'things')).toEqual({});
    expect(worker.currentToken()).toBe(0);
    expect(await worker.maxAllocatedToken()).toBe(0);
  });

  it('a worker follows the writer through advance', async () => {
    const db = await backend.open();
    const main = await loaded(db);
    await main.withNextIds(3, nothing);
    await main.flush();
    const worker = await loaded(db, { instanceName: 'worker1', writers: ['main'] });
    expect(worker.currentToken()).toBe(3);
    const events: number[] = [];
    worker.onAdvance((t) => events.push(t));
    main.onPersisted((p) => worker.advance('main', p));
    await main.withNextId(nothing);
    await main.flush();
    expect(worker.currentToken()).toBe(4);
    expect(events).toEqual([4]);
  });

  it('persists finished positions forward-only and restarts from the sequence: never backwards (#17274)', async () => {
    const db = await backend.open();
    const first = await loaded(db);
    await first.withNextIds(2, nothing);
    await expect(
      first.withNextId(() => Promise.reject(new Error('write failed'))),
    ).rejects.toThrow();
    await first.flush();
    expect(await readPositions(db, 'things')).toEqual({ main: 3 });
    const published = first.currentToken();
    // A stale writer (or a lower value) cannot move the row back.
    await persistPosition(db, 'things', 'main', 1);
    expect(await readPositions(db, 'things')).toEqual({ main: 3 });
    // The process dies with ID 4 in flight: the sequence handed it out, its
    // write never commits, and its persisted position stays at 3. Its session
    // ends with it, and the writer lock with the session; in one process that
    // is close(), after which the dead run's allocation is replayed on the
    // sequence, leaving the database as the crash would.
    open.splice(open.indexOf(first), 1);
    await first.close();
    await sql`SELECT nextval('storesplit_seq_things')`.execute(db);
    expect(await readPositions(db, 'things')).toEqual({ main: 3 });

    const second = await loaded(db);
    expect(second.currentToken()).toBeGreaterThanOrEqual(published);
    expect(second.currentToken()).toBe(4); // the sequence's last value: nothing of ours in flight
    expect(await readPositions(db, 'things')).toEqual({ main: 4 });
    expect(await second.withNextId(echo)).toBe(5);
  });

  it('refuses to start when the sequence is behind a persisted position', async () => {
    const db = await backend.open();
    const gen = await loaded(db);
    await gen.withNextIds(5, nothing);
    open.splice(open.indexOf(gen), 1);
    await gen.close(); // stopped, then the database restored with an older sequence
    await sql`SELECT setval('storesplit_seq_things', 2)`.execute(db);
    const again = createStreamIdGenerator(db, { stream: 'things', instanceName: 'main' });
    await expect(again.load()).rejects.toThrow(
      /sequence storesplit_seq_things is at 2 .* persisted position 5/,
    );
  });

  it('refuses to reload while IDs are in flight, and a reload never moves back', async () => {
    const db = await backend.open();
    const gen = await loaded(db, { writers: ['main', 'other'] });
    await persistPosition(db, 'things', 'other', 2); // other's row lags what replication says
    await gen.withNextIds(6, nothing);
    gen.advance('other', 5);
    expect(gen.currentToken()).toBe(5);
    const release = deferred();
    const pending = gen.withNextId(() => release.promise);
    await expect(gen.load()).rejects.toThrow(/in flight/);
    release.resolve();
    await pending;
    await gen.flush();
    await gen.load();
    expect(gen.currentTokenFor('other')).toBe(5);
    expect(gen.currentTokenFor('main')).toBe(7);
    expect(gen.currentToken()).toBe(5);
  });

  it('two writers share the database and never pass each other’s in-flight IDs (#16473)', async () => {
    const db = await backend.open();
    const writers = ['a', 'b'];
    const a = await loaded(db, { instanceName: 'a', writers });
    // b has not started yet: a's token waits for it, at a safe place.
    await a.withNextIds(2, nothing);
    expect(a.currentTokenFor('a')).toBe(2);
    expect(a.currentToken()).toBe(0);
    const b = await loaded(db, { instanceName: 'b', writers });
    // Replication: each announces its persisted position, on connect and whenever it moves.
    a.onPersisted((p) => b.advance('a', p));
    b.onPersisted((p) => a.advance('b', p));
    await Promise.all([a.flush(), b.flush()]);
    b.advance('a', a.persistedPosition());
    a.advance('b', b.persistedPosition());
    // b has no rows of its own and is idle: it does not hold a back.
    expect(b.currentToken()).toBe(2);
    await vi.waitFor(() => expect(a.currentToken()).toBe(2));

    // b's first ID is in flight: nobody's token passes it, however far a gets.
    const release = deferred();
    let bId = 0;
    const bWrite = b.withNextId(async (id) => {
      bId = id;
      await release.promise;
    });
    await vi.waitFor(() => expect(bId).toBe(3));
    await a.withNextIds(3, nothing);
    await Promise.all([a.flush(), b.flush()]);
    await tick();
    expect(a.currentTokenFor('a')).toBe(6);
    expect(a.currentToken()).toBe(2);
    expect(b.currentToken()).toBe(2);
    release.resolve();
    await bWrite;
    await vi.waitFor(async () => {
      await Promise.all([a.flush(), b.flush()]);
      expect([a.currentToken(), b.currentToken()]).toEqual([6, 6]);
    });
    expect(await readPositions(db, 'things')).toEqual({ a: 6, b: 6 });
  });

  it('loads concurrently without tripping over the sequence creation', async () => {
    const db = await backend.open();
    const gens = ['a', 'b', 'c'].map((name) =>
      createStreamIdGenerator(db, {
        stream: 'things',
        instanceName: name,
        writers: ['a', 'b', 'c'],
      }),
    );
    await Promise.all(gens.map((g) => g.load()));
    open.push(...gens);
    expect(await readPositions(db, 'things')).toEqual({ a: 0, b: 0, c: 0 });
  });

  it('concurrent writes: every announced token covers only finished IDs', async () => {
    const db = await backend.open<DB>();
    await createThings(db);
    const gen = await loaded(db);
    const inFlight = new Set<number>();
    const violations: string[] = [];
    gen.onAdvance((token) => {
      for (const id of inFlight) if (id <= token) violations.push(`token ${token} passed ${id}`);
    });
    const writes = Array.from({ length: 40 }, (_, i) =>
      gen.withNextId(async (id) => {
        inFlight.add(id);
        try {
          await db.runInteraction('insert thing', async (txn) => {
            await new Promise((resolve) => setTimeout(resolve, (i * 7) % 11));
            await txn
              .insertInto('things')
              .values({ id, note: `n${i}` })
              .execute();
            if (i % 5 === 0) throw new Error('rolled back');
          });
        } finally {
          inFlight.delete(id);
        }
        return id;
      }),
    );
    const results = await Promise.allSettled(writes);
    expect(violations).toEqual([]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(8);
    expect(gen.currentToken()).toBe(40);
    const ids = (await db.selectFrom('things').select('id').execute()).map((r) => toStreamId(r.id));
    expect(ids).toHaveLength(32);
  });

  it('close waits for allocations in flight, persists, and refuses new ones', async () => {
    const db = await backend.open();
    const gen = await loaded(db);
    const release = deferred();
    let started = false;
    const pending = gen.withNextId(async (id) => ((started = true), await release.promise, id));
    await vi.waitFor(() => expect(started).toBe(true));
    let closed = false;
    const closing = gen.close().then(() => (closed = true));
    await expect(gen.withNextId(nothing)).rejects.toThrow(/closed/);
    await tick();
    expect(closed).toBe(false);
    release.resolve();
    await pending;
    await closing;
    expect(await readPositions(db, 'things')).toEqual({ main: 1 });
  });

  it('onAdvance unsubscribes, and a throwing listener neither stops the others nor leaks the ID', async () => {
    const db = await backend.open();
    const errors: unknown[] = [];
    const gen = await loaded(db, { onBackgroundError: (e) => errors.push(e) });
    const seen: number[] = [];
    gen.onAdvance(() => {
      throw new Error('listener bug');
    });
    const off = gen.onAdvance((t) => seen.push(t));
    await gen.withNextId(nothing);
    off();
    await gen.withNextId(nothing);
    expect(seen).toEqual([1]);
    expect(errors).toHaveLength(2);
    expect(gen.currentToken()).toBe(2);
  });

  it('retries a failed position write and flush reports the failure', async () => {
    const db = await backend.open();
    const errors: unknown[] = [];
    const gen = await loaded(db, { onBackgroundError: (e) => errors.push(e), persistRetryMs: 20 });
    const executor = db.getExecutor();
    const real = executor.executeQuery.bind(executor);
    let failures = 2;
    const spy = vi.spyOn(executor, 'executeQuery').mockImplementation((query, ...rest) => {
      if (failures > 0 && /storesplit_stream_positions/.test(query.sql)) {
        failures--;
        return Promise.reject(new Error('connection reset'));
      }
      return real(query, ...rest);
    });
    await gen.withNextId(nothing);
    await expect(gen.flush()).rejects.toThrow('connection reset');
    await vi.waitFor(() => expect(gen.persistedPosition()).toBe(1));
    await gen.flush();
    spy.mockRestore();
    expect(errors).toHaveLength(2);
    expect(await readPositions(db, 'things')).toEqual({ main: 1 });
  });
});
