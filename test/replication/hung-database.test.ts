// A database that stops answering without failing (a black-holed link: `pg`
// has no query timeout, so a query on it never returns), on real Postgres
// behind a real TCP proxy that holds the connection. Neither side may hang
// in `stop()`, a worker may not stay connected, stale and silent, and the
// commands a worker holds while a catch-up waits stay bounded.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/runtime/database.js';
import type { AppDB } from '../support/receipts-app.js';
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
} from './fault-kit.js';
import { TcpProxy } from './fixtures/proxy.js';
import {
  cacheMismatches,
  openReader,
  openWriter,
  RawClient,
  startClient,
  startServer,
  waitForWriter,
  writeReceipts,
  writerTokens,
} from './helpers.js';

runCleanupsAfterEach();

/** The schema's database seen through a TCP proxy (one pooled connection), which a test can hold. */
async function behindProxy(
  schema: string,
): Promise<{ db: DatabaseHandle<AppDB>; proxy: TcpProxy }> {
  const proxy = await TcpProxy.start(Number(new URL(url!).port || 5432));
  cleanups.push(() => proxy.close());
  const proxied = new URL(url!);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  const db = await createDatabase<AppDB>({ url: proxied.toString(), schema, poolSize: 1 });
  cleanups.push(() => db.destroy());
  // Open the pool's one connection now: `hold()` holds the connections that exist.
  await sql`SELECT 1`.execute(db);
  return { db, proxy };
}

/**
 * A writer serving on a port, and a reader behind a proxy that followed it
 * once (with its caches filled when `fill`) and stopped: the next client
 * starts with a catch-up, which a test can make hang.
 */
async function readerThatFollowedOnce(fill: boolean) {
  const { db, schema } = await openSchema();
  const writer = await openWriter(db);
  cleanups.push(() => writer.close());
  const { port, server } = await startServer(writer);
  track(server);
  const { db: readerDb, proxy } = await behindProxy(schema);
  const reader = await openReader(readerDb);
  const first = startClient(reader, port);
  await first.ready;
  if (fill) await readAll(reader);
  await first.stop();
  return { db, writer, port, readerDb, proxy, reader };
}

