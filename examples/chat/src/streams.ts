// The chat server's replication streams. Each names the tables whose writes it
// announces (what store-lint matches writes against) and reads its rows back
// for catch-up: `from` exclusive, `to` inclusive, in token order, at most
// `limit` rows, of one writer instance. Push rules have no stream of their
// own: they go through the runtime's `caches` stream.
import { sql } from 'kysely';
import { defineMemoryStream, defineStream, type DatabaseHandle } from '../../../src/index.js';
import { toInt, type ChatDB } from './db.js';

/** An `events` stream row: every event has an `event` row; a state event also a `state` row (same token). */
export type EventsStreamRow =
  | {
      readonly kind: 'event';
      readonly eventId: string;
      readonly roomId: string;
      readonly type: string;
      readonly sender: string;
      readonly stateKey: string | null;
    }
  | {
      readonly kind: 'state';
      readonly roomId: string;
      readonly type: string;
      readonly stateKey: string;
      readonly eventId: string;
      readonly membership: string | null;
    };

export const EventsStream = defineStream<EventsStreamRow>({
  name: 'events',
  tables: ['events', 'rooms', 'room_memberships', 'current_state_events'],
  getUpdates: async (db: DatabaseHandle<ChatDB>, from, to, limit, instance) => {
    const events = await db
      .selectFrom('events')
      .select([
        'stream_ordering',
        'event_id',
        'room_id',
        'type',
        'sender',
        'state_key',
        'membership',
      ])
      .where('instance_name', '=', instance)
      .where('stream_ordering', '>', from)
      .where('stream_ordering', '<=', to)
      .orderBy('stream_ordering')
      .limit(limit)
      .execute();
    const updates: { token: number; row: EventsStreamRow }[] = [];
    for (const e of events) {
      const token = toInt(e.stream_ordering);
      updates.push({
        token,
        row: {
          kind: 'event',
          eventId: e.event_id,
          roomId: e.room_id,
          type: e.type,
          sender: e.sender,
          stateKey: e.state_key,
        },
      });
      if (e.state_key !== null) {
        updates.push({
          token,
          row: {
            kind: 'state',
            roomId: e.room_id,
            type: e.type,
            stateKey: e.state_key,
            eventId: e.event_id,
            membership: e.membership,
          },
        });
      }
    }
    // Each event gives at least one row, so the first `limit` rows are all here.
    return updates.slice(0, limit);
  },
});

export interface ReceiptsStreamRow {
  readonly roomId: string;
  readonly receiptType: string;
  readonly userId: string;
  readonly eventId: string;
}

export const ReceiptsStream = defineStream<ReceiptsStreamRow>({
  name: 'receipts',
  tables: ['receipts'],
  getUpdates: async (db: DatabaseHandle<ChatDB>, from, to, limit, instance) =>
    (
      await db
        .selectFrom('receipts')
        .select(['stream_id', 'room_id', 'receipt_type', 'user_id', 'event_id'])
        .where('instance_name', '=', instance)
        .where('stream_id', '>', from)
        .where('stream_id', '<=', to)
        .orderBy('stream_id')
        .limit(limit)
        .execute()
    ).map((r) => ({
      token: toInt(r.stream_id),
      row: {
        roomId: r.room_id,
        receiptType: r.receipt_type,
        userId: r.user_id,
        eventId: r.event_id,
      },
    })),
});

/** An `account_data` stream row: `roomId` null for global account data; tags are `m.tag`. */
export interface AccountDataStreamRow {
  readonly userId: string;
  readonly roomId: string | null;
  readonly dataType: string;
}

/** The account data type under which room tags travel (as in Matrix sync). */
export const TAG_TYPE = 'm.tag';

export const AccountDataStream = defineStream<AccountDataStreamRow>({
  name: 'account_data',
  tables: ['account_data', 'room_account_data', 'room_tags', 'room_tags_revisions'],
  getUpdates: async (db: DatabaseHandle<ChatDB>, from, to, limit, instance) => {
    const { rows } = await sql<{
      stream_id: string | number;
      user_id: string;
      room_id: string | null;
      data_type: string;
    }>`
      SELECT stream_id, user_id, NULL::text AS room_id, account_data_type AS data_type
        FROM account_data
        WHERE instance_name = ${instance} AND stream_id > ${from} AND stream_id <= ${to}
      UNION ALL
      SELECT stream_id, user_id, room_id, account_data_type AS data_type
        FROM room_account_data
        WHERE instance_name = ${instance} AND stream_id > ${from} AND stream_id <= ${to}
      UNION ALL
      SELECT stream_id, user_id, room_id, ${TAG_TYPE}::text AS data_type
        FROM room_tags_revisions
        WHERE instance_name = ${instance} AND stream_id > ${from} AND stream_id <= ${to}
      ORDER BY stream_id
      LIMIT ${limit}`.execute(db);
    return rows.map((r) => ({
      token: toInt(r.stream_id),
      row: { userId: r.user_id, roomId: r.room_id, dataType: r.data_type },
    }));
  },
});

/** A `typing` row: the full list of users typing in a room now (a replacement, as in Synapse). */
export interface TypingStreamRow {
  readonly roomId: string;
  readonly userIds: readonly string[];
}

/** Typing notifications live only in the writer's memory. */
export const TypingStream = defineMemoryStream<TypingStreamRow>({
  name: 'typing',
  maxHistory: 1000,
});

/** The streams a sync token covers, in token order (`s<events>_<receipts>_<account_data>_<typing>`). */
export const SYNC_STREAMS = ['events', 'receipts', 'account_data', 'typing'] as const;
export type SyncStream = (typeof SYNC_STREAMS)[number];

/** Every stream a chat process follows (the sync streams and the runtime's `caches`). */
export const FOLLOWED_STREAMS = [...SYNC_STREAMS, 'caches'] as const;
