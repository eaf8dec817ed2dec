// The faults replication must survive over Redis pub/sub, on real Postgres
// and a real Redis (REDIS_URL), with the same writer and worker code as over
// TCP and only the transport changed. Each test has a channel of its own. As
// over TCP, every test ends with every worker cache read equal to a fresh
// database read, and every batch applied once, in token order.
//
// What is particular to Redis: a worker's REPLICATE is answered to every
// worker (harmless: database POSITIONs are idempotent, and an in-memory
// stream's replay of the same epoch resets nothing); a restarted writer is
// noticed although no worker's connection drops (it announces its positions,
// with a new epoch, when it starts); a lost connection to Redis (a worker's or
// the writer's own) closes the link and starts again with REPLICATE and
// catch-up; every process ignores its own echoes; and on a stream with two
// writers, each answers for itself only, so one writer's answer neither
// positions nor cuts the other's rows.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/replication/commands.js';
import { parseCommand, serializeCommand } from '../../src/replication/codec.js';
import { RedisClientTransport } from '../../src/replication/redis-client-transport.js';
import { redisChannel } from '../../src/replication/redis-link.js';
import { RedisServerTransport } from '../../src/replication/redis-server-transport.js';
import type { ReplicationServer } from '../../src/replication/server.js';
import { onStreamReset } from '../../src/replication/stream-reset.js';
import type { CommandLink } from '../../src/replication/transport.js';
import type { DatabaseHandle } from '../../src/runtime/database.js';
import { createServerContext, type StoresplitConfig } from '../../src/runtime/server-context.js';
import { openStore } from '../../src/runtime/store.js';
import { MainDataStore, TypingStream, type AppDB } from '../support/receipts-app.js';
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
  WriteLoop,
  killWorkerMidStreamAndRestart,
  unknownStreamIsIgnored,
} from './fault-kit.js';
import { LoggingReader, outOfOrder } from './fixtures/app.js';
import { Child } from './fixtures/children.js';
import { TcpProxy } from './fixtures/proxy.js';
import { RedisProxy } from './fixtures/redis-proxy.js';
import {
  bulkReceipts,
  cacheMismatches,
  openWriter,
  SERVER_NAME,
  waitForWriter,
  writeReceipts,
  writerTokens,
} from './helpers.js';
import {
  killConnection,
  rawRedis,
  REDIS_URL,
  startRedisClient,
  startRedisServer,
  uniquePrefix,
} from './redis-helpers.js';

runCleanupsAfterEach();

const skipped = !REDIS_URL ? 'REDIS_URL is not set' : !url ? 'DATABASE_URL is not set' : undefined;

/** A logging worker whose typing state goes when the typing stream is reset. */
class TypingReader extends LoggingReader {
  resets = 0;

  @onStreamReset(TypingStream)
  resetTyping(): void {
    this.resets++;
    this.typing.clear();
  }
}

function openTypingReader(db: DatabaseHandle<AppDB>, instanceName: string): Promise<TypingReader> {
  return openStore(TypingReader, db, createServerContext({ instanceName, role: 'worker' }));
}

/** How often the writer gave its link up as a slow reader. */
async function slowReaderDisconnects(server: ReplicationServer): Promise<number> {
  return (await server.metrics.disconnects.get()).values
    .filter((v) => v.labels.reason === 'slow-reader')
    .reduce((sum, v) => sum + v.value, 0);
}

/** How many `RDATA` of `stream` the writer sent. */
async function rdataSent(server: ReplicationServer, stream: string): Promise<number> {
  return (await server.metrics.rdataSent.get()).values
    .filter((v) => v.labels.stream === stream)
    .reduce((sum, v) => sum + v.value, 0);
}

/** The token of an `RDATA` or `POSITION` (its new token) of `stream`, or -1. */
function tokenOf(line: string, stream: string): number {
  const command = parseCommand(line);
  if (command.type === 'RDATA' && command.stream === stream && command.token !== 'batch')
    return command.token;
  if (command.type === 'POSITION' && command.stream === stream) return command.newToken;
  return -1;
}