describe.skipIf(!url)(
  `a hung database query${url ? '' : ' (skipped: DATABASE_URL is not set)'}`,
  () => {
    it('a catch-up page that hangs fails the catch-up after pageTimeoutMs (catch-up-failed, reconnect); once the database answers the worker catches up', async () => {
      const { db, writer, port, proxy, reader } = await readerThatFollowedOnce(true);
      await writeReceipts(writer, 5, ROOMS, 'missed');
      const release = proxy.hold();
      const client = track(startClient(reader, port, {}, { pageTimeoutMs: 300 }));
      await until(() => /^catch-up-failed/.test(client.lastError ?? ''));
      expect(client.lastError).toMatch(/took longer than 300 ms/);
      expect(reader.streamPositions.get('receipts', 'main')).toBeLessThan(
        writer.receiptsIdGen.currentToken(),
      );
      release();
      await writeReceipts(writer, 5, ROOMS, 'after');
      await waitForWriter(client, writerTokens(writer));
      expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
      expect(await counterValue(client, 'reconnects')).toBeGreaterThanOrEqual(1);
    });

    it('live commands waiting behind a hung catch-up are bounded: past maxPendingCommands they are dropped (queue-full), and the worker asks REPLICATE again and catches up', async () => {
      const { db, writer, port, proxy, reader } = await readerThatFollowedOnce(true);
      await writeReceipts(writer, 3, ROOMS, 'missed');
      const release = proxy.hold();
      const client = track(startClient(reader, port, {}, { maxPendingCommands: 20 }));
      await until(async () => (await counterValue(client, 'positionReceived')) >= 1);
      await writeReceipts(writer, 100, ROOMS, 'live');
      await until(
        async () => (await counterValue(client, 'rdataReceived', { stream: 'receipts' })) >= 100,
      );
      // At most 20 waited; the rest (and the 20, at the overflow) were dropped.
      expect(
        await counterValue(client, 'rdataDropped', { stream: 'receipts', reason: 'queue-full' }),
      ).toBeGreaterThanOrEqual(80);
      expect(client.connected).toBe(true);
      release();
      await waitForWriter(client, writerTokens(writer));
      expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
      // The worker caught up on the same link, after asking again.
      expect(await counterValue(client, 'reconnects')).toBe(0);
    });

    it('client.stop() resolves while a catch-up page hangs (after stopTimeoutMs), and the page that comes back later applies nothing', async () => {
      const { writer, port, readerDb, proxy, reader } = await readerThatFollowedOnce(false);
      await writeReceipts(writer, 5, ROOMS, 'missed');
      const release = proxy.hold();
      const client = startClient(reader, port, {}, { stopTimeoutMs: 300 });
      await until(async () => (await counterValue(client, 'positionReceived')) >= 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const before = reader.streamPositions.get('receipts', 'main');
      // Resolves while the proxy still holds the page's query (released only
      // below): a stop that waited for the database would never return.
      await client.stop();
      release();
      await sql`SELECT 1`.execute(readerDb); // the held query has come back by now
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(reader.streamPositions.get('receipts', 'main')).toBe(before);
      expect(before).toBeLessThan(writer.receiptsIdGen.currentToken());
    });

    it('server.stop() resolves while its read of new rows hangs (after stopTimeoutMs); the late rows are not sent', async () => {
      const { db, schema } = await openSchema();
      const { db: writerDb, proxy } = await behindProxy(schema);
      const writer = await openWriter(writerDb);
      cleanups.push(() => writer.close());
      const { port, server } = await startServer(writer, {}, { stopTimeoutMs: 300 });
      const peer = await RawClient.connect(port);
      cleanups.push(() => peer.close());
      peer.send('REPLICATE');
      await peer.waitFor((l) => l.startsWith('POSITION receipts'));
      const release = proxy.hold();
      cleanups.push(release);
      // The ID comes from the direct connection; the server reads its row through the held one.
      await db.runInteraction('held', async (txn) => {
        const id = await writer.receiptsIdGen.nextIdInTxn(txn);
        await txn
          .insertInto('receipts')
          .values({
            stream_id: id,
            instance_name: 'main',
            room_id: '!r',
            user_id: '@u',
            event_id: '$e',
          })
          .execute();
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Resolves while the proxy still holds the read (released only below).
      await server.stop();
      release();
      await sql`SELECT 1`.execute(writerDb);
      await peer.closed;
      expect(peer.commands().filter((l) => l.startsWith('RDATA'))).toEqual([]);
    });

    it('a read of new rows that hangs past readTimeoutMs counts as failed: the writer announces POSITION t t and workers read the row themselves', async () => {
      const { db, schema } = await openSchema();
      const { db: writerDb, proxy } = await behindProxy(schema);
      const writer = await openWriter(writerDb);
      cleanups.push(() => writer.close());
      const { port, server } = await startServer(writer, {}, { readTimeoutMs: 300 });
      track(server);
      const peer = await RawClient.connect(port);
      cleanups.push(() => peer.close());
      peer.send('REPLICATE');
      await peer.waitFor((l) => l.startsWith('POSITION receipts'));
      const release = proxy.hold();
      cleanups.push(release);
      const token = await db.runInteraction('held', async (txn) => {
        const id = await writer.receiptsIdGen.nextIdInTxn(txn);
        await txn
          .insertInto('receipts')
          .values({
            stream_id: id,
            instance_name: 'main',
            room_id: '!r',
            user_id: '@u',
            event_id: '$e',
          })
          .execute();
        return id;
      });
      await peer.waitFor((l) => l === `POSITION receipts main ${token} ${token}`);
      expect(
        (await server.metrics.fetchFailures.get()).values.reduce((sum, v) => sum + v.value, 0),
      ).toBe(1);
      release();
    });
  },
);
