// The write operations of the API, as data: each has an argument parser
// (shared by the public endpoints, which build the arguments from the path
// and body, and by the writer's internal endpoint, which receives them from a
// worker) and an outcome naming the stream position that covers the write.
import { badRequest } from '../http/errors.js';
import * as v from '../http/validation.js';
import type { PushAction, PushRule } from '../stores/push-rules.js';
import type { RoomTags } from '../stores/tags.js';

export const WRITE_OPS = [
  'createRoom',
  'join',
  'send',
  'receipt',
  'accountData',
  'typing',
] as const;
export type WriteOp = (typeof WRITE_OPS)[number];

export interface WriteArgs {
  createRoom: { creator: string; name: string | null };
  join: { roomId: string; userId: string };
  send: { roomId: string; sender: string; type: string; content: Record<string, v.Json> };
  receipt: { roomId: string; userId: string; eventId: string; receiptType: string };
  accountData: {
    userId: string;
    type: string;
    roomId: string | null;
    content: Record<string, v.Json>;
  };
  typing: { roomId: string; userId: string; typing: boolean; timeoutMs: number };
}

export interface WriteResults {
  createRoom: { roomId: string };
  join: { roomId: string; eventId: string };
  send: { eventId: string };
  receipt: Record<string, never>;
  accountData: Record<string, never>;
  typing: Record<string, never>;
}

/** What a write returns: its result and the stream position a reader waits for before answering. */
export interface WriteOutcome<Op extends WriteOp = WriteOp> {
  readonly result: WriteResults[Op];
  readonly stream: string;
  readonly instance: string;
  readonly token: number;
}

/** Performs writes: on the writer, locally; on a worker, by forwarding them to the writer. */
export interface WriteExecutor {
  write<Op extends WriteOp>(op: Op, args: WriteArgs[Op]): Promise<WriteOutcome<Op>>;
}

/** Event types only the server writes (membership and creation go through their own endpoints). */
const RESERVED_EVENT_TYPES = new Set(['m.room.create', 'm.room.member']);
export const TAGS_TYPE = 'm.tag';
export const PUSH_RULES_TYPE = 'm.push_rules';
export const DEFAULT_TYPING_TIMEOUT_MS = 30_000;
const PUSH_ACTIONS: readonly PushAction[] = ['notify', 'dont_notify', 'highlight'];

function nullableString(value: unknown, where: string, max: number): string | null {
  return value === undefined || value === null ? null : v.string(value, where, max);
}

/** Validates the arguments of `op` (received from a client or from another process). */
export function parseWriteArgs<Op extends WriteOp>(op: Op, raw: unknown): WriteArgs[Op] {
  const o = v.object(raw, 'the request body');
  const parsers: { [K in WriteOp]: () => WriteArgs[K] } = {
    createRoom: () => {
      v.onlyKeys(o, 'the request body', ['creator', 'name']);
      return { creator: v.userId(o.creator, 'creator'), name: nullableString(o.name, 'name', 255) };
    },
    join: () => {
      v.onlyKeys(o, 'the request body', ['roomId', 'userId']);
      return { roomId: v.roomId(o.roomId), userId: v.userId(o.userId) };
    },
    send: () => {
      v.onlyKeys(o, 'the request body', ['roomId', 'sender', 'type', 'content']);
      const type = v.typeName(o.type, 'type');
      if (RESERVED_EVENT_TYPES.has(type)) {
        throw badRequest(`type ${type} cannot be sent: use the room's create and join endpoints`);
      }
      return {
        roomId: v.roomId(o.roomId),
        sender: v.userId(o.sender, 'sender'),
        type,
        content: v.jsonObject(o.content, 'content'),
      };
    },
    receipt: () => {
      v.onlyKeys(o, 'the request body', ['roomId', 'userId', 'eventId', 'receiptType']);
      return {
        roomId: v.roomId(o.roomId),
        userId: v.userId(o.userId),
        eventId: v.eventId(o.eventId),
        receiptType:
          o.receiptType === undefined ? 'm.read' : v.typeName(o.receiptType, 'receiptType'),
      };
    },
    accountData: () => {
      v.onlyKeys(o, 'the request body', ['userId', 'type', 'roomId', 'content']);
      const type = v.typeName(o.type, 'type');
      const roomId = o.roomId === undefined || o.roomId === null ? null : v.roomId(o.roomId);
      const content = v.jsonObject(o.content, 'content');
      if (type === TAGS_TYPE) {
        if (roomId === null) throw badRequest(`${TAGS_TYPE} is per-room account data: give roomId`);
        parseTags(content);
      } else if (type === PUSH_RULES_TYPE) {
        if (roomId !== null)
          throw badRequest(`${PUSH_RULES_TYPE} is global account data: omit roomId`);
        parsePushRules(content);
      }
      return { userId: v.userId(o.userId), type, roomId, content };
    },
    typing: () => {
      v.onlyKeys(o, 'the request body', ['roomId', 'userId', 'typing', 'timeoutMs']);
      return {
        roomId: v.roomId(o.roomId),
        userId: v.userId(o.userId),
        typing: v.boolean(o.typing, 'typing'),
        timeoutMs: v.optionalInteger(o.timeoutMs, 'timeout', 1, 120_000, DEFAULT_TYPING_TIMEOUT_MS),
      };
    },
  };
  return parsers[op]();
}

