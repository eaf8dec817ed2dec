// The chat server's cache probes: every `@cached()` read, with arguments taken
// from what the database holds (every room, user, event, and user × room
// pair), plus identifiers that do not exist, whose cached "nothing" must be
// invalidated too when they appear. Read straight from the tables, not
// through a store, so the probe set does not depend on any cache.
import type { Kysely } from 'kysely';
import { TIMELINE_LIMIT } from './api/sync.js';
import { toInt, type ChatDB } from './db.js';
import type { CacheProbe } from './consistency.js';

/** Arguments the messages endpoint uses by default (so the API's cache entries are probed). */
export const MESSAGES_PAGE = 20;

/** Probes for every cached read of the chat compositions over the data in `db`. */
export async function chatProbes(
  db: Kysely<ChatDB>,
  options: { maxEvents?: number } = {},
): Promise<CacheProbe[]> {
  const rooms = (await db.selectFrom('rooms').select('room_id').orderBy('room_id').execute()).map(
    (r) => r.room_id,
  );
  const userRows = await db
    .selectFrom('room_memberships')
    .select('user_id')
    .union(db.selectFrom('account_data').select('user_id'))
    .union(db.selectFrom('room_account_data').select('user_id'))
    .union(db.selectFrom('room_tags').select('user_id'))
    .union(db.selectFrom('push_rules').select('user_id'))
    .union(db.selectFrom('receipts').select('user_id'))
    .execute();
  const users = userRows.map((r) => r.user_id).sort();
  const events = await db
    .selectFrom('events')
    .select(['event_id', 'room_id', 'stream_ordering'])
    .orderBy('stream_ordering', 'desc')
    .limit(options.maxEvents ?? 2_000)
    .execute();

  const missingRoom = '!no-such-room';
  const missingUser = '@nobody';
  const probes: CacheProbe[] = [];
  const add = (method: string, ...args: unknown[]) => probes.push({ method, args });

  for (const roomId of [...rooms, missingRoom]) {
    add('getRoom', roomId);
    add('getCurrentState', roomId);
    add('getUsersInRoom', roomId);
    add('getReceiptsForRoom', roomId);
    add('getUsersWithReadReceiptsInRoom', roomId);
    add('getMessages', roomId, null, MESSAGES_PAGE);
    add('getMessages', roomId, null, TIMELINE_LIMIT);
    add('getMessages', roomId, null, 5);
  }
  // Older pages: before the middle event of each room.
  const byRoom = new Map<string, number[]>();
  for (const e of events) {
    const list = byRoom.get(e.room_id) ?? [];
    list.push(toInt(e.stream_ordering));
    byRoom.set(e.room_id, list);
  }
  for (const [roomId, orderings] of byRoom) {
    add('getMessages', roomId, orderings[Math.floor(orderings.length / 2)]!, 5);
  }
  for (const e of events) add('getEvent', e.event_id);
  add('getEvent', '$no-such-event');

  for (const userId of [...users, missingUser]) {
    add('getRoomsForUser', userId);
    add('getGlobalAccountData', userId);
    add('getTagsForUser', userId);
    add('getPushRules', userId);
    for (const roomId of [...rooms, missingRoom]) {
      add('getRoomAccountData', userId, roomId);
      add('getTagsForRoom', userId, roomId);
    }
  }
  return probes;
}
