// Replication: how long a write takes to invalidate the workers' caches, and
// how many stream rows per second reach every worker, with 1 and 4 workers,
// over TCP and over Redis pub/sub, on Postgres (DATABASE_URL; REDIS_URL for
// Redis). Each figure is printed next to a bare baseline measured in the same
// run: the same RDATA lines over a raw socket (split on LF, nothing parsed) or
// raw Redis PUBLISH/SUBSCRIBE, to the same number of receivers.
//
// Everything runs in this one process: the writer store, and each worker
// store with its own database pool and its own connection (socket, or Redis
// subscription) to the writer, all on one event loop (as are the baselines'
// receivers). On the 2-core machines the figures are therefore bounded by one
// core doing the writer's and every worker's work, and by Postgres's commit
// latency, which every write pays before anything is announced.
//
// - latency: one write at a time (`withNextId`, one row, one commit); from the
//   write's start until the slowest worker's `@onReplication` handler has
//   invalidated the cache entry (p50, p99). `write_p50_ms` is the write alone.
//   Baseline: one line sent, until the slowest receiver has it.
//   `after_write_*_ms`: from the write's return to the slowest worker's
//   invalidation, the part replication adds.
// - rows/s: batches of 200 rows (one token each, one INSERT per batch)
//   written by 3 concurrent writers for a few seconds; rows divided by the
//   time until every worker has applied the last one. `write_rows_per_s` is
//   the writing alone: when it is close to `rows_per_s`, Postgres (the
//   writes) is the bound, not replication. Baseline: the same number of
//   lines, written in chunks of 200. `burst_rows_per_s`: 20,000 rows written
//   in one transaction, from the write's return until every worker applied
//   them: the rate replication drains a backlog at (the writer reading pages
//   of 500 rows, sending, each worker parsing and applying), without waiting
//   for commits.
//
// BENCH fields: subject/baseline ns per op are the p50 latency, or ns per row;
// ratio = subject / baseline (higher is slower).
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { sql } from 'kysely';
import { cached } from '../src/runtime/cache/index.js';
import { createDatabase, type DatabaseHandle } from '../src/runtime/database.js';
import { migrate } from '../src/runtime/migrator.js';
import { onReplication } from '../src/runtime/replication-handlers.js';
import { createServerContext } from '../src/runtime/server-context.js';
import { openStore, SQLBaseStore, type StoreBase } from '../src/runtime/store.js';
import { defineStream } from '../src/runtime/stream.js';
import { ReplicationClient } from '../src/replication/client.js';
import { RedisClientTransport } from '../src/replication/redis-client-transport.js';
import { RedisServerTransport } from '../src/replication/redis-server-transport.js';
import { ReplicationServer } from '../src/replication/server.js';
import { TcpClientTransport } from '../src/replication/tcp-client-transport.js';
import { TcpServerTransport } from '../src/replication/tcp-server-transport.js';
import type { ClientTransport, ServerTransport } from '../src/replication/transport.js';
import { report } from './report.js';

const LATENCY_SAMPLES = 300;
const THROUGHPUT_MS = 3_000;
const BATCH = 200;
const CONCURRENT_WRITES = 3;
const BURST = 20_000;
const silent = pino({ level: 'silent' });
const WAIT_MS = 60_000;
const SERVER_NAME = 'bench.example';

// ---------------------------------------------------------------------------
// A one-stream application: rows keyed by `k`, a cached read per key.

interface BenchDB {
  bench_rows: { stream_id: number; instance_name: string; k: string; v: string };
}

const BenchStream = defineStream<{ k: string }>({
  name: 'bench',
  tables: ['bench_rows'],
  getUpdates: async (db: DatabaseHandle<BenchDB>, from, to, limit, instance) =>
    (
      await db
        .selectFrom('bench_rows')
        .select(['stream_id', 'k'])
        .where('instance_name', '=', instance)
        .where('stream_id', '>', from)
        .where('stream_id', '<=', to)
        .orderBy('stream_id')
        .limit(limit)
        .execute()
    ).map((r) => ({ token: Number(r.stream_id), row: { k: r.k } })),
});

function BenchWorkerStore<B extends StoreBase<BenchDB>>(Base: B) {
  abstract class BenchWorkerStore extends Base {
    /** performance.now() at which each token was applied, while recording. */
    readonly appliedAt = new Map<number, number>();
    recording = false;

    @cached()
    async getRow(k: string): Promise<string | undefined> {
      const row = await this.dbConn
        .selectFrom('bench_rows')
        .select('v')
        .where('k', '=', k)
        .executeTakeFirst();
      return row?.v;
    }

    @onReplication(BenchStream)
    onBenchRows(rows: readonly { k: string }[], token: number): void {
      for (const row of rows) this.invalidate(this.getRow, row.k);
      if (this.recording) this.appliedAt.set(token, performance.now());
    }
  }
  return BenchWorkerStore;
}