/**
 * Rows heard after a `POSITION` of their stream and instance that already
 * covered their token (so that a worker would drop them, or apply a batch
 * they opened with the next token's rows).
 */
function lateRows(lines: readonly string[]): string[] {
  const announced = new Map<string, number>();
  const open = new Map<string, string[]>();
  const late: string[] = [];
  for (const line of lines) {
    const command = parseCommand(line);
    if (command.type !== 'POSITION' && command.type !== 'RDATA') continue;
    const key = `${command.stream} ${command.instance}`;
    if (command.type === 'POSITION') {
      announced.set(key, Math.max(announced.get(key) ?? -1, command.newToken));
      open.delete(key);
      continue;
    }
    const batch = [...(open.get(key) ?? []), line];
    if (command.token === 'batch') {
      open.set(key, batch);
      continue;
    }
    open.delete(key);
    if (command.token <= (announced.get(key) ?? -1)) late.push(...batch);
  }
  return late;
}

/** A TCP proxy in front of Redis (closed after the test), and the URL that goes through it. */
async function redisProxy(): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(REDIS_URL!);
  const proxy = await TcpProxy.start(Number(target.port || 6379));
  cleanups.push(() => proxy.close());
  const viaProxy = new URL(REDIS_URL!);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  return { proxy, url: viaProxy.toString() };
}

/** Every line published on the test's channel from now on, in the order Redis delivered them. */
async function hear(channelPrefix: string): Promise<{ lines: string[] }> {
  const subscriber = redis();
  const heard = { lines: [] as string[] };
  subscriber.on('message', (_channel: string, message: string) => heard.lines.push(message));
  await subscriber.subscribe(redisChannel({ serverName: SERVER_NAME, channelPrefix }));
  return heard;
}

function childEnv(schema: string, prefix: string): Record<string, string> {
  return {
    DATABASE_URL: url!,
    SCHEMA: schema,
    TRANSPORT: 'redis',
    REDIS_URL: REDIS_URL!,
    CHANNEL_PREFIX: prefix,
  };
}

/** `receipts` written by two writer processes, `main` and `w2` (docs/protocol.md, 9.1). */
const TWO_WRITERS: StoresplitConfig = {
  writer: 'main',
  streamWriters: { receipts: ['main', 'w2'] },
};

/** A writer store of the two-writer deployment, closed after the test. */
async function openTwoWriterStore(
  db: DatabaseHandle<AppDB>,
  instanceName: 'main' | 'w2',
): Promise<MainDataStore> {
  const store = await openStore(
    MainDataStore,
    db,
    createServerContext({ instanceName, role: 'writer', config: TWO_WRITERS }),
  );
  cleanups.push(() => store.close());
  return store;
}

function openTwoWriterReader(
  db: DatabaseHandle<AppDB>,
  instanceName: string,
): Promise<LoggingReader> {
  return openStore(
    LoggingReader,
    db,
    createServerContext({ instanceName, role: 'worker', config: TWO_WRITERS }),
  );
}

/**
 * The two-writer deployment on a channel of its own: `main` and `w2` serving
 * (w2 through a delaying proxy to Redis), and a worker store not yet following.
 */
async function twoWriters() {
  const prefix = uniquePrefix();
  const { db } = await openSchema();
  const main = await openTwoWriterStore(db, 'main');
  const w2 = await openTwoWriterStore(db, 'w2');
  const proxy = await delayingRedisProxy();
  track((await startRedisServer(main, prefix)).server);
  const w2Server = track((await startRedisServer(w2, prefix, { url: proxy.url })).server);
  const reader = await openTwoWriterReader(db, 'reader1');
  return { prefix, db, w2, w2Server, proxy, reader };
}

