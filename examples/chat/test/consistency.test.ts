// The consistency property (fast-check): after any sequence of API writes
// (some of them concurrent), sent to any process, interleaved with reads that
// fill the caches, once replication has caught up every cached read of every
// process equals a fresh read of the database. The harness
// (src/consistency.ts) is generic; the chat's probes cover every cache.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerContext, openStore } from '../../../src/index.js';
import type { ApiResponse, ChatClient } from '../src/client.js';
import { checkCacheConsistency, describeMismatch } from '../src/consistency.js';
import { chatProbes } from '../src/probes.js';
import { ReaderDataStore, type ChatStore } from '../src/stores/compositions.js';
import { startTestCluster } from './helpers.js';

const USERS = ['@ann', '@ben', '@cat', '@dan'];
const WORDS = ['hi', 'lunch', 'deploy'];
const TAGS = ['m.favourite', 'm.lowpriority', 'u.work'];
const RUNS = Number(process.env.CHAT_PROPERTY_RUNS ?? 12);

const user = fc.nat({ max: USERS.length - 1 });
const via = fc.nat({ max: 3 });
const room = fc.nat({ max: 7 });

type Op =
  | { kind: 'createRoom'; user: number; via: number }
  | { kind: 'join'; user: number; room: number; via: number }
  | { kind: 'send'; user: number; room: number; via: number; word: string }
  | { kind: 'receipt'; user: number; room: number; via: number }
  | { kind: 'accountData'; user: number; via: number; value: number }
  | { kind: 'roomAccountData'; user: number; room: number; via: number; value: number }
  | { kind: 'tags'; user: number; room: number; via: number; tags: string[] }
  | { kind: 'pushRules'; user: number; via: number; pattern: string | null }
  | { kind: 'typing'; user: number; room: number; via: number; on: boolean }
  | {
      kind: 'read';
      user: number;
      room: number;
      via: number;
      what: 'members' | 'messages' | 'receipts' | 'sync';
    }
  | { kind: 'warm'; target: number; probe: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('createRoom' as const), user, via }),
  fc.record({ kind: fc.constant('join' as const), user, room, via }),
  fc.record({
    kind: fc.constant('send' as const),
    user,
    room,
    via,
    word: fc.constantFrom(...WORDS),
  }),
  fc.record({ kind: fc.constant('receipt' as const), user, room, via }),
  fc.record({ kind: fc.constant('accountData' as const), user, via, value: fc.nat({ max: 3 }) }),
  fc.record({
    kind: fc.constant('roomAccountData' as const),
    user,
    room,
    via,
    value: fc.nat({ max: 3 }),
  }),
  fc.record({ kind: fc.constant('tags' as const), user, room, via, tags: fc.subarray(TAGS) }),
  fc.record({
    kind: fc.constant('pushRules' as const),
    user,
    via,
    pattern: fc.option(fc.constantFrom(...WORDS), { nil: null }),
  }),
  fc.record({ kind: fc.constant('typing' as const), user, room, via, on: fc.boolean() }),
  fc.record({
    kind: fc.constant('read' as const),
    user,
    room,
    via,
    what: fc.constantFrom(
      'members' as const,
      'messages' as const,
      'receipts' as const,
      'sync' as const,
    ),
  }),
  fc.record({ kind: fc.constant('warm' as const), target: fc.nat(), probe: fc.nat() }),
);

/** Groups run one after the other; the ops of a group run concurrently. */
const script = fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), {
  minLength: 1,
  maxLength: 12,
});

type TestCluster = Awaited<ReturnType<typeof startTestCluster>>;
let cluster: TestCluster;
let oracle: ReaderDataStore;
const rooms: string[] = [];
const eventsByRoom = new Map<string, string[]>();
/** Who joined each room (so that most generated writes are accepted). */
const membersByRoom = new Map<string, Set<string>>();

beforeAll(async () => {
  cluster = await startTestCluster({ readers: 2, consumer: true });
  oracle = await openStore(
    ReaderDataStore,
    cluster.db,
    createServerContext({ instanceName: 'oracle', role: 'worker', config: { writer: 'main' } }),
  );
});

afterAll(async () => {
  await oracle?.close();
  await cluster?.stop();
});

function stores(): Array<{ name: string; store: ChatStore }> {
  return cluster.members().map((m) => ({ name: m.name, store: m.process!.store }));
}

/** Cached reads with arguments from what the script created (and some that do not exist). */
function warmReads(): Array<[string, ...unknown[]]> {
  const rs = [...rooms, '!missing'];
  const events = [...eventsByRoom.values()].flat();
  return [
    ...rs.flatMap((r): Array<[string, ...unknown[]]> => [
      ['getRoom', r],
      ['getCurrentState', r],
      ['getUsersInRoom', r],
      ['getReceiptsForRoom', r],
      ['getUsersWithReadReceiptsInRoom', r],
      ['getMessages', r, null, 20],
      ['getMessages', r, null, 5],
    ]),
    ...USERS.flatMap((u): Array<[string, ...unknown[]]> => [
      ['getRoomsForUser', u],
      ['getGlobalAccountData', u],
      ['getTagsForUser', u],
      ['getPushRules', u],
      ...rs.flatMap((r): Array<[string, ...unknown[]]> => [
        ['getRoomAccountData', u, r],
        ['getTagsForRoom', u, r],
      ]),
    ]),
    ...events.map((e): [string, ...unknown[]] => ['getEvent', e]),
    ['getEvent', '$missing'],
  ];
}

