// What the fault suites (over TCP, faults.test.ts; over Redis,
// redis-faults.test.ts) share: a fresh Postgres schema per test, clean-ups
// run after each test, a write loop like traffic, the state every test reads
// at the end (every worker cache read must equal a fresh database read), and
// reading a client's counters.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, expect } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/runtime/database.js';
import { migrate } from '../../src/runtime/migrator.js';
import type { ReplicationClient } from '../../src/replication/client.js';
import { DATABASE_URL } from '../support/databases.js';
import { createAppTables, type AppDB, type MainDataStore } from '../support/receipts-app.js';
import { createServerContext } from '../../src/runtime/server-context.js';
import { openStore } from '../../src/runtime/store.js';
import { createNotesTable, NotesWriter, outOfOrder, type LoggingReader } from './fixtures/app.js';
import { Child } from './fixtures/children.js';
import {
  cacheMismatches,
  waitForWriter,
  writerTokens,
  type CacheReads,
  type ReceiptsState,
} from './helpers.js';

export const url = DATABASE_URL;

/** Run after each test, last registered first. */
export const cleanups: Array<() => Promise<void> | void> = [];

/** Registers the after-each hook that runs `cleanups` (call once per test file). */
export function runCleanupsAfterEach(): void {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
}

/** A fresh schema with the runtime's and the app's tables, dropped after the test. */
export async function openSchema(): Promise<{ db: DatabaseHandle<AppDB>; schema: string }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const db = await createDatabase<AppDB>({ url: url!, schema, poolSize: 6 });
  await migrate(db);
  await createAppTables(db);
  // Catch-up pages by token: a stream table wants an index on its token.
  await sql`CREATE INDEX receipts_stream_id ON receipts (stream_id)`.execute(db);
  cleanups.push(async () => {
    await sql.raw(`DROP SCHEMA "${schema}" CASCADE`).execute(db);
    await db.destroy();
  });
  return { db, schema };
}

export function track<T extends { stop(): Promise<void> }>(thing: T): T {
  cleanups.push(() => thing.stop());
  return thing;
}

export async function until(predicate: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await predicate())) await new Promise((resolve) => setTimeout(resolve, 10));
}

export const ROOMS = ['!room0', '!room1', '!room2', '!room3', '!room4'];
export const TAGGED: Array<[string, string]> = ROOMS.flatMap((room) =>
  ['@u0', '@u1', '@u2'].map((user): [string, string] => [user, room]),
);
export const STATE: ReceiptsState = { rooms: ROOMS, tagged: TAGGED };

/** Reads every cache the state names (filling the caches that later writes must invalidate). */
export async function readAll(reader: CacheReads): Promise<void> {
  for (const room of ROOMS) await reader.getReceiptsForRoom(room);
  for (const [user, room] of TAGGED) await reader.getTagsForRoom(user, room);
}

/** Receipts and tags written in a loop, like traffic, until stopped. */
export class WriteLoop {
  count = 0;
  readonly #done: Promise<void>;
  #stopped = false;

  constructor(writer: MainDataStore, tag: string) {
    this.#done = (async () => {
      for (let i = 0; !this.#stopped; i++) {
        await writer.insertReceipt(ROOMS[i % ROOMS.length]!, `@u${i % 40}`, `$${tag}${i}`);
        if (i % 7 === 0)
          await writer.addTag(`@u${i % 3}`, ROOMS[i % ROOMS.length]!, `${tag}.${i % 4}`);
        this.count++;
      }
    })();
  }

  async reach(n: number): Promise<void> {
    await until(() => this.count >= n);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}

/** A worker process's cache reads, fetched in one IPC round trip. */
export async function remoteReads(worker: Child): Promise<CacheReads> {
  const { receipts, tags } = await worker.ask<{
    receipts: Record<string, Record<string, string>>;
    tags: string[][];
  }>({ type: 'read', rooms: ROOMS, tagged: TAGGED });
  return {
    getReceiptsForRoom: (room) => Promise.resolve(receipts[room]!),
    getTagsForRoom: (user, room) =>
      Promise.resolve(tags[TAGGED.findIndex(([u, r]) => u === user && r === room)]!),
  };
}

export async function counterValue(
  client: ReplicationClient,
  name: keyof ReplicationClient['metrics'],
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = client.metrics[name] as {
    get(): Promise<{ values: Array<{ labels: Record<string, string | number>; value: number }> }>;
  };
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

/**
 * The "worker process killed mid-stream and restarted" scenario, the same on
 * every transport: `first` (a worker process started with `env`) is killed
 * while writes go on, a second process with the same `env` replaces it, and
 * at the end both it and `other` (an in-process worker) read what the
 * database holds, applied their batches in token order, and `other` never
 * reconnected. Returns the replacement process.
 */
export async function killWorkerMidStreamAndRestart(scenario: {
  writer: MainDataStore;
  db: DatabaseHandle<AppDB>;
  env: Record<string, string>;
  first: Child;
  other: LoggingReader;
  otherClient: ReplicationClient;
}): Promise<Child> {
  const { writer, db, env, first, other, otherClient } = scenario;
  const writes = track(new WriteLoop(writer, 'a'));
  await writes.reach(20);
  await remoteReads(first);
  await readAll(other);
  await writes.reach(40);
  await first.kill(); // mid-stream: writes go on
  await writes.reach(80);
  const second = new Child('worker-process', env);
  cleanups.push(() => second.stop());
  await second.ask({ type: 'ready' });
  await remoteReads(second);
  await writes.reach(120);
  await writes.stop();
  const tokens = writerTokens(writer);
  await second.ask({ type: 'wait', tokens });
  await waitForWriter(otherClient, tokens);
  expect(await cacheMismatches(await remoteReads(second), db, STATE)).toEqual([]);
  expect(await cacheMismatches(other, db, STATE)).toEqual([]);
  expect(await second.ask({ type: 'order' })).toMatchObject({ problems: [] });
  expect(outOfOrder(other.applied)).toEqual([]);
  expect(await counterValue(otherClient, 'reconnects')).toBe(0);
  return second;
}

/**
 * The "stream the worker does not know" scenario, the same on every
 * transport: a writer with an extra `notes` stream, which `connect` serves to
 * one worker (it returns the worker and its client). Its POSITIONs and RDATA
 * are ignored and counted, and the streams the worker knows keep flowing.
 */
export async function unknownStreamIsIgnored(
  db: DatabaseHandle<AppDB>,
  connect: (writer: NotesWriter) => Promise<{ reader: CacheReads; client: ReplicationClient }>,
): Promise<void> {
  await createNotesTable(db);
  const writer = await openStore(
    NotesWriter,
    db,
    createServerContext({ instanceName: 'main', role: 'writer' }),
  );
  const { reader, client } = await connect(writer);
  await client.ready;
  await readAll(reader);
  for (let i = 0; i < 10; i++) {
    await writer.addNote(`note ${i}`);
    await writer.insertReceipt(ROOMS[i % 5]!, `@u${i}`, `$n${i}`);
  }
  await writer.addTag('@u0', '!room3', 'notes');
  await waitForWriter(client, writerTokens(writer));
  expect(await cacheMismatches(reader, db, STATE)).toEqual([]);
  expect(
    await counterValue(client, 'positionReceived', { stream: 'notes' }),
  ).toBeGreaterThanOrEqual(1);
  expect(
    await counterValue(client, 'rdataDropped', { stream: 'notes', reason: 'unknown-stream' }),
  ).toBe(10);
  expect(client.connected).toBe(true);
  expect(await counterValue(client, 'reconnects')).toBe(0);
}
