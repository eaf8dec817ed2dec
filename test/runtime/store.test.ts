// End to end on one database: a writer composition and a worker composition,
// wired by handing the writer's stream rows to the worker (no network).
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { catchUpStream } from '../../src/runtime/catch-up.js';
import { CachesStream } from '../../src/runtime/caches-stream.js';
import { cached } from '../../src/runtime/cache/index.js';
import { AfterCommitError, type DatabaseHandle } from '../../src/runtime/database.js';
import { onReplication, ReplicationHandlerError } from '../../src/runtime/replication-handlers.js';
import { createServerContext } from '../../src/runtime/server-context.js';
import {
  openStore,
  OwnWriteNotAppliedError,
  SQLBaseStore,
  type StoreBase,
} from '../../src/runtime/store.js';
import { defineStream } from '../../src/runtime/stream.js';
import { describeEachDatabase, type Backend } from '../support/databases.js';
import {
  createAppTables,
  MainDataStore,
  ReaderDataStore,
  ReceiptsStore,
  ReceiptsStream,
  TypingStream,
  type AppDB,
  type ReceiptRow,
} from '../support/receipts-app.js';

async function openPair(backend: Backend, db: DatabaseHandle<AppDB>) {
  await createAppTables(db);
  const writer = backend.track(
    await openStore(
      MainDataStore,
      db,
      createServerContext({ instanceName: 'main', role: 'writer' }),
    ),
  );
  const reader = backend.track(
    await openStore(
      ReaderDataStore,
      db,
      createServerContext({ instanceName: 'reader1', role: 'worker' }),
    ),
  );
  /** What the replication transport will do: bring the reader up to the writer's tokens. */
  const replicate = async () => {
    await catchUpStream(reader, ReceiptsStream, 'main', writer.receiptsIdGen.currentToken());
    const caches = writer.idGenerators().get('caches')!;
    await catchUpStream(reader, CachesStream, 'main', caches.currentToken());
  };
  return { writer, reader, replicate };
}