function BenchStore<B extends StoreBase<BenchDB>>(Base: B) {
  abstract class BenchStore extends BenchWorkerStore(Base) {
    readonly benchIdGen = this.streamIdGenerator(BenchStream);

    async writeOne(k: string): Promise<number> {
      return this.benchIdGen.withNextId(async (id) => {
        await sql`INSERT INTO bench_rows (stream_id, instance_name, k, v)
          VALUES (${id}, ${this.hs.instanceName}, ${k}, ${`v${id}`})`.execute(this.dbConn);
        return id;
      });
    }

    async writeBatch(n: number): Promise<number> {
      return this.benchIdGen.withNextIds(n, async (ids) => {
        await sql`INSERT INTO bench_rows (stream_id, instance_name, k, v)
          SELECT id, ${this.hs.instanceName}, 'k' || (id % 1000), 'v' || id
          FROM unnest(${ids}::bigint[]) AS id`.execute(this.dbConn);
        return Math.max(...ids);
      });
    }
  }
  return BenchStore;
}

class BenchWriter extends BenchStore(SQLBaseStore<BenchDB>) {}
class BenchWorker extends BenchWorkerStore(SQLBaseStore<BenchDB>) {}

// ---------------------------------------------------------------------------
// Figures

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (x: number) => Math.round(x * 1000) / 1000;

interface Latency {
  p50: number;
  p99: number;
  samples: number;
}

function latencyOf(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), samples: sorted.length };
}

interface Throughput {
  rows: number;
  rowsPerS: number;
}

/** A transport's subject and baseline figures. */
interface Setup {
  readonly transport: 'tcp' | 'redis';
  readonly baseline: string;
  server(): ServerTransport;
  client(instance: string): ClientTransport;
  /** The baseline's sender and `workers` receivers. */
  raw(workers: number): Promise<RawFanOut>;
}

/** A bare fan-out: send lines, and know when every receiver has `count` of them. */
interface RawFanOut {
  send(lines: readonly string[]): void;
  /** Resolves with performance.now() when every receiver has received `count` lines in all. */
  received(count: number): Promise<number>;
  close(): Promise<void>;
}

class Receivers {
  readonly counts: number[];
  #waiters: Array<{ count: number; resolve: (at: number) => void }> = [];

  constructor(n: number) {
    this.counts = Array.from({ length: n }, () => 0);
  }

  add(receiver: number, lines: number): void {
    this.counts[receiver]! += lines;
    const min = Math.min(...this.counts);
    const now = performance.now();
    this.#waiters = this.#waiters.filter((w) => {
      if (min < w.count) return true;
      w.resolve(now);
      return false;
    });
  }

  received(count: number): Promise<number> {
    if (Math.min(...this.counts) >= count) return Promise.resolve(performance.now());
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }
}