/** A proxy to Redis (closed after the test), for a process whose traffic a test delays. */
async function delayingRedisProxy(): Promise<RedisProxy> {
  const proxy = await RedisProxy.start(REDIS_URL!);
  cleanups.push(() => proxy.close());
  return proxy;
}

function redis(): ReturnType<typeof rawRedis> {
  const connection = rawRedis();
  cleanups.push(() => void connection.disconnect());
  return connection;
}

describe.skipIf(skipped)(
  `replication faults over redis on postgres${skipped ? ` (skipped: ${skipped})` : ''}`,
  () => {
    it('a worker process killed mid-stream and restarted catches up; the writer and the other worker carry on, and its REPLICATE resets nothing on the other', async () => {
      const prefix = uniquePrefix();
      const { db, schema } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      writer.setTyping('!room0', ['@typist']);
      track((await startRedisServer(writer, prefix)).server);
      const env = { ...childEnv(schema, prefix), INSTANCE: 'reader1' };
      const first = new Child('worker-process', env);
      cleanups.push(() => first.stop());
      await first.ask({ type: 'ready' });
      const other = await openTypingReader(db, 'reader2');
      const otherClient = track(startRedisClient(other, prefix));
      await otherClient.ready;
      const second = await killWorkerMidStreamAndRestart({
        writer,
        db,
        env,
        first,
        other,
        otherClient,
      });
      // The workers' REPLICATEs were answered to every worker: the other one reset nothing.
      expect(await counterValue(otherClient, 'streamResets')).toBe(0);
      expect(other.resets).toBe(0);
      expect([...other.typing]).toEqual([['!room0', ['@typist']]]);
      expect(await second.ask({ type: 'typing' })).toEqual([['!room0', ['@typist']]]);
    }, 90_000);

    it('workers follow a writer process killed mid-write and restarted without losing their Redis link: the new writer announces itself, what the old one left unannounced is caught up, and its in-memory stream resets once', async () => {
      const prefix = uniquePrefix();
      const { db, schema } = await openSchema();
      const env = { ...childEnv(schema, prefix), TYPING: '1' };
      const firstWriter = new Child('writer-process', { ...env, TAG: 'a' });
      cleanups.push(() => firstWriter.stop());
      await firstWriter.waitForMessage((m) => m.type === 'started');
      const readers = [
        await openTypingReader(db, 'reader1'),
        await openTypingReader(db, 'reader2'),
      ];
      const clients = readers.map((r) => track(startRedisClient(r, prefix)));
      await Promise.all(clients.map((c) => c.ready));
      await firstWriter.waitForMessage((m) => m.type === 'wrote' && (m.i as number) >= 30);
      for (const reader of readers) await readAll(reader);
      await until(() => readers.every((r) => r.typing.get('!room0')?.[0] === '@typist-a'));
      await firstWriter.kill(); // in the middle of its write loop
      for (const reader of readers) await readAll(reader);
      const secondWriter = new Child('writer-process', { ...env, TAG: 'b' });
      cleanups.push(() => secondWriter.stop());
      await secondWriter.waitForMessage((m) => m.type === 'wrote' && (m.i as number) >= 30);
      for (const reader of readers) await readAll(reader);
      secondWriter.send({ type: 'stop' });
      const stopped = await secondWriter.waitForMessage((m) => m.type === 'stopped');
      const tokens = stopped.tokens as { receipts: number; caches: number };
      for (const c of clients) await waitForWriter(c, tokens);
      await until(() => readers.every((r) => r.typing.get('!room0')?.[0] === '@typist-b'));
      for (const [i, reader] of readers.entries()) {
        const client = clients[i]!;
        expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
        expect(outOfOrder(reader.applied)).toEqual([]);
        // Nothing told the workers but the new writer's announcement: their links stayed up.
        expect(await counterValue(client, 'reconnects')).toBe(0);
        expect(client.connected).toBe(true);
        // The new epoch reset the typing stream, once, dropping the old writer's typist.
        expect(await counterValue(client, 'streamResets', { stream: 'typing' })).toBe(1);
        expect(reader.resets).toBe(1);
        expect([...reader.typing]).toEqual([['!room0', ['@typist-b']]]);
      }
    }, 90_000);

    it('a worker whose subscription Redis drops (as on an output-buffer overflow) and a writer whose own connection is killed both open the channel again; the workers catch up what was lost', async () => {
      const prefix = uniquePrefix();
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      const { server } = await startRedisServer(writer, prefix);
      track(server);
      const reader = await openTypingReader(db, 'reader1');
      const client = track(startRedisClient(reader, prefix));
      await client.ready;
      await readAll(reader);
      const writes = track(new WriteLoop(writer, 'k'));
      await writes.reach(20);
      const admin = redis();
      expect(await killConnection(admin, prefix, 'reader1', 'sub')).toBe(1);
      await writes.reach(60);
      await readAll(reader);
      // The writer's publishing connection: what it was publishing is lost with it.
      expect(await killConnection(admin, prefix, 'main', 'pub')).toBe(1);
      await writes.reach(100);
      await readAll(reader);
      await writes.stop();
      await waitForWriter(client, writerTokens(writer));
      expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
      expect(outOfOrder(reader.applied)).toEqual([]);
      expect(await counterValue(client, 'reconnects')).toBeGreaterThanOrEqual(1);
      // The writer opened the channel again (a second link) and announced its positions on it.
      expect((await server.metrics.connections.get()).values[0]?.value).toBeGreaterThanOrEqual(2);
    }, 90_000);

    it('a backlog of 100,000 rows missed while cut off from Redis is caught up from the database', async () => {
      const prefix = uniquePrefix();
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      const heard = await hear(prefix);
      const { server } = await startRedisServer(writer, prefix);
      track(server);
      const { proxy, url: viaProxy } = await redisProxy();
      const reader = await openTypingReader(db, 'reader1');
      const client = track(startRedisClient(reader, prefix, { url: viaProxy }));
      await client.ready;
      await writer.insertReceipt('!room0', '@u0', '$before');
      await waitForWriter(client, writerTokens(writer));
      await readAll(reader);
      proxy.setDown(true);
      await until(() => !client.connected);
      const before = reader.applied.length;
      await bulkReceipts(writer, 100_000, ROOMS);
      await sql`ANALYZE receipts`.execute(db);
      await writer.addTag('@u0', '!room0', 'backlog');
      // The writer publishes the backlog on the channel regardless; let it finish, so that
      // the worker misses all of it (coming back halfway, it would get the rest live).
      // On a loaded machine Redis may fall more than `maxPending` publishes behind: the
      // writer then gives its link up as slow and announces the rest as a POSITION on
      // the next one. Either way the final token reaches the channel.
      const final = writerTokens(writer).receipts;
      await until(() => heard.lines.some((l) => tokenOf(l, 'receipts') >= final));
      proxy.setDown(false);
      await waitForWriter(client, writerTokens(writer), 90_000);
      expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
      expect(reader.applied.length - before).toBe(100_001); // every token once, and the tag
      expect(outOfOrder(reader.applied)).toEqual([]);
      expect(
        await counterValue(client, 'catchUpPages', { stream: 'receipts' }),
      ).toBeGreaterThanOrEqual(1000);
    }, 120_000);

    it('a writer that gives its link up as a slow reader opens the next one only after the old backlog reached Redis: no old row arrives after the new announcement', async () => {
      const prefix = uniquePrefix();
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      const { proxy, url: viaProxy } = await redisProxy();
      const { server } = await startRedisServer(writer, prefix, {
        url: viaProxy,
        maxPending: 3,
      });
      track(server);
      const heard = await hear(prefix);
      const writes = track(new WriteLoop(writer, 'k'));
      await writes.reach(5);
      // The writer's PUBLISHes and QUIT are stuck on the way: it gives the link up as slow.
      const release = proxy.hold();
      await until(async () => (await slowReaderDisconnects(server)) >= 1);
      // Long enough for a new link (backoff 50 ms) to open and announce itself.
      const stuckFrom = writes.count;
      await writes.reach(stuckFrom + 10);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      release();
      await until(async () => (await server.metrics.connections.get()).values[0]!.value >= 2);
      await writes.reach(writes.count + 10);
      await writes.stop();
      const final = writerTokens(writer).receipts;
      await until(() => heard.lines.some((l) => tokenOf(l, 'receipts') >= final));
      expect(lateRows(heard.lines)).toEqual([]);
    }, 60_000);

    it('an announcement larger than maxPending (a big in-memory replay) is published whole, not cut as a slow reader', async () => {
      const prefix = uniquePrefix();
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      // 20 held tokens of 10 rows: a replay of 200 lines, past a limit of 50.
      for (let t = 0; t < 20; t++)
        writer.typingSource.append(
          Array.from({ length: 10 }, (_, i) => ({ roomId: `!r${i}`, userIds: [`@u${t}`] })),
        );
      const { server } = await startRedisServer(writer, prefix, { maxPending: 50 });
      track(server);
      const reader = await openTypingReader(db, 'reader1');
      const client = track(startRedisClient(reader, prefix));
      await client.ready;
      await reader.waitForStreamPosition('typing', 'main', 20, 10_000);
      expect(reader.typing.get('!r3')).toEqual(['@u19']);
      const disconnects = (await server.metrics.disconnects.get()).values;
      expect(disconnects.filter((v) => String(v.labels.reason).startsWith('slow-reader'))).toEqual(
        [],
      );
    }, 60_000);

    it('a POSITION (and RDATA) for a stream the worker does not know is ignored, and the rest keeps flowing', async () => {
      const prefix = uniquePrefix();
      const { db } = await openSchema();
      await unknownStreamIsIgnored(db, async (writer) => {
        track((await startRedisServer(writer, prefix)).server);
        const reader = await openTypingReader(db, 'reader1');
        return { reader, client: track(startRedisClient(reader, prefix)) };
      });
    });

    it('every process ignores its own echoes; malformed messages and commands Redis has no use for are dropped and counted, never fatal', async () => {
      const prefix = uniquePrefix();
      const options = { url: REDIS_URL, serverName: SERVER_NAME, channelPrefix: prefix };
      const channel = redisChannel(options);
      const writerSide = new RedisServerTransport({ ...options, instanceName: 'main' });
      const got: Command[] = [];
      let writerLink: CommandLink | undefined;
      await writerSide.listen((link) => {
        writerLink = link;
        link.setHandler((command) => got.push(command));
      });
      cleanups.push(() => writerSide.close());
      const workerSide = new RedisClientTransport({ ...options, instanceName: 'reader1' });
      const workerLink = await workerSide.connect(new AbortController().signal);
      cleanups.push(() => workerLink.close());
      const heard: Command[] = [];
      workerLink.setHandler((command) => heard.push(command));
      workerLink.send({ type: 'REPLICATE' });
      writerLink!.send('POSITION receipts main 5 5');
      writerLink!.send('RDATA receipts main 6 {"roomId":"!a","userId":"@u"}');
      const raw = redis();
      await raw.publish(channel, 'POSITION receipts reader1 1 1'); // as if the worker had sent it
      await raw.publish(channel, 'PING 1');
      await raw.publish(channel, 'FROB 1');
      await raw.publish(channel, Buffer.from([0x50, 0x49, 0x4e, 0x47, 0x20, 0xff]));
      await raw.publish(`${channel}-other`, 'RDATA receipts main 7 {}'); // another deployment
      await raw.publish(channel, 'RDATA notes other 1 {}'); // the last one
      const done = (commands: Command[]) =>
        commands.some((c) => c.type === 'RDATA' && c.stream === 'notes');
      await until(() => done(got) && done(heard));
      const lines = (commands: Command[]) => commands.map((c) => serializeCommand(c)).sort();
      // The writer: its own REPLICATE (its announcement), the worker's, and what others sent.
      expect(got[0]).toEqual({ type: 'REPLICATE' });
      expect(lines(got)).toEqual([
        'POSITION receipts reader1 1 1',
        'RDATA notes other 1 {}',
        'REPLICATE',
        'REPLICATE',
      ]);
      // The worker: the writer's lines and its own REPLICATE (which its client ignores).
      expect(lines(heard)).toEqual([
        'POSITION receipts main 5 5',
        'RDATA notes other 1 {}',
        'RDATA receipts main 6 {"roomId":"!a","userId":"@u"}',
        'REPLICATE',
      ]);
      const dropped = async (
        registry: RedisServerTransport['registry'],
      ): Promise<Record<string, number>> => {
        const metric = registry.getSingleMetric('storesplit_replication_redis_dropped_total')!;
        const { values } = await metric.get();
        return Object.fromEntries(values.map((v) => [String(v.labels.reason), v.value]));
      };
      expect(await dropped(writerSide.registry)).toEqual({
        echo: 2,
        'not-used-on-redis': 1,
        'unknown-command': 1,
        'bad-utf8': 1,
      });
      expect(await dropped(workerSide.registry)).toEqual({
        echo: 1,
        'not-used-on-redis': 1,
        'unknown-command': 1,
        'bad-utf8': 1,
      });
      expect(writerLink!.closed || workerLink.closed).toBe(false);
    });

    it('two workers: a second one starting (its REPLICATE answered to both) neither resets nor drops the first one’s caches; both end equal to the database', async () => {
      const prefix = uniquePrefix();
      const { db } = await openSchema();
      const writer = await openWriter(db);
      // Closed before the schema's database goes: its positions are flushed, nothing is logged.
      cleanups.push(() => writer.close());
      writer.setTyping('!room0', ['@typist']);
      track((await startRedisServer(writer, prefix)).server);
      const a = await openTypingReader(db, 'reader1');
      const clientA = track(startRedisClient(a, prefix));
      await clientA.ready;
      await writeReceipts(writer, 20, ROOMS, 'first');
      await writer.addTag('@u1', '!room1', 'first');
      await waitForWriter(clientA, writerTokens(writer));
      await clientA.waitForStreamPosition('typing', 'main', 1, 10_000);
      await readAll(a);
      const queries = a.receiptQueries;
      const positionsBefore = await counterValue(clientA, 'positionReceived');
      const b = await openTypingReader(db, 'reader2');
      const clientB = track(startRedisClient(b, prefix));
      await clientB.ready;
      // A heard the answer to B's REPLICATE, replay of the typing stream included (stale for A).
      await until(
        async () =>
          (await counterValue(clientA, 'rdataDropped', { stream: 'typing', reason: 'stale' })) ===
          1,
      );
      expect(await counterValue(clientA, 'positionReceived')).toBeGreaterThanOrEqual(
        positionsBefore + 3,
      );
      await readAll(a);
      expect(a.receiptQueries).toBe(queries); // every cached read still cached
      expect(a.resets).toBe(0);
      expect(await counterValue(clientA, 'streamResets')).toBe(0);
      expect([...a.typing]).toEqual([['!room0', ['@typist']]]);
      await clientB.waitForStreamPosition('typing', 'main', 1, 10_000);
      expect([...b.typing]).toEqual([['!room0', ['@typist']]]);
      // B applied nothing before: it started at the writer's position, without paging.
      expect(await counterValue(clientB, 'startJumps', { stream: 'receipts' })).toBe(1);
      expect(await counterValue(clientB, 'catchUpPages')).toBe(0);
      await readAll(b);
      const writes = track(new WriteLoop(writer, 'two'));
      await writes.reach(50);
      await writes.stop();
      writer.setTyping('!room1', ['@other']);
      const tokens = writerTokens(writer);
      for (const [reader, client] of [
        [a, clientA],
        [b, clientB],
      ] as const) {
        await waitForWriter(client, tokens);
        await client.waitForStreamPosition('typing', 'main', 2, 10_000);
        expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
        expect(outOfOrder(reader.applied)).toEqual([]);
        expect(reader.typing.get('!room1')).toEqual(['@other']);
        expect(await counterValue(client, 'reconnects')).toBe(0);
      }
    });
    it('two writers of one stream: a reconnecting worker that hears one writer answer REPLICATE before the other drops the other’s live rows until it answers, and catches up the rows it missed', async () => {
      const { prefix, db, w2, w2Server, proxy, reader } = await twoWriters();
      const first = startRedisClient(reader, prefix);
      await first.ready;
      const before = await w2.insertReceipt('!room0', '@alice', '$before');
      await first.waitForStreamPosition('receipts', 'w2', before, 10_000);
      await readAll(reader);
      // The worker is away while w2 writes a row it will have to catch up.
      await first.stop();
      await w2.insertReceipt('!room1', '@bob', '$missed');
      // Published while nobody listened (heard later, it would fill the gap by chance).
      await until(async () => (await rdataSent(w2Server, 'receipts')) >= 2);
      // It comes back; w2 hears its REPLICATE late (main at once), and meanwhile writes live.
      proxy.freezeSubscribers();
      const client = track(startRedisClient(reader, prefix));
      // main's answer ends with its typing POSITION: all of it has arrived.
      await until(
        async () => (await counterValue(client, 'positionReceived', { stream: 'typing' })) >= 1,
      );
      const live = await w2.insertReceipt('!room2', '@carol', '$live');
      await until(
        async () => (await counterValue(client, 'rdataReceived', { stream: 'receipts' })) >= 1,
      );
      // Not positioned for w2 on this link yet: dropped, for w2's own answer to cover.
      expect(
        await counterValue(client, 'rdataDropped', {
          stream: 'receipts',
          reason: 'not-positioned',
        }),
      ).toBe(1);
      proxy.thaw();
      await client.ready;
      await client.waitForStreamPosition('receipts', 'w2', live, 10_000);
      expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
      expect(outOfOrder(reader.applied)).toEqual([]);
    }, 60_000);

    it('two writers of one stream: another worker connecting in the middle of one writer’s batch does not cut the batch on this worker', async () => {
      const { prefix, db, w2, proxy, reader } = await twoWriters();
      const client = track(startRedisClient(reader, prefix));
      await client.ready;
      await readAll(reader);
      // One token of w2 with two rows; w2's PUBLISHes are delayed after the first (`batch`) one.
      const held = proxy.holdPublishesAfter('RDATA receipts w2 batch');
      const token = await w2.receiptsIdGen.withNextId(async (id) => {
        await w2.dbConn
          .insertInto('receipts')
          .values(
            ROOMS.slice(0, 2).map((room) => ({
              stream_id: id,
              instance_name: 'w2',
              room_id: room,
              user_id: '@batch',
              event_id: '$batch',
            })),
          )
          .execute();
        return id;
      });
      await held;
      // Another worker starts: main answers its REPLICATE on the channel, which this worker hears.
      const typingPositions = await counterValue(client, 'positionReceived', { stream: 'typing' });
      const other = await openTwoWriterReader(db, 'reader2');
      const otherClient = track(startRedisClient(other, prefix));
      await until(
        async () =>
          (await counterValue(client, 'positionReceived', { stream: 'typing' })) > typingPositions,
      );
      proxy.release();
      await client.waitForStreamPosition('receipts', 'w2', token, 10_000);
      await otherClient.ready;
      await otherClient.waitForStreamPosition('receipts', 'w2', token, 10_000);
      expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
      expect(reader.applied.filter(([stream, t]) => stream === 'receipts' && t === token)).toEqual([
        ['receipts', token, 2],
      ]);
      expect(await cacheMismatches(other, db, STATE)).toEqual([]);
    }, 60_000);
  },
);
