// The HTTP API, in process on PGlite: a writer and a reader with replication
// over loopback TCP. Writes through the reader are forwarded to the writer
// and read back from the reader at once; bad requests get 4xx JSON errors and
// the processes keep serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client.js';
import { MAX_BODY_BYTES } from '../src/http/router.js';
import { startTestCluster } from './helpers.js';

type TestCluster = Awaited<ReturnType<typeof startTestCluster>>;

let cluster: TestCluster;
let reader: ChatClient;
let writer: ChatClient;
let roomId: string;
let messageId: string;

beforeAll(async () => {
  cluster = await startTestCluster({ readers: 1, consumer: false });
  reader = cluster.readers[0]!.client;
  writer = cluster.writer.client;
  ({ roomId } = await reader.createRoom('@alice', 'General'));
  await reader.join(roomId, '@bob');
  ({ eventId: messageId } = await reader.send(roomId, '@alice', 'hello'));
});

afterAll(async () => {
  await cluster?.stop();
});

describe('chat API: writes through a reader, read back from it at once', () => {
  it('creates a room whose creator is its member', async () => {
    const { roomId: id, token } = await reader.createRoom('@carol');
    expect(id).toMatch(/^!/);
    expect(token).toBeGreaterThan(0);
    expect(await reader.members(id)).toEqual({ roomId: id, members: ['@carol'] });
  });

  it('joins, and joining twice changes nothing', async () => {
    const first = await reader.join(roomId, '@dave');
    const second = await reader.join(roomId, '@dave');
    expect(second.eventId).toBe(first.eventId);
    expect((await reader.members(roomId)).members).toEqual(['@alice', '@bob', '@dave']);
  });

  it('sends messages and pages through them newest first', async () => {
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push((await reader.send(roomId, '@bob', `m${i}`)).eventId);
    const page1 = await reader.messages(roomId, { limit: 2 });
    expect(page1.chunk.map((e) => e.eventId)).toEqual([sent[2], sent[1]]);
    expect(page1.end).not.toBeNull();
    const page2 = await reader.messages(roomId, { limit: 2, from: page1.end! });
    expect(page2.chunk[0]!.eventId).toBe(sent[0]);
    expect(page2.chunk[1]!.streamOrdering).toBeLessThan(page2.chunk[0]!.streamOrdering);
    expect(page2.chunk[0]!.content).toEqual({ msgtype: 'm.text', body: 'm0' });
  });

  it('records receipts and serves them', async () => {
    await reader.receipt(roomId, '@bob', messageId);
    const { receipts } = await reader.receipts(roomId);
    expect(receipts).toContainEqual(
      expect.objectContaining({ userId: '@bob', eventId: messageId, receiptType: 'm.read' }),
    );
  });

  it('stores global and room account data, tags and push rules, shown in the initial sync', async () => {
    await reader.putAccountData('@bob', 'org.example.settings', { theme: 'dark' });
    await reader.putAccountData('@bob', 'org.example.draft', { text: 'hi' }, roomId);
    await reader.putAccountData(
      '@bob',
      'm.tag',
      { tags: { 'm.favourite': { order: 0.5 } } },
      roomId,
    );
    await reader.putAccountData('@bob', 'm.push_rules', {
      rules: [{ ruleId: 'quiet', pattern: 'lunch', actions: ['dont_notify'] }],
    });
    const sync = await reader.sync('@bob');
    expect(sync.accountData).toEqual({
      'org.example.settings': { theme: 'dark' },
      'm.push_rules': {
        rules: [
          {
            ruleId: 'quiet',
            priority: 0,
            pattern: 'lunch',
            actions: ['dont_notify'],
            enabled: true,
          },
        ],
      },
    });
    expect(sync.rooms[roomId]!.accountData).toEqual({
      'org.example.draft': { text: 'hi' },
      'm.tag': { tags: { 'm.favourite': { order: 0.5 } } },
    });
  });

  it('shows who is typing, and stops', async () => {
    await reader.typing(roomId, '@bob', true);
    expect((await reader.sync('@alice')).rooms[roomId]!.typing).toEqual(['@bob']);
    await reader.typing(roomId, '@bob', false);
    expect((await reader.sync('@alice')).rooms[roomId]!.typing).toBeUndefined();
  });

  it('serves the same API on the writer', async () => {
    const expected = await writer.members(roomId);
    expect(await reader.members(roomId)).toEqual(expected);
    const { eventId } = await writer.send(roomId, '@alice', 'from the writer');
    expect((await writer.messages(roomId, { limit: 1 })).chunk[0]!.eventId).toBe(eventId);
  });

  it('wakes a long-polling sync on the reader when a message arrives through the writer', async () => {
    const { next_batch } = await reader.sync('@bob');
    const polling = reader.sync('@bob', { since: next_batch, timeout: 30_000 });
    const { eventId } = await writer.send(roomId, '@alice', 'wake up');
    const woken = await polling;
    expect(woken.rooms[roomId]!.timeline.events.map((e) => e.eventId)).toContain(eventId);
    expect(woken.next_batch).not.toBe(next_batch);
  });

  it('answers a sync with nothing new at once when the timeout is 0', async () => {
    const { next_batch } = await reader.sync('@bob');
    const empty = await reader.sync('@bob', { since: next_batch, timeout: 0 });
    expect(empty).toEqual({ next_batch, rooms: {} });
  });
});

