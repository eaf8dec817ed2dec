// The writer's side of every write: checks what only the writer can check
// authoritatively (the room exists, the user is joined, the event is in the
// room) against its own caches, which are never stale on the writer (it
// applies its own stream rows before a write returns), then writes. Returns
// the stream position that covers the write, which a worker waits for.
import { forbidden, notFound } from '../http/errors.js';
import type { MainDataStore } from '../stores/compositions.js';
import {
  parsePushRules,
  parseTags,
  PUSH_RULES_TYPE,
  TAGS_TYPE,
  type WriteArgs,
  type WriteExecutor,
  type WriteOp,
  type WriteOutcome,
} from './write-ops.js';

export class LocalWriter implements WriteExecutor {
  constructor(readonly store: MainDataStore) {}

  async write<Op extends WriteOp>(op: Op, args: WriteArgs[Op]): Promise<WriteOutcome<Op>> {
    const outcome = await this.#dispatch(op, args as never);
    return outcome as WriteOutcome<Op>;
  }

  #dispatch(op: WriteOp, args: never): Promise<WriteOutcome> {
    switch (op) {
      case 'createRoom':
        return this.createRoom(args);
      case 'join':
        return this.join(args);
      case 'send':
        return this.send(args);
      case 'receipt':
        return this.receipt(args);
      case 'accountData':
        return this.accountData(args);
      case 'typing':
        return this.typing(args);
    }
  }

  #outcome<Op extends WriteOp>(
    stream: string,
    token: number,
    result: WriteOutcome<Op>['result'],
  ): WriteOutcome<Op> {
    return { result, stream, instance: this.store.hs.instanceName, token };
  }

  async #requireRoom(roomId: string): Promise<void> {
    if (!(await this.store.getRoom(roomId))) throw notFound(`room ${roomId} does not exist`);
  }

  async #requireJoined(roomId: string, userId: string): Promise<void> {
    await this.#requireRoom(roomId);
    if (!(await this.store.isJoined(roomId, userId))) {
      throw forbidden(`${userId} is not joined to ${roomId}`);
    }
  }

  async createRoom(args: WriteArgs['createRoom']): Promise<WriteOutcome<'createRoom'>> {
    const { roomId, events } = await this.store.createRoom(args.creator, args.name);
    return this.#outcome('events', events[events.length - 1]!.streamOrdering, { roomId });
  }

  async join(args: WriteArgs['join']): Promise<WriteOutcome<'join'>> {
    await this.#requireRoom(args.roomId);
    if (await this.store.isJoined(args.roomId, args.userId)) {
      // Already joined: nothing to write; the current state names the join.
      const state = await this.store.getCurrentState(args.roomId);
      const member = state.find((s) => s.type === 'm.room.member' && s.stateKey === args.userId)!;
      return this.#outcome('events', member.streamOrdering, {
        roomId: args.roomId,
        eventId: member.eventId,
      });
    }
    const event = await this.store.joinRoom(args.roomId, args.userId);
    return this.#outcome('events', event.streamOrdering, {
      roomId: args.roomId,
      eventId: event.eventId,
    });
  }

  async send(args: WriteArgs['send']): Promise<WriteOutcome<'send'>> {
    await this.#requireJoined(args.roomId, args.sender);
    const [event] = await this.store.persistEvents([
      {
        roomId: args.roomId,
        sender: args.sender,
        type: args.type,
        stateKey: null,
        content: args.content,
      },
    ]);
    return this.#outcome('events', event!.streamOrdering, { eventId: event!.eventId });
  }

  async receipt(args: WriteArgs['receipt']): Promise<WriteOutcome<'receipt'>> {
    await this.#requireJoined(args.roomId, args.userId);
    const event = await this.store.getEvent(args.eventId);
    if (!event || event.roomId !== args.roomId) {
      throw notFound(`event ${args.eventId} is not in room ${args.roomId}`);
    }
    const token = await this.store.insertReceipt(
      args.roomId,
      args.receiptType,
      args.userId,
      args.eventId,
    );
    return this.#outcome('receipts', token, {});
  }

  async accountData(args: WriteArgs['accountData']): Promise<WriteOutcome<'accountData'>> {
    if (args.roomId !== null) await this.#requireRoom(args.roomId);
    if (args.type === TAGS_TYPE) {
      const token = await this.store.setTags(args.userId, args.roomId!, parseTags(args.content));
      return this.#outcome('account_data', token, {});
    }
    if (args.type === PUSH_RULES_TYPE) {
      await this.store.setPushRules(args.userId, parsePushRules(args.content));
      // The caches stream's ID of this write is not handed out; the sequence
      // is at or above it, so a worker that reaches this token has applied it.
      const caches = this.store.idGenerators().get('caches')!;
      return this.#outcome('caches', await caches.maxAllocatedToken(), {});
    }
    const token =
      args.roomId === null
        ? await this.store.setGlobalAccountData(args.userId, args.type, args.content)
        : await this.store.setRoomAccountData(args.userId, args.roomId, args.type, args.content);
    return this.#outcome('account_data', token, {});
  }

  async typing(args: WriteArgs['typing']): Promise<WriteOutcome<'typing'>> {
    await this.#requireJoined(args.roomId, args.userId);
    const token = this.store.setTyping(args.roomId, args.userId, args.typing, args.timeoutMs);
    return this.#outcome('typing', token, {});
  }
}
