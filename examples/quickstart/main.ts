// `npm start`: the runtime in one minute, on embedded PGlite with nothing to
// install. A writer composition and a worker composition share one database;
// the writer announces receipts on a stream and tags through the caches
// stream, and the worker's caches stay stale until it applies those rows,
// exactly what the replication transport automates.
import { sql } from 'kysely';
import {
  cached,
  CachesStream,
  catchUpStream,
  createDatabase,
  createServerContext,
  defineStream,
  migrate,
  onReplication,
  openStore,
  SQLBaseStore,
  type DatabaseHandle,
  type StoreBase,
} from '../../src/index.js';

interface DB {
  receipts: { stream_id: number; room_id: string; user_id: string; event_id: string };
  room_tags: { user_id: string; room_id: string; tag: string };
}

const ReceiptsStream = defineStream<{ roomId: string }>({
  name: 'receipts',
  tables: ['receipts'],
  getUpdates: async (db: DatabaseHandle<DB>, from, to, limit) =>
    (
      await db
        .selectFrom('receipts')
        .select(['stream_id', 'room_id'])
        .where('stream_id', '>', from)
        .where('stream_id', '<=', to)
        .orderBy('stream_id')
        .limit(limit)
        .execute()
    ).map((r) => ({ token: Number(r.stream_id), row: { roomId: r.room_id } })),
});

function ReceiptsWorkerStore<B extends StoreBase<DB>>(Base: B) {
  abstract class ReceiptsWorkerStore extends Base {
    @cached()
    async getReceiptsForRoom(roomId: string): Promise<string[]> {
      const rows = await this.dbConn
        .selectFrom('receipts')
        .select('user_id')
        .where('room_id', '=', roomId)
        .orderBy('user_id')
        .execute();
      return rows.map((r) => r.user_id);
    }

    @cached()
    async getTags(userId: string, roomId: string): Promise<string[]> {
      const rows = await this.dbConn
        .selectFrom('room_tags')
        .select('tag')
        .where('user_id', '=', userId)
        .where('room_id', '=', roomId)
        .execute();
      return rows.map((r) => r.tag);
    }

    @onReplication(ReceiptsStream)
    onReceipts(rows: readonly { roomId: string }[]): void {
      for (const row of rows) this.invalidate(this.getReceiptsForRoom, row.roomId);
    }
  }
  return ReceiptsWorkerStore;
}

function ReceiptsStore<B extends StoreBase<DB>>(Base: B) {
  abstract class ReceiptsStore extends ReceiptsWorkerStore(Base) {
    readonly receiptsIdGen = this.streamIdGenerator(ReceiptsStream);

    async insertReceipt(roomId: string, userId: string, eventId: string): Promise<number> {
      return this.receiptsIdGen.withNextId(async (streamId) => {
        await this.dbConn.runInteraction('insertReceipt', (txn) =>
          txn
            .insertInto('receipts')
            .values({ stream_id: streamId, room_id: roomId, user_id: userId, event_id: eventId })
            .execute(),
        );
        return streamId;
      });
    }

    async addTag(userId: string, roomId: string, tag: string): Promise<void> {
      await this.dbConn.runInteraction('addTag', async (txn) => {
        await txn
          .insertInto('room_tags')
          .values({ user_id: userId, room_id: roomId, tag })
          .execute();
        await this.invalidateCacheAndStream(txn, this.getTags, userId, roomId);
      });
    }
  }
  return ReceiptsStore;
}

class MainDataStore extends ReceiptsStore(SQLBaseStore<DB>) {}
class ReaderDataStore extends ReceiptsWorkerStore(SQLBaseStore<DB>) {}

const started = performance.now();
const db = await createDatabase<DB>({ url: process.env.STORESPLIT_DB ?? 'memory://' });
console.log(`database: ${db.kind === 'pglite' ? 'embedded PGlite (in memory)' : 'Postgres'}`);
await migrate(db);
await sql`CREATE TABLE receipts (stream_id bigint PRIMARY KEY, room_id text, user_id text, event_id text)`.execute(
  db,
);
await sql`CREATE TABLE room_tags (user_id text, room_id text, tag text)`.execute(db);

const writer = await openStore(
  MainDataStore,
  db,
  createServerContext({ instanceName: 'main', role: 'writer' }),
);
const reader = await openStore(
  ReaderDataStore,
  db,
  createServerContext({ instanceName: 'reader1', role: 'worker' }),
);
const show = async (label: string) =>
  console.log(
    `${label.padEnd(44)} writer sees ${JSON.stringify(await writer.getReceiptsForRoom('!lobby'))}, ` +
      `worker sees ${JSON.stringify(await reader.getReceiptsForRoom('!lobby'))}`,
  );

await show('both caches warm:');
const token = await writer.insertReceipt('!lobby', '@alice', '$event1');
await show(`after the write (receipts token ${token}):`);
const { rows } = await catchUpStream(
  reader,
  ReceiptsStream,
  'main',
  writer.receiptsIdGen.currentToken(),
);
await show(`after the worker applied ${rows} stream row(s):`);

await reader.getTags('@alice', '!lobby');
await writer.addTag('@alice', '!lobby', 'm.favourite');
console.log(
  `tag added; worker still has ${JSON.stringify(await reader.getTags('@alice', '!lobby'))} cached`,
);
await catchUpStream(
  reader,
  CachesStream,
  'main',
  writer.idGenerators().get('caches')!.currentToken(),
);
console.log(
  `after the caches stream: worker has ${JSON.stringify(await reader.getTags('@alice', '!lobby'))}`,
);

for (const [name, stats] of Object.entries(reader.cacheStats())) {
  console.log(
    `worker cache ${name}: ${stats.hits} hits, ${stats.misses} misses, ${stats.invalidations} invalidations`,
  );
}
await writer.close();
await reader.close();
await db.destroy();
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
