// Events: reading rooms' timelines (worker) and persisting events (writer).
// Persisting writes `events`, and for state events `current_state_events` and
// `room_memberships`, and `rooms` for a create event, in one transaction at
// the events stream's IDs; every process (the writer included) invalidates
// from the stream's rows. The RoomMember mixins handle the state rows.
import {
  cached,
  cachedList,
  loadStreamChangeCache,
  onReplication,
  StreamChangeCache,
  type StoreBase,
} from '../../../../src/index.js';
import { toInt, type ChatDB } from '../db.js';
import { EventsStream, type EventsStreamRow } from '../streams.js';
import { jsonText, newId, streamWriter } from './common.js';

export interface ChatEvent {
  readonly eventId: string;
  readonly roomId: string;
  readonly sender: string;
  readonly type: string;
  readonly stateKey: string | null;
  readonly content: Readonly<Record<string, unknown>>;
  readonly originServerTs: number;
  readonly streamOrdering: number;
}

/** An event about to be persisted (IDs, ordering and timestamp are given by `persistEvents`). */
export interface EventDraft {
  readonly roomId: string;
  readonly sender: string;
  readonly type: string;
  readonly stateKey: string | null;
  readonly content: Readonly<Record<string, unknown>>;
}

export interface RoomInfo {
  readonly roomId: string;
  readonly creator: string;
  readonly createdStreamOrdering: number;
}

/** One page of a room's timeline, newest first; `end` continues it (`before`), null at the start. */
export interface MessagesPage {
  readonly events: readonly { readonly eventId: string; readonly streamOrdering: number }[];
  readonly end: number | null;
}

const EVENT_COLUMNS = [
  'event_id',
  'room_id',
  'sender',
  'type',
  'state_key',
  'content',
  'origin_server_ts',
  'stream_ordering',
] as const;

function toChatEvent(row: {
  event_id: string;
  room_id: string;
  sender: string;
  type: string;
  state_key: string | null;
  content: unknown;
  origin_server_ts: string | number;
  stream_ordering: string | number;
}): ChatEvent {
  return {
    eventId: row.event_id,
    roomId: row.room_id,
    sender: row.sender,
    type: row.type,
    stateKey: row.state_key,
    content: (typeof row.content === 'string' ? JSON.parse(row.content) : row.content) as Record<
      string,
      unknown
    >,
    originServerTs: toInt(row.origin_server_ts),
    streamOrdering: toInt(row.stream_ordering),
  };
}

export function EventsWorkerStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class EventsWorkerStore extends Base {
    /** Rooms with new events after a token (sync skips the rest). Loaded in `prepare`. */
    eventsChanges = new StreamChangeCache('events', 0);

    override async prepare(): Promise<void> {
      this.eventsChanges = await loadStreamChangeCache<ChatDB>(this.dbConn, {
        name: 'events',
        table: 'events',
        entityColumn: 'room_id',
        tokenColumn: 'stream_ordering',
        currentPosition: this.streamToken('events', streamWriter(this.hs, 'events')),
        floor: 0,
      });
    }

    @cached({ maxEntries: 50_000 })
    async getEvent(eventId: string): Promise<ChatEvent | undefined> {
      const row = await this.dbConn
        .selectFrom('events')
        .select(EVENT_COLUMNS)
        .where('event_id', '=', eventId)
        .executeTakeFirst();
      return row && toChatEvent(row);
    }

    @cachedList({ cached: 'getEvent' })
    async getEvents(eventIds: readonly string[]): Promise<Map<string, ChatEvent | undefined>> {
      const found = new Map<string, ChatEvent | undefined>();
      if (eventIds.length === 0) return found;
      const rows = await this.dbConn
        .selectFrom('events')
        .select(EVENT_COLUMNS)
        .where('event_id', 'in', eventIds)
        .execute();
      for (const row of rows) found.set(row.event_id, toChatEvent(row));
      return found;
    }

    @cached()
    async getRoom(roomId: string): Promise<RoomInfo | undefined> {
      const row = await this.dbConn
        .selectFrom('rooms')
        .select(['room_id', 'creator', 'created_stream_ordering'])
        .where('room_id', '=', roomId)
        .executeTakeFirst();
      return (
        row && {
          roomId: row.room_id,
          creator: row.creator,
          createdStreamOrdering: toInt(row.created_stream_ordering),
        }
      );
    }

    /** The newest `limit` events of a room before `before` (a stream ordering; null: from the end). */
    @cached()
    async getMessages(roomId: string, before: number | null, limit: number): Promise<MessagesPage> {
      let query = this.dbConn
        .selectFrom('events')
        .select(['event_id', 'stream_ordering'])
        .where('room_id', '=', roomId);
      if (before !== null) query = query.where('stream_ordering', '<', before);
      const rows = await query.orderBy('stream_ordering', 'desc').limit(limit).execute();
      const events = rows.map((r) => ({
        eventId: r.event_id,
        streamOrdering: toInt(r.stream_ordering),
      }));
      return {
        events,
        end: events.length === limit ? events[events.length - 1]!.streamOrdering : null,
      };
    }

    /**
     * A room's events with `from < ordering <= to`, oldest first: the newest
     * `limit` of them, and whether older ones were left out (sync's timeline).
     */
    async getRoomEventsBetween(
      roomId: string,
      from: number,
      to: number,
      limit: number,
    ): Promise<{ events: ChatEvent[]; limited: boolean }> {
      const rows = await this.dbConn
        .selectFrom('events')
        .select(EVENT_COLUMNS)
        .where('room_id', '=', roomId)
        .where('stream_ordering', '>', from)
        .where('stream_ordering', '<=', to)
        .orderBy('stream_ordering', 'desc')
        .limit(limit + 1)
        .execute();
      const limited = rows.length > limit;
      return { events: rows.slice(0, limit).reverse().map(toChatEvent), limited };
    }

    /** Every room's events with `from < ordering <= to`, oldest first, at most `limit` (the consumer's feed). */
    async getEventsBetween(from: number, to: number, limit: number): Promise<ChatEvent[]> {
      const rows = await this.dbConn
        .selectFrom('events')
        .select(EVENT_COLUMNS)
        .where('stream_ordering', '>', from)
        .where('stream_ordering', '<=', to)
        .orderBy('stream_ordering')
        .limit(limit)
        .execute();
      return rows.map(toChatEvent);
    }

    @onReplication(EventsStream)
    onEvents(rows: readonly EventsStreamRow[], token: number): void {
      for (const row of rows) {
        if (row.kind !== 'event') continue;
        this.invalidate(this.getEvent, row.eventId);
        this.invalidatePrefix(this.getMessages, row.roomId);
        if (row.type === 'm.room.create') this.invalidate(this.getRoom, row.roomId);
        this.eventsChanges.entityHasChangedAt(row.roomId, token);
      }
    }
  }
  return EventsWorkerStore;
}

