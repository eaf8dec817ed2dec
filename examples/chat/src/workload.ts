// The demo's scripted workload, through the HTTP API of the workers (and a
// little of the writer's): rooms, joins, messages with typing around them,
// receipts, account data, tags and push rules, from several users at once,
// while long-polling syncs on other workers watch. After every write it reads
// the write back from the worker that forwarded it (read-your-writes).
import type { ChatClient } from './client.js';
import type { Cluster } from './cluster.js';

export interface WorkloadOptions {
  readonly users?: readonly string[];
  readonly roomNames?: readonly string[];
  readonly messagesPerUser?: number;
  /** Seed of the choices (rooms, receipts); default 1. */
  readonly seed?: number;
}

export interface WorkloadReport {
  readonly users: readonly string[];
  readonly rooms: readonly string[];
  /** Writes by kind. */
  readonly writes: Record<string, number>;
  readonly reads: number;
  readonly readYourWrites: { checked: number; failures: string[] };
  readonly sync: { longPolls: number; woken: number; eventsSeen: number };
  readonly ms: number;
}

/** A small deterministic PRNG (mulberry32), so a seed replays the same choices. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const DEFAULT_USERS = ['@alice', '@bob', '@carol', '@dave', '@erin'];
const DEFAULT_ROOMS = ['general', 'random', 'dev'];
const WORDS = [
  'hello',
  'lunch',
  'deploy',
  'coffee',
  'review',
  'ship it',
  'standup',
  'bug',
  'release',
];

export async function runWorkload(
  cluster: Cluster,
  options: WorkloadOptions = {},
): Promise<WorkloadReport> {
  const started = performance.now();
  const random = prng(options.seed ?? 1);
  const users = [...(options.users ?? DEFAULT_USERS)];
  const roomNames = options.roomNames ?? DEFAULT_ROOMS;
  const perUser = options.messagesPerUser ?? 12;
  const readers = cluster.readers.map((r) => r.client);
  const writes: Record<string, number> = {};
  const count = (kind: string) => (writes[kind] = (writes[kind] ?? 0) + 1);
  const rywFailures: string[] = [];
  let rywChecked = 0;
  let reads = 0;
  /** Every user talks to "their" reader. */
  const home = (u: number): ChatClient => readers[u % readers.length]!;
  const check = (ok: boolean, what: string) => {
    rywChecked++;
    if (!ok) rywFailures.push(what);
  };

  // Rooms, and who is in them (everyone in the first).
  const rooms: string[] = [];
  for (const [r, name] of roomNames.entries()) {
    const creator = r % users.length;
    const { roomId } = await home(creator).createRoom(users[creator]!, name);
    count('createRoom');
    const { members } = await home(creator).members(roomId);
    reads++;
    check(
      members.includes(users[creator]!),
      `${users[creator]} created ${name} but is not a member`,
    );
    rooms.push(roomId);
  }
  const joined = users.map((_, u) => rooms.filter((_, r) => r === 0 || (u + r) % 3 !== 2));
  for (const [u, user] of users.entries()) {
    for (const roomId of joined[u]!) {
      await home(u).join(roomId, user);
      count('join');
      const { members } = await home(u).members(roomId);
      reads++;
      check(members.includes(user), `${user} joined ${roomId} but is not listed`);
    }
  }

  // Long polls on a worker other than the watched user's own.
  const stopWatching = new AbortController();
  const syncStats = { longPolls: 0, woken: 0, eventsSeen: 0 };
  const watch = async (u: number) => {
    const client = readers[(u + 1) % readers.length]!;
    let since = (await client.sync(users[u]!)).next_batch;
    while (!stopWatching.signal.aborted) {
      syncStats.longPolls++;
      let response;
      try {
        response = await client.sync(users[u]!, {
          since,
          timeout: 30_000,
          signal: stopWatching.signal,
        });
      } catch (error) {
        if (stopWatching.signal.aborted) return;
        throw error;
      }
      const events = Object.values(response.rooms).reduce(
        (n, room) => n + room.timeline.events.length,
        0,
      );
      if (response.next_batch !== since) syncStats.woken++;
      syncStats.eventsSeen += events;
      since = response.next_batch;
    }
  };
  const watchers = [watch(1), watch(2)];

  // Account data: settings, a favourite room, a room draft, push rules.
  for (const [u, user] of users.entries()) {
    const client = home(u);
    await client.putAccountData(user, 'org.example.settings', { theme: u % 2 ? 'dark' : 'light' });
    count('accountData');
    await client.putAccountData(
      user,
      'm.tag',
      { tags: { 'm.favourite': { order: u / 10 } } },
      rooms[0],
    );
    count('tags');
    const sync = await client.sync(user);
    reads++;
    check(
      (sync.accountData?.['org.example.settings'] as { theme?: string } | undefined)?.theme ===
        (u % 2 ? 'dark' : 'light'),
      `${user}'s settings are not in their sync`,
    );
  }
  await home(0).putAccountData(
    users[0]!,
    'org.example.draft',
    { text: 'half a thought' },
    rooms[0],
  );
  count('accountData');
  await home(3).putAccountData(users[3 % users.length]!, 'm.push_rules', {
    rules: [{ ruleId: 'no-lunch', pattern: 'lunch', actions: ['dont_notify'] }],
  });
  count('pushRules');

  // Messages from everyone at once, every other one between typing on and off, with receipts.
  await Promise.all(
    users.map(async (user, u) => {
      const client = home(u);
      const mine = joined[u]!;
      for (let k = 0; k < perUser; k++) {
        const roomId = mine[Math.floor(random() * mine.length)]!;
        const typing = k % 2 === 0;
        if (typing) {
          await client.typing(roomId, user, true);
          count('typing');
        }
        const body = `${WORDS[Math.floor(random() * WORDS.length)]} #${k} from ${user}`;
        const { eventId } = await client.send(roomId, user, body);
        count('send');
        if (typing) {
          await client.typing(roomId, user, false);
          count('typing');
        }
        const { chunk } = await client.messages(roomId);
        reads++;
        check(
          chunk.some((e) => e.eventId === eventId),
          `${user}'s message ${eventId} is not in /messages`,
        );
        if (k % 4 === 3) {
          const latest = chunk[0]!.eventId;
          await client.receipt(roomId, user, latest);
          count('receipt');
          const { receipts } = await client.receipts(roomId);
          reads++;
          check(
            receipts.some((r) => r.userId === user && r.eventId === latest),
            `${user}'s receipt for ${latest} is not in /receipts`,
          );
        }
      }
    }),
  );
  // A few reads from the writer and the consumer too: every process serves the API.
  for (const client of [
    cluster.writer.client,
    ...(cluster.consumer ? [cluster.consumer.client] : []),
  ]) {
    for (const roomId of rooms) {
      await client.members(roomId);
      await client.messages(roomId);
      reads += 2;
    }
  }

  // Let the watchers see the last writes, then stop them.
  stopWatching.abort();
  await Promise.all(watchers);
  return {
    users,
    rooms,
    writes,
    reads,
    readYourWrites: { checked: rywChecked, failures: rywFailures },
    sync: syncStats,
    ms: performance.now() - started,
  };
}
