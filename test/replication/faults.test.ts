// The faults replication must survive, each on real Postgres through real
// sockets (and real processes where one dies). Every test ends the same way:
// once the worker has reached the writer's tokens, every cache read on the
// worker equals a fresh database read, and the worker applied every batch in
// token order, once.
import { createServer, type AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { ReplicationServer } from '../../src/replication/server.js';
import { onReplication } from '../../src/runtime/replication-handlers.js';
import { createServerContext } from '../../src/runtime/server-context.js';
import { openStore, type StoreBase } from '../../src/runtime/store.js';
import { defineMemoryStream } from '../../src/runtime/stream.js';
import { MainDataStore, type AppDB } from '../support/receipts-app.js';
import {
  cleanups,
  counterValue,
  openSchema,
  readAll,
  ROOMS,
  runCleanupsAfterEach,
  STATE,
  track,
  until,
  url,
  killWorkerMidStreamAndRestart,
  unknownStreamIsIgnored,
} from './fault-kit.js';
import { LoggingReader, outOfOrder } from './fixtures/app.js';
import { Child } from './fixtures/children.js';
import { TcpProxy } from './fixtures/proxy.js';
import {
  bulkReceipts,
  cacheMismatches,
  openReader,
  openWriter,
  RawClient,
  startClient,
  startServer,
  waitForWriter,
  writerTokens,
} from './helpers.js';

runCleanupsAfterEach();

/** An in-memory stream with a long history (the default 1,000 tokens), for big REPLICATE answers. */
const PresenceStream = defineMemoryStream<{ userId: string; status: string }>({
  name: 'presence',
});

function PresenceWorkerStore<B extends StoreBase<AppDB>>(Base: B) {
  abstract class PresenceWorkerStore extends Base {
    presenceRows = 0;

    @onReplication(PresenceStream)
    onPresence(rows: readonly unknown[]): void {
      this.presenceRows += rows.length;
    }
  }
  return PresenceWorkerStore;
}

function PresenceStore<B extends StoreBase<AppDB>>(Base: B) {
  abstract class PresenceStore extends PresenceWorkerStore(Base) {
    readonly presenceSource = this.memoryStream(PresenceStream);

    /** One token of `n` rows of about 1 KB each. */
    appendPresence(n: number, tag: string): number {
      return this.presenceSource.append(
        Array.from({ length: n }, (_, i) => ({
          userId: `@user${i}`,
          status: `${tag} ${'x'.repeat(1000)}`,
        })),
      );
    }
  }
  return PresenceStore;
}

class PresenceWriter extends PresenceStore(MainDataStore) {}
class PresenceReader extends PresenceWorkerStore(LoggingReader) {}

/** How often the writer dropped a link as a slow reader. */
async function slowReaderDrops(server: ReplicationServer): Promise<number> {
  return (await server.metrics.disconnects.get()).values
    .filter((v) => v.labels.reason === 'slow-reader')
    .reduce((sum, v) => sum + v.value, 0);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!url)(
  `replication faults on postgres${url ? '' : ' (skipped: DATABASE_URL is not set)'}`,
  () => {
    it('a worker process killed mid-stream and restarted catches up; the writer and other workers carry on', async () => {
      const { db, schema } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      const { port, server } = await startServer(writer);
      track(server);
      const env = { DATABASE_URL: url!, SCHEMA: schema, PORT: String(port), INSTANCE: 'reader1' };
      const first = new Child('worker-process', env);
      cleanups.push(() => first.stop());
      await first.ask({ type: 'ready' });
      const other = await openReader(db, 'reader2');
      const otherClient = track(startClient(other, port));
      await otherClient.ready;
      await killWorkerMidStreamAndRestart({ writer, db, env, first, other, otherClient });
    }, 90_000);

    it('workers survive a writer process killed mid-write and restarted, and follow the new one', async () => {
      const { db, schema } = await openSchema();
      const port = await freePort();
      const env = { DATABASE_URL: url!, SCHEMA: schema, PORT: String(port) };
      const firstWriter = new Child('writer-process', { ...env, TAG: 'a' });
      cleanups.push(() => firstWriter.stop());
      await firstWriter.waitForMessage((m) => m.type === 'started');
      const readers = [await openReader(db, 'reader1'), await openReader(db, 'reader2')];
      const clients = readers.map((r) => track(startClient(r, port)));
      await Promise.all(clients.map((c) => c.ready));
      await firstWriter.waitForMessage((m) => m.type === 'wrote' && (m.i as number) >= 30);
      for (const reader of readers) await readAll(reader);
      await firstWriter.kill(); // in the middle of its write loop
      await until(() => clients.every((c) => !c.connected));
      for (const reader of readers) await readAll(reader);
      const secondWriter = new Child('writer-process', { ...env, TAG: 'b' });
      cleanups.push(() => secondWriter.stop());
      await secondWriter.waitForMessage((m) => m.type === 'wrote' && (m.i as number) >= 30);
      for (const reader of readers) await readAll(reader);
      secondWriter.send({ type: 'stop' });
      const stopped = await secondWriter.waitForMessage((m) => m.type === 'stopped');
      const tokens = stopped.tokens as { receipts: number; caches: number };
      for (const c of clients) await waitForWriter(c, tokens);
      for (const [i, reader] of readers.entries()) {
        expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
        expect(outOfOrder(reader.applied)).toEqual([]);
        expect(await counterValue(clients[i]!, 'reconnects')).toBeGreaterThanOrEqual(1);
      }
    }, 90_000);

    it('a connection destroyed in the middle of a batch: the partial batch is dropped and the token applied once, in full', async () => {
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      const { port, server } = await startServer(writer);
      track(server);
      const proxy = await TcpProxy.start(port);
      cleanups.push(() => proxy.close());
      const reader = await openReader(db);
      const client = track(startClient(reader, proxy.port));
      await client.ready;
      await readAll(reader);
      const cut = proxy.cutAfter((line) => line.startsWith('RDATA receipts main batch'));
      const token = await writer.receiptsIdGen.withNextId(async (id) => {
        await writer.dbConn
          .insertInto('receipts')
          .values(
            ROOMS.slice(0, 3).map((room) => ({
              stream_id: id,
              instance_name: 'main',
              room_id: room,
              user_id: '@batch',
              event_id: '$batch',
            })),
          )
          .execute();
        return id;
      });
      await cut;
      for (let i = 0; i < 5; i++) await writer.insertReceipt(ROOMS[i]!, '@after', `$after${i}`);
      await writer.addTag('@u1', '!room1', 'after');
      await waitForWriter(client, writerTokens(writer));
      expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
      expect(reader.applied.filter(([stream, t]) => stream === 'receipts' && t === token)).toEqual([
        ['receipts', token, 3],
      ]);
      expect(outOfOrder(reader.applied)).toEqual([]);
      expect(proxy.connections).toBeGreaterThanOrEqual(2);
    });

    it('a reader that stops reading is disconnected with ERROR slow-reader, others are served, and it catches up on reconnect', async () => {
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      const { port, server } = await startServer(writer, { maxQueue: 50, closeTimeoutMs: 30_000 });
      track(server);
      const proxy = await TcpProxy.start(port);
      cleanups.push(() => proxy.close());
      const slow = await openReader(db, 'slow');
      // Its own keep-alive would give up on the silent writer first; here the writer's queue limit acts.
      const slowClient = track(startClient(slow, proxy.port, { pingTimeoutMs: 120_000 }));
      const fast = await openReader(db, 'fast');
      const fastClient = track(startClient(fast, port));
      await Promise.all([slowClient.ready, fastClient.ready]);
      await readAll(slow);
      await readAll(fast);
      proxy.setPaused(true);
      const disconnected = async () =>
        (await server.metrics.disconnects.get()).values.some(
          (v) => v.labels.reason === 'slow-reader' && v.value >= 1,
        );
      // Big rows until the writer gives up on the reader (the socket buffers hold a few MB first).
      const padding = 'x'.repeat(2000);
      for (let round = 0; !(await disconnected()); round++) {
        expect(round).toBeLessThan(50);
        await bulkReceipts(writer, 500, ROOMS, padding);
      }
      await writer.addTag('@u2', '!room2', 'late');
      const tokens = writerTokens(writer);
      await waitForWriter(fastClient, tokens);
      expect(fastClient.connected).toBe(true);
      proxy.setPaused(false);
      await waitForWriter(slowClient, tokens, 60_000);
      expect(slowClient.lastError).toBe(
        'peer sent ERROR slow-reader: more than 50 commands queued',
      );
      for (const reader of [slow, fast]) {
        expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
        expect(outOfOrder(reader.applied)).toEqual([]);
      }
      expect(await counterValue(fastClient, 'reconnects')).toBe(0);
    }, 90_000);

    it('a REPLICATE answer larger than the slow-reader limit (a long in-memory history) is sent whole; a reader that then falls behind on live rows is still dropped', async () => {
      const { db } = await openSchema();
      const writer = await openStore(
        PresenceWriter,
        db,
        createServerContext({ instanceName: 'main', role: 'writer' }),
      );
      // 1,000 held tokens of 16 rows of 1 KB: an answer of 16,000 lines (16 MB), far past
      // both the limit (1,000 lines) and what the sockets' buffers take at once.
      for (let t = 0; t < 1000; t++) writer.appendPresence(16, `t${t}`);
      const { port, server } = await startServer(writer, {
        maxQueue: 1000,
        closeTimeoutMs: 30_000,
      });
      track(server);
      const reader = await openStore(
        PresenceReader,
        db,
        createServerContext({ instanceName: 'reader1', role: 'worker' }),
      );
      const client = track(startClient(reader, port));
      const outcome = await Promise.race([
        client.ready.then(() => 'ready'),
        until(async () => (await slowReaderDrops(server)) >= 2).then(() => 'dropped twice'),
      ]);
      expect(outcome).toBe('ready');
      await client.waitForStreamPosition('presence', 'main', 1000, 20_000);
      expect(reader.presenceRows).toBe(16_000);
      expect(client.lastError).toBeUndefined();
      // The limit still holds for live rows: a reader that asks and then reads nothing.
      const slow = await RawClient.connect(port);
      cleanups.push(() => slow.close());
      slow.socket.pause();
      slow.send('NAME slow', 'REPLICATE');
      // Its answer was sent (a presence POSITION per answer) before any live row.
      const answers = async () =>
        (await server.metrics.positionSent.get()).values
          .filter((v) => v.labels.stream === 'presence')
          .reduce((sum, v) => sum + v.value, 0);
      await until(async () => (await answers()) >= 2);
      for (let round = 0; (await slowReaderDrops(server)) === 0; round++) {
        expect(round).toBeLessThan(100);
        for (let t = 0; t < 20; t++) writer.appendPresence(16, `live${round}.${t}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      slow.socket.resume();
      await slow.closed;
      expect(slow.lines.at(-1)).toBe('ERROR slow-reader: more than 1000 commands queued');
      // The reader that reads was served throughout.
      const last = writer.presenceSource.currentToken();
      await client.waitForStreamPosition('presence', 'main', last, 20_000);
      expect(client.connected).toBe(true);
      expect(await counterValue(client, 'reconnects')).toBe(0);
    }, 90_000);

    it('a backlog of 100,000 rows missed while disconnected is caught up from the database', async () => {
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      const { port, server } = await startServer(writer);
      track(server);
      const proxy = await TcpProxy.start(port);
      cleanups.push(() => proxy.close());
      const reader = await openReader(db);
      const client = track(startClient(reader, proxy.port));
      await client.ready;
      await writer.insertReceipt('!room0', '@u0', '$before');
      await waitForWriter(client, writerTokens(writer));
      await readAll(reader);
      proxy.setDown(true);
      await until(() => !client.connected);
      const before = reader.applied.length;
      await bulkReceipts(writer, 100_000, ROOMS);
      // After a bulk load the planner's statistics are stale until autovacuum
      // analyses the table; without them each catch-up page scans the table.
      await sql`ANALYZE receipts`.execute(db);
      await writer.addTag('@u0', '!room0', 'backlog');
      proxy.setDown(false);
      await waitForWriter(client, writerTokens(writer), 90_000);
      expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
      expect(reader.applied.length - before).toBe(100_001); // every token once, and the tag
      expect(outOfOrder(reader.applied)).toEqual([]);
      expect(
        await counterValue(client, 'catchUpPages', { stream: 'receipts' }),
      ).toBeGreaterThanOrEqual(1000);
    }, 120_000);

    it('a POSITION (and RDATA) for a stream the worker does not know is ignored, and the rest keeps flowing', async () => {
      const { db } = await openSchema();
      await unknownStreamIsIgnored(db, async (writer) => {
        const { port, server } = await startServer(writer);
        track(server);
        const reader = await openReader(db);
        return { reader, client: track(startClient(reader, port)) };
      });
    });

    it('a worker following a stream with two writers, or streams of two writer processes, refuses a TCP link (one writer only) at once, naming them and the Redis transport', async () => {
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      const { port, server } = await startServer(writer);
      track(server);
      const reader = await openStore(
        LoggingReader,
        db,
        createServerContext({
          instanceName: 'reader1',
          role: 'worker',
          config: { writer: 'main', streamWriters: { receipts: ['main', 'w2'] } },
        }),
      );
      // Connected to main alone it would never see w2's rows: an error, not a stale worker.
      expect(() => startClient(reader, port)).toThrow(
        /^stream receipts has 2 writers \(main, w2\), but the replication transport tcp:\/\/127\.0\.0\.1:\d+ links this worker to one writer only, .* use the Redis transport \(RedisClientTransport\)/,
      );
      // One writer per stream, but not one process: receipts from w2, the rest from main.
      const split = await openStore(
        LoggingReader,
        db,
        createServerContext({
          instanceName: 'reader3',
          role: 'worker',
          config: { writer: 'main', streamWriters: { receipts: ['w2'] } },
        }),
      );
      expect(() => startClient(split, port)).toThrow(
        /^the followed streams are written by 2 processes: main \(.*\), w2 \(receipts\), but the replication transport tcp:/,
      );
      // A writer listed twice is one writer.
      const listedTwice = await openStore(
        LoggingReader,
        db,
        createServerContext({
          instanceName: 'reader4',
          role: 'worker',
          config: { writer: 'main', streamWriters: { receipts: ['main', 'main'] } },
        }),
      );
      await track(startClient(listedTwice, port)).ready;
      // The same deployment with one writer per stream is served as usual.
      const single = await openReader(db, 'reader2');
      const client = track(startClient(single, port));
      await client.ready;
      expect(client.connected).toBe(true);
    });

    it('a garbage line and an over-long line from a client get ERROR and close that connection; workers keep being served', async () => {
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      const { port, server } = await startServer(writer);
      track(server);
      const readers = [await openReader(db, 'reader1'), await openReader(db, 'reader2')];
      const clients = readers.map((r) => track(startClient(r, port)));
      await Promise.all(clients.map((c) => c.ready));
      for (const reader of readers) await readAll(reader);
      const garbage = await RawClient.connect(port);
      const long = await RawClient.connect(port);
      cleanups.push(
        () => garbage.close(),
        () => long.close(),
      );
      garbage.socket.write(Buffer.from([0x66, 0x6f, 0xff, 0xfe, 0x0a])); // not UTF-8
      long.socket.write('REPLICATE'.padEnd(70_000, 'X'));
      await Promise.all([garbage.closed, long.closed]);
      expect(garbage.lines.at(-1)).toBe('ERROR bad-utf8: line is not valid UTF-8');
      expect(long.lines.at(-1)).toBe('ERROR line-too-long: line longer than 65536 bytes');
      for (let i = 0; i < 10; i++) await writer.insertReceipt(ROOMS[i % 5]!, `@g${i}`, `$g${i}`);
      await writer.addTag('@u1', '!room4', 'garbage');
      for (const c of clients) await waitForWriter(c, writerTokens(writer));
      for (const [i, reader] of readers.entries()) {
        expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
        expect(await counterValue(clients[i]!, 'reconnects')).toBe(0);
      }
    });

    it('with a secret, a writer whose side goes silent right after SERVER (before its first PING) is dropped by the worker’s ping timeout; the worker reconnects and catches up', async () => {
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      const { port, server } = await startServer(writer, { secret: 'right-secret' });
      track(server);
      const proxy = await TcpProxy.start(port);
      cleanups.push(() => proxy.close());
      // With a secret the writer's first PING follows AUTH: the worker hears SERVER and then nothing.
      const stalled = proxy.stallAfter((line) => line.startsWith('SERVER '));
      const reader = await openReader(db);
      const client = track(
        startClient(reader, proxy.port, { secret: 'right-secret', pingTimeoutMs: 1_000 }),
      );
      await stalled;
      await readAll(reader);
      await writer.insertReceipt('!room1', '@stalled', '$stalled');
      // Ready only on a second connection, once the stalled one timed out.
      await client.ready;
      expect(client.lastError).toBe('ping-timeout: nothing received for 1000 ms');
      expect(proxy.connections).toBe(2);
      await waitForWriter(client, writerTokens(writer));
      expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
    }, 60_000);

    it('a wrong or missing secret gets ERROR and nothing else; with the right one the worker catches up', async () => {
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      const { port, server } = await startServer(writer, { secret: 'right-secret' });
      track(server);
      const good = await openReader(db, 'good');
      const goodClient = track(startClient(good, port, { secret: 'right-secret' }));
      const wrong = await openReader(db, 'wrong');
      const wrongClient = track(startClient(wrong, port, { secret: 'wrong-secret' }));
      const missing = await openReader(db, 'missing');
      const missingClient = track(startClient(missing, port));
      await goodClient.ready;
      for (const reader of [good, wrong, missing]) await readAll(reader);
      for (let i = 0; i < 10; i++) await writer.insertReceipt(ROOMS[i % 5]!, `@s${i}`, `$s${i}`);
      await writer.addTag('@u2', '!room0', 'secret');
      await until(
        () => wrongClient.lastError !== undefined && missingClient.lastError !== undefined,
      );
      expect(wrongClient.lastError).toBe('peer sent ERROR auth-failed: wrong secret');
      expect(missingClient.lastError).toBe(
        'peer sent ERROR auth-required: the first command must be AUTH',
      );
      // Nothing reached them: no position, no rows.
      expect(wrong.streamPositions.entries()).toEqual([]);
      expect(missing.streamPositions.entries()).toEqual([]);
      await waitForWriter(goodClient, writerTokens(writer));
      expect(await cacheMismatches(good, db, STATE)).toEqual([]);
      // Recovery: the same worker with the right secret.
      await wrongClient.stop();
      const fixed = track(startClient(wrong, port, { secret: 'right-secret' }));
      await fixed.ready;
      await waitForWriter(fixed, writerTokens(writer));
      expect(await cacheMismatches(wrong, db, STATE)).toEqual([]);
      expect(outOfOrder(wrong.applied)).toEqual([]);
    });
  },
);
