// The consumer process: the `ConsumerDataStore` composition. It serves the
// same API as a reader and also runs the push sender, which follows the
// events stream and keeps its progress in its own table.
import { openStore } from '../../../../src/index.js';
import { PushConsumer } from '../consumer.js';
import { ConsumerDataStore } from '../stores/compositions.js';
import { serverContext, type ChatProcess, type ChatProcessOptions } from './common.js';
import { startWorkerProcess } from './worker.js';

export async function startConsumer(
  options: ChatProcessOptions,
): Promise<ChatProcess & { readonly consumer: PushConsumer }> {
  const store = await openStore(ConsumerDataStore, options.db, serverContext(options));
  let consumer: PushConsumer | undefined;
  const started = await startWorkerProcess(options, store, (replication) => {
    consumer = new PushConsumer(store, {
      name: options.name,
      writer: options.writerInstance,
      onProcessed: (token) => replication.sendFederationAck(token),
      log: options.log,
    });
    const pusher = consumer;
    return {
      afterReady: () => pusher.start(),
      beforeStop: () => pusher.stop(),
      extraStats: () => ({
        consumer: {
          position: pusher.position,
          processedEvents: pusher.processedEvents,
          notifications: pusher.notificationCount,
          byUser: Object.fromEntries(pusher.notifications),
        },
      }),
    };
  });
  return { ...started, consumer: consumer! };
}
