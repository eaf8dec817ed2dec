// The worker's side: catch-up from the database, live rows, the RDATA rules
// (unpositioned, stale, unknown stream, a batch dropped by POSITION),
// in-memory streams (replay and reset), readiness, waiting for a position,
// metrics, and the reconnection backoff.
import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/runtime/database.js';
import { createServerContext } from '../../src/runtime/server-context.js';
import { openStore } from '../../src/runtime/store.js';
import { backoffDelay } from '../../src/replication/backoff.js';
import type { ReplicationClient } from '../../src/replication/client.js';
import { onStreamReset } from '../../src/replication/stream-reset.js';
import { describeEachDatabase, type Backend } from '../support/databases.js';
import { cached } from '../../src/runtime/cache/index.js';
import { onReplication } from '../../src/runtime/replication-handlers.js';
import {
  createAppTables,
  ReaderDataStore,
  ReceiptsStream,
  TypingStream,
  type AppDB,
  type ReceiptRow,
} from '../support/receipts-app.js';
import {
  bulkReceipts,
  cacheMismatches,
  FakeWriter,
  openReader,
  openWriter,
  startClient,
  startServer,
  waitForWriter,
  writeReceipts,
  writerTokens,
} from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A worker whose typing state is dropped on a reset of the typing stream. */
class ResettingReader extends ReaderDataStore {
  resets: string[] = [];

  @onStreamReset(TypingStream)
  resetTyping(instance: string): void {
    this.resets.push(instance);
    this.typing.clear();
  }
}

function client(...args: Parameters<typeof startClient>): ReplicationClient {
  const c = startClient(...args);
  cleanups.push(() => c.stop());
  return c;
}

/** The app's tables and a writer on `db` (closed before `backend` drops `db`), with a server. */
async function setUp(backend: Backend, db: DatabaseHandle<AppDB>) {
  await createAppTables(db);
  const writer = backend.track(await openWriter(db));
  const started = await startServer(writer);
  cleanups.push(() => started.server.stop());
  return { writer, ...started };
}

const ROOMS = ['!a', '!b', '!c'];

/** A worker with one more cached read, whose lookups can be held after they read the database. */
class GatedReader extends ReaderDataStore {
  gate: Promise<void> | undefined;
  usersRead = 0;

  @cached()
  async getReceiptUsers(roomId: string): Promise<string[]> {
    const rows = await this.dbConn
      .selectFrom('receipts')
      .select('user_id')
      .where('room_id', '=', roomId)
      .execute();
    this.usersRead++;
    await this.gate;
    return rows.map((r) => r.user_id).sort();
  }

  @onReplication(ReceiptsStream)
  onReceiptUsers(rows: readonly ReceiptRow[]): void {
    for (const row of rows) this.invalidate(this.getReceiptUsers, row.roomId);
  }
}

