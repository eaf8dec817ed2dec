// A whole deployment: a writer, readers and a consumer, either in this Node
// process on embedded PGlite (each role with its own store, HTTP server and
// replication connection over loopback TCP) or as one OS process per role on
// Postgres. The demo and the tests drive either through the same clients.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createDatabase, type DatabaseHandle } from '../../../src/index.js';
import { spawnRole, type ChildRole } from './children.js';
import { ChatClient } from './client.js';
import { openChatDatabase, type ChatDB } from './db.js';
import { startChatProcess, type ChatProcess, type ChatRole, type Log } from './process.js';
import type { ReplicationSettings, TransportKind } from './replication.js';

export type ClusterMode = 'in-process' | 'processes';

export interface ClusterMember {
  readonly role: ChatRole;
  readonly name: string;
  readonly client: ChatClient;
  /** In-process mode: the running process (its store, for tests). */
  readonly process?: ChatProcess;
}

export interface ClusterOptions {
  /** Readers to start; default 2. */
  readonly readers?: number;
  /** Start a consumer; default true. */
  readonly consumer?: boolean;
  readonly transport?: TransportKind;
  readonly redisUrl?: string;
  /** Replication log level; default `warn`. */
  readonly logLevel?: string;
  readonly log?: Log;
}

export interface Cluster {
  readonly mode: ClusterMode;
  /** One line: where the data lives and how the roles run. */
  readonly description: string;
  readonly secret: string;
  readonly writer: ClusterMember;
  readonly readers: readonly ClusterMember[];
  readonly consumer: ClusterMember | undefined;
  /** Every worker (readers, then the consumer). */
  workers(): ClusterMember[];
  /** Every member, writer first. */
  members(): ClusterMember[];
  /**
   * Takes reader `index` down: `kill` is a crash (SIGKILL as a process;
   * in-process, an abrupt stop), `stop` an orderly one.
   */
  stopReader(index: number, how: 'kill' | 'stop'): Promise<void>;
  /** Starts reader `index` again under the same name; resolves once it serves. */
  startReader(index: number): Promise<ClusterMember>;
  stop(): Promise<void>;
}

/** A deployment name of its own (on Redis, the channel), so that clusters sharing a Redis stay apart. */
function serverName(): string {
  return `chat-${randomBytes(4).toString('hex')}.example`;
}

function transportText(options: ClusterOptions): string {
  return options.transport === 'redis'
    ? `Redis pub/sub at ${options.redisUrl ?? 'redis://127.0.0.1:6379'}`
    : 'TCP over loopback';
}
const quiet: Log = (message, error) => {
  if (error !== undefined) console.error(message, error);
};

function readerName(index: number): string {
  return `reader${index + 1}`;
}

/** Every role in this Node process, on one embedded PGlite database. */
export async function startInProcessCluster(
  options: ClusterOptions & { db?: DatabaseHandle<ChatDB> } = {},
): Promise<Cluster & { readonly db: DatabaseHandle<ChatDB> }> {
  const ownsDb = options.db === undefined;
  const db = options.db ?? (await openChatDatabase());
  const secret = randomBytes(16).toString('hex');
  const log = options.log ?? quiet;
  const http = { host: '127.0.0.1', port: 0 };
  const replication: ReplicationSettings = {
    transport: options.transport ?? 'tcp',
    host: '127.0.0.1',
    port: 0,
    ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
    serverName: serverName(),
    secret,
    logLevel: options.logLevel ?? 'warn',
  };
  const member = (p: ChatProcess): ClusterMember => ({
    role: p.role,
    name: p.name,
    client: new ChatClient(p.url, { secret, name: p.name }),
    process: p,
  });
  const writer = await startChatProcess({
    role: 'writer',
    name: 'main',
    db,
    http,
    replication,
    writerInstance: 'main',
    secret,
    log,
  });
  const workerOptions = (role: ChatRole, name: string) => ({
    role,
    name,
    db,
    http,
    replication: { ...replication, port: writer.replicationPort ?? 0 },
    writerInstance: 'main',
    writerUrl: writer.url,
    secret,
    log,
  });
  const readers: ClusterMember[] = [];
  for (let i = 0; i < (options.readers ?? 2); i++) {
    readers.push(member(await startChatProcess(workerOptions('reader', readerName(i)))));
  }
  const consumer =
    options.consumer === false
      ? undefined
      : member(await startChatProcess(workerOptions('consumer', 'consumer1')));
  const stopped = new Set<number>();
  const cluster = {
    mode: 'in-process' as const,
    description:
      'in-process: embedded PGlite (in memory), every role in this Node process with its own store, ' +
      `HTTP server and replication connection (${transportText(options)})`,
    secret,
    db,
    writer: member(writer),
    readers,
    consumer,
    workers: () => [...readers, ...(consumer ? [consumer] : [])],
    members: () => [cluster.writer, ...cluster.workers()],
    async stopReader(index: number, _how: 'kill' | 'stop') {
      // In one process a crash cannot be had; an abrupt stop is the closest.
      if (stopped.has(index)) return;
      stopped.add(index);
      await readers[index]!.process!.stop();
    },
    async startReader(index: number) {
      await cluster.stopReader(index, 'stop');
      readers[index] = member(await startChatProcess(workerOptions('reader', readerName(index))));
      stopped.delete(index);
      return readers[index];
    },
    async stop() {
      if (consumer) await consumer.process!.stop();
      for (const [i, reader] of readers.entries())
        if (!stopped.has(i)) await reader.process!.stop();
      await writer.stop();
      if (ownsDb) await db.destroy();
    },
  };
  return cluster;
}

