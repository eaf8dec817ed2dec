// The writer process: the `MainDataStore` composition, the replication
// server every worker follows, and the API (its writes are local, and it
// serves the workers' forwarded writes on `/_internal/write/<op>`).
import { openStore } from '../../../../src/index.js';
import { LocalWriter } from '../api/local-writer.js';
import { createChatRouter } from '../api/routes.js';
import { SyncHandler } from '../api/sync.js';
import { startWriterReplication } from '../replication.js';
import { MainDataStore } from '../stores/compositions.js';
import type { ChangeNotifier } from '../stores/notifier.js';
import {
  closeServer,
  consistencyCheck,
  listen,
  runAll,
  serverContext,
  type ChatProcess,
  type ChatProcessOptions,
} from './common.js';

export async function startWriter(options: ChatProcessOptions): Promise<ChatProcess> {
  const store = await openStore(MainDataStore, options.db, serverContext(options));
  const acks = new Map<string, number>();
  const replication = await startWriterReplication(store, options.replication, {
    onFederationAck: (command) => acks.set(command.instance, command.token),
  });
  const writer = new LocalWriter(store);
  const sync = new SyncHandler(store, options.name);
  const router = createChatRouter({
    store,
    role: 'writer',
    writer,
    localWriter: writer,
    sync,
    writerInstance: options.name,
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    consistency: consistencyCheck(options, store),
    extraStats: () => ({ consumerAcks: Object.fromEntries(acks) }),
    log: options.log,
  });
  const http = await listen(router, options.http);
  const notifier: ChangeNotifier = store.notifier;
  options.log(
    `writer ${options.name}: API on ${http.url}, replication on ${replication.describe()}`,
  );
  return {
    role: 'writer',
    name: options.name,
    store,
    url: http.url,
    httpPort: http.port,
    ...(replication.port === undefined ? {} : { replicationPort: replication.port }),
    stop: () =>
      runAll([
        () => closeServer(http.server),
        () => notifier.close(),
        () => replication.stop(),
        () => store.close(),
        () => (options.ownsDb ? options.db.destroy() : undefined),
      ]),
  };
}