describe('chat API: bad requests get 4xx JSON errors, never a crash', () => {
  const cases: Array<[string, string, string, unknown, number, string]> = [
    ['an unknown path', 'GET', '/v1/nothing', undefined, 404, 'M_UNRECOGNIZED'],
    ['a wrong method', 'DELETE', '/v1/rooms', undefined, 405, 'M_UNRECOGNIZED'],
    ['no body', 'POST', '/v1/rooms', undefined, 400, 'M_NOT_JSON'],
    ['a body that is not an object', 'POST', '/v1/rooms', [1, 2], 400, 'M_BAD_JSON'],
    ['a bad user ID', 'POST', '/v1/rooms', { creator: 'alice' }, 400, 'M_INVALID_PARAM'],
    [
      'an unknown field',
      'POST',
      '/v1/rooms',
      { creator: '@alice', colour: 'red' },
      400,
      'M_INVALID_PARAM',
    ],
    [
      'a bad room ID in the path',
      'GET',
      '/v1/rooms/general/members',
      undefined,
      400,
      'M_INVALID_PARAM',
    ],
    [
      'bad percent-encoding',
      'GET',
      '/v1/rooms/%E0%A4%A/members',
      undefined,
      400,
      'M_INVALID_PARAM',
    ],
    ['an unknown room (members)', 'GET', '/v1/rooms/!nope/members', undefined, 404, 'M_NOT_FOUND'],
    [
      'an unknown room (messages)',
      'GET',
      '/v1/rooms/!nope/messages',
      undefined,
      404,
      'M_NOT_FOUND',
    ],
    [
      'an unknown room (receipts)',
      'GET',
      '/v1/rooms/!nope/receipts',
      undefined,
      404,
      'M_NOT_FOUND',
    ],
    [
      'joining an unknown room',
      'POST',
      '/v1/rooms/!nope/join',
      { userId: '@bob' },
      404,
      'M_NOT_FOUND',
    ],
    [
      'a message limit out of range',
      'GET',
      '/v1/rooms/ROOM/messages?limit=1000',
      undefined,
      400,
      'M_INVALID_PARAM',
    ],
    [
      'a message limit that is not a number',
      'GET',
      '/v1/rooms/ROOM/messages?limit=ten',
      undefined,
      400,
      'M_INVALID_PARAM',
    ],
    [
      'sending without content',
      'POST',
      '/v1/rooms/ROOM/send',
      { sender: '@alice', type: 'm.room.message' },
      400,
      'M_NOT_JSON',
    ],
    [
      'sending a reserved type',
      'POST',
      '/v1/rooms/ROOM/send',
      { sender: '@alice', type: 'm.room.member', content: {} },
      400,
      'M_INVALID_PARAM',
    ],
    [
      'sending when not joined',
      'POST',
      '/v1/rooms/ROOM/send',
      { sender: '@mallory', type: 'm.room.message', content: {} },
      403,
      'M_FORBIDDEN',
    ],
    [
      'a receipt when not joined',
      'POST',
      '/v1/rooms/ROOM/receipt',
      { userId: '@mallory', eventId: '$x' },
      403,
      'M_FORBIDDEN',
    ],
    [
      'a receipt for an unknown event',
      'POST',
      '/v1/rooms/ROOM/receipt',
      { userId: '@bob', eventId: '$nope' },
      404,
      'M_NOT_FOUND',
    ],
    [
      'a receipt with a bad event ID',
      'POST',
      '/v1/rooms/ROOM/receipt',
      { userId: '@bob', eventId: 'nope' },
      400,
      'M_INVALID_PARAM',
    ],
    [
      'typing when not joined',
      'PUT',
      '/v1/rooms/ROOM/typing/@mallory',
      { typing: true },
      403,
      'M_FORBIDDEN',
    ],
    [
      'typing without a boolean',
      'PUT',
      '/v1/rooms/ROOM/typing/@bob',
      { typing: 'yes' },
      400,
      'M_INVALID_PARAM',
    ],
    [
      'a typing timeout out of range',
      'PUT',
      '/v1/rooms/ROOM/typing/@bob',
      { typing: true, timeout: -1 },
      400,
      'M_INVALID_PARAM',
    ],
    [
      'account data that is not an object',
      'PUT',
      '/v1/users/@bob/account_data/org.x',
      'text',
      400,
      'M_BAD_JSON',
    ],
    [
      'a bad account data type',
      'PUT',
      '/v1/users/@bob/account_data/bad%20type',
      {},
      400,
      'M_INVALID_PARAM',
    ],
    [
      'tags without a room',
      'PUT',
      '/v1/users/@bob/account_data/m.tag',
      { tags: {} },
      400,
      'M_INVALID_PARAM',
    ],
    [
      'tags for an unknown room',
      'PUT',
      '/v1/users/@bob/account_data/m.tag?roomId=!nope',
      { tags: {} },
      404,
      'M_NOT_FOUND',
    ],
    [
      'push rules for a room',
      'PUT',
      '/v1/users/@bob/account_data/m.push_rules?roomId=ROOM',
      { rules: [] },
      400,
      'M_INVALID_PARAM',
    ],
    [
      'repeated push rule IDs',
      'PUT',
      '/v1/users/@bob/account_data/m.push_rules',
      {
        rules: [
          { ruleId: 'a', actions: ['notify'] },
          { ruleId: 'a', actions: ['notify'] },
        ],
      },
      400,
      'M_INVALID_PARAM',
    ],
    [
      'an unknown push action',
      'PUT',
      '/v1/users/@bob/account_data/m.push_rules',
      { rules: [{ ruleId: 'a', actions: ['ring'] }] },
      400,
      'M_INVALID_PARAM',
    ],
    ['sync without a user', 'GET', '/v1/sync', undefined, 400, 'M_MISSING_PARAM'],
    [
      'sync with a bad token',
      'GET',
      '/v1/sync?user=@bob&since=yesterday',
      undefined,
      400,
      'M_INVALID_PARAM',
    ],
    [
      'sync with a timeout out of range',
      'GET',
      '/v1/sync?user=@bob&timeout=999999',
      undefined,
      400,
      'M_INVALID_PARAM',
    ],
    [
      'an internal endpoint without the secret',
      'GET',
      '/_internal/positions',
      undefined,
      401,
      'M_UNAUTHORIZED',
    ],
  ];

  for (const [what, method, path, body, status, errcode] of cases) {
    it(`${what}: ${status} ${errcode}, on the reader and on the writer`, async () => {
      for (const client of [reader, writer]) {
        const anonymous = new ChatClient(client.baseUrl);
        const target = path.startsWith('/_internal') ? anonymous : client;
        const response = await target.request(
          method,
          path.replace('ROOM', encodeURIComponent(roomId)),
          body,
        );
        expect(response.status, `${client.name}: ${JSON.stringify(response.body)}`).toBe(status);
        expect(response.body).toMatchObject({ errcode });
        expect(typeof (response.body as { error: unknown }).error).toBe('string');
      }
    });
  }

  it('malformed JSON: 400 M_NOT_JSON', async () => {
    const response = await reader.request('POST', '/v1/rooms', undefined, {
      rawBody: '{"creator": ',
    });
    expect(response).toEqual({
      status: 400,
      body: { errcode: 'M_NOT_JSON', error: expect.any(String) as string },
    });
  });

  it('a body over the limit: 413 M_TOO_LARGE', async () => {
    const rawBody = JSON.stringify({ creator: '@alice', name: 'x'.repeat(MAX_BODY_BYTES) });
    const response = await reader.request('POST', '/v1/rooms', undefined, { rawBody });
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ errcode: 'M_TOO_LARGE' });
  });

  it('a 405 says which methods the path has', async () => {
    const response = await fetch(new URL('/v1/rooms/!a/send', reader.baseUrl), { method: 'GET' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it("a worker refuses to act as the writer (its /_internal/write is not the writer's)", async () => {
    const response = await reader.request('POST', '/_internal/write/createRoom', {
      creator: '@alice',
    });
    expect(response.status).toBe(404);
  });

  it('the writer validates forwarded writes again', async () => {
    const response = await writer.request('POST', '/_internal/write/send', {
      roomId,
      sender: 'bob',
      type: 'x',
      content: {},
    });
    expect(response.status).toBe(400);
    const unknown = await writer.request('POST', '/_internal/write/explode', {});
    expect(unknown.status).toBe(404);
  });

  it('keeps serving after all of that', async () => {
    expect((await reader.members(roomId)).members).toContain('@alice');
    expect((await writer.members(roomId)).members).toContain('@alice');
  });
});
