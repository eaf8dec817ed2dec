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
import { describeEachDatabase } from '../support/databases.js';
import {
  createAppTables,
  ReaderDataStore,
  TypingStream,
  type AppDB,
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

async function setUp(db: DatabaseHandle<AppDB>) {
  await createAppTables(db);
  const writer = await openWriter(db);
  const started = await startServer(writer);
  cleanups.push(() => started.server.stop());
  return { writer, ...started };
}

const ROOMS = ['!a', '!b', '!c'];

describeEachDatabase('replication client', (backend) => {
  it('catches up what was written before it connected, then follows live writes; caches equal the database', async () => {
    const db = await backend.open<AppDB>();
    const { writer, port } = await setUp(db);
    await bulkReceipts(writer, 120, ROOMS);
    await writer.addTag('@u1', '!a', 'm.fav');
    const reader = await openReader(db);
    // Cached before replication starts, so stale unless catch-up invalidates it.
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
  });

  it('replays the in-memory stream on connect and resets it (dropping what it feeds) on reconnect', async () => {
    const db = await backend.open<AppDB>();
    const { writer, port, server } = await setUp(db);
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
    // The writer restarts: its in-memory stream starts again from token 0.
    await server.stop();
    const restarted = await openWriter(db);
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
