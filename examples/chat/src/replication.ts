// The one place the chat processes meet the replication transport
// (src/replication): the writer runs a `ReplicationServer`, each worker a
// `ReplicationClient`, over TCP (the writer listens, workers connect) or Redis
// pub/sub (everyone subscribes to the deployment's channel; `--redis`).
import { pino, type Logger } from 'pino';
import {
  DEFAULT_REDIS_URL,
  RedisClientTransport,
  RedisServerTransport,
  ReplicationClient,
  ReplicationServer,
  TcpClientTransport,
  TcpServerTransport,
  type ClientTransport,
  type FederationAckCommand,
  type ServerTransport,
} from '../../../src/replication/index.js';
import type { SQLBaseStore } from '../../../src/index.js';

export type TransportKind = 'tcp' | 'redis';

export interface ReplicationSettings {
  readonly transport: TransportKind;
  /** TCP: where the writer listens (port 0: any free port) or where a worker connects; unused on Redis. */
  readonly host: string;
  readonly port: number;
  /** Redis: the server's URL; default redis://127.0.0.1:6379. */
  readonly redisUrl?: string;
  /** The deployment's name: the `SERVER` line on TCP, the channel on Redis. */
  readonly serverName: string;
  /** Required when the writer listens beyond loopback. */
  readonly secret?: string;
  /** pino level for the replication layer's logs; default `info`. */
  readonly logLevel?: string;
}

export interface WriterReplication {
  /** The TCP port listened on (undefined on Redis). */
  readonly port: number | undefined;
  describe(): string;
  stop(): Promise<void>;
}

export interface WorkerReplication {
  /** Resolves once every followed stream has been positioned and caught up. */
  readonly ready: Promise<void>;
  readonly connected: boolean;
  /** Tells the writer a consumer processed its stream up to `token` (false when disconnected). */
  sendFederationAck(token: number): boolean;
  stop(): Promise<void>;
}

export class TransportUnavailableError extends Error {
  override name = 'TransportUnavailableError';
}

function logger(name: string, settings: ReplicationSettings): Logger {
  return pino({ name, level: settings.logLevel ?? process.env.STORESPLIT_LOG_LEVEL ?? 'info' });
}

/** Throws TransportUnavailableError for settings no transport can serve (checked before anything starts). */
export function checkTransport(
  settings: Pick<ReplicationSettings, 'transport' | 'redisUrl'>,
): void {
  if (settings.transport !== 'tcp' && settings.transport !== 'redis') {
    throw new TransportUnavailableError(
      `unknown replication transport ${String(settings.transport)}`,
    );
  }
}

/** The Redis transports' shared options: the channel is the deployment's name. */
function redisOptions(
  store: { hs: { instanceName: string } },
  settings: ReplicationSettings,
  log: Logger,
) {
  return {
    url: settings.redisUrl ?? DEFAULT_REDIS_URL,
    serverName: settings.serverName,
    instanceName: store.hs.instanceName,
    logger: log,
  };
}

export async function startWriterReplication(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any composition
  store: SQLBaseStore<any>,
  settings: ReplicationSettings,
  hooks: { onFederationAck?: (command: FederationAckCommand) => void } = {},
): Promise<WriterReplication> {
  checkTransport(settings);
  const log = logger('chat-replication-server', settings);
  let transport: ServerTransport;
  let tcp: TcpServerTransport | undefined;
  if (settings.transport === 'redis') {
    transport = new RedisServerTransport(redisOptions(store, settings, log));
  } else {
    tcp = new TcpServerTransport({
      serverName: settings.serverName,
      host: settings.host,
      port: settings.port,
      ...(settings.secret === undefined ? {} : { secret: settings.secret }),
      logger: log,
    });
    transport = tcp;
  }
  const server = new ReplicationServer(store, {
    transport,
    logger: log,
    ...(hooks.onFederationAck ? { onFederationAck: hooks.onFederationAck } : {}),
  });
  await server.start();
  return {
    port: tcp?.port,
    describe: () => transport.describe(),
    stop: () => server.stop(),
  };
}

export function startWorkerReplication(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any composition
  store: SQLBaseStore<any>,
  settings: ReplicationSettings,
): WorkerReplication {
  checkTransport(settings);
  const log = logger('chat-replication-client', settings);
  const transport: ClientTransport =
    settings.transport === 'redis'
      ? new RedisClientTransport(redisOptions(store, settings, log))
      : new TcpClientTransport({
          host: settings.host,
          port: settings.port,
          serverName: settings.serverName,
          clientName: store.hs.instanceName,
          ...(settings.secret === undefined ? {} : { secret: settings.secret }),
          logger: log,
        });
  const client = new ReplicationClient(store, {
    transport,
    logger: log,
    reconnect: { initialDelayMs: 100, maxDelayMs: 2_000 },
  });
  client.start();
  return {
    ready: client.ready,
    get connected() {
      return client.connected;
    },
    sendFederationAck: (token) => client.sendFederationAck(token),
    stop: () => client.stop(),
  };
}
