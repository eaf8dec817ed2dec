// What the two worker roles share: follow the writer's streams, forward
// writes to it, and serve the API from this process's caches once
// replication has caught up.
import { ForwardingWriter } from '../api/forwarding-writer.js';
import { createChatRouter } from '../api/routes.js';
import { SyncHandler } from '../api/sync.js';
import { startWorkerReplication, type WorkerReplication } from '../replication.js';
import type { ChatStore } from '../stores/compositions.js';
import type { ChangeNotifier } from '../stores/notifier.js';
import {
  closeServer,
  consistencyCheck,
  listen,
  runAll,
  type ChatProcess,
  type ChatProcessOptions,
} from './common.js';

export interface WorkerParts {
  readonly replication: WorkerReplication;
  /** Runs once replication is ready, before the API listens. */
  readonly afterReady?: () => Promise<void>;
  readonly extraStats?: () => Record<string, unknown>;
  /** Runs first when the process stops. */
  readonly beforeStop?: () => Promise<void>;
}

export async function startWorkerProcess(
  options: ChatProcessOptions,
  store: ChatStore,
  parts: (replication: WorkerReplication) => Omit<WorkerParts, 'replication'>,
): Promise<ChatProcess & { replication: WorkerReplication }> {
  if (options.writerUrl === undefined) {
    throw new Error(
      `${options.role} ${options.name}: the writer's API URL is needed to forward writes`,
    );
  }
  const replication = startWorkerReplication(store, options.replication);
  const extra = parts(replication);
  try {
    await waitReady(replication, options);
    await extra.afterReady?.();
  } catch (error) {
    await replication.stop();
    throw error;
  }
  const writer = new ForwardingWriter(store, {
    writerUrl: options.writerUrl,
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    log: options.log,
  });
  const sync = new SyncHandler(store, options.writerInstance);
  const router = createChatRouter({
    store,
    role: options.role,
    writer,
    sync,
    writerInstance: options.writerInstance,
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    consistency: consistencyCheck(options, store),
    extraStats: () => ({
      replicationConnected: replication.connected,
      readYourWrites: { waits: writer.waits.summary(), timeouts: writer.waitTimeouts },
      ...extra.extraStats?.(),
    }),
    log: options.log,
  });
  const http = await listen(router, options.http);
  const notifier: ChangeNotifier = store.notifier;
  options.log(`${options.role} ${options.name}: API on ${http.url}`);
  return {
    role: options.role,
    name: options.name,
    store,
    url: http.url,
    httpPort: http.port,
    replication,
    stop: () =>
      runAll([
        () => extra.beforeStop?.(),
        () => closeServer(http.server),
        () => notifier.close(),
        () => replication.stop(),
        () => store.close(),
        () => (options.ownsDb ? options.db.destroy() : undefined),
      ]),
  };
}

/** Waits for replication to position every stream, saying so while the writer is unreachable. */
async function waitReady(
  replication: WorkerReplication,
  options: ChatProcessOptions,
): Promise<void> {
  let waited = 0;
  const timer = setInterval(() => {
    waited += 5;
    options.log(`${options.name}: waiting for the writer's replication (${waited} s)…`);
  }, 5_000);
  timer.unref();
  try {
    await replication.ready;
  } finally {
    clearInterval(timer);
  }
}