describeEachDatabase('stores', (backend) => {
  it('a write is invisible in the worker cache until its rows are applied, then visible', async () => {
    const { writer, reader, replicate } = await openPair(backend, await backend.open<AppDB>());
    expect(await reader.getReceiptsForRoom('!room')).toEqual({});
    const token = await writer.insertReceipt('!room', '@alice', '$e1');
    expect(token).toBeGreaterThan(0);
    // Still the cached (stale) value: nothing has been replicated.
    expect(await reader.getReceiptsForRoom('!room')).toEqual({});
    const waited = reader.waitForStreamPosition('receipts', 'main', token, 5_000);
    await replicate();
    await waited;
    expect(await reader.getReceiptsForRoom('!room')).toEqual({ '@alice': '$e1' });
    expect(reader.streamToken('receipts', 'main')).toBe(token);
  });

  it('the writer applies its own rows before a write returns, so it reads its own writes', async () => {
    const { writer } = await openPair(backend, await backend.open<AppDB>());
    expect(await writer.getReceiptsForRoom('!room')).toEqual({});
    await writer.insertReceipt('!room', '@alice', '$e1');
    expect(await writer.getReceiptsForRoom('!room')).toEqual({ '@alice': '$e1' });
    await writer.insertReceipt('!room', '@alice', '$e2');
    expect(await writer.getReceiptsForRoom('!room')).toEqual({ '@alice': '$e2' });
  });

  it('invalidateCacheAndStream invalidates on the writer after commit and on workers through the caches stream', async () => {
    const { writer, reader, replicate } = await openPair(backend, await backend.open<AppDB>());
    expect(await writer.getTagsForRoom('@alice', '!room')).toEqual([]);
    expect(await reader.getTagsForRoom('@alice', '!room')).toEqual([]);
    await writer.addTag('@alice', '!room', 'm.favourite');
    expect(await writer.getTagsForRoom('@alice', '!room')).toEqual(['m.favourite']);
    expect(await reader.getTagsForRoom('@alice', '!room')).toEqual([]);
    await replicate();
    expect(await reader.getTagsForRoom('@alice', '!room')).toEqual(['m.favourite']);
  });

  it('a rolled-back write neither invalidates nor records a caches row', async () => {
    const { writer } = await openPair(backend, await backend.open<AppDB>());
    let computed = 0;
    expect(await writer.getTagsForRoom('@a', '!r')).toEqual([]);
    await expect(
      writer.dbConn.runInteraction('fails', async (txn) => {
        await writer.invalidateCacheAndStream(txn, writer.getTagsForRoom, '@a', '!r');
        computed++;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(computed).toBe(1);
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM storesplit_cache_invalidations`.execute(writer.dbConn);
    expect(rows[0]!.n).toBe(0);
    // The caches stream still advances past the rolled-back ID.
    const caches = writer.idGenerators().get('caches')!;
    expect(caches.currentToken()).toBeGreaterThanOrEqual(1);
  });

  it('a caches row naming a cache the worker lacks is counted and skipped, and the rest still apply', async () => {
    const { reader } = await openPair(backend, await backend.open<AppDB>());
    await reader.getTagsForRoom('@a', '!r');
    expect(
      reader.processReplicationRows('caches', 'main', 1, [
        { cacheName: 'getNoSuchCache', keys: null },
        { cacheName: 'getTagsForRoom', keys: [['@a', '!r']] },
      ]),
    ).toBe(true);
    expect(
      reader.hs.metrics.get('storesplit_unknown_cache_invalidations_total', {
        cache: 'getNoSuchCache',
      }),
    ).toBe(1);
    expect(reader.streamPositions.get('caches', 'main')).toBe(1);
  });

  it('runs handlers before advancing the position, and wakes waiters after both', async () => {
    const { reader } = await openPair(backend, await backend.open<AppDB>());
    const seen: string[] = [];
    await reader.getReceiptsForRoom('!room');
    const queriesBefore = reader.receiptQueries;
    const waiter = reader.waitForStreamPosition('receipts', 'main', 3, 5_000).then(async () => {
      seen.push(`woken at ${reader.streamPositions.get('receipts', 'main')}`);
      // The cache was already invalidated when the waiter woke.
      await reader.getReceiptsForRoom('!room');
      seen.push(`queries ${reader.receiptQueries - queriesBefore}`);
    });
    const handlerPositions: number[] = [];
    // Observe the position from inside the handler through the invalidation it performs.
    const invalidate = reader.invalidate.bind(reader);
    reader.invalidate = ((fn: typeof reader.getReceiptsForRoom, ...key: [string]) => {
      handlerPositions.push(reader.streamPositions.get('receipts', 'main'));
      invalidate(fn, ...key);
    }) as typeof reader.invalidate;
    reader.processReplicationRows('receipts', 'main', 3, [
      { roomId: '!room', userId: '@a' } satisfies ReceiptRow,
    ]);
    await waiter;
    expect(handlerPositions).toEqual([0]);
    expect(seen).toEqual(['woken at 3', 'queries 1']);
  });

  it('drops replicated rows at or below the applied position and ignores unknown streams', async () => {
    const { reader } = await openPair(backend, await backend.open<AppDB>());
    expect(reader.processReplicationRows('receipts', 'main', 2, [])).toBe(true);
    expect(reader.processReplicationRows('receipts', 'main', 2, [])).toBe(false);
    expect(reader.processReplicationRows('receipts', 'main', 1, [])).toBe(false);
    expect(reader.processReplicationRows('no_such_stream', 'main', 1, [])).toBe(false);
    expect(
      reader.hs.metrics.get('storesplit_replication_unknown_stream_total', {
        stream: 'no_such_stream',
      }),
    ).toBe(1);
  });

  it('in-memory stream rows apply on the writer at once and reach workers through the source', async () => {
    const { writer, reader } = await openPair(backend, await backend.open<AppDB>());
    const token = writer.setTyping('!room', ['@alice']);
    expect(writer.typing.get('!room')).toEqual(['@alice']);
    const page = writer.typingSource.getPage(
      reader.streamPositions.get('typing', 'main'),
      token,
      100,
    );
    if ('historyLost' in page) throw new Error('history lost');
    for (const u of page.updates)
      reader.processReplicationRows(TypingStream.name, 'main', u.token, [u.row]);
    expect(reader.typing.get('!room')).toEqual(['@alice']);
  });

  it('a worker cannot allocate stream IDs, even with a writer mixin composed in', async () => {
    const db = await backend.open<AppDB>();
    await createAppTables(db);
    class MisconfiguredReader extends ReceiptsStore(SQLBaseStore<AppDB>) {}
    const store = await openStore(
      MisconfiguredReader,
      db,
      createServerContext({ instanceName: 'reader1', role: 'worker' }),
    );
    await expect(store.insertReceipt('!r', '@a', '$e')).rejects.toThrow(
      /reader1 is not a writer of stream receipts/,
    );
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM receipts`.execute(db);
    expect(rows[0]!.n).toBe(0);
  });

  it('reports every failing handler after running the others, and still advances the position', async () => {
    const db = await backend.open<AppDB>();
    await createAppTables(db);
    const ran: string[] = [];
    function Broken<B extends StoreBase<AppDB>>(Base: B) {
      abstract class Broken extends Base {
        @onReplication(ReceiptsStream)
        first(): void {
          ran.push('first');
          throw new Error('first failed');
        }
        @onReplication(ReceiptsStream)
        second(): void {
          ran.push('second');
        }
      }
      return Broken;
    }
    class Store extends Broken(SQLBaseStore<AppDB>) {}
    const store = await openStore(
      Store,
      db,
      createServerContext({ instanceName: 'w', role: 'worker' }),
    );
    expect(() => store.processReplicationRows('receipts', 'main', 1, [])).toThrow(
      ReplicationHandlerError,
    );
    expect(ran).toEqual(['first', 'second']);
    expect(store.streamPositions.get('receipts', 'main')).toBe(1);
  });

  it('a handler failing on one token of a write: the writer still applies the others', async () => {
    const db = await backend.open<AppDB>();
    await createAppTables(db);
    class Writer extends MainDataStore {
      @onReplication(ReceiptsStream)
      audit(rows: readonly ReceiptRow[]): void {
        if (rows.some((r) => r.roomId === '!bad')) throw new Error('audit failed');
      }
      insertTwo(): Promise<void> {
        return this.receiptsIdGen.withNextIds(2, async ([a, b]) => {
          await this.dbConn.runInteraction('insertTwo', (txn) =>
            txn
              .insertInto('receipts')
              .values([
                {
                  stream_id: a!,
                  instance_name: 'main',
                  room_id: '!bad',
                  user_id: '@u',
                  event_id: '$1',
                },
                {
                  stream_id: b!,
                  instance_name: 'main',
                  room_id: '!good',
                  user_id: '@u',
                  event_id: '$2',
                },
              ])
              .execute(),
          );
        });
      }
    }
    const writer = backend.track(
      await openStore(Writer, db, createServerContext({ instanceName: 'main', role: 'writer' })),
    );
    expect(await writer.getReceiptsForRoom('!good')).toEqual({});
    expect(await writer.getReceiptsForRoom('!bad')).toEqual({});
    const failure = await writer.insertTwo().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OwnWriteNotAppliedError);
    expect(failure).toMatchObject({ committed: true, stream: 'receipts', ids: [1, 2] });
    expect((failure as Error).message).toMatch(
      /handler\(s\) for stream receipts failed at token 1: audit failed/,
    );
    expect(await writer.getReceiptsForRoom('!good')).toEqual({ '@u': '$2' });
    // What the failed handler would have invalidated is not known: every cache was dropped.
    expect(await writer.getReceiptsForRoom('!bad')).toEqual({ '@u': '$1' });
    expect(writer.receiptsIdGen.currentToken()).toBe(2);
  });

  it('a write whose rows cannot be read back: the writer drops its caches and says the write committed', async () => {
    const db = await backend.open<AppDB>();
    await createAppTables(db);
    let readBackFails = false;
    // The receipts stream over a connection that drops while the writer reads its rows back.
    const FlakyStream = defineStream<ReceiptRow>({
      name: 'flaky_receipts',
      tables: ['receipts'],
      getUpdates: (handle, from, to, limit, instance) =>
        readBackFails
          ? Promise.reject(new Error('connection reset'))
          : ReceiptsStream.getUpdates(handle, from, to, limit, instance),
    });
    class Writer extends SQLBaseStore<AppDB> {
      readonly flakyIdGen = this.streamIdGenerator(FlakyStream);
      @cached()
      async usersIn(roomId: string): Promise<string[]> {
        const rows = await this.dbConn
          .selectFrom('receipts')
          .select('user_id')
          .where('room_id', '=', roomId)
          .orderBy('user_id')
          .execute();
        return rows.map((r) => r.user_id);
      }
      @onReplication(FlakyStream)
      onFlaky(rows: readonly ReceiptRow[]): void {
        for (const row of rows) this.invalidate(this.usersIn, row.roomId);
      }
      insert(userId: string): Promise<void> {
        return this.flakyIdGen.withNextId(async (streamId) => {
          await this.dbConn
            .insertInto('receipts')
            .values({
              stream_id: streamId,
              instance_name: 'main',
              room_id: '!r',
              user_id: userId,
              event_id: '$e',
            })
            .execute();
        });
      }
    }
    const writer = backend.track(
      await openStore(Writer, db, createServerContext({ instanceName: 'main', role: 'writer' })),
    );
    await writer.insert('@a');
    expect(await writer.usersIn('!r')).toEqual(['@a']);
    readBackFails = true;
    const failure = await writer.insert('@b').catch((e: unknown) => e);
    readBackFails = false;
    expect(failure).toBeInstanceOf(OwnWriteNotAppliedError);
    expect(failure).toMatchObject({ committed: true, stream: 'flaky_receipts', ids: [2] });
    expect((failure as Error).message).toContain('connection reset');
    // Not the value cached before the write: the writer reads its own write.
    expect(await writer.usersIn('!r')).toEqual(['@a', '@b']);
    expect(writer.flakyIdGen.currentToken()).toBe(2);
  });

  it('a callAfter failing after a write committed: the writer still applies its own rows', async () => {
    const db = await backend.open<AppDB>();
    await createAppTables(db);
    class Writer extends MainDataStore {
      insertWithHook(): Promise<void> {
        return this.receiptsIdGen.withNextId(async (streamId) => {
          await this.dbConn.runInteraction('insertWithHook', async (txn) => {
            txn.callAfter(() => {
              throw new Error('hook failed');
            });
            await txn
              .insertInto('receipts')
              .values({
                stream_id: streamId,
                instance_name: 'main',
                room_id: '!r',
                user_id: '@u',
                event_id: '$1',
              })
              .execute();
          });
        });
      }
    }
    const writer = backend.track(
      await openStore(Writer, db, createServerContext({ instanceName: 'main', role: 'writer' })),
    );
    expect(await writer.getReceiptsForRoom('!r')).toEqual({});
    await expect(writer.insertWithHook()).rejects.toThrow(AfterCommitError);
    expect(await writer.getReceiptsForRoom('!r')).toEqual({ '@u': '$1' });
  });

  it('catch-up goes on past a token whose handler throws and returns the failure', async () => {
    const db = await backend.open<AppDB>();
    const { writer } = await openPair(backend, db);
    class Reader extends ReaderDataStore {
      @onReplication(ReceiptsStream)
      audit(rows: readonly ReceiptRow[]): void {
        if (rows.some((r) => r.roomId === '!bad')) throw new Error('audit failed');
      }
    }
    const reader = backend.track(
      await openStore(Reader, db, createServerContext({ instanceName: 'reader2', role: 'worker' })),
    );
    expect(await reader.getReceiptsForRoom('!good')).toEqual({});
    await writer.insertReceipt('!bad', '@u', '$1');
    const token = await writer.insertReceipt('!good', '@u', '$2');
    const result = await catchUpStream(reader, ReceiptsStream, 'main', token);
    expect(result).toMatchObject({ rows: 2 });
    expect(result.handlerFailures.map((f) => [f.token, f.message])).toEqual([
      [1, '1 @onReplication handler(s) for stream receipts failed at token 1: audit failed'],
    ]);
    expect(reader.streamPositions.get('receipts', 'main')).toBe(2);
    expect(await reader.getReceiptsForRoom('!good')).toEqual({ '@u': '$2' });
  });

  it('refuses a handler that returns a promise, and survives its rejection', async () => {
    const db = await backend.open<AppDB>();
    function AsyncHandler<B extends StoreBase<AppDB>>(Base: B) {
      abstract class AsyncHandler extends Base {
        // A handler that awaits halfway would advance the position with
        // some caches still stale (Synapse #13304): the compiler refuses it.
        // @ts-expect-error an @onReplication handler must be synchronous
        @onReplication(ReceiptsStream)
        async onReceipts(): Promise<void> {
          await Promise.resolve();
          throw new Error('async handler failed');
        }
      }
      return AsyncHandler;
    }
    class Store extends AsyncHandler(SQLBaseStore<AppDB>) {}
    const store = await openStore(
      Store,
      db,
      createServerContext({ instanceName: 'w', role: 'worker' }),
    );
    expect(() => store.processReplicationRows('receipts', 'main', 1, [])).toThrow(
      /onReceipts returned a promise; handlers must be synchronous/,
    );
    // Its rejection is handled: vitest fails a run on an unhandled one.
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it('openStore runs each mixin’s prepare once, base first', async () => {
    const db = await backend.open<AppDB>();
    const order: string[] = [];
    function A<B extends StoreBase<AppDB>>(Base: B) {
      abstract class A extends Base {
        override async prepare(): Promise<void> {
          order.push('A');
          return Promise.resolve();
        }
      }
      return A;
    }
    function Bm<B extends StoreBase<AppDB>>(Base: B) {
      abstract class Bm extends Base {
        @cached()
        async getX(id: string): Promise<string> {
          return Promise.resolve(id);
        }
        override async prepare(): Promise<void> {
          order.push('B');
          return Promise.resolve();
        }
      }
      return Bm;
    }
    class Store extends Bm(A(SQLBaseStore<AppDB>)) {}
    await openStore(Store, db, createServerContext({ instanceName: 'w', role: 'worker' }));
    expect(order).toEqual(['A', 'B']);
  });
});

describeEachDatabase('stores across a writer restart', (backend) => {
  it('close() closes every ID generator when one fails, so no writer lock is left behind', async () => {
    const db = await backend.open<AppDB>();
    const { writer } = await openPair(backend, db);
    const [first, ...rest] = [...writer.idGenerators().values()];
    expect(rest.length).toBeGreaterThan(0);
    const close = first!.close.bind(first);
    first!.close = async () => {
      await close();
      throw new Error('disk on fire');
    };
    await expect(writer.close()).rejects.toThrow('disk on fire');
    first!.close = close;
    for (const generator of rest) {
      await expect(generator.load()).rejects.toThrow(/generator is closed/);
    }
    // Every stream's writer lock went with its generator: a new writer starts.
    backend.track(
      await openStore(
        MainDataStore,
        db,
        createServerContext({ instanceName: 'main', role: 'writer' }),
      ),
    );
  });

  it('the receipts token never moves backwards and the worker catches up after restart', async () => {
    const db = await backend.open<AppDB>();
    const { writer, reader, replicate } = await openPair(backend, db);
    await writer.insertReceipt('!room', '@alice', '$e1');
    const before = writer.receiptsIdGen.currentToken();
    await writer.close();
    const restarted = backend.track(
      await openStore(
        MainDataStore,
        db,
        createServerContext({ instanceName: 'main', role: 'writer' }),
      ),
    );
    expect(restarted.receiptsIdGen.currentToken()).toBeGreaterThanOrEqual(before);
    await restarted.insertReceipt('!room', '@bob', '$e2');
    await reader.getReceiptsForRoom('!room');
    await catchUpStream(reader, ReceiptsStream, 'main', restarted.receiptsIdGen.currentToken());
    expect(await reader.getReceiptsForRoom('!room')).toEqual({ '@alice': '$e1', '@bob': '$e2' });
    void replicate;
  });
});

describeEachDatabase('waiting on the writer', (backend) => {
  it('waitForStreamPosition on the writer resolves when its own generator reaches the token', async () => {
    const { writer } = await openPair(backend, await backend.open<AppDB>());
    const next = writer.receiptsIdGen.currentToken() + 1;
    const waited = writer.waitForStreamPosition('receipts', 'main', next, 5_000);
    const token = await writer.insertReceipt('!room', '@alice', '$e1');
    expect(token).toBe(next);
    await waited;
    await expect(writer.waitForStreamPosition('receipts', 'main', token + 1, 10)).rejects.toThrow(
      /timed out/,
    );
  });

  it('invalidateCacheAndStream returns the caches token a worker can wait for', async () => {
    const { writer, reader } = await openPair(backend, await backend.open<AppDB>());
    const token = await writer.dbConn.runInteraction('tag', (txn) =>
      writer.invalidateCacheAndStream(txn, writer.getTagsForRoom, '@a', '!r'),
    );
    expect(token).toBe(writer.idGenerators().get('caches')!.currentToken());
    const waited = reader.waitForStreamPosition('caches', 'main', token, 5_000);
    await catchUpStream(reader, CachesStream, 'main', token);
    await waited;
  });
});
