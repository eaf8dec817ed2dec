// The chat HTTP API, the same on every process. Reads are served from this
// process's caches; writes go through a `WriteExecutor` (the writer's own, or
// a worker's forwarder that waits for replication before answering). The
// `/_internal/…` endpoints are for the other processes and the demo, and need
// the deployment's secret when one is set.
import { secretChecker } from '../../../../src/replication/index.js';
import type { ConsistencyReport } from '../consistency.js';
import { HttpError, badRequest, notFound, unauthorized } from '../http/errors.js';
import { Router, reply, type RequestContext } from '../http/router.js';
import * as v from '../http/validation.js';
import type { ChatStore } from '../stores/compositions.js';
import type { ChatEvent } from '../stores/events.js';
import { FOLLOWED_STREAMS } from '../streams.js';
import { MESSAGES_PAGE } from '../probes.js';
import { MAX_SYNC_TIMEOUT_MS, parseSyncToken, type SyncHandler } from './sync.js';
import {
  parseWriteArgs,
  WRITE_OPS,
  type WriteArgs,
  type WriteExecutor,
  type WriteOp,
} from './write-ops.js';

export interface ChatApiOptions {
  readonly store: ChatStore;
  readonly role: string;
  /** Performs this process's writes (local on the writer, forwarded on workers). */
  readonly writer: WriteExecutor;
  /**
   * The writer only: performs the workers' forwarded writes
   * (`/_internal/write/<op>`). Typed by the interface, so that worker apps,
   * which serve this API too, do not import the writer's code.
   */
  readonly localWriter?: WriteExecutor;
  readonly sync: SyncHandler;
  /** The instance that writes every stream. */
  readonly writerInstance: string;
  /** Guards the internal endpoints. */
  readonly secret?: string;
  /** More for `/_internal/stats` (the consumer's progress, forwarding waits). */
  readonly extraStats?: () => Record<string, unknown>;
  /** Runs the cache consistency check in this process (`POST /_internal/consistency`). */
  readonly consistency?: () => Promise<ConsistencyReport>;
  readonly log?: (message: string, error?: unknown) => void;
}

/** Messages per page at most. */
const MAX_PAGE = 100;

