// One live writer generator per (database, stream, instance): a second one is
// refused at load, in this process (a registry: session advisory locks are
// re-entrant, and PGlite has one session) and in another (the advisory lock);
// close() or the end of the holder's session lets the next one start; workers
// and other instances are not held back.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../../src/runtime/database.js';
import {
  createStreamIdGenerator,
  type StreamIdGenerator,
  type StreamIdGeneratorOptions,
} from '../../../src/runtime/id-generator/index.js';
import { migrate } from '../../../src/runtime/migrator.js';
import { createServerContext } from '../../../src/runtime/server-context.js';
import { openStore } from '../../../src/runtime/store.js';
import { WriterAlreadyRunningError, WriterLockLostError } from '../../../src/index.js';
import { Child } from '../../replication/fixtures/children.js';
import { DATABASE_URL, describeEachDatabase, type Backend } from '../../support/databases.js';
import {
  createAppTables,
  MainDataStore,
  ReaderDataStore,
  type AppDB,
} from '../../support/receipts-app.js';
import { deferred } from './deferred.js';

const echo = <T>(value: T): Promise<T> => Promise.resolve(value);
const nothing = (): Promise<void> => Promise.resolve();

function generator(
  db: DatabaseHandle<unknown>,
  options: Partial<StreamIdGeneratorOptions> = {},
): StreamIdGenerator {
  return createStreamIdGenerator(db, { stream: 'things', instanceName: 'main', ...options });
}