/** `m.tag` content: `{ "tags": { "<tag>": { …content… } } }`. */
export function parseTags(content: Record<string, v.Json>): RoomTags {
  v.onlyKeys(content, 'content', ['tags']);
  const tags = v.object(content.tags, 'content.tags');
  const out: RoomTags = {};
  const names = Object.keys(tags);
  if (names.length > 50) throw badRequest('content.tags holds more than 50 tags');
  for (const name of names) {
    v.string(name, 'a tag name', 255);
    out[name] = v.object(tags[name], `content.tags[${JSON.stringify(name)}]`);
  }
  return out;
}

/**
 * `m.push_rules` content: `{ "rules": [{ "ruleId", "priority"?, "pattern"?,
 * "actions": ["notify" | "dont_notify" | "highlight"], "enabled"? }] }`.
 */
export function parsePushRules(content: Record<string, v.Json>): PushRule[] {
  v.onlyKeys(content, 'content', ['rules']);
  if (!Array.isArray(content.rules)) throw badRequest('content.rules must be an array');
  if (content.rules.length > 50) throw badRequest('content.rules holds more than 50 rules');
  const seen = new Set<string>();
  return content.rules.map((raw, i) => {
    const where = `content.rules[${i}]`;
    const r = v.object(raw, where);
    v.onlyKeys(r, where, ['ruleId', 'priority', 'pattern', 'actions', 'enabled']);
    const ruleId = v.string(r.ruleId, `${where}.ruleId`, 128);
    if (seen.has(ruleId)) throw badRequest(`${where}.ruleId ${JSON.stringify(ruleId)} is repeated`);
    seen.add(ruleId);
    if (!Array.isArray(r.actions) || r.actions.length === 0 || r.actions.length > 3) {
      throw badRequest(`${where}.actions must be an array of 1 to 3 actions`);
    }
    const actions = r.actions.map((a, j) => {
      if (!PUSH_ACTIONS.includes(a as PushAction)) {
        throw badRequest(`${where}.actions[${j}] must be one of ${PUSH_ACTIONS.join(', ')}`);
      }
      return a as PushAction;
    });
    return {
      ruleId,
      priority: v.optionalInteger(r.priority, `${where}.priority`, 0, 1000, i),
      pattern: nullableString(r.pattern, `${where}.pattern`, 255),
      actions,
      enabled: r.enabled === undefined ? true : v.boolean(r.enabled, `${where}.enabled`),
    };
  });
}

/** Checks an outcome received from the writer. */
export function parseWriteOutcome(raw: unknown): WriteOutcome {
  const o = v.object(raw, 'the writer response');
  const stream = v.typeName(o.stream, 'stream');
  const instance = v.string(o.instance, 'instance', 64);
  const token = v.integer(o.token, 'token', 0, Number.MAX_SAFE_INTEGER);
  return {
    result: v.object(o.result, 'result') as WriteOutcome['result'],
    stream,
    instance,
    token,
  };
}