export function createChatRouter(options: ChatApiOptions): Router {
  const { store, sync } = options;
  const router = new Router(options.log);
  const checkSecret = options.secret === undefined ? undefined : secretChecker(options.secret);

  async function write<Op extends WriteOp>(op: Op, raw: unknown) {
    const outcome = await options.writer.write(op, parseWriteArgs(op, raw));
    return { ...outcome.result, token: outcome.token };
  }

  /** The body as an object with the path's parameters added (they win). */
  async function bodyWith(ctx: RequestContext, extra: Record<string, unknown>) {
    return { ...v.object(await ctx.body(), 'the request body'), ...extra };
  }

  async function requireRoom(roomId: string): Promise<void> {
    if (!(await store.getRoom(roomId))) throw notFound(`room ${roomId} does not exist`);
  }

  // Writes.
  router.add('POST', '/v1/rooms', async (ctx) => write('createRoom', await ctx.body()));
  router.add('POST', '/v1/rooms/{roomId}/join', async (ctx) =>
    write('join', await bodyWith(ctx, { roomId: v.roomId(ctx.params.roomId) })),
  );
  router.add('POST', '/v1/rooms/{roomId}/send', async (ctx) =>
    write('send', await bodyWith(ctx, { roomId: v.roomId(ctx.params.roomId) })),
  );
  router.add('POST', '/v1/rooms/{roomId}/receipt', async (ctx) =>
    write('receipt', await bodyWith(ctx, { roomId: v.roomId(ctx.params.roomId) })),
  );
  router.add('PUT', '/v1/users/{userId}/account_data/{type}', async (ctx) => {
    const roomId = ctx.query.get('roomId');
    return write('accountData', {
      userId: v.userId(ctx.params.userId),
      type: v.typeName(ctx.params.type),
      roomId: roomId === null ? null : v.roomId(roomId, 'query parameter roomId'),
      content: await ctx.body(),
    });
  });
  router.add('PUT', '/v1/rooms/{roomId}/typing/{userId}', async (ctx) => {
    const body = v.object(await ctx.body(), 'the request body');
    v.onlyKeys(body, 'the request body', ['typing', 'timeout']);
    return write('typing', {
      roomId: v.roomId(ctx.params.roomId),
      userId: v.userId(ctx.params.userId),
      typing: body.typing,
      timeoutMs: body.timeout,
    });
  });

  // Reads, from this process's caches.
  router.add('GET', '/v1/rooms/{roomId}/members', async (ctx) => {
    const roomId = v.roomId(ctx.params.roomId);
    await requireRoom(roomId);
    return { roomId, members: await store.getUsersInRoom(roomId) };
  });
  router.add('GET', '/v1/rooms/{roomId}/messages', async (ctx) => {
    const roomId = v.roomId(ctx.params.roomId);
    const limit = v.queryInteger(ctx.query, 'limit', 1, MAX_PAGE, MESSAGES_PAGE);
    const from = ctx.query.has('from')
      ? v.queryInteger(ctx.query, 'from', 1, Number.MAX_SAFE_INTEGER, 0)
      : null;
    await requireRoom(roomId);
    const page = await store.getMessages(roomId, from, limit);
    const events = await store.getEvents(page.events.map((e) => e.eventId));
    const chunk = page.events
      .map((e) => events.get(e.eventId))
      .filter((e): e is ChatEvent => e !== undefined);
    return { roomId, chunk, end: page.end === null ? null : String(page.end) };
  });
  router.add('GET', '/v1/rooms/{roomId}/receipts', async (ctx) => {
    const roomId = v.roomId(ctx.params.roomId);
    await requireRoom(roomId);
    return { roomId, receipts: await store.getReceiptsForRoom(roomId) };
  });
  router.add('GET', '/v1/sync', async (ctx) => {
    const user = ctx.query.get('user');
    if (user === null) throw badRequest('query parameter user is required', 'M_MISSING_PARAM');
    const userId = v.userId(user, 'query parameter user');
    const sinceText = ctx.query.get('since');
    const since = sinceText === null || sinceText === '' ? null : parseSyncToken(sinceText);
    const timeout = v.queryInteger(ctx.query, 'timeout', 0, MAX_SYNC_TIMEOUT_MS, 0);
    return sync.sync(userId, since, timeout, ctx.signal);
  });

  // Internal endpoints.
  const internal = (
    method: string,
    path: string,
    handler: (ctx: RequestContext) => Promise<object>,
  ) =>
    router.add(method, path, async (ctx) => {
      if (checkSecret) {
        const header = ctx.headers.authorization ?? '';
        const token = header.startsWith('Bearer ') ? header.slice(7) : '';
        if (!token || !checkSecret(token)) throw unauthorized('internal endpoints need the secret');
      }
      return handler(ctx);
    });

  internal('POST', '/_internal/write/{op}', async (ctx) => {
    const op = ctx.params.op as WriteOp;
    if (!options.localWriter) {
      throw new HttpError(404, 'M_UNRECOGNIZED', `${store.hs.instanceName} is not the writer`);
    }
    if (!WRITE_OPS.includes(op))
      throw notFound(`no write operation ${ctx.params.op}`, 'M_UNRECOGNIZED');
    const args: WriteArgs[WriteOp] = parseWriteArgs(op, await ctx.body());
    return options.localWriter.write(op, args);
  });
  internal('GET', '/_internal/wait', async (ctx) => {
    const stream = v.typeName(ctx.query.get('stream') ?? undefined, 'query parameter stream');
    const instance = v.string(ctx.query.get('instance') ?? options.writerInstance, 'instance', 64);
    const token = v.queryInteger(ctx.query, 'token', 0, Number.MAX_SAFE_INTEGER, 0);
    const timeout = v.queryInteger(ctx.query, 'timeout', 0, 60_000, 10_000);
    const started = performance.now();
    const reached = await store.notifier.wait(
      () => store.streamToken(stream, instance) >= token,
      timeout,
      ctx.signal,
    );
    const position = store.streamToken(stream, instance);
    const body = { stream, instance, token, position, waitedMs: performance.now() - started };
    return reached
      ? body
      : reply(504, { errcode: 'M_TIMEOUT', error: 'position not reached', ...body });
  });
  internal('GET', '/_internal/positions', () =>
    Promise.resolve({
      instance: store.hs.instanceName,
      role: options.role,
      positions: positions(store, options.writerInstance),
    }),
  );
  internal('GET', '/_internal/stats', () =>
    Promise.resolve({
      instance: store.hs.instanceName,
      role: options.role,
      positions: positions(store, options.writerInstance),
      requests: router.stats(),
      caches: store.cacheStats(),
      activity: store.streamActivity.snapshot(),
      syncWakes: sync.wakes,
      ...options.extraStats?.(),
    }),
  );
  internal('POST', '/_internal/consistency', async () => {
    if (!options.consistency) throw notFound('no consistency check here', 'M_UNRECOGNIZED');
    return options.consistency();
  });
  return router;
}

/** This process's position of every followed stream. */
export function positions(store: ChatStore, writer: string): Record<string, number> {
  return Object.fromEntries(FOLLOWED_STREAMS.map((s) => [s, store.streamToken(s, writer)]));
}