/** What `promise` rejected with (fails the test if it resolved). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

/** The writer locks granted on this database, and the backends holding them. */
async function writerLockHolders(db: DatabaseHandle<unknown>): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 2
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND classid = 'storesplit_writer_locks'::regclass::oid
    ORDER BY pid`.execute(db);
  return rows.map((r) => Number(r.pid));
}

describeEachDatabase('writer lock', (backend: Backend) => {
  /** A generator loaded on `db`, closed after the test. */
  async function loaded(
    db: DatabaseHandle<unknown>,
    options: Partial<StreamIdGeneratorOptions> = {},
  ): Promise<StreamIdGenerator> {
    const gen = backend.track(generator(db, options));
    await gen.load();
    return gen;
  }

  it('refuses a second writer generator of the same stream and instance in this process, saying why and what to do', async () => {
    const db = await backend.open();
    const first = await loaded(db);
    const second = backend.track(generator(db));
    const error = await rejection(second.load());
    expect(error).toBeInstanceOf(WriterAlreadyRunningError);
    expect(error).toMatchObject({ stream: 'things', instance: 'main', where: 'this process' });
    const message = (error as Error).message;
    expect(message).toMatch(/^this process already runs as writer `main` of stream `things`/);
    expect(message).toMatch(/close\(\) it before opening another/);
    expect(message).toMatch(/different instanceName listed in the stream's writers/);
    // The refused one allocates nothing; the first carries on, holding the one lock.
    await expect(second.withNextId(echo)).rejects.toThrow(/call load\(\) first/);
    expect(await first.withNextId(echo)).toBe(1);
    expect(await writerLockHolders(db)).toHaveLength(1);
  });

  it('close() releases the lock: the next generator of the instance starts where the old one stopped', async () => {
    const db = await backend.open();
    const first = await loaded(db);
    await first.withNextIds(3, nothing);
    await first.close();
    expect(await writerLockHolders(db)).toEqual([]);
    const second = await loaded(db);
    expect(second.currentToken()).toBe(3);
    expect(await second.withNextId(echo)).toBe(4);
    expect(await writerLockHolders(db)).toHaveLength(1);
  });

  it('close() keeps the lock until the IDs in flight have settled', async () => {
    const db = await backend.open();
    const first = await loaded(db);
    const release = deferred();
    const write = first.withNextId(() => release.promise);
    const closing = first.close();
    // Still the writer: its ID 1 may yet commit.
    await expect(generator(db).load()).rejects.toBeInstanceOf(WriterAlreadyRunningError);
    release.resolve();
    await write;
    await closing;
    const next = await loaded(db);
    expect(next.currentToken()).toBe(1);
  });

  it('two loads at once: one starts, the other is refused', async () => {
    const db = await backend.open();
    const gens = [backend.track(generator(db)), backend.track(generator(db))];
    const results = await Promise.allSettled(gens.map((g) => g.load()));
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(WriterAlreadyRunningError);
    expect(await writerLockHolders(db)).toHaveLength(1);
  });

  it('workers take no lock and start beside the writer', async () => {
    const db = await backend.open();
    const writer = await loaded(db);
    const workers = await Promise.all(
      ['reader1', 'reader2', 'reader2'].map((instanceName) =>
        loaded(db, { instanceName, writers: ['main'] }),
      ),
    );
    expect(workers.map((w) => w.isWriter)).toEqual([false, false, false]);
    expect(await writerLockHolders(db)).toHaveLength(1);
    await writer.withNextIds(2, nothing);
    await writer.flush();
    for (const worker of workers) worker.advance('main', writer.persistedPosition());
    expect(workers.map((w) => w.currentToken())).toEqual([2, 2, 2]);
  });

  it('each instance of a multi-writer stream holds a lock of its own', async () => {
    const db = await backend.open();
    const writers = ['a', 'b'];
    const a = await loaded(db, { instanceName: 'a', writers });
    const b = await loaded(db, { instanceName: 'b', writers });
    expect(await a.withNextId(echo)).toBe(1);
    expect(await b.withNextId(echo)).toBe(2);
    expect(await writerLockHolders(db)).toHaveLength(2);
    await expect(generator(db, { instanceName: 'b', writers }).load()).rejects.toBeInstanceOf(
      WriterAlreadyRunningError,
    );
    // Another stream's writer of the same name is another writer.
    await loaded(db, { stream: 'others', instanceName: 'a', writers });
    await a.close();
    expect(await writerLockHolders(db)).toHaveLength(2);
    await loaded(db, { instanceName: 'a', writers });
  });

  it('a load that fails releases the lock it took', async () => {
    const db = await backend.open();
    const first = await loaded(db);
    await first.withNextIds(5, nothing);
    await first.close();
    await sql`SELECT setval('storesplit_seq_things', 2)`.execute(db);
    const again = backend.track(generator(db));
    await expect(again.load()).rejects.toThrow(/sequence storesplit_seq_things is at 2/);
    expect(await writerLockHolders(db)).toEqual([]);
    // The operator moves the sequence forward; the same generator starts.
    await sql`SELECT setval('storesplit_seq_things', 5)`.execute(db);
    await again.load();
    expect(again.currentToken()).toBe(5);
    await expect(generator(db).load()).rejects.toBeInstanceOf(WriterAlreadyRunningError);
  });

  it('the lock is per database: the same stream and instance on another one is another writer', async () => {
    // On Postgres: another schema of the same database, as the test suites use.
    const [one, two] = [await backend.open(), await backend.open()];
    const first = await loaded(one);
    const second = await loaded(two);
    expect(await first.withNextId(echo)).toBe(1);
    expect(await second.withNextId(echo)).toBe(1);
    await expect(generator(one).load()).rejects.toBeInstanceOf(WriterAlreadyRunningError);
    await expect(generator(two).load()).rejects.toBeInstanceOf(WriterAlreadyRunningError);
  });

  it('a writer store opened twice in one process is refused; once the first is closed, the restart opens', async () => {
    const db = await backend.open<AppDB>();
    await createAppTables(db);
    const main = () => createServerContext({ instanceName: 'main', role: 'writer' });
    const first = backend.track(await openStore(MainDataStore, db, main()));
    await first.insertReceipt('!a', '@u1', '$1');
    const error = await rejection(openStore(MainDataStore, db, main()));
    expect(error).toBeInstanceOf(WriterAlreadyRunningError);
    expect(error).toMatchObject({ instance: 'main' });
    // A worker store beside it is fine.
    backend.track(
      await openStore(
        ReaderDataStore,
        db,
        createServerContext({ instanceName: 'r', role: 'worker' }),
      ),
    );
    await first.close();
    const restarted = backend.track(await openStore(MainDataStore, db, main()));
    expect(restarted.receiptsIdGen.currentToken()).toBe(1);
    expect(await restarted.insertReceipt('!a', '@u2', '$2')).toBe(2);
  });
});

const postgresOnly = DATABASE_URL ? undefined : 'DATABASE_URL is not set';

describe.skipIf(postgresOnly)(
  `writer lock across sessions and processes on postgres${postgresOnly ? ` (skipped: ${postgresOnly})` : ''}`,
  () => {
    const cleanups: Array<() => Promise<void> | void> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /**
     * A fresh migrated schema; `open()` gives another handle on it (its own
     * pool and sessions), as another process would open. Dropped after the test.
     */
    async function schema(): Promise<{ name: string; open(): Promise<DatabaseHandle<unknown>> }> {
      const name = `t_${randomBytes(6).toString('hex')}`;
      const handles: Array<DatabaseHandle<unknown>> = [];
      const open = async () => {
        const db = await createDatabase({ url: DATABASE_URL!, schema: name, poolSize: 2 });
        handles.push(db);
        return db;
      };
      await migrate(await open());
      cleanups.push(async () => {
        await sql.raw(`DROP SCHEMA "${name}" CASCADE`).execute(handles[0]!);
        for (const db of handles) await db.destroy();
      });
      return { name, open };
    }

    function track<T extends StreamIdGenerator>(gen: T): T {
      cleanups.push(() => gen.close());
      return gen;
    }

    it('a second handle (another session, as another process has) is refused, naming the holder; close() or destroy() lets the next one in', async () => {
      const { open } = await schema();
      const [one, two, three] = [await open(), await open(), await open()];
      const first = track(generator(one));
      await first.load();
      const holders = await writerLockHolders(one);
      expect(holders).toHaveLength(1);
      const error = await rejection(track(generator(two)).load());
      expect(error).toBeInstanceOf(WriterAlreadyRunningError);
      expect(error).toMatchObject({
        stream: 'things',
        instance: 'main',
        where: 'another process',
        holderPid: holders[0],
      });
      expect((error as Error).message).toMatch(
        /^another process is running as writer `main` of stream `things` .*; stop it, or give this process a different instanceName listed in the stream's writers/,
      );
      await first.close();
      const second = track(generator(two));
      await second.load();
      // A process that ends without closing anything: its session goes, and the lock with it.
      await two.destroy();
      const third = track(generator(three));
      await third.load();
      expect(await third.withNextId(echo)).toBe(1);
    });

    it('a writer whose lock session is dropped allocates no more IDs and says so', async () => {
      const { open } = await schema();
      const [one, two] = [await open(), await open()];
      const background: unknown[] = [];
      const gen = track(generator(one, { onBackgroundError: (e) => background.push(e) }));
      await gen.load();
      expect(await gen.withNextId(echo)).toBe(1);
      const [holder] = await writerLockHolders(one);
      await sql`SELECT pg_terminate_backend(${holder}::int)`.execute(two);
      await vi.waitFor(() => expect(background).toHaveLength(1), { timeout: 10_000 });
      expect(background[0]).toBeInstanceOf(WriterLockLostError);
      expect((background[0] as Error).message).toMatch(
        /writer lock of `main` on stream `things` ended .*restart this process/,
      );
      // Another process may now start as main, so this one must not allocate.
      await expect(gen.withNextId(echo)).rejects.toBeInstanceOf(WriterLockLostError);
      await expect(gen.load()).rejects.toBeInstanceOf(WriterLockLostError);
      const next = track(generator(two));
      await next.load();
      expect(await next.withNextId(echo)).toBe(2);
    });

    it('a second writer process of the same stream and instance fails to start; after the first exits, or is killed, a new one starts', async () => {
      const { name, open } = await schema();
      const db = await open();
      const env = {
        DATABASE_URL: DATABASE_URL!,
        SCHEMA: name,
        STREAM: 'receipts',
        INSTANCE: 'main',
      };
      const spawn = () => {
        const child = new Child(new URL('./fixtures/writer-process.ts', import.meta.url), env);
        cleanups.push(() => child.stop());
        return child;
      };
      const outcome = (child: Child) =>
        child.waitForMessage((m) => m.type === 'started' || m.type === 'refused');
      const allocate = async (child: Child) => {
        const allocated = child.waitForMessage((m) => m.type === 'allocated');
        child.send({ type: 'allocate' });
        return (await allocated).id;
      };

      const first = spawn();
      expect(await outcome(first)).toMatchObject({ type: 'started', token: 0 });
      expect(await allocate(first)).toBe(1);
      const [holder] = await writerLockHolders(db);

      const second = spawn();
      const refused = await outcome(second);
      expect(refused).toMatchObject({ type: 'refused', name: 'WriterAlreadyRunningError' });
      expect(refused.message).toMatch(
        /^another process is running as writer `main` of stream `receipts`/,
      );
      expect(refused.message).toContain(`backend pid ${holder}`);
      expect(await second.exited).toBe(1);
      expect(await allocate(first)).toBe(2); // the refused start disturbed nothing

      // A clean exit: close() releases the lock.
      first.send({ type: 'stop' });
      expect(await first.exited).toBe(0);
      const third = spawn();
      expect(await outcome(third)).toMatchObject({ type: 'started', token: 2 });
      expect(await allocate(third)).toBe(3);

      // Killed in the middle of a write, with ID 4 in flight.
      const holding = third.waitForMessage((m) => m.type === 'holding');
      third.send({ type: 'hold' });
      expect((await holding).id).toBe(4);
      await third.kill();
      // Postgres ends the dead process's session, and its lock, once it sees the socket close.
      await vi.waitFor(async () => expect(await writerLockHolders(db)).toEqual([]), {
        timeout: 10_000,
        interval: 50,
      });
      const fourth = spawn();
      // ID 4 can never commit: the new run starts at the sequence's last value.
      expect(await outcome(fourth)).toMatchObject({ type: 'started', token: 4 });
      expect(await allocate(fourth)).toBe(5);
      fourth.send({ type: 'stop' });
      expect(await fourth.exited).toBe(0);
    }, 60_000);
  },
);
