// Shared pieces of the replication tests: a writer and workers of the
// receipts app wired over real sockets, a raw line client for speaking the
// protocol by hand, and the check every fault test ends with (every worker
// cache read equals a fresh database read).
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { sql } from 'kysely';
import type { DatabaseHandle } from '../../src/runtime/database.js';
import { createServerContext } from '../../src/runtime/server-context.js';
import { openStore, type SQLBaseStore } from '../../src/runtime/store.js';
import { ReplicationClient, type ReplicationClientOptions } from '../../src/replication/client.js';
import { ReplicationServer, type ReplicationServerOptions } from '../../src/replication/server.js';
import {
  TcpClientTransport,
  type TcpClientTransportOptions,
} from '../../src/replication/tcp-client-transport.js';
import {
  TcpServerTransport,
  type TcpServerTransportOptions,
} from '../../src/replication/tcp-server-transport.js';
import { MainDataStore, type AppDB } from '../support/receipts-app.js';
import { LoggingReader } from './fixtures/app.js';

export const SERVER_NAME = 'test.example';

/** Timings short enough for tests (the defaults are 5 s and 25 s). */
export const FAST = { pingIntervalMs: 200, pingTimeoutMs: 10_000 } as const;

export async function openWriter(
  db: DatabaseHandle<AppDB>,
  instanceName = 'main',
): Promise<MainDataStore> {
  return openStore(MainDataStore, db, createServerContext({ instanceName, role: 'writer' }));
}

export async function openReader(
  db: DatabaseHandle<AppDB>,
  instanceName = 'reader1',
): Promise<LoggingReader> {
  return openStore(LoggingReader, db, createServerContext({ instanceName, role: 'worker' }));
}

export async function startServer(
  store: MainDataStore,
  transport: Partial<TcpServerTransportOptions> = {},
  options: Partial<ReplicationServerOptions> = {},
): Promise<{ server: ReplicationServer; transport: TcpServerTransport; port: number }> {
  const tcp = new TcpServerTransport({ serverName: SERVER_NAME, ...FAST, ...transport });
  const server = new ReplicationServer(store, { ...options, transport: tcp });
  await server.start();
  return { server, transport: tcp, port: tcp.port };
}

export function startClient(
  store: SQLBaseStore<AppDB>,
  port: number,
  transport: Partial<TcpClientTransportOptions> = {},
  options: Partial<ReplicationClientOptions> = {},
): ReplicationClient {
  const client = new ReplicationClient(store, {
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    ...options,
    transport: new TcpClientTransport({
      port,
      serverName: SERVER_NAME,
      clientName: store.hs.instanceName,
      ...FAST,
      ...transport,
    }),
  });
  client.start();
  return client;
}

/** A hand-driven protocol peer: send raw lines, await received ones. */
export class RawClient {
  readonly socket: Socket;
  readonly lines: string[] = [];
  readonly closed: Promise<void>;
  #buffer = '';
  #waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      const parts = this.#buffer.split('\n');
      this.#buffer = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    void this.closed.then(() => {
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  send(...lines: string[]): void {
    this.socket.write(lines.map((l) => `${l}\n`).join(''));
  }

