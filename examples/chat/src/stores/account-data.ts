// Per-user and per-room account data, announced on the `account_data` stream
// (which also carries room tags, see tags.ts).
import { cached, onReplication, StreamChangeCache, type StoreBase } from '../../../../src/index.js';
import type { ChatDB } from '../db.js';
import { AccountDataStream, TAG_TYPE, type AccountDataStreamRow } from '../streams.js';
import { jsonText, streamWriter } from './common.js';

export type AccountData = Record<string, unknown>;

function parse(content: unknown): unknown {
  return typeof content === 'string' ? JSON.parse(content) : content;
}

export function AccountDataWorkerStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class AccountDataWorkerStore extends Base {
    /**
     * Users whose account data (or tags) changed after a token. Created in
     * `prepare` at the position this process starts from: it knows every
     * change above it (the writer's own, or replication's) and answers
     * "maybe" for older tokens.
     */
    accountDataChanges = new StreamChangeCache('account_data', 0);

    override async prepare(): Promise<void> {
      const position = this.streamToken('account_data', streamWriter(this.hs, 'account_data'));
      this.accountDataChanges = new StreamChangeCache('account_data', position);
      return Promise.resolve();
    }

    /** The user's global account data, by type. */
    @cached()
    async getGlobalAccountData(userId: string): Promise<AccountData> {
      const rows = await this.dbConn
        .selectFrom('account_data')
        .select(['account_data_type', 'content'])
        .where('user_id', '=', userId)
        .orderBy('account_data_type')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.account_data_type, parse(r.content)]));
    }

    /** The user's account data for one room, by type (tags are separate: `getTagsForRoom`). */
    @cached()
    async getRoomAccountData(userId: string, roomId: string): Promise<AccountData> {
      const rows = await this.dbConn
        .selectFrom('room_account_data')
        .select(['account_data_type', 'content'])
        .where('user_id', '=', userId)
        .where('room_id', '=', roomId)
        .orderBy('account_data_type')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.account_data_type, parse(r.content)]));
    }

    @onReplication(AccountDataStream)
    onAccountData(rows: readonly AccountDataStreamRow[], token: number): void {
      for (const row of rows) {
        if (row.roomId === null) this.invalidate(this.getGlobalAccountData, row.userId);
        else if (row.dataType !== TAG_TYPE)
          this.invalidate(this.getRoomAccountData, row.userId, row.roomId);
        this.accountDataChanges.entityHasChangedAt(row.userId, token);
      }
    }
  }
  return AccountDataWorkerStore;
}

export function AccountDataStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class AccountDataStore extends AccountDataWorkerStore(Base) {
    readonly accountDataIdGen = this.streamIdGenerator(AccountDataStream);

    async setGlobalAccountData(
      userId: string,
      dataType: string,
      content: unknown,
    ): Promise<number> {
      return this.accountDataIdGen.withNextId(async (streamId) => {
        await this.dbConn.runInteraction('setGlobalAccountData', async (txn) => {
          await txn
            .insertInto('account_data')
            .values({
              user_id: userId,
              account_data_type: dataType,
              content: jsonText(content),
              stream_id: streamId,
              instance_name: this.hs.instanceName,
            })
            .onConflict((oc) =>
              oc.columns(['user_id', 'account_data_type']).doUpdateSet((eb) => ({
                content: eb.ref('excluded.content'),
                stream_id: eb.ref('excluded.stream_id'),
                instance_name: eb.ref('excluded.instance_name'),
              })),
            )
            .execute();
        });
        return streamId;
      });
    }

    async setRoomAccountData(
      userId: string,
      roomId: string,
      dataType: string,
      content: unknown,
    ): Promise<number> {
      return this.accountDataIdGen.withNextId(async (streamId) => {
        await this.dbConn.runInteraction('setRoomAccountData', async (txn) => {
          await txn
            .insertInto('room_account_data')
            .values({
              user_id: userId,
              room_id: roomId,
              account_data_type: dataType,
              content: jsonText(content),
              stream_id: streamId,
              instance_name: this.hs.instanceName,
            })
            .onConflict((oc) =>
              oc.columns(['user_id', 'room_id', 'account_data_type']).doUpdateSet((eb) => ({
                content: eb.ref('excluded.content'),
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
  return AccountDataStore;
}

/** The constructor type of a composition that includes `AccountDataStore` (for the tags writer). */
export type AccountDataStoreBase = ReturnType<typeof AccountDataStore<StoreBase<ChatDB>>>;
