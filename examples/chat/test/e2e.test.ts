// End to end through the HTTP API, on a writer, two readers and a consumer:
// in this process on PGlite (always; also over Redis when REDIS_URL is set),
// and as one OS process per role on Postgres (when DATABASE_URL is set).
// Replication is the real transport in each. No test depends on timing:
// waits are for positions.
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessCluster, type Cluster } from '../src/cluster.js';
import type { ChatDB } from '../src/db.js';
import { demo } from '../src/demo.js';
import { verifyCluster } from '../src/verify.js';
import { DATABASE_URL, REDIS_URL, startTestCluster } from './helpers.js';

interface Backend {
  readonly title: string;
  readonly skip: boolean;
  start(): Promise<Cluster & { readonly db?: unknown }>;
}

const backends: Backend[] = [
  { title: 'in process on PGlite', skip: false, start: () => startTestCluster() },
  {
    title: REDIS_URL
      ? 'in process on PGlite, replication over Redis'
      : 'in process on PGlite, replication over Redis (skipped: REDIS_URL is not set)',
    skip: !REDIS_URL,
    start: () => startTestCluster({ transport: 'redis', redisUrl: REDIS_URL! }),
  },
  {
    title: DATABASE_URL
      ? 'one OS process per role on Postgres'
      : 'one OS process per role on Postgres (skipped: DATABASE_URL is not set)',
    skip: !DATABASE_URL,
    start: () => startProcessCluster(DATABASE_URL!),
  },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`chat end to end, ${backend.title}`, () => {
    let cluster: Cluster;
    let roomId: string;

    beforeAll(async () => {
      cluster = await backend.start();
      const [r1, r2] = cluster.readers.map((r) => r.client);
      ({ roomId } = await r1!.createRoom('@alice', 'e2e'));
      await r1!.join(roomId, '@bob');
      await r2!.waitFor('events', (await r1!.positions()).positions.events!);
    }, 180_000);

    afterAll(async () => {
      await cluster?.stop();
    }, 60_000);

    it('a write through one reader is visible on the other once it has waited for the position', async () => {
      const [r1, r2] = cluster.readers.map((r) => r.client);
      // Fill reader2's caches first, so that what it serves after must come from invalidation.
      await r2!.messages(roomId);
      await r2!.receipts(roomId);
      const sent = await r1!.send(roomId, '@alice', 'across workers');
      await r2!.waitFor('events', sent.token);
      expect((await r2!.messages(roomId)).chunk[0]!.eventId).toBe(sent.eventId);

      const receipt = await r1!.receipt(roomId, '@bob', sent.eventId);
      await r2!.waitFor('receipts', receipt.token);
      expect((await r2!.receipts(roomId)).receipts).toContainEqual(
        expect.objectContaining({ userId: '@bob', eventId: sent.eventId }),
      );

      await r2!.sync('@bob'); // cache bob's tags on reader2
      const tags = await r1!.putAccountData('@bob', 'm.tag', { tags: { 'u.e2e': {} } }, roomId);
      await r2!.waitFor('account_data', tags.token);
      expect((await r2!.sync('@bob')).rooms[roomId]!.accountData).toEqual({
        'm.tag': { tags: { 'u.e2e': {} } },
      });
    });

    it('a long-polling sync on one reader wakes when a message or typing arrives through the other', async () => {
      const [r1, r2] = cluster.readers.map((r) => r.client);
      const { next_batch } = await r2!.sync('@bob');
      const polling = r2!.sync('@bob', { since: next_batch, timeout: 60_000 });
      const sent = await r1!.send(roomId, '@alice', 'wake up, bob');
      const woken = await polling;
      expect(woken.rooms[roomId]!.timeline.events.map((e) => e.eventId)).toEqual([sent.eventId]);

      const typingPoll = r2!.sync('@bob', { since: woken.next_batch, timeout: 60_000 });
      await r1!.typing(roomId, '@alice', true);
      expect((await typingPoll).rooms[roomId]!.typing).toEqual(['@alice']);
      await r1!.typing(roomId, '@alice', false);
    });

    it('a sync token from one reader is honoured by the other', async () => {
      const [r1, r2] = cluster.readers.map((r) => r.client);
      const sent = await r1!.send(roomId, '@alice', 'token handover');
      const { next_batch } = await r1!.sync('@bob');
      // reader2 may be behind reader1's token: it waits to reach it, then answers from there.
      const later = await r1!.send(roomId, '@alice', 'after the token');
      const next = await r2!.sync('@bob', { since: next_batch, timeout: 60_000 });
      const ids = next.rooms[roomId]!.timeline.events.map((e) => e.eventId);
      expect(ids).toContain(later.eventId);
      expect(ids).not.toContain(sent.eventId);
    });

    it('a reader killed during the workload restarts, catches up and agrees with the writer', async () => {
      const writer = cluster.writer.client;
      const r1 = cluster.readers[0]!.client;
      const users = ['@alice', '@bob'];
      let stop = false;
      let writes = 0;
      const waiters: Array<{ n: number; resolve: () => void }> = [];
      // Writes keep coming through reader1 and the writer while reader2 is down and coming back.
      const load = (async () => {
        for (let i = 0; !stop; i++) {
          const via = i % 3 === 0 ? writer : r1;
          const { eventId } = await via.send(roomId, users[i % 2]!, `load ${i}`);
          if (i % 5 === 0) await via.receipt(roomId, users[(i + 1) % 2]!, eventId);
          if (i % 7 === 0) await via.putAccountData(users[i % 2]!, 'org.example.count', { i });
          writes++;
          for (const w of waiters) if (writes >= w.n) w.resolve();
        }
      })();
      /** Resolves after `n` more writes (or fails with the load). */
      const moreWrites = (n: number) =>
        Promise.race([
          load,
          new Promise<void>((resolve) => waiters.push({ n: writes + n, resolve })),
        ]);
      await moreWrites(5);
      await cluster.stopReader(1, 'kill');
      await moreWrites(10);
      const restarted = (await cluster.startReader(1)).client;
      await moreWrites(5);
      stop = true;
      await load;

      const verify = await verifyCluster(cluster, { rooms: [roomId], users });
      expect(verify.disagreements).toEqual([]);
      expect(verify.consistency.flatMap((c) => c.mismatches)).toEqual([]);
      expect(verify.consumer?.caughtUp).toBe(true);
      const latest = (await writer.messages(roomId, { limit: 1 })).chunk[0]!;
      expect((await restarted.messages(roomId, { limit: 1 })).chunk[0]!.eventId).toBe(
        latest.eventId,
      );
    }, 180_000);

    it('the consumer keeps its position in its own table', async () => {
      const { positions } = await cluster.writer.client.positions();
      const verify = await verifyCluster(cluster, { rooms: [roomId], users: ['@alice'] });
      expect(verify.consumer).toMatchObject({ caughtUp: true });
      expect(verify.consumer!.position).toBeGreaterThanOrEqual(positions.events!);
      const db = (cluster as { db?: Kysely<ChatDB> }).db;
      if (db) {
        const { rows } = await sql<{ stream_id: string | number }>`
          SELECT stream_id FROM consumer_stream_positions
          WHERE consumer_name = 'consumer1' AND stream_name = 'events'`.execute(db);
        expect(Number(rows[0]!.stream_id)).toBe(verify.consumer!.position);
      }
    }, 60_000);
  });
}

describe('npm start (the demo)', () => {
  it('runs the in-process demo, verifies agreement and prints its summary', async () => {
    const lines: string[] = [];
    const result = await demo({ messagesPerUser: 3, print: (line) => lines.push(line) });
    expect(result.verify.disagreements).toEqual([]);
    expect(result.verify.ok).toBe(true);
    expect(lines[0]).toMatch(/^storesplit chat demo: in-process: embedded PGlite/);
    expect(lines.some((l) => l.startsWith('replication lag'))).toBe(true);
    expect(lines.some((l) => l.startsWith('cache hit rates'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^OK: in-process demo/);
  }, 180_000);
});
