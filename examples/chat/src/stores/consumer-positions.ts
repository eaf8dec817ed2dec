// A consumer worker's own progress through a stream, kept in its own table
// (`consumer_stream_positions`): the one table a worker writes (store-lint's
// config lists it under the consumer app's `writes`). Nothing caches it, and
// no other process reads it, so it needs no stream.
import type { StoreBase } from '../../../../src/index.js';
import { toInt, type ChatDB } from '../db.js';

export function ConsumerPositionStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class ConsumerPositionStore extends Base {
    /** The position `consumer` persisted for `stream`/`instance`, or 0. */
    async getConsumerPosition(consumer: string, stream: string, instance: string): Promise<number> {
      const row = await this.dbConn
        .selectFrom('consumer_stream_positions')
        .select('stream_id')
        .where('consumer_name', '=', consumer)
        .where('stream_name', '=', stream)
        .where('instance_name', '=', instance)
        .executeTakeFirst();
      return row ? toInt(row.stream_id) : 0;
    }

    /** Persists the position; it only moves forward. */
    async setConsumerPosition(
      consumer: string,
      stream: string,
      instance: string,
      token: number,
    ): Promise<void> {
      await this.dbConn.runInteraction('setConsumerPosition', async (txn) => {
        await txn
          .insertInto('consumer_stream_positions')
          .values({
            consumer_name: consumer,
            stream_name: stream,
            instance_name: instance,
            stream_id: token,
            updated_ts: this.hs.clock.now(),
          })
          .onConflict((oc) =>
            oc
              .columns(['consumer_name', 'stream_name', 'instance_name'])
              .doUpdateSet((eb) => ({
                stream_id: eb.ref('excluded.stream_id'),
                updated_ts: eb.ref('excluded.updated_ts'),
              }))
              .where('consumer_stream_positions.stream_id', '<', token),
          )
          .execute();
      });
    }
  }
  return ConsumerPositionStore;
}
