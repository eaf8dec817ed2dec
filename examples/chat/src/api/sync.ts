// `GET /v1/sync?user=&since=&timeout=`: what changed for a user since a
// token, long-polling until something does. The token encodes this process's
// positions of the streams sync covers: `s<events>_<receipts>_<account_data>_<typing>`.
//
// Order matters (Synapse #14158): the positions are read first, then the
// StreamChangeCaches are asked about `since`. Handlers update those caches
// before a position advances, so every change at or below the positions read
// is already in them; events are read up to the events position only.
//
// Waiting is the notifier's (no polling): the request parks until a covered
// stream moves past the positions it last answered for, then recomputes.
// Push rules travel in the caches stream, which sync does not cover: they are
// in the initial sync only.
import { badRequest } from '../http/errors.js';
import type { ChatEvent } from '../stores/events.js';
import type { ChatStore } from '../stores/compositions.js';
import type { Receipt } from '../stores/receipts.js';
import type { RoomTags } from '../stores/tags.js';
import { SYNC_STREAMS, type SyncStream } from '../streams.js';

export type SyncToken = Readonly<Record<SyncStream, number>>;

const TOKEN = /^s(\d{1,15})_(\d{1,15})_(\d{1,15})_(\d{1,15})$/;
/** Events per room in a timeline. */
export const TIMELINE_LIMIT = 20;
export const MAX_SYNC_TIMEOUT_MS = 60_000;
/** How long a sync waits for this process to reach a token another process handed out. */
const FUTURE_TOKEN_WAIT_MS = 5_000;

export function formatSyncToken(token: SyncToken): string {
  return `s${SYNC_STREAMS.map((s) => token[s]).join('_')}`;
}

export function parseSyncToken(text: string): SyncToken {
  const match = TOKEN.exec(text);
  if (!match) throw badRequest(`since is not a sync token: ${JSON.stringify(text)}`);
  const values = match.slice(1).map(Number);
  return Object.fromEntries(SYNC_STREAMS.map((s, i) => [s, values[i]!])) as SyncToken;
}

export interface SyncRoom {
  timeline: { events: ChatEvent[]; limited: boolean };
  members: string[];
  typing?: readonly string[];
  receipts?: Receipt[];
  accountData?: Record<string, unknown>;
}

export interface SyncResponse {
  next_batch: string;
  rooms: Record<string, SyncRoom>;
  accountData?: Record<string, unknown>;
}

export class SyncHandler {
  /** Long polls answered because a stream moved (not because they timed out). */
  wakes = 0;

  constructor(
    readonly store: ChatStore,
    /** The writer instance of every stream. */
    readonly writer: string,
  ) {}

  /** This process's positions of the streams sync covers. */
  currentToken(): SyncToken {
    return Object.fromEntries(
      SYNC_STREAMS.map((s) => [s, this.store.streamToken(s, this.writer)]),
    ) as SyncToken;
  }

  async sync(
    userId: string,
    since: SyncToken | null,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<SyncResponse> {
    const deadline = performance.now() + timeoutMs;
    if (since) since = await this.#boundFutureToken(since, timeoutMs, signal);
    for (;;) {
      const now = this.currentToken();
      const response = await this.#compute(userId, since, now);
      const remaining = deadline - performance.now();
      if (!since || !isEmpty(response) || remaining <= 0 || signal?.aborted) return response;
      const woke = await this.store.notifier.wait(
        () => SYNC_STREAMS.some((s) => this.store.streamToken(s, this.writer) > now[s]),
        remaining,
        signal,
      );
      if (!woke) return response;
      this.wakes++;
    }
  }

  /**
   * A token from another process may be ahead of this one: wait a little for
   * replication to get there, then answer from where this process is.
   */
  async #boundFutureToken(since: SyncToken, timeoutMs: number, signal?: AbortSignal) {
    const ahead = () => SYNC_STREAMS.some((s) => since[s] > this.store.streamToken(s, this.writer));
    if (ahead()) {
      await this.store.notifier.wait(
        () => !ahead(),
        Math.min(timeoutMs, FUTURE_TOKEN_WAIT_MS),
        signal,
      );
    }
    const now = this.currentToken();
    return Object.fromEntries(
      SYNC_STREAMS.map((s) => [s, Math.min(since[s], now[s])]),
    ) as SyncToken;
  }

  async #compute(userId: string, since: SyncToken | null, now: SyncToken): Promise<SyncResponse> {
    const store = this.store;
    const roomIds = await store.getRoomsForUser(userId);
    const response: SyncResponse = { next_batch: formatSyncToken(now), rooms: {} };

    const changedEvents = since
      ? store.eventsChanges.getEntitiesChanged(roomIds, since.events).entities
      : new Set(roomIds);
    const changedReceipts = since
      ? store.receiptsChanges.getEntitiesChanged(roomIds, since.receipts).entities
      : new Set(roomIds);
    const changedTyping = since
      ? store.typingChanges.getEntitiesChanged(roomIds, since.typing).entities
      : new Set(roomIds.filter((r) => store.getTypingUsers(r).length > 0));
    const accountDataChanged =
      !since || store.accountDataChanges.entityHasChanged(userId, since.account_data);

    for (const roomId of roomIds) {
      const room: Partial<SyncRoom> = {};
      if (changedEvents.has(roomId)) {
        const timeline = since
          ? await store.getRoomEventsBetween(roomId, since.events, now.events, TIMELINE_LIMIT)
          : await this.#initialTimeline(roomId, now.events);
        if (timeline.events.length) room.timeline = timeline;
      }
      if (changedReceipts.has(roomId)) {
        const receipts = await store.getReceiptsForRoom(roomId);
        if (receipts.length || since) room.receipts = receipts;
      }
      if (changedTyping.has(roomId)) room.typing = [...store.getTypingUsers(roomId)];
      if (accountDataChanged) {
        // Incremental: the whole (possibly emptied) account data, so removals show.
        const accountData: Record<string, unknown> = {
          ...(await store.getRoomAccountData(userId, roomId)),
        };
        const tags: RoomTags = await store.getTagsForRoom(userId, roomId);
        if (since || Object.keys(tags).length) accountData['m.tag'] = { tags };
        if (Object.keys(accountData).length) room.accountData = accountData;
      }
      if (Object.keys(room).length === 0) continue;
      response.rooms[roomId] = {
        timeline: room.timeline ?? { events: [], limited: false },
        members: await store.getUsersInRoom(roomId),
        ...(room.typing ? { typing: room.typing } : {}),
        ...(room.receipts ? { receipts: room.receipts } : {}),
        ...(room.accountData ? { accountData: room.accountData } : {}),
      };
    }

    if (accountDataChanged) {
      const global: Record<string, unknown> = { ...(await store.getGlobalAccountData(userId)) };
      if (!since) global['m.push_rules'] = { rules: await store.getPushRules(userId) };
      if (since || Object.keys(global).length) response.accountData = global;
    }
    return response;
  }

  /** The newest events of a room up to `upTo` (the initial sync's timeline). */
  async #initialTimeline(roomId: string, upTo: number) {
    const page = await this.store.getMessages(roomId, null, TIMELINE_LIMIT);
    const ids = page.events.filter((e) => e.streamOrdering <= upTo).map((e) => e.eventId);
    const events = await this.store.getEvents(ids);
    return {
      events: ids
        .map((id) => events.get(id))
        .filter((e): e is ChatEvent => e !== undefined)
        .reverse(),
      limited: page.end !== null,
    };
  }
}

function isEmpty(response: SyncResponse): boolean {
  return Object.keys(response.rooms).length === 0 && response.accountData === undefined;
}