/** Every role its own OS process on Postgres (`url`), in a schema of its own. */
export async function startProcessCluster(
  url: string,
  options: ClusterOptions & { schema?: string; dropSchema?: boolean; echoStderr?: boolean } = {},
): Promise<Cluster & { readonly schema: string }> {
  const schema = options.schema ?? `chat_${randomBytes(6).toString('hex')}`;
  const secret = randomBytes(16).toString('hex');
  const common = [
    '--db',
    url,
    '--schema',
    schema,
    '--secret',
    secret,
    '--http',
    '127.0.0.1:0',
    '--server-name',
    serverName(),
    '--transport',
    options.transport ?? 'tcp',
    '--log-level',
    options.logLevel ?? 'warn',
    ...(options.redisUrl ? ['--redis', options.redisUrl] : []),
  ];
  const spawnOptions = { echoStderr: options.echoStderr ?? false };
  const children: ChildRole[] = [];
  const member = (c: ChildRole): ClusterMember => ({
    role: c.role,
    name: c.name,
    client: new ChatClient(c.url, { secret, name: c.name }),
  });
  const stopAll = async () => {
    await Promise.all(children.map((c) => c.stop()));
    if (options.dropSchema ?? true) await dropSchema(url, schema);
  };
  try {
    const writer = await spawnRole(
      'writer',
      [...common, '--name', 'main', '--replication', '127.0.0.1:0'],
      spawnOptions,
    );
    children.push(writer);
    const workerArgs = (name: string) => [
      ...common,
      '--name',
      name,
      ...(writer.replicationPort === undefined
        ? []
        : ['--replication', `127.0.0.1:${writer.replicationPort}`]),
      '--writer-name',
      'main',
      '--writer-http',
      writer.url,
    ];
    const readerChildren: ChildRole[] = [];
    for (let i = 0; i < (options.readers ?? 2); i++) {
      readerChildren.push(await spawnRole('reader', workerArgs(readerName(i)), spawnOptions));
    }
    children.push(...readerChildren);
    const consumerChild =
      options.consumer === false
        ? undefined
        : await spawnRole('consumer', workerArgs('consumer1'), spawnOptions);
    if (consumerChild) children.push(consumerChild);
    const readers = readerChildren.map(member);
    const consumer = consumerChild && member(consumerChild);
    const cluster = {
      mode: 'processes' as const,
      description: `processes: Postgres (schema ${schema}), every role its own OS process, replication over ${transportText(options)}`,
      secret,
      schema,
      writer: member(writer),
      readers,
      consumer,
      workers: () => [...readers, ...(consumer ? [consumer] : [])],
      members: () => [cluster.writer, ...cluster.workers()],
      async stopReader(index: number, how: 'kill' | 'stop') {
        const child = readerChildren[index]!;
        await (how === 'kill' ? child.kill() : child.stop());
      },
      async startReader(index: number) {
        await readerChildren[index]!.stop();
        const child = await spawnRole('reader', workerArgs(readerName(index)), spawnOptions);
        children.push(child);
        readerChildren[index] = child;
        readers[index] = member(child);
        return readers[index];
      },
      stop: stopAll,
    };
    return cluster;
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const db = await createDatabase({ url });
  try {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
  } finally {
    await db.destroy();
  }
}