export function EventsStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class EventsStore extends EventsWorkerStore(Base) {
    readonly eventsIdGen = this.streamIdGenerator(EventsStream);

    /**
     * Persists events in order, one stream ordering each, in one transaction.
     * When it returns, this process has applied their stream rows.
     */
    async persistEvents(drafts: readonly EventDraft[]): Promise<ChatEvent[]> {
      if (drafts.length === 0) return [];
      return this.eventsIdGen.withNextIds(drafts.length, async (ids) => {
        const now = this.hs.clock.now();
        const events: ChatEvent[] = drafts.map((draft, i) => ({
          ...draft,
          eventId: newId('$'),
          originServerTs: now,
          streamOrdering: ids[i]!,
        }));
        await this.dbConn.runInteraction('persistEvents', async (txn) => {
          for (const event of events) {
            const membership =
              event.type === 'm.room.member' ? String(event.content.membership) : null;
            await txn
              .insertInto('events')
              .values({
                stream_ordering: event.streamOrdering,
                instance_name: this.hs.instanceName,
                event_id: event.eventId,
                room_id: event.roomId,
                sender: event.sender,
                type: event.type,
                state_key: event.stateKey,
                membership,
                content: jsonText(event.content),
                origin_server_ts: event.originServerTs,
              })
              .execute();
            if (event.type === 'm.room.create') {
              await txn
                .insertInto('rooms')
                .values({
                  room_id: event.roomId,
                  creator: event.sender,
                  created_stream_ordering: event.streamOrdering,
                })
                .execute();
            }
            if (event.stateKey === null) continue;
            await txn
              .insertInto('current_state_events')
              .values({
                room_id: event.roomId,
                type: event.type,
                state_key: event.stateKey,
                event_id: event.eventId,
                membership,
                stream_ordering: event.streamOrdering,
              })
              .onConflict((oc) =>
                oc.columns(['room_id', 'type', 'state_key']).doUpdateSet((eb) => ({
                  event_id: eb.ref('excluded.event_id'),
                  membership: eb.ref('excluded.membership'),
                  stream_ordering: eb.ref('excluded.stream_ordering'),
                })),
              )
              .execute();
            if (membership !== null) {
              await txn
                .insertInto('room_memberships')
                .values({
                  event_id: event.eventId,
                  room_id: event.roomId,
                  user_id: event.stateKey,
                  membership,
                  stream_ordering: event.streamOrdering,
                })
                .execute();
            }
          }
        });
        return events;
      });
    }
  }
  return EventsStore;
}

/** The constructor type of a composition that includes `EventsStore` (for mixins built on it). */
export type EventsStoreBase = ReturnType<typeof EventsStore<StoreBase<ChatDB>>>;