  /** Waits for the first received line (from `from`) that satisfies `match`; returns its index. */
  async waitFor(match: (line: string) => boolean, from = 0): Promise<number> {
    for (;;) {
      const index = this.lines.findIndex((l, i) => i >= from && match(l));
      if (index !== -1) return index;
      if (this.socket.destroyed)
        throw new Error(`closed before a matching line; got:\n${this.lines.join('\n')}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Received lines other than PING. */
  commands(): string[] {
    return this.lines.filter((l) => !l.startsWith('PING '));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The worker's cached reads (in this process, or asked of a worker process). */
export interface CacheReads {
  getReceiptsForRoom(roomId: string): Promise<Record<string, string>>;
  getTagsForRoom(userId: string, roomId: string): Promise<string[]>;
}

export interface ReceiptsState {
  rooms: string[];
  tagged: Array<[string, string]>;
}

/** What the database says now, read fresh. */
export async function databaseReceipts(
  db: DatabaseHandle<AppDB>,
  roomId: string,
): Promise<Record<string, string>> {
  const { rows } = await sql<{
    user_id: string;
    event_id: string;
  }>`SELECT user_id, event_id FROM receipts WHERE room_id = ${roomId}`.execute(db);
  return Object.fromEntries(rows.map((r) => [r.user_id, r.event_id]));
}

export async function databaseTags(
  db: DatabaseHandle<AppDB>,
  userId: string,
  roomId: string,
): Promise<string[]> {
  const { rows } = await sql<{
    tag: string;
  }>`SELECT tag FROM room_tags WHERE user_id = ${userId} AND room_id = ${roomId} ORDER BY tag`.execute(
    db,
  );
  return rows.map((r) => r.tag);
}

/**
 * Where the worker's cache reads differ from a fresh database read (empty when
 * every read matches), as readable lines.
 */
export async function cacheMismatches(
  reader: CacheReads,
  db: DatabaseHandle<AppDB>,
  state: ReceiptsState,
): Promise<string[]> {
  const problems: string[] = [];
  for (const room of state.rooms) {
    const cached = JSON.stringify(sorted(await reader.getReceiptsForRoom(room)));
    const fresh = JSON.stringify(sorted(await databaseReceipts(db, room)));
    if (cached !== fresh) problems.push(`receipts of ${room}: worker ${cached}, database ${fresh}`);
  }
  for (const [user, room] of state.tagged) {
    const cached = JSON.stringify(await reader.getTagsForRoom(user, room));
    const fresh = JSON.stringify(await databaseTags(db, user, room));
    if (cached !== fresh)
      problems.push(`tags of ${user} in ${room}: worker ${cached}, database ${fresh}`);
  }
  return problems;
}

function sorted(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}

/** The writer's current tokens, for `waitForStreamPosition`. */
export function writerTokens(writer: MainDataStore): { receipts: number; caches: number } {
  return {
    receipts: writer.receiptsIdGen.currentToken(),
    caches: writer.idGenerators().get('caches')!.currentToken(),
  };
}

export async function waitForWriter(
  client: { waitForStreamPosition: ReplicationClient['waitForStreamPosition'] },
  tokens: { receipts: number; caches: number },
  timeoutMs = 20_000,
): Promise<void> {
  await client.waitForStreamPosition('receipts', 'main', tokens.receipts, timeoutMs);
  await client.waitForStreamPosition('caches', 'main', tokens.caches, timeoutMs);
}

/** Writes `n` receipts (users @u0…) across a few rooms, one ID each, like ordinary traffic. */
export async function writeReceipts(
  writer: MainDataStore,
  n: number,
  rooms: string[],
  tag = 'e',
): Promise<void> {
  for (let i = 0; i < n; i++)
    await writer.insertReceipt(rooms[i % rooms.length]!, `@u${i}`, `$${tag}${i}`);
}

/** A scripted writer: says SERVER, records what the worker sends, and sends whatever a test tells it to. */
export class FakeWriter {
  readonly received: string[] = [];
  readonly sockets: Socket[] = [];
  #server: Server;
  #waiters: Array<() => void> = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async listen(): Promise<FakeWriter> {
    const fake: FakeWriter = new FakeWriter(
      createServer((socket) => {
        fake.sockets.push(socket);
        socket.setEncoding('utf8');
        socket.on('error', () => undefined);
        let buffer = '';
        socket.on('data', (chunk: string) => {
          buffer += chunk;
          const parts = buffer.split('\n');
          buffer = parts.pop()!;
          fake.received.push(...parts.filter((l) => !l.startsWith('PING ')));
          for (const wake of fake.#waiters.splice(0)) wake();
        });
        socket.write(`SERVER ${SERVER_NAME}\n`);
      }),
    );
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Sends lines on the newest connection. */
  send(...lines: string[]): void {
    this.sockets.at(-1)!.write(lines.map((l) => `${l}\n`).join(''));
  }

  /** Waits until the worker has sent `count` lines equal to `line`. */
  async waitForReceived(line: string, count = 1): Promise<void> {
    while (this.received.filter((l) => l === line).length < count) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** `n` receipts (users @bulk<id>) across the rooms, one token each, inserted with one SQL statement. */
export async function bulkReceipts(
  writer: MainDataStore,
  n: number,
  rooms: readonly string[],
  padding = '',
): Promise<void> {
  await writer.receiptsIdGen.withNextIds(n, async (ids) => {
    await sql`INSERT INTO receipts (stream_id, instance_name, room_id, user_id, event_id)
      SELECT id, 'main', (${rooms}::text[])[1 + id % ${rooms.length}], '@bulk' || id || ${padding}, '$bulk' || id
      FROM unnest(${ids}::bigint[]) AS id`.execute(writer.dbConn);
  });
}
