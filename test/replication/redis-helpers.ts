// The replication tests' writer and workers over Redis pub/sub: the same
// `ReplicationServer` and `ReplicationClient` as over TCP, with the Redis
// transports. Every test uses a channel prefix of its own, so that test runs
// (and parallel test files) sharing one Redis never hear each other.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { SQLBaseStore } from '../../src/runtime/store.js';
import { ReplicationClient, type ReplicationClientOptions } from '../../src/replication/client.js';
import {
  RedisClientTransport,
  type RedisClientTransportOptions,
} from '../../src/replication/redis-client-transport.js';
import { connectionName } from '../../src/replication/redis-link.js';
import {
  RedisServerTransport,
  type RedisServerTransportOptions,
} from '../../src/replication/redis-server-transport.js';
import { ReplicationServer, type ReplicationServerOptions } from '../../src/replication/server.js';
import type { AppDB } from '../support/receipts-app.js';
import { SERVER_NAME } from './helpers.js';

export const REDIS_URL = process.env.REDIS_URL;

/** A channel prefix no other test uses. */
export function uniquePrefix(): string {
  return `storesplit-test-${randomBytes(6).toString('hex')}/`;
}

/** Short keep-alive and reconnection delays for tests. */
const FAST = { pingIntervalMs: 200, pingTimeoutMs: 10_000 } as const;

export async function startRedisServer(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  store: SQLBaseStore<any>,
  channelPrefix: string,
  transport: Partial<RedisServerTransportOptions> = {},
  options: Partial<ReplicationServerOptions> = {},
): Promise<{ server: ReplicationServer; transport: RedisServerTransport }> {
  const redis = new RedisServerTransport({
    url: REDIS_URL,
    serverName: SERVER_NAME,
    channelPrefix,
    instanceName: store.hs.instanceName,
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    ...FAST,
    ...transport,
  });
  const server = new ReplicationServer(store, { ...options, transport: redis });
  await server.start();
  return { server, transport: redis };
}

export function startRedisClient(
  store: SQLBaseStore<AppDB>,
  channelPrefix: string,
  transport: Partial<RedisClientTransportOptions> = {},
  options: Partial<ReplicationClientOptions> = {},
): ReplicationClient {
  const client = new ReplicationClient(store, {
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    ...options,
    transport: new RedisClientTransport({
      url: REDIS_URL,
      serverName: SERVER_NAME,
      channelPrefix,
      instanceName: store.hs.instanceName,
      ...FAST,
      ...transport,
    }),
  });
  client.start();
  return client;
}

/** A plain Redis connection (to publish by hand, or to kill other connections). */
export function rawRedis(): Redis {
  const redis = new Redis(REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false });
  redis.on('error', () => undefined);
  return redis;
}

/**
 * `CLIENT KILL`s the connection a process made for `channelPrefix` (with
 * SERVER_NAME), `instance` and `role`, as Redis does to a subscriber whose
 * output buffer overflows. Returns how many were killed.
 */
export async function killConnection(
  admin: Redis,
  channelPrefix: string,
  instance: string,
  role: 'sub' | 'pub',
): Promise<number> {
  const name = connectionName(
    { serverName: SERVER_NAME, channelPrefix, instanceName: instance },
    role,
  );
  const list = (await admin.call('CLIENT', 'LIST')) as string;
  let killed = 0;
  for (const line of list.split('\n')) {
    const fields = new Map(
      line.split(' ').map((f): [string, string] => [f.split('=')[0]!, f.slice(f.indexOf('=') + 1)]),
    );
    const id = fields.get('id');
    if (fields.get('name') === name && id !== undefined) {
      await admin.call('CLIENT', 'KILL', 'ID', id);
      killed++;
    }
  }
  return killed;
}
