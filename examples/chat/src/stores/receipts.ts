// Read receipts: announced on the `receipts` stream. Both caches are
// invalidated from the stream's rows (Synapse #2904: its workers once missed
// exactly the second one, the users-with-read-receipts cache).
import {
  cached,
  loadStreamChangeCache,
  onReplication,
  StreamChangeCache,
  type StoreBase,
} from '../../../../src/index.js';
import { toInt, type ChatDB } from '../db.js';
import { ReceiptsStream, type ReceiptsStreamRow } from '../streams.js';
import { streamWriter } from './common.js';

export interface Receipt {
  readonly userId: string;
  readonly receiptType: string;
  readonly eventId: string;
  readonly ts: number;
}

export const READ_RECEIPT = 'm.read';

export function ReceiptsWorkerStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class ReceiptsWorkerStore extends Base {
    /** Rooms with new receipts after a token. Loaded in `prepare`. */
    receiptsChanges = new StreamChangeCache('receipts', 0);

    override async prepare(): Promise<void> {
      this.receiptsChanges = await loadStreamChangeCache<ChatDB>(this.dbConn, {
        name: 'receipts',
        table: 'receipts',
        entityColumn: 'room_id',
        tokenColumn: 'stream_id',
        currentPosition: this.streamToken('receipts', streamWriter(this.hs, 'receipts')),
      });
    }

    /** Every receipt in the room, sorted by (user, type). */
    @cached()
    async getReceiptsForRoom(roomId: string): Promise<Receipt[]> {
      const rows = await this.dbConn
        .selectFrom('receipts')
        .select(['user_id', 'receipt_type', 'event_id', 'receipt_ts'])
        .where('room_id', '=', roomId)
        .orderBy('user_id')
        .orderBy('receipt_type')
        .execute();
      return rows.map((r) => ({
        userId: r.user_id,
        receiptType: r.receipt_type,
        eventId: r.event_id,
        ts: toInt(r.receipt_ts),
      }));
    }

    /** Users who sent a read receipt in the room, sorted. */
    @cached()
    async getUsersWithReadReceiptsInRoom(roomId: string): Promise<string[]> {
      const rows = await this.dbConn
        .selectFrom('receipts')
        .select('user_id')
        .where('room_id', '=', roomId)
        .where('receipt_type', '=', READ_RECEIPT)
        .orderBy('user_id')
        .execute();
      return rows.map((r) => r.user_id);
    }

    @onReplication(ReceiptsStream)
    onReceipts(rows: readonly ReceiptsStreamRow[], token: number): void {
      for (const row of rows) {
        this.invalidate(this.getReceiptsForRoom, row.roomId);
        this.invalidate(this.getUsersWithReadReceiptsInRoom, row.roomId);
        this.receiptsChanges.entityHasChangedAt(row.roomId, token);
      }
    }
  }
  return ReceiptsWorkerStore;
}

export function ReceiptsStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class ReceiptsStore extends ReceiptsWorkerStore(Base) {
    readonly receiptsIdGen = this.streamIdGenerator(ReceiptsStream);

    /** Records (or moves) the user's receipt of this type in the room; returns its token. */
    async insertReceipt(
      roomId: string,
      receiptType: string,
      userId: string,
      eventId: string,
    ): Promise<number> {
      return this.receiptsIdGen.withNextId(async (streamId) => {
        await this.dbConn.runInteraction('insertReceipt', async (txn) => {
          await txn
            .insertInto('receipts')
            .values({
              stream_id: streamId,
              instance_name: this.hs.instanceName,
              room_id: roomId,
              receipt_type: receiptType,
              user_id: userId,
              event_id: eventId,
              receipt_ts: this.hs.clock.now(),
            })
            .onConflict((oc) =>
              oc.columns(['room_id', 'receipt_type', 'user_id']).doUpdateSet((eb) => ({
                stream_id: eb.ref('excluded.stream_id'),
                instance_name: eb.ref('excluded.instance_name'),
                event_id: eb.ref('excluded.event_id'),
                receipt_ts: eb.ref('excluded.receipt_ts'),
              })),
            )
            .execute();
        });
        return streamId;
      });
    }
  }
  return ReceiptsStore;
}
