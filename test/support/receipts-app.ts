// A small application on the runtime, used by the store tests: receipts
// announced on their own stream, room tags invalidated through the caches
// stream, a typing in-memory stream, and writer/worker compositions.
import { sql } from 'kysely';
import { cached } from '../../src/runtime/cache/index.js';
import type { DatabaseHandle } from '../../src/runtime/database.js';
import { onReplication } from '../../src/runtime/replication-handlers.js';
import { SQLBaseStore, type StoreBase } from '../../src/runtime/store.js';
import { defineMemoryStream, defineStream } from '../../src/runtime/stream.js';

export interface AppDB {
  receipts: {
    stream_id: number;
    instance_name: string;
    room_id: string;
    user_id: string;
    event_id: string;
  };
  room_tags: { user_id: string; room_id: string; tag: string };
}

export async function createAppTables(db: DatabaseHandle<AppDB>): Promise<void> {
  await sql`CREATE TABLE receipts (stream_id bigint NOT NULL, instance_name text NOT NULL, room_id text NOT NULL,
    user_id text NOT NULL, event_id text NOT NULL, PRIMARY KEY (room_id, user_id))`.execute(db);
  await sql`CREATE TABLE room_tags (user_id text NOT NULL, room_id text NOT NULL, tag text NOT NULL,
    PRIMARY KEY (user_id, room_id, tag))`.execute(db);
}

export interface ReceiptRow {
  roomId: string;
  userId: string;
}

export const ReceiptsStream = defineStream<ReceiptRow>({
  name: 'receipts',
  tables: ['receipts'],
  getUpdates: async (db: DatabaseHandle<AppDB>, from, to, limit, instance) =>
    (
      await db
        .selectFrom('receipts')
        .select(['stream_id', 'room_id', 'user_id'])
        .where('instance_name', '=', instance)
        .where('stream_id', '>', from)
        .where('stream_id', '<=', to)
        .orderBy('stream_id')
        .limit(limit)
        .execute()
    ).map((r) => ({ token: Number(r.stream_id), row: { roomId: r.room_id, userId: r.user_id } })),
});

export const TypingStream = defineMemoryStream<{ roomId: string; userIds: string[] }>({
  name: 'typing',
  maxHistory: 100,
});

export function ReceiptsWorkerStore<B extends StoreBase<AppDB>>(Base: B) {
  abstract class ReceiptsWorkerStore extends Base {
    /** Database reads, for tests that count them. */
    receiptQueries = 0;

    @cached()
    async getReceiptsForRoom(roomId: string): Promise<Record<string, string>> {
      this.receiptQueries++;
      const rows = await this.dbConn
        .selectFrom('receipts')
        .select(['user_id', 'event_id'])
        .where('room_id', '=', roomId)
        .execute();
      return Object.fromEntries(rows.map((r) => [r.user_id, r.event_id]));
    }

    @onReplication(ReceiptsStream)
    onReceipts(rows: readonly ReceiptRow[]): void {
      for (const row of rows) this.invalidate(this.getReceiptsForRoom, row.roomId);
    }
  }
  return ReceiptsWorkerStore;
}

export function ReceiptsStore<B extends StoreBase<AppDB>>(Base: B) {
  abstract class ReceiptsStore extends ReceiptsWorkerStore(Base) {
    readonly receiptsIdGen = this.streamIdGenerator(ReceiptsStream);

    async insertReceipt(roomId: string, userId: string, eventId: string): Promise<number> {
      return this.receiptsIdGen.withNextId(async (streamId) => {
        await this.dbConn.runInteraction('insertReceipt', (txn) =>
          txn
            .insertInto('receipts')
            .values({
              stream_id: streamId,
              instance_name: this.hs.instanceName,
              room_id: roomId,
              user_id: userId,
              event_id: eventId,
            })
            .onConflict((oc) =>
              oc.columns(['room_id', 'user_id']).doUpdateSet({
                stream_id: streamId,
                event_id: eventId,
                instance_name: this.hs.instanceName,
              }),
            )
            .execute(),
        );
        return streamId;
      });
    }
  }
  return ReceiptsStore;
}

export function TagsWorkerStore<B extends StoreBase<AppDB>>(Base: B) {
  abstract class TagsWorkerStore extends Base {
    @cached()
    async getTagsForRoom(userId: string, roomId: string): Promise<string[]> {
      const rows = await this.dbConn
        .selectFrom('room_tags')
        .select('tag')
        .where('user_id', '=', userId)
        .where('room_id', '=', roomId)
        .orderBy('tag')
        .execute();
      return rows.map((r) => r.tag);
    }
  }
  return TagsWorkerStore;
}

export function TagsStore<B extends StoreBase<AppDB>>(Base: B) {
  abstract class TagsStore extends TagsWorkerStore(Base) {
    async addTag(userId: string, roomId: string, tag: string): Promise<void> {
      await this.dbConn.runInteraction('addTag', async (txn) => {
        await txn
          .insertInto('room_tags')
          .values({ user_id: userId, room_id: roomId, tag })
          .onConflict((oc) => oc.doNothing())
          .execute();
        await this.invalidateCacheAndStream(txn, this.getTagsForRoom, userId, roomId);
      });
    }
  }
  return TagsStore;
}

export function TypingWorkerStore<B extends StoreBase<AppDB>>(Base: B) {
  abstract class TypingWorkerStore extends Base {
    readonly typing = new Map<string, string[]>();

    @onReplication(TypingStream)
    onTyping(rows: readonly { roomId: string; userIds: string[] }[]): void {
      for (const row of rows) this.typing.set(row.roomId, row.userIds);
    }
  }
  return TypingWorkerStore;
}

export function TypingStore<B extends StoreBase<AppDB>>(Base: B) {
  abstract class TypingStore extends TypingWorkerStore(Base) {
    readonly typingSource = this.memoryStream(TypingStream);

    setTyping(roomId: string, userIds: string[]): number {
      return this.typingSource.append([{ roomId, userIds }]);
    }
  }
  return TypingStore;
}

export class MainDataStore extends TypingStore(TagsStore(ReceiptsStore(SQLBaseStore<AppDB>))) {}
export class ReaderDataStore extends TypingWorkerStore(
  TagsWorkerStore(ReceiptsWorkerStore(SQLBaseStore<AppDB>)),
) {}