async function rawSocket(workers: number): Promise<RawFanOut> {
  const peers: Socket[] = [];
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    peers.push(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const receivers = new Receivers(workers);
  const clients: Socket[] = [];
  for (let i = 0; i < workers; i++) {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    let partial = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      receivers.add(i, parts.length);
    });
    clients.push(socket);
  }
  while (peers.length < workers) await new Promise((resolve) => setTimeout(resolve, 1));
  return {
    send(lines) {
      const text = `${lines.join('\n')}\n`;
      for (const peer of peers) peer.write(text);
    },
    received: (count) => receivers.received(count),
    async close() {
      for (const socket of [...clients, ...peers]) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

async function rawRedis(url: string, workers: number): Promise<RawFanOut> {
  const channel = `storesplit-bench-raw-${process.pid}`;
  const publisher = new Redis(url);
  const subscribers: Redis[] = [];
  const receivers = new Receivers(workers);
  for (let i = 0; i < workers; i++) {
    const subscriber = new Redis(url);
    subscriber.on('messageBuffer', () => receivers.add(i, 1));
    await subscriber.subscribe(channel);
    subscribers.push(subscriber);
  }
  return {
    send(lines) {
      for (const line of lines) void publisher.publish(channel, line);
    },
    received: (count) => receivers.received(count),
    async close() {
      for (const subscriber of subscribers) subscriber.disconnect();
      await publisher.quit();
    },
  };
}

function line(token: number): string {
  return `RDATA bench main ${token} {"k":"k${token % 1000}"}`;
}

async function rawLatency(fanOut: RawFanOut): Promise<Latency> {
  const samples: number[] = [];
  for (let i = 1; i <= LATENCY_SAMPLES; i++) {
    const started = performance.now();
    fanOut.send([line(i)]);
    samples.push((await fanOut.received(i)) - started);
  }
  return latencyOf(samples);
}

async function rawThroughput(fanOut: RawFanOut, rows: number, offset: number): Promise<Throughput> {
  const started = performance.now();
  for (let sent = 0; sent < rows; sent += BATCH) {
    const lines: string[] = [];
    for (let i = sent; i < Math.min(rows, sent + BATCH); i++) lines.push(line(offset + i));
    fanOut.send(lines);
    // Let the receivers run between chunks, as the writer's transactions do.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const done = await fanOut.received(offset + rows);
  return { rows, rowsPerS: rows / ((done - started) / 1000) };
}

// ---------------------------------------------------------------------------
// The subject: writer and workers on Postgres.

interface Deployment {
  writer: BenchWriter;
  workers: BenchWorker[];
  clients: ReplicationClient[];
  close(): Promise<void>;
}

async function deploy(
  url: string,
  schema: string,
  setup: Setup,
  workers: number,
): Promise<Deployment> {
  const open = (poolSize: number) => createDatabase<BenchDB>({ url, schema, poolSize });
  const writerDb = await open(4);
  const writer = await openStore(
    BenchWriter,
    writerDb,
    createServerContext({ instanceName: 'main', role: 'writer' }),
  );
  const server = new ReplicationServer(writer, { transport: setup.server(), logger: silent });
  await server.start();
  const stores: BenchWorker[] = [];
  const clients: ReplicationClient[] = [];
  const dbs = [writerDb];
  for (let i = 0; i < workers; i++) {
    const db = await open(2);
    dbs.push(db);
    const instanceName = `worker${i + 1}`;
    const store = await openStore(
      BenchWorker,
      db,
      createServerContext({ instanceName, role: 'worker' }),
    );
    const client = new ReplicationClient(store, {
      transport: setup.client(instanceName),
      logger: silent,
    });
    client.start();
    stores.push(store);
    clients.push(client);
  }
  await Promise.all(clients.map((c) => c.ready));
  return {
    writer,
    workers: stores,
    clients,
    async close() {
      for (const client of clients) await client.stop();
      await server.stop();
      await writer.close();
      for (const db of dbs) await db.destroy();
    },
  };
}

async function allApplied(d: Deployment, token: number): Promise<number> {
  await Promise.all(d.clients.map((c) => c.waitForStreamPosition('bench', 'main', token, WAIT_MS)));
  return performance.now();
}

interface SubjectLatency extends Latency {
  writeP50: number;
  afterWrite: Latency;
}

async function subjectLatency(d: Deployment): Promise<SubjectLatency> {
  for (const w of d.workers) {
    w.appliedAt.clear();
    w.recording = true;
  }
  const samples: number[] = [];
  const writes: number[] = [];
  const afterWrite: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const started = performance.now();
    const token = await d.writer.writeOne(`k${i % 1000}`);
    const written = performance.now();
    await allApplied(d, token);
    const invalidated = Math.max(...d.workers.map((w) => w.appliedAt.get(token)!));
    writes.push(written - started);
    samples.push(invalidated - started);
    afterWrite.push(Math.max(0, invalidated - written));
  }
  for (const w of d.workers) w.recording = false;
  return {
    ...latencyOf(samples),
    writeP50: latencyOf(writes).p50,
    afterWrite: latencyOf(afterWrite),
  };
}

async function subjectThroughput(
  d: Deployment,
): Promise<Throughput & { writeRowsPerS: number; burstRowsPerS: number; reconnects: number }> {
  const started = performance.now();
  let rows = 0;
  let last = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT_WRITES }, async () => {
      while (performance.now() - started < THROUGHPUT_MS) {
        last = Math.max(last, await d.writer.writeBatch(BATCH));
        rows += BATCH;
      }
    }),
  );
  // Every ID up to the newest one has finished once all writers are done.
  last = d.writer.benchIdGen.currentToken();
  const written = performance.now();
  const done = await allApplied(d, last);
  const burst = await d.writer.writeBatch(BURST);
  const burstWritten = performance.now();
  const burstDone = await allApplied(d, burst);
  let reconnects = 0;
  for (const c of d.clients) {
    const { values } = await c.metrics.reconnects.get();
    reconnects += values[0]?.value ?? 0;
  }
  return {
    rows,
    rowsPerS: rows / ((done - started) / 1000),
    writeRowsPerS: rows / ((written - started) / 1000),
    burstRowsPerS: BURST / ((burstDone - burstWritten) / 1000),
    reconnects,
  };
}

