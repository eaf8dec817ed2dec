// Room members and current state: reads over `current_state_events` (worker),
// and the membership operations that persist state events (writer, built on
// EventsStore's `persistEvents`). The events stream's `state` rows invalidate
// the caches here; its `event` rows are the Events mixin's.
import { cached, onReplication, type StoreBase } from '../../../../src/index.js';
import { toInt, type ChatDB } from '../db.js';
import { EventsStream, type EventsStreamRow } from '../streams.js';
import { newId, sortStrings } from './common.js';
import type { ChatEvent, EventsStoreBase } from './events.js';

export interface StateEntry {
  readonly type: string;
  readonly stateKey: string;
  readonly eventId: string;
  readonly streamOrdering: number;
}

export function RoomMemberWorkerStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class RoomMemberWorkerStore extends Base {
    /** Users whose current membership of the room is `join`, sorted. */
    @cached()
    async getUsersInRoom(roomId: string): Promise<string[]> {
      const rows = await this.dbConn
        .selectFrom('current_state_events')
        .select('state_key')
        .where('room_id', '=', roomId)
        .where('type', '=', 'm.room.member')
        .where('membership', '=', 'join')
        .execute();
      return sortStrings(rows.map((r) => r.state_key));
    }

    /** Rooms the user is joined to now, sorted. */
    @cached()
    async getRoomsForUser(userId: string): Promise<string[]> {
      const rows = await this.dbConn
        .selectFrom('current_state_events')
        .select('room_id')
        .where('type', '=', 'm.room.member')
        .where('state_key', '=', userId)
        .where('membership', '=', 'join')
        .execute();
      return sortStrings(rows.map((r) => r.room_id));
    }

    /** The room's current state, sorted by (type, state key). */
    @cached()
    async getCurrentState(roomId: string): Promise<StateEntry[]> {
      const rows = await this.dbConn
        .selectFrom('current_state_events')
        .select(['type', 'state_key', 'event_id', 'stream_ordering'])
        .where('room_id', '=', roomId)
        .orderBy('type')
        .orderBy('state_key')
        .execute();
      return rows.map((r) => ({
        type: r.type,
        stateKey: r.state_key,
        eventId: r.event_id,
        streamOrdering: toInt(r.stream_ordering),
      }));
    }

    async isJoined(roomId: string, userId: string): Promise<boolean> {
      return (await this.getUsersInRoom(roomId)).includes(userId);
    }

    @onReplication(EventsStream)
    onStateRows(rows: readonly EventsStreamRow[]): void {
      for (const row of rows) {
        if (row.kind !== 'state') continue;
        this.invalidate(this.getCurrentState, row.roomId);
        if (row.type === 'm.room.member') {
          this.invalidate(this.getUsersInRoom, row.roomId);
          this.invalidate(this.getRoomsForUser, row.stateKey);
        }
      }
    }
  }
  return RoomMemberWorkerStore;
}

export function RoomMemberStore<B extends EventsStoreBase>(Base: B) {
  abstract class RoomMemberStore extends RoomMemberWorkerStore(Base) {
    /** Creates a room: its create event, the creator's join and, if given, its name. */
    async createRoom(
      creator: string,
      name: string | null,
    ): Promise<{ roomId: string; events: ChatEvent[] }> {
      const roomId = newId('!');
      const events = await this.persistEvents([
        { roomId, sender: creator, type: 'm.room.create', stateKey: '', content: { creator } },
        {
          roomId,
          sender: creator,
          type: 'm.room.member',
          stateKey: creator,
          content: { membership: 'join' },
        },
        ...(name === null
          ? []
          : [{ roomId, sender: creator, type: 'm.room.name', stateKey: '', content: { name } }]),
      ]);
      return { roomId, events };
    }

    /** Joins `userId` to the room (the caller checked that the room exists). */
    async joinRoom(roomId: string, userId: string): Promise<ChatEvent> {
      const [event] = await this.persistEvents([
        {
          roomId,
          sender: userId,
          type: 'm.room.member',
          stateKey: userId,
          content: { membership: 'join' },
        },
      ]);
      return event!;
    }
  }
  return RoomMemberStore;
}