async function expectAnswered(response: Promise<ApiResponse>, what: string): Promise<ApiResponse> {
  const r = await response;
  // Refusals (not joined, no such event) are fine; a server error or a bad request from valid input is not.
  if (r.status >= 500 || r.status === 400)
    throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

async function run(o: Op): Promise<void> {
  if (o.kind === 'warm') {
    const reads = warmReads();
    const targets = stores();
    const [method, ...args] = reads[o.probe % reads.length]!;
    const target = targets[o.target % targets.length]!.store as unknown as Record<
      string,
      (...a: unknown[]) => Promise<unknown>
    >;
    await target[method]!(...args);
    return;
  }
  const members = cluster.members();
  const client: ChatClient = members[o.via % members.length]!.client;
  const u = USERS[o.user]!;
  if (o.kind === 'createRoom' || rooms.length === 0) {
    const r = await expectAnswered(
      client.request('POST', '/v1/rooms', { creator: u }),
      'createRoom',
    );
    const roomId = (r.body as { roomId: string }).roomId;
    rooms.push(roomId);
    eventsByRoom.set(roomId, []);
    membersByRoom.set(roomId, new Set([u]));
    return;
  }
  const roomId = rooms[('room' in o ? o.room : 0) % rooms.length]!;
  const path = `/v1/rooms/${encodeURIComponent(roomId)}`;
  // Room writes mostly come from members (a non-member's is refused, which is tested elsewhere).
  const joined = [...membersByRoom.get(roomId)!];
  const member = o.user === 0 ? u : joined[o.user % joined.length]!;
  switch (o.kind) {
    case 'join': {
      const r = await expectAnswered(client.request('POST', `${path}/join`, { userId: u }), 'join');
      if (r.status === 200) membersByRoom.get(roomId)!.add(u);
      return;
    }
    case 'send': {
      const r = await expectAnswered(
        client.request('POST', `${path}/send`, {
          sender: member,
          type: 'm.room.message',
          content: { body: o.word },
        }),
        'send',
      );
      if (r.status === 200) eventsByRoom.get(roomId)!.push((r.body as { eventId: string }).eventId);
      return;
    }
    case 'receipt': {
      const events = eventsByRoom.get(roomId)!;
      if (events.length === 0) return;
      await expectAnswered(
        client.request('POST', `${path}/receipt`, {
          userId: member,
          eventId: events[events.length - 1],
        }),
        'receipt',
      );
      return;
    }
    case 'accountData':
      await expectAnswered(
        client.request('PUT', `/v1/users/${u}/account_data/org.example.n`, { n: o.value }),
        'accountData',
      );
      return;
    case 'roomAccountData':
      await expectAnswered(
        client.request(
          'PUT',
          `/v1/users/${u}/account_data/org.example.r?roomId=${encodeURIComponent(roomId)}`,
          { n: o.value },
        ),
        'roomAccountData',
      );
      return;
    case 'tags':
      await expectAnswered(
        client.request(
          'PUT',
          `/v1/users/${u}/account_data/m.tag?roomId=${encodeURIComponent(roomId)}`,
          {
            tags: Object.fromEntries(o.tags.map((t, i) => [t, { order: i }])),
          },
        ),
        'tags',
      );
      return;
    case 'pushRules':
      await expectAnswered(
        client.request('PUT', `/v1/users/${u}/account_data/m.push_rules`, {
          rules: o.pattern ? [{ ruleId: 'r', pattern: o.pattern, actions: ['dont_notify'] }] : [],
        }),
        'pushRules',
      );
      return;
    case 'typing':
      await expectAnswered(
        client.request('PUT', `${path}/typing/${member}`, { typing: o.on, timeout: 120_000 }),
        'typing',
      );
      return;
    case 'read': {
      const target =
        o.what === 'sync' ? `/v1/sync?user=${encodeURIComponent(u)}` : `${path}/${o.what}`;
      await expectAnswered(client.request('GET', target), `read ${o.what}`);
      return;
    }
  }
}

describe('consistency property (fast-check, in process on PGlite)', () => {
  it('after random writes through any process, every cached read on every process equals a fresh read', async () => {
    let cachedEntries = 0;
    await fc.assert(
      fc.asyncProperty(script, async (groups) => {
        for (const group of groups) await Promise.all(group.map(run));
        // Quiescence: every worker at the writer's positions.
        const { positions } = await cluster.writer.client.positions();
        await Promise.all(cluster.workers().map((w) => w.client.waitForPositions(positions)));
        const report = await checkCacheConsistency({
          targets: stores(),
          oracle,
          probes: await chatProbes(cluster.db),
        });
        cachedEntries += report.cachedEntries;
        expect(report.mismatches.map(describeMismatch)).toEqual([]);
        expect(report.unprobedCaches).toEqual({});
      }),
      { numRuns: RUNS },
    );
    // The check compared real cache contents, not only fresh misses.
    expect(cachedEntries).toBeGreaterThan(0);
  }, 300_000);
});