async function until(predicate: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The sum of a client counter's values whose labels include `labels`. */
async function counter(
  c: ReplicationClient,
  name: 'reconnects' | 'streamResets' | 'rdataDropped' | 'rowsApplied' | 'handlerFailures',
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await (
    c.metrics[name] as {
      get(): Promise<{ values: Array<{ labels: Record<string, string | number>; value: number }> }>;
    }
  ).get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

describeEachDatabase('replication client', (backend) => {
  it('catches up what was written while it was away, then follows live writes; caches equal the database', async () => {
    const db = await backend.open<AppDB>();
    const { writer, port } = await setUp(backend, db);
    await writer.insertReceipt('!a', '@u0', '$first');
    const reader = await openReader(db);
    // Once positioned, the store catches up what it misses (it started at the writer's position).
    const away = client(reader, port);
    await away.ready;
    await away.stop();
    await bulkReceipts(writer, 120, ROOMS);
    await writer.addTag('@u1', '!a', 'm.fav');
    // Cached before replication resumes, so stale unless catch-up invalidates it.
    for (const room of ROOMS) await reader.getReceiptsForRoom(room);
    await reader.getTagsForRoom('@u1', '!a');
    const c = client(reader, port, {}, { pageSize: 50 });
    await c.ready;
    expect(reader.streamPositions.get('receipts', 'main')).toBe(
      writer.receiptsIdGen.currentToken(),
    );
    expect(c.metrics.catchUpPages.get).toBeDefined();
    expect(await cacheMismatches(reader, db, { rooms: ROOMS, tagged: [['@u1', '!a']] })).toEqual(
      [],
    );
    await writeReceipts(writer, 20, ROOMS, 'new');
    await writer.addTag('@u1', '!a', 'm.low');
    await waitForWriter(c, writerTokens(writer));
    expect(await cacheMismatches(reader, db, { rooms: ROOMS, tagged: [['@u1', '!a']] })).toEqual(
      [],
    );
    const metrics = await c.metrics.registry.getMetricsAsJSON();
    const value = (name: string, labels: Record<string, string>) =>
      metrics
        .find((m) => m.name === name)
        ?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
    expect(
      value('storesplit_replication_catch_up_pages_total', { stream: 'receipts' }),
    ).toBeGreaterThanOrEqual(3);
    // Live writes arrive as RDATA on the same link (a reconnect would turn them into catch-up).
    expect(value('storesplit_replication_reconnects_total', {})).toBe(0);
    expect(value('storesplit_replication_rdata_received_total', { stream: 'receipts' })).toBe(20);
    expect(value('storesplit_replication_rows_applied_total', { stream: 'receipts' })).toBe(140);
    expect(value('storesplit_replication_lag', { stream: 'receipts', instance: 'main' })).toBe(0);
    expect(value('storesplit_replication_connected', {})).toBe(1);
    expect(value('storesplit_replication_start_jumps_total', { stream: 'receipts' })).toBe(
      undefined,
    );
  });

  it('a handler that throws during catch-up or live costs no reconnection, loses no later row, and is counted', async () => {
    const db = await backend.open<AppDB>();
    const { writer, port } = await setUp(backend, db);
    class AuditingReader extends ReaderDataStore {
      @onReplication(ReceiptsStream)
      audit(rows: readonly ReceiptRow[]): void {
        if (rows.some((r) => r.roomId === '!bad')) throw new Error('audit failed');
      }
    }
    const reader = await openStore(
      AuditingReader,
      db,
      createServerContext({ instanceName: 'reader1', role: 'worker' }),
    );
    const away = client(reader, port);
    await away.ready;
    await away.stop();
    // Cached now, so stale after the writes unless catch-up invalidates it.
    expect(await reader.getReceiptsForRoom('!a')).toEqual({});
    await writer.insertReceipt('!bad', '@u', '$1');
    await writer.insertReceipt('!a', '@u', '$2');
    expect(await reader.getReceiptsForRoom('!a')).toEqual({});
    const c = client(reader, port);
    await c.ready;
    expect(reader.streamPositions.get('receipts', 'main')).toBe(2);
    expect(await reader.getReceiptsForRoom('!a')).toEqual({ '@u': '$2' });
    // Live rows still flow on the same link.
    await writer.insertReceipt('!b', '@u', '$3');
    await waitForWriter(c, writerTokens(writer));
    expect(await reader.getReceiptsForRoom('!b')).toEqual({ '@u': '$3' });
    expect(await counter(c, 'handlerFailures', { stream: 'receipts' })).toBe(1);
    await writer.insertReceipt('!bad', '@u', '$4');
    await waitForWriter(c, writerTokens(writer));
    expect(await counter(c, 'handlerFailures', { stream: 'receipts' })).toBe(2);
    expect(await counter(c, 'reconnects')).toBe(0);
  });

  it('stop() during a catch-up returns once it has stopped: the position no longer moves', async () => {
    const db = await backend.open<AppDB>();
    const { writer, port } = await setUp(backend, db);
    await writer.insertReceipt('!a', '@u0', '$first');
    let stopping: Promise<void> | undefined;
    const started: { client?: ReplicationClient } = {};
    class StoppingReader extends ReaderDataStore {
      // Stops the client from inside the catch-up, at a known token.
      @onReplication(ReceiptsStream)
      stopAt(_rows: readonly ReceiptRow[], token: number): void {
        if (token === 500) stopping = started.client!.stop();
      }
    }
    const reader = await openStore(
      StoppingReader,
      db,
      createServerContext({ instanceName: 'reader1', role: 'worker' }),
    );
    const away = client(reader, port);
    await away.ready;
    await away.stop();
    await bulkReceipts(writer, 3_000, ROOMS);
    started.client = client(reader, port, {}, { pageSize: 10 });
    await until(() => Promise.resolve(stopping !== undefined));
    await stopping;
    const stoppedAt = reader.streamPositions.get('receipts', 'main');
    expect(stoppedAt).toBeGreaterThanOrEqual(500);
    expect(stoppedAt).toBeLessThan(3_001);
    // Give a catch-up that outlived stop() the time to show itself.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reader.streamPositions.get('receipts', 'main')).toBe(stoppedAt);
  });

  it('a store that applied nothing starts at the writer’s position: no catch-up of a 10,000-row stream, and nothing cached (or in flight) before the jump is served stale', async () => {
    const db = await backend.open<AppDB>();
    const { writer, port } = await setUp(backend, db);
    await bulkReceipts(writer, 10_000, ROOMS);
    await writer.addTag('@u1', '!a', 'm.fav');
    const reader = await openStore(
      GatedReader,
      db,
      createServerContext({ instanceName: 'reader1', role: 'worker' }),
    );
    // Filled before the worker follows the writer.
    for (const room of ROOMS) await reader.getReceiptsForRoom(room);
    await reader.getTagsForRoom('@u1', '!a');
    // And a lookup that has read the database but is still in flight when the jump comes.
    let release!: () => void;
    reader.gate = new Promise((resolve) => (release = resolve));
    const inFlight = reader.getReceiptUsers('!a');
    while (reader.usersRead === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // Writes the worker hears of only as the writer's position.
    await writer.insertReceipt('!a', '@late', '$late');
    await writer.addTag('@u1', '!a', 'm.low');
    const c = client(reader, port);
    await c.ready;
    release();
    expect(await inFlight).not.toContain('@late'); // it started before the write: fine
    expect(reader.streamPositions.get('receipts', 'main')).toBe(
      writer.receiptsIdGen.currentToken(),
    );
    const metrics = await c.metrics.registry.getMetricsAsJSON();
    const value = (name: string, stream: string) =>
      metrics.find((m) => m.name === name)?.values.find((v) => v.labels.stream === stream)?.value ??
      0;
    expect(value('storesplit_replication_catch_up_pages_total', 'receipts')).toBe(0);
    expect(value('storesplit_replication_catch_up_pages_total', 'caches')).toBe(0);
    expect(value('storesplit_replication_rows_applied_total', 'receipts')).toBe(0);
    expect(value('storesplit_replication_start_jumps_total', 'receipts')).toBe(1);
    expect(value('storesplit_replication_start_jumps_total', 'caches')).toBe(1);
    const state = { rooms: ROOMS, tagged: [['@u1', '!a']] as Array<[string, string]> };
    expect(await cacheMismatches(reader, db, state)).toEqual([]);
    // The in-flight lookup stored nothing: the next read is fresh.
    expect(await reader.getReceiptUsers('!a')).toContain('@late');
    expect(reader.usersRead).toBe(2);
    // From the jump on, it follows rows as usual.
    await writeReceipts(writer, 5, ROOMS, 'after');
    await writer.addTag('@u1', '!a', 'm.after');
    await waitForWriter(c, writerTokens(writer));
    expect(await cacheMismatches(reader, db, state)).toEqual([]);
    expect(await reader.getReceiptUsers('!a')).toContain('@u3');
  });

  it('replays the in-memory stream on connect, keeps it across a reconnection, and resets it (dropping what it feeds) when the writer restarts', async () => {
    const db = await backend.open<AppDB>();
    const { writer, port, server } = await setUp(backend, db);
    writer.setTyping('!a', ['@alice']);
    const reader = await openStore(
      ResettingReader,
      db,
      createServerContext({ instanceName: 'reader1', role: 'worker' }),
    );
    const c = client(reader, port);
    await c.ready;
    await c.waitForStreamPosition('typing', 'main', 1, 5_000);
    expect(reader.typing.get('!a')).toEqual(['@alice']);
    expect(reader.resets).toEqual([]); // nothing applied or forgotten before: no reset
    // The link drops, the writer lives on: the same epoch, nothing lost, no reset.
    await server.stop();
    const same = await startServer(writer, { port });
    cleanups.push(() => same.server.stop());
    writer.setTyping('!c', ['@carol']);
    await c.waitForStreamPosition('typing', 'main', 2, 5_000);
    expect(reader.resets).toEqual([]);
    expect(reader.typing.get('!a')).toEqual(['@alice']);
    expect(await counter(c, 'reconnects')).toBe(1);
    // The writer restarts: its in-memory stream starts again from token 0, in a new epoch.
    // The old run stops first (one live writer per instance).
    await same.server.stop();
    await writer.close();
    const restarted = await openWriter(db);
    backend.track(restarted);
    restarted.setTyping('!b', ['@bob']);
    const again = await startServer(restarted, { port });
    cleanups.push(() => again.server.stop());
    await c.waitForStreamPosition('receipts', 'main', 0, 5_000);
    await new Promise<void>((resolve) => {
      const check = () => (reader.typing.has('!b') ? resolve() : setTimeout(check, 10));
      check();
    });
    expect(reader.resets).toEqual(['main']);
    // The restarted writer never said !a was typing: the reset dropped it.
    expect([...reader.typing]).toEqual([['!b', ['@bob']]]);
    expect(await counter(c, 'streamResets')).toBe(1);
    // The position follows the new run's tokens down, so a wait for the new
    // run's next token ends only once its row is applied.
    expect(reader.streamPositions.get('typing', 'main')).toBe(1);
    const next = c.waitForStreamPosition('typing', 'main', 2, 5_000);
    restarted.setTyping('!d', ['@dan']);
    await next;
    expect(reader.typing.get('!d')).toEqual(['@dan']);
  });
});

describe('replication client rules, against a scripted writer', () => {
  async function scripted(db: DatabaseHandle<AppDB>) {
    await createAppTables(db);
    const fake = await FakeWriter.listen();
    cleanups.push(() => fake.close());
    const reader = await openReader(db);
    const c = client(reader, fake.port);
    await fake.waitForReceived('REPLICATE');
    return { fake, reader, c };
  }

  describeEachDatabase('rules', (backend) => {
    it('drops RDATA before the stream is positioned, at or below its token, and for unknown streams; ignores unknown POSITIONs', async () => {
      const db = await backend.open<AppDB>();
      const { fake, reader, c } = await scripted(db);
      await reader.getReceiptsForRoom('!a');
      fake.send(
        'RDATA receipts main 1 {"roomId":"!a","userId":"@u"}', // not positioned yet: dropped
        'POSITION no_such_stream main 0 10',
        'RDATA no_such_stream main 11 {"x":1}',
        'POSITION receipts main 0 0',
        'POSITION caches main 0 0',
        'POSITION typing main 0 0',
        'RDATA receipts main 2 {"roomId":"!a","userId":"@u"}',
        'RDATA receipts main 2 {"roomId":"!b","userId":"@u"}', // stale: dropped
      );
      await c.ready;
      await c.waitForStreamPosition('receipts', 'main', 2, 5_000);
      const dropped = await c.metrics.rdataDropped.get();
      const reasons = Object.fromEntries(
        dropped.values.map((v) => [`${v.labels.stream}/${v.labels.reason}`, v.value]),
      );
      expect(reasons).toEqual({
        'receipts/not-positioned': 1,
        'no_such_stream/unknown-stream': 1,
        'receipts/stale': 1,
      });
      expect(
        (await c.metrics.rowsApplied.get()).values.find((v) => v.labels.stream === 'receipts')
          ?.value,
      ).toBe(1);
      expect(c.connected).toBe(true);
    });

    it('drops an open batch when a POSITION for its stream arrives, and catches the rows up from the database', async () => {
      const db = await backend.open<AppDB>();
      const { fake, reader, c } = await scripted(db);
      fake.send(
        'POSITION receipts main 0 0',
        'POSITION caches main 0 0',
        'POSITION typing main 0 0',
      );
      await c.ready;
      for (const room of ['!a', '!b']) expect(await reader.getReceiptsForRoom(room)).toEqual({});
      await db
        .insertInto('receipts')
        .values(
          ['!a', '!b'].map((room) => ({
            stream_id: 1,
            instance_name: 'main',
            room_id: room,
            user_id: '@u',
            event_id: '$1',
          })),
        )
        .execute();
      const seen: number[] = [];
      const invalidate = reader.invalidate.bind(reader);
      reader.invalidate = ((fn: typeof reader.getReceiptsForRoom, room: string) => {
        seen.push(reader.streamPositions.get('receipts', 'main'));
        invalidate(fn, room);
      }) as typeof reader.invalidate;
      // The batch is cut by a POSITION whose prev is ahead: catch-up applies the token once, in full.
      fake.send(
        'RDATA receipts main batch {"roomId":"!a","userId":"@u"}',
        'POSITION receipts main 1 1',
        'RDATA receipts main 1 {"roomId":"!b","userId":"@u"}',
      );
      await c.waitForStreamPosition('receipts', 'main', 1, 5_000);
      expect(seen).toEqual([0, 0]); // both rows, once, before the position moved
      for (const room of ['!a', '!b'])
        expect(await reader.getReceiptsForRoom(room)).toEqual({ '@u': '$1' });
    });

    it('in-memory POSITIONs: one of the same epoch below the token is a replay (no reset), a gap or a new epoch resets, and without an epoch the first on a link does', async () => {
      const db = await backend.open<AppDB>();
      const { fake, reader, c } = await scripted(db);
      const typing = (token: number, room: string) =>
        `RDATA typing main ${token} {"roomId":"${room}","userIds":["@a"]}`;
      fake.send(
        'POSITION receipts main 0 0',
        'POSITION caches main 0 0',
        'POSITION typing main 0 0 e1',
        typing(1, '!a'),
        typing(2, '!b'),
      );
      await c.ready;
      await c.waitForStreamPosition('typing', 'main', 2, 5_000);
      // Another worker's REPLICATE answered on Redis (or our own reconnection): a replay.
      fake.send('POSITION typing main 1 1 e1', typing(2, '!b'), typing(3, '!c'));
      await c.waitForStreamPosition('typing', 'main', 3, 5_000);
      expect(await counter(c, 'streamResets')).toBe(0);
      expect([...reader.typing.keys()]).toEqual(['!a', '!b', '!c']);
      expect(await counter(c, 'rdataDropped', { reason: 'stale' })).toBe(1);
      // Rows of this epoch the writer no longer has.
      fake.send('POSITION typing main 10 10 e1');
      await until(async () => (await counter(c, 'streamResets')) === 1);
      // A restarted writer: a new epoch, tokens from 0 again.
      fake.send('POSITION typing main 0 0 e2', typing(1, '!d'));
      await until(async () => (await counter(c, 'streamResets')) === 2);
      await until(async () => (await counter(c, 'rowsApplied', { stream: 'typing' })) === 4);
      // A writer that sends no epoch: the first POSITION on each link resets.
      fake.send('ERROR server-stopping: bye');
      await fake.waitForReceived('REPLICATE', 2);
      fake.send('POSITION typing main 0 0');
      await until(async () => (await counter(c, 'streamResets')) === 3);
    });

    it('resolves ready only when every followed stream is positioned', async () => {
      const db = await backend.open<AppDB>();
      const { fake, c } = await scripted(db);
      let ready = false;
      void c.ready.then(() => (ready = true));
      fake.send('POSITION receipts main 0 0', 'POSITION caches main 0 0');
      await fake.waitForReceived('REPLICATE');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(ready).toBe(false);
      fake.send('POSITION typing main 0 0');
      await c.ready;
    });

    it('reconnects after the writer drops it, and sends REPLICATE again', async () => {
      const db = await backend.open<AppDB>();
      const { fake, c } = await scripted(db);
      fake.send('ERROR server-stopping: bye');
      await fake.waitForReceived('REPLICATE', 2);
      expect(c.lastError).toBe('peer sent ERROR server-stopping: bye');
      expect((await c.metrics.reconnects.get()).values[0]?.value).toBe(1);
      expect(fake.received.filter((l) => l === 'NAME reader1')).toHaveLength(2);
    });
  });
});

describe('reconnection backoff', () => {
  it('grows exponentially to a ceiling, with jitter between half the ceiling and the ceiling', () => {
    const opts = { initialDelayMs: 100, maxDelayMs: 1_000, factor: 2 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, opts, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect([1, 2, 3].map((n) => backoffDelay(n, opts, () => 0))).toEqual([50, 100, 200]);
  });
});
