// Room tags: a user's labels for a room (`m.favourite`, `u.work`), shown in
// sync as the room's `m.tag` account data. Written at the `account_data`
// stream's IDs, so the tags writer is built on AccountDataStore (one
// generator per stream per composition) and the worker handles that stream.
import { cached, onReplication, type StoreBase } from '../../../../src/index.js';
import type { ChatDB } from '../db.js';
import { AccountDataStream, TAG_TYPE, type AccountDataStreamRow } from '../streams.js';
import type { AccountDataStoreBase } from './account-data.js';
import { jsonText } from './common.js';

/** Tags of one room: tag → its content (e.g. `{ order: 0.5 }`). */
export type RoomTags = Record<string, Record<string, unknown>>;

function parse(content: unknown): Record<string, unknown> {
  return (typeof content === 'string' ? JSON.parse(content) : content) as Record<string, unknown>;
}

export function TagsWorkerStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class TagsWorkerStore extends Base {
    @cached()
    async getTagsForRoom(userId: string, roomId: string): Promise<RoomTags> {
      const rows = await this.dbConn
        .selectFrom('room_tags')
        .select(['tag', 'content'])
        .where('user_id', '=', userId)
        .where('room_id', '=', roomId)
        .orderBy('tag')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.tag, parse(r.content)]));
    }

    /** Every tagged room of the user: room → tags. */
    @cached()
    async getTagsForUser(userId: string): Promise<Record<string, RoomTags>> {
      const rows = await this.dbConn
        .selectFrom('room_tags')
        .select(['room_id', 'tag', 'content'])
        .where('user_id', '=', userId)
        .orderBy('room_id')
        .orderBy('tag')
        .execute();
      const out: Record<string, RoomTags> = {};
      for (const r of rows) (out[r.room_id] ??= {})[r.tag] = parse(r.content);
      return out;
    }

    @onReplication(AccountDataStream)
    onTagRows(rows: readonly AccountDataStreamRow[]): void {
      for (const row of rows) {
        if (row.dataType !== TAG_TYPE || row.roomId === null) continue;
        this.invalidate(this.getTagsForRoom, row.userId, row.roomId);
        this.invalidate(this.getTagsForUser, row.userId);
      }
    }
  }
  return TagsWorkerStore;
}

export function TagsStore<B extends AccountDataStoreBase>(Base: B) {
  abstract class TagsStore extends TagsWorkerStore(Base) {
    /** Replaces the user's tags of the room; returns the account data token. */
    async setTags(userId: string, roomId: string, tags: RoomTags): Promise<number> {
      return this.accountDataIdGen.withNextId(async (streamId) => {
        await this.dbConn.runInteraction('setTags', async (txn) => {
          await txn
            .deleteFrom('room_tags')
            .where('user_id', '=', userId)
            .where('room_id', '=', roomId)
            .execute();
          for (const [tag, content] of Object.entries(tags)) {
            await txn
              .insertInto('room_tags')
              .values({ user_id: userId, room_id: roomId, tag, content: jsonText(content) })
              .execute();
          }
          await txn
            .insertInto('room_tags_revisions')
            .values({
              user_id: userId,
              room_id: roomId,
              stream_id: streamId,
              instance_name: this.hs.instanceName,
            })
            .onConflict((oc) =>
              oc.columns(['user_id', 'room_id']).doUpdateSet((eb) => ({
                stream_id: eb.ref('excluded.stream_id'),
                instance_name: eb.ref('excluded.instance_name'),
              })),
            )
            .execute();
        });
        return streamId;
      });
    }
  }
  return TagsStore;
}