async function runSetup(url: string, schema: string, setup: Setup): Promise<void> {
  for (const workers of [1, 4]) {
    const d = await deploy(url, schema, setup, workers);
    let latency: SubjectLatency;
    let throughput: Awaited<ReturnType<typeof subjectThroughput>>;
    try {
      latency = await subjectLatency(d);
      throughput = await subjectThroughput(d);
    } finally {
      await d.close();
    }
    const raw = await setup.raw(workers);
    let rawLat: Latency;
    let rawTput: Throughput;
    try {
      rawLat = await rawLatency(raw);
      rawTput = await rawThroughput(raw, throughput.rows, LATENCY_SAMPLES);
    } finally {
      await raw.close();
    }
    const common = { transport: setup.transport, workers, database: 'postgres' };
    report(
      'replication-latency',
      {
        name: 'write→invalidated on every worker',
        ops: latency.samples,
        nsPerOp: latency.p50 * 1e6,
      },
      { name: setup.baseline, ops: rawLat.samples, nsPerOp: rawLat.p50 * 1e6 },
      {
        ...common,
        p50_ms: ms(latency.p50),
        p99_ms: ms(latency.p99),
        write_p50_ms: ms(latency.writeP50),
        after_write_p50_ms: ms(latency.afterWrite.p50),
        after_write_p99_ms: ms(latency.afterWrite.p99),
        baseline_p50_ms: ms(rawLat.p50),
        baseline_p99_ms: ms(rawLat.p99),
        p99_ratio: Math.round((latency.p99 / rawLat.p99) * 100) / 100,
      },
    );
    report(
      'replication-throughput',
      {
        name: 'rows applied on every worker',
        ops: throughput.rows,
        nsPerOp: 1e9 / throughput.rowsPerS,
      },
      { name: setup.baseline, ops: rawTput.rows, nsPerOp: 1e9 / rawTput.rowsPerS },
      {
        ...common,
        rows_per_s: Math.round(throughput.rowsPerS),
        write_rows_per_s: Math.round(throughput.writeRowsPerS),
        burst_rows_per_s: Math.round(throughput.burstRowsPerS),
        baseline_rows_per_s: Math.round(rawTput.rowsPerS),
        reconnects: throughput.reconnects,
      },
    );
  }
}

export async function benchReplication(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.log('replication skipped: DATABASE_URL is not set (it runs on Postgres only)');
    return;
  }
  const redisUrl = process.env.REDIS_URL;
  const schema = `bench_repl_${process.pid}`;
  const db = await createDatabase<BenchDB>({ url, schema, poolSize: 1 });
  try {
    await migrate(db);
    await sql`CREATE TABLE bench_rows (stream_id bigint NOT NULL, instance_name text NOT NULL,
      k text NOT NULL, v text NOT NULL)`.execute(db);
    await sql`CREATE INDEX bench_rows_stream_id ON bench_rows (stream_id)`.execute(db);
    await sql`CREATE INDEX bench_rows_k ON bench_rows (k)`.execute(db);
    let tcp: TcpServerTransport | undefined;
    await runSetup(url, schema, {
      transport: 'tcp',
      baseline: 'raw socket lines',
      server: () => (tcp = new TcpServerTransport({ serverName: SERVER_NAME, logger: silent })),
      // Workers connect once the server listens.
      client: (clientName) =>
        new TcpClientTransport({
          port: tcp!.port,
          serverName: SERVER_NAME,
          clientName,
          logger: silent,
        }),
      raw: rawSocket,
    });
    if (!redisUrl) {
      console.log('replication over redis skipped: REDIS_URL is not set');
      return;
    }
    const channelPrefix = `storesplit-bench-${process.pid}/`;
    const redis = { url: redisUrl, serverName: SERVER_NAME, channelPrefix, logger: silent };
    await runSetup(url, schema, {
      transport: 'redis',
      baseline: 'raw redis PUBLISH/SUBSCRIBE',
      server: () => new RedisServerTransport({ ...redis, instanceName: 'main' }),
      client: (instanceName) => new RedisClientTransport({ ...redis, instanceName }),
      raw: (workers) => rawRedis(redisUrl, workers),
    });
  } finally {
    await sql.raw(`DROP SCHEMA "${schema}" CASCADE`).execute(db);
    await db.destroy();
  }
}
