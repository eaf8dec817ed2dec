// Typing notifications: in memory only. The writer owns the `typing` memory
// stream (rows are the full list of who types in a room); every process keeps
// the lists it has applied. When a worker cannot get the rows it missed (the
// writer restarted or forgot them), the replication client resets the stream
// and `resetTyping` drops what it built.
import { onReplication, StreamChangeCache, type StoreBase } from '../../../../src/index.js';
import { onStreamReset } from '../../../../src/replication/index.js';
import type { ChatDB } from '../db.js';
import { TypingStream, type TypingStreamRow } from '../streams.js';
import { sortStrings, streamWriter } from './common.js';

export function TypingWorkerStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class TypingWorkerStore extends Base {
    /** Who is typing, by room (rooms where nobody types are absent). */
    readonly typingByRoom = new Map<string, readonly string[]>();
    /** Rooms whose typing list changed after a token. */
    typingChanges = new StreamChangeCache('typing', 0);

    override async prepare(): Promise<void> {
      const position = this.streamToken('typing', streamWriter(this.hs, 'typing'));
      this.typingChanges = new StreamChangeCache('typing', position);
      return Promise.resolve();
    }

    getTypingUsers(roomId: string): readonly string[] {
      return this.typingByRoom.get(roomId) ?? [];
    }

    @onReplication(TypingStream)
    onTyping(rows: readonly TypingStreamRow[], token: number): void {
      for (const row of rows) {
        if (row.userIds.length) this.typingByRoom.set(row.roomId, [...row.userIds]);
        else this.typingByRoom.delete(row.roomId);
        this.typingChanges.entityHasChangedAt(row.roomId, token);
      }
    }

    @onStreamReset(TypingStream)
    resetTyping(): void {
      this.typingByRoom.clear();
      this.typingChanges = new StreamChangeCache('typing', 0);
    }
  }
  return TypingWorkerStore;
}

export function TypingStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class TypingStore extends TypingWorkerStore(Base) {
    readonly typingSource = this.memoryStream(TypingStream);
    /** Expiry timers of who types: room → user → timer. */
    readonly typingTimers = new Map<string, Map<string, NodeJS.Timeout>>();

    /**
     * Starts (for `timeoutMs`) or stops a user typing in a room. Returns the
     * typing token that covers the change (the current one if nothing changed).
     */
    setTyping(roomId: string, userId: string, typing: boolean, timeoutMs: number): number {
      let timers = this.typingTimers.get(roomId);
      const wasTyping = timers?.has(userId) ?? false;
      clearTimeout(timers?.get(userId));
      if (typing) {
        if (!timers) this.typingTimers.set(roomId, (timers = new Map<string, NodeJS.Timeout>()));
        const timer = setTimeout(() => this.setTyping(roomId, userId, false, 0), timeoutMs);
        timer.unref();
        timers.set(userId, timer);
        if (wasTyping) return this.typingSource.currentToken();
      } else {
        if (!wasTyping) return this.typingSource.currentToken();
        timers!.delete(userId);
        if (timers!.size === 0) this.typingTimers.delete(roomId);
      }
      const userIds = sortStrings([...(this.typingTimers.get(roomId)?.keys() ?? [])]);
      return this.typingSource.append([{ roomId, userIds }]);
    }

    override async close(): Promise<void> {
      for (const timers of this.typingTimers.values())
        for (const t of timers.values()) clearTimeout(t);
      this.typingTimers.clear();
      await super.close();
    }
  }
  return TypingStore;
}
