// A worker's side of replication, independent of the transport. It keeps a
// link to the writer open (reconnecting with exponential backoff and jitter),
// sends `REPLICATE`, and keeps the worker's store in step with every stream it
// follows (docs/protocol.md, sections 8 and 9):
//
// - a `POSITION` whose prev token is ahead of the worker's token for that
//   (stream, writer) means rows were missed: they are read from the shared
//   database with the stream's `getUpdates` (`catchUpStream`, pages of ~100);
// - `RDATA` is applied once its token (the closing one, for a batch) is above
//   the worker's token, and dropped when the stream is unknown, not yet
//   positioned on this link, or at or below the token; a `POSITION` drops an
//   open batch;
// - everything of one stream is handled in arrival order, one command at a
//   time, so a catch-up and the live rows after it apply in token order,
//   each exactly once (handlers, then position, then waiters: the store does
//   that part);
// - a store that has applied nothing of a (stream, writer) starts at the
//   writer's announced position instead of paging the whole history: at that
//   jump every cache of the store is dropped (in-flight lookups too) and the
//   stream's `@onStreamReset` handlers run, since a cache filled before it
//   may have missed a write at a skipped token (docs/protocol.md, 8 item 2);
// - in-memory streams are replayed by the writer on `REPLICATE`; their tokens
//   restart with the writer, so their POSITIONs carry the epoch of the
//   writer's token sequence: a new epoch (or a gap) resets the stream (drops
//   what it feeds, see stream-reset.ts) unless nothing was ever applied or
//   forgotten; a POSITION of the same epoch below the worker's token is a
//   replay (for another worker on Redis, or after a reconnection) and is
//   harmless. Without an epoch, the first `POSITION` on each link resets.
//
// A database that stops answering must not leave the worker silently stale
// or unable to stop: a catch-up page that takes longer than `pageTimeoutMs`
// fails the catch-up (`catch-up-failed`, reconnect, retry); the commands that
// wait behind a catch-up are bounded per stream (`maxPendingCommands`: past
// it they are dropped and the worker asks `REPLICATE` again, whose POSITION
// and catch-up cover them); and `stop()` waits at most `stopTimeoutMs` for a
// page in flight, then abandons it (its late result is never applied).
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { catchUpStream, CatchUpTimeoutError } from '../runtime/catch-up.js';
import { settlesWithin } from '../runtime/deadline.js';
import { applyStreamBatch } from '../runtime/replication-handlers.js';
import { writersOf, type ServerContext } from '../runtime/server-context.js';
import type { SQLBaseStore } from '../runtime/store.js';
import type { StreamDefinition } from '../runtime/stream.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { Command, PositionCommand, RdataCommand } from './commands.js';
import { defaultLogger } from './logger.js';
import { ClientMetrics } from './metrics.js';
import { resetStream } from './stream-reset.js';
import type { ClientTransport, CommandLink } from './transport.js';

export interface ReplicationClientOptions {
  /**
   * How to reach the writers. One that does not hear every writer (TCP)
   * cannot serve a store that follows a stream with more than one writer:
   * the constructor throws (docs/protocol.md, 9.1).
   */
  readonly transport: ClientTransport;
  /** Rows per catch-up page; default 100. */
  readonly pageSize?: number;
  /**
   * How long one catch-up page query may take, in ms; default 30,000. Past
   * it the catch-up fails as on a database error: the link closes with
   * `catch-up-failed`, and the next link catches up again. Without it a
   * query on a black-holed database link (`pg` has no query timeout) would
   * leave the worker connected, stale and silent.
   */
  readonly pageTimeoutMs?: number;
  /**
   * How many commands of one stream may wait behind its running catch-up;
   * default 10,000. One more drops every command waiting for that stream
   * (RDATA counted in `rdata_dropped_total` as `queue-full`), and later ones
   * until it is handled; then the worker sends `REPLICATE` again, and the
   * `POSITION` of the answer (with its catch-up) covers the dropped rows.
   */
  readonly maxPendingCommands?: number;
  /**
   * How long `stop()` waits for a catch-up page in flight, in ms; default
   * 5,000. Past it the page is abandoned: `stop()` resolves, and its result,
   * if it ever comes, is not applied.
   */
  readonly stopTimeoutMs?: number;
  readonly reconnect?: BackoffOptions;
  /**
   * Called after a stream was reset (its `@onStreamReset` handlers ran and
   * every cache was dropped), for state the store does not hold: an
   * in-memory stream whose rows were lost, or a stream this store started
   * following at the writer's position (section 8 of docs/protocol.md).
   */
  readonly onStreamReset?: (stream: string, instance: string) => void;
  /** Where metrics go; default: a Registry of its own (`client.metrics.registry`). */
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** For tests of the jitter; default Math.random. */
  readonly random?: () => number;
}

interface Item {
  readonly generation: number;
  /** `resync`: the queue overflowed; ask `REPLICATE` again (see `#overflow`). */
  readonly command: PositionCommand | RdataCommand | { type: 'resync'; stream: string };
}

interface StreamQueue {
  readonly items: Item[];
  busy: boolean;
  /**
   * The link generation of a `resync` item waiting in `items`: until it is
   * handled, that link's commands for the stream are dropped (a new link
   * starts with its own REPLICATE, and its commands are kept).
   */
  resyncQueued: number | undefined;
  /** The last drain started (`stop` waits for it). */
  draining: Promise<void>;
}

function keyOf(stream: string, instance: string): string {
  return `${stream}\u0000${instance}`;
}

/**
 * The (stream, writer) pairs each store has been positioned on, by any
 * client: a store that has not, and has applied nothing, starts at the
 * writer's position rather than at token 0.
 */
const startedByStore = new WeakMap<object, Set<string>>();

/** Marks `key` started on `store`; returns whether it already was. */
function markStarted(store: object, key: string): boolean {
  let started = startedByStore.get(store);
  if (!started) {
    started = new Set();
    startedByStore.set(store, started);
  }
  if (started.has(key)) return true;
  started.add(key);
  return false;
}

export class ReplicationClient {
  readonly metrics: ClientMetrics;
  /** Resolves once every followed stream has been positioned, and caught up, on a link. */
  readonly ready: Promise<void>;
  readonly #store: SQLBaseStore<unknown>;
  readonly #options: ReplicationClientOptions;
  readonly #logger: Logger;
  readonly #pageSize: number;
  readonly #random: () => number;
  readonly #queues = new Map<string, StreamQueue>();
  /** Tokens of in-memory streams (which, unlike the store's positions, may restart). */
  readonly #memoryTokens = new Map<string, number>();
  /** The epoch of each in-memory stream's writer run last followed. */
  readonly #memoryEpochs = new Map<string, string>();
  /** The newest token each writer announced, for the lag gauge. */
  readonly #writerTokens = new Map<string, { stream: string; instance: string; token: number }>();
  readonly #removeCollectors: Array<() => void> = [];
  readonly #stop = new AbortController();
  /** Aborted when `stop()` gives up waiting for a catch-up page in flight. */
  readonly #abandon = new AbortController();
  readonly #pageTimeoutMs: number;
  readonly #maxPending: number;
  readonly #stopTimeoutMs: number;
  #resolveReady!: () => void;
  #isReady = false;
  #link: CommandLink | undefined;
  /** Bumped for every link; commands of an older link are dropped. */
  #generation = 0;
  /** (stream, instance) positioned on the current link. */
  readonly #positioned = new Set<string>();
  readonly #batches = new Map<string, unknown[]>();
  #running: Promise<void> | undefined;
  #lastError: string | undefined;

  // The store's row types do not matter here: rows come from each stream's own `getPage`.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(store: SQLBaseStore<any>, options: ReplicationClientOptions) {
    checkWritersHeard(store.hs, options.transport);
    this.#store = store as SQLBaseStore<unknown>;
    this.#options = options;
    this.#pageSize = options.pageSize ?? 100;
    this.#pageTimeoutMs = options.pageTimeoutMs ?? 30_000;
    this.#maxPending = options.maxPendingCommands ?? 10_000;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger ?? defaultLogger('storesplit-replication-client');
    this.metrics = new ClientMetrics(options.registry);
    this.ready = new Promise((resolve) => (this.#resolveReady = resolve));
    this.#removeCollectors.push(
      this.metrics.collectLag(() =>
        [...this.#writerTokens.values()].map(({ stream, instance, token }) => ({
          labels: { stream, instance },
          value: Math.max(0, token - this.#applied(stream, instance)),
        })),
      ),
      this.metrics.collectConnected(() => (this.#link && !this.#link.closed ? 1 : 0)),
    );
  }

  /** True while a link is open. */
  get connected(): boolean {
    return this.#link !== undefined && !this.#link.closed;
  }

  /** Why the last link closed or the last attempt failed (for logs and tests). */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Starts connecting (and reconnecting) until `stop()`. */
  start(): void {
    if (this.#running) throw new Error('ReplicationClient already started');
    this.#running = this.#run();
  }

  /**
   * Closes the link and stops reconnecting. Positions and caches stay as they
   * are. A catch-up page in flight gets `stopTimeoutMs` to finish (it is not
   * applied); past that it is abandoned, so a query that never returns does
   * not keep `stop()` waiting. Once it resolves, nothing applies rows any more.
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#link?.close();
    await this.#running;
    const drained = Promise.all([...this.#queues.values()].map((q) => q.draining));
    if (!(await settlesWithin(drained, this.#stopTimeoutMs))) {
      this.#logger.warn(
        { waitedMs: this.#stopTimeoutMs },
        'a catch-up query did not return in time; abandoning it',
      );
      this.#abandon.abort(new Error('the replication client stopped'));
      await drained;
    }
    for (const remove of this.#removeCollectors.splice(0)) remove();
  }

  /** Resolves once `stream`/`instance` is applied up to `token` (the store's waiters). */
  waitForStreamPosition(
    stream: string,
    instance: string,
    token: number,
    timeoutMs: number,
  ): Promise<void> {
    return this.#store.waitForStreamPosition(stream, instance, token, timeoutMs);
  }

  /** Tells the writer a user started or stopped syncing here; false when not connected. */
  sendUserSync(userId: string, state: 'start' | 'end', ms = Date.now()): boolean {
    return this.#send({
      type: 'USER_SYNC',
      instance: this.#store.hs.instanceName,
      userId,
      state,
      ms,
    });
  }

  /** Tells the writer this consumer processed up to `token`; false when not connected. */
  sendFederationAck(token: number): boolean {
    return this.#send({ type: 'FEDERATION_ACK', instance: this.#store.hs.instanceName, token });
  }

  #send(command: Command): boolean {
    const link = this.#link;
    if (!link || link.closed) return false;
    link.send(command);
    return true;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    let first = true;
    while (!signal.aborted) {
      if (!first) {
        this.metrics.reconnects.inc();
        await sleep(backoffDelay(failures, this.#options.reconnect, this.#random), signal);
        if (signal.aborted) break;
      }
      first = false;
      let link: CommandLink;
      try {
        link = await this.#options.transport.connect(signal);
      } catch (error) {
        failures++;
        this.#lastError = error instanceof Error ? error.message : String(error);
        this.#logger.warn(
          { at: this.#options.transport.describe(), reason: this.#lastError, failures },
          'cannot connect to the writer',
        );
        continue;
      }
      const positioned = await this.#serve(link);
      // A link that got as far as a POSITION was a success: start the backoff again.
      failures = positioned ? 1 : failures + 1;
    }
  }

  /** Runs one link until it closes; true if any POSITION arrived on it. */
  async #serve(link: CommandLink): Promise<boolean> {
    this.#generation++;
    this.#positioned.clear();
    this.#batches.clear();
    this.#link = link;
    let sawPosition = false;
    this.#logger.info({ at: this.#options.transport.describe() }, 'connected to the writer');
    link.setHandler((command) => {
      if (command.type === 'POSITION') sawPosition = true;
      this.#onCommand(command);
    });
    link.send({ type: 'REPLICATE' });
    const reason = await link.closedReason;
    this.#lastError = reason;
    this.#link = undefined;
    this.#generation++;
    this.#positioned.clear();
    this.#batches.clear();
    if (!this.#stop.signal.aborted) this.#logger.warn({ reason }, 'lost the writer; reconnecting');
    return sawPosition;
  }

  #onCommand(command: Command): void {
    if (command.type !== 'POSITION' && command.type !== 'RDATA') return; // PING, SERVER: the transport's
    const stream = command.stream;
    if (command.type === 'RDATA') this.metrics.rdataReceived.inc({ stream });
    else this.metrics.positionReceived.inc({ stream });
    if (!this.#store.hs.streams.get(stream)) {
      // Forward compatibility: a stream this worker does not know.
      if (command.type === 'RDATA')
        this.metrics.rdataDropped.inc({ stream, reason: 'unknown-stream' });
      return;
    }
    this.#noteWriterToken(command);
    let queue = this.#queues.get(stream);
    if (!queue) {
      queue = { items: [], busy: false, resyncQueued: undefined, draining: Promise.resolve() };
      this.#queues.set(stream, queue);
    }
    if (queue.resyncQueued === this.#generation) {
      // The REPLICATE the queued resync sends will cover this command.
      if (command.type === 'RDATA') this.metrics.rdataDropped.inc({ stream, reason: 'queue-full' });
      return;
    }
    if (queue.items.length >= this.#maxPending) {
      this.#overflow(stream, queue);
      if (command.type === 'RDATA') this.metrics.rdataDropped.inc({ stream, reason: 'queue-full' });
      return;
    }
    queue.items.push({ generation: this.#generation, command });
    if (!queue.busy) queue.draining = this.#drain(queue);
  }

  /**
   * Too many commands wait behind a catch-up of `stream` (its database is
   * slow, or hangs until the page timeout): drop them all, and once the
   * catch-up is over ask `REPLICATE` again. Its `POSITION` for the stream
   * (the writer's current token, past every dropped row) is handled with a
   * catch-up from the database, as after a reconnection; the protocol's rule
   * "RDATA before its stream is positioned is dropped" covers the rows in
   * between. Memory stays bounded by the limit, however long the hang.
   */
  #overflow(stream: string, queue: StreamQueue): void {
    let rdata = 0;
    for (const item of queue.items.splice(0)) if (item.command.type === 'RDATA') rdata++;
    this.metrics.rdataDropped.inc({ stream, reason: 'queue-full' }, rdata);
    this.#logger.warn(
      { stream, limit: this.#maxPending },
      'too many commands wait behind a catch-up; dropping them and asking REPLICATE again',
    );
    queue.items.push({ generation: this.#generation, command: { type: 'resync', stream } });
    queue.resyncQueued = this.#generation;
  }

  /** Handles a queued `resync`: forgets the stream's positioned state and asks again. */
  #resync(stream: string): void {
    for (const key of [...this.#positioned])
      if (key.startsWith(`${stream}\u0000`)) this.#positioned.delete(key);
    for (const key of [...this.#batches.keys()])
      if (key.startsWith(`${stream}\u0000`)) this.#batches.delete(key);
    this.#send({ type: 'REPLICATE' });
  }

  /** Handles a stream's commands in order; only a catch-up awaits. */
  async #drain(queue: StreamQueue): Promise<void> {
    queue.busy = true;
    try {
      for (let item = queue.items.shift(); item; item = queue.items.shift()) {
        if (item.command.type === 'resync' && queue.resyncQueued === item.generation)
          queue.resyncQueued = undefined;
        if (this.#stop.signal.aborted) break;
        if (item.generation !== this.#generation) continue; // from a closed link
        try {
          if (item.command.type === 'RDATA') this.#rdata(item.command);
          else if (item.command.type === 'resync') this.#resync(item.command.stream);
          else await this.#position(item.command, item.generation);
        } catch (error) {
          this.#failed(item, error);
        }
      }
    } finally {
      queue.busy = false;
    }
  }

  #failed(item: Item, error: unknown): void {
    const { stream } = item.command;
    if (item.command.type === 'POSITION') {
      // Abandoned by stop(): nothing to report, no link to close.
      if (this.#stop.signal.aborted) return;
      // A catch-up failed (the database? a page that timed out): a new link starts it again.
      this.#logger.error({ stream, err: error }, 'catch-up failed; reconnecting');
      const why =
        error instanceof CatchUpTimeoutError
          ? `a page query took longer than ${error.timeoutMs} ms`
          : 'the worker could not read the stream';
      if (item.generation === this.#generation) this.#link?.close(`catch-up-failed: ${why}`);
    } else {
      this.#handlerFailed(stream, error);
    }
  }

  /** Handlers threw: the store ran every handler and advanced the position anyway. */
  #handlerFailed(stream: string, error: unknown): void {
    // One per token: several failed tokens come together as an AggregateError.
    const tokens = error instanceof AggregateError ? error.errors.length : 1;
    this.metrics.handlerFailures.inc({ stream }, tokens);
    this.#logger.error({ stream, err: error }, 'a replication handler failed');
  }

  #rdata(command: RdataCommand): void {
    const { stream, instance } = command;
    const key = keyOf(stream, instance);
    if (!this.#positioned.has(key)) {
      // The POSITION that comes (and its catch-up) covers this row.
      this.metrics.rdataDropped.inc({ stream, reason: 'not-positioned' });
      return;
    }
    if (command.token === 'batch') {
      const batch = this.#batches.get(key);
      if (batch) batch.push(command.row);
      else this.#batches.set(key, [command.row]);
      return;
    }
    const rows = this.#batches.get(key) ?? [];
    this.#batches.delete(key);
    rows.push(command.row);
    const token = command.token;
    const definition = this.#store.hs.streams.get(stream)!;
    if (token <= this.#applied(stream, instance)) {
      this.metrics.rdataDropped.inc({ stream, reason: 'stale' }, rows.length);
      return;
    }
    if (definition.kind === 'memory') {
      this.#memoryTokens.set(key, token);
      applyStreamBatch(this.#store, definition, instance, token, rows, this.#store.streamPositions);
    } else {
      this.#store.processReplicationRows(stream, instance, token, rows);
    }
    this.metrics.rowsApplied.inc({ stream }, rows.length);
  }

  async #position(command: PositionCommand, generation: number): Promise<void> {
    const { stream, instance, prevToken, newToken } = command;
    const key = keyOf(stream, instance);
    const definition = this.#store.hs.streams.get(stream)!;
    this.#batches.delete(key);
    const current = this.#applied(stream, instance);
    if (definition.kind === 'memory') {
      this.#memoryPosition(definition, command, current);
    } else if (prevToken > current) {
      const started = markStarted(this.#store, key);
      if (!started && current === 0) {
        // Nothing applied yet: start at the writer's position, not at token 0.
        this.#jump(definition, instance, newToken);
      } else {
        const result = await catchUpStream(
          this.#store,
          definition,
          instance,
          newToken,
          this.#pageSize,
          this.#stop.signal,
          { pageTimeoutMs: this.#pageTimeoutMs, abandon: this.#abandon.signal },
        );
        this.metrics.catchUpPages.inc({ stream }, result.pages);
        this.metrics.rowsApplied.inc({ stream }, result.rows);
        for (const failure of result.handlerFailures) this.#handlerFailed(stream, failure);
        if (result.rows)
          this.#logger.info(
            { stream, instance, from: current, to: newToken, rows: result.rows },
            'caught up',
          );
      }
    } else {
      markStarted(this.#store, key);
      if (newToken > current) {
        this.#store.streamPositions.advance(stream, instance, newToken);
      } else if (newToken < current) {
        this.#logger.warn(
          { stream, instance, current, announced: newToken },
          'writer announced a position below ours; keeping ours',
        );
      }
    }
    if (generation !== this.#generation) return;
    this.#positioned.add(key);
    this.#checkReady();
  }

  /**
   * An in-memory stream's POSITION (docs/protocol.md, 8.1). Its tokens are
   * comparable only within one epoch (one run of the writer's source).
   */
  #memoryPosition(definition: StreamDefinition, command: PositionCommand, current: number): void {
    const { stream, instance, prevToken, newToken, epoch } = command;
    const key = keyOf(stream, instance);
    let lost: boolean;
    if (epoch !== undefined && epoch === this.#memoryEpochs.get(key)) {
      // The run we follow: only a gap loses rows. A POSITION below our token
      // is a replay (another worker's REPLICATE on Redis, or our reconnection):
      // its rows at or below our token are dropped as stale.
      lost = prevToken > current;
    } else if (epoch !== undefined) {
      // A run we have not followed: the first we see, or the writer restarted.
      lost = current !== 0 || newToken !== 0;
    } else {
      // No epoch: a reconnection and a writer restart cannot be told apart.
      lost = !this.#positioned.has(key)
        ? current !== 0 || newToken !== 0
        : prevToken > current || newToken < current;
    }
    if (epoch !== undefined) this.#memoryEpochs.set(key, epoch);
    if (lost) this.#reset(definition, instance);
    this.#memoryTokens.set(key, lost ? newToken : Math.max(current, newToken));
    // A restarted writer's tokens start again below ours: the position must
    // follow them down, or waits for the new run's tokens end too early.
    if (lost && newToken < current) this.#store.streamPositions.restart(stream, instance, newToken);
    else this.#store.streamPositions.advance(stream, instance, newToken);
  }

  /**
   * Starts a database stream at the writer's position `token` on a store
   * that applied nothing of it: a cache filled before may have missed a write
   * at a skipped token, so every cache is dropped (in-flight lookups too,
   * so that they store nothing) and the stream's reset handlers run, before
   * the position moves (and waiters wake).
   */
  #jump(definition: StreamDefinition, instance: string, token: number): void {
    const stream = definition.name;
    this.metrics.startJumps.inc({ stream });
    this.#logger.info(
      { stream, instance, token },
      "starting at the writer's position: dropping every cache instead of reading the history",
    );
    this.#dropWhatItFeeds(definition, instance);
    this.#store.streamPositions.advance(stream, instance, token);
  }

  #reset(definition: StreamDefinition, instance: string): void {
    this.metrics.streamResets.inc({ stream: definition.name });
    this.#logger.info(
      { stream: definition.name, instance },
      'in-memory stream reset: dropping what it feeds',
    );
    this.#dropWhatItFeeds(definition, instance);
  }

  /** Runs the stream's `@onStreamReset` handlers, drops every cache, tells `onStreamReset`. */
  #dropWhatItFeeds(definition: StreamDefinition, instance: string): void {
    const errors = resetStream(this.#store, definition.name, instance);
    for (const error of errors)
      this.#logger.error({ stream: definition.name, err: error }, 'a stream reset handler failed');
    this.#options.onStreamReset?.(definition.name, instance);
  }

  /** The token up to which this worker applied `stream`/`instance`. */
  #applied(stream: string, instance: string): number {
    const definition = this.#store.hs.streams.get(stream);
    if (definition?.kind === 'memory') return this.#memoryTokens.get(keyOf(stream, instance)) ?? 0;
    return this.#store.streamPositions.get(stream, instance);
  }

  #noteWriterToken(command: PositionCommand | RdataCommand): void {
    const token = command.type === 'POSITION' ? command.newToken : command.token;
    if (token === 'batch') return;
    const key = keyOf(command.stream, command.instance);
    const known = this.#writerTokens.get(key);
    const definition = this.#store.hs.streams.get(command.stream);
    // In-memory tokens restart with their writer, so the newest announcement wins.
    if (!known || token > known.token || definition?.kind === 'memory') {
      this.#writerTokens.set(key, { stream: command.stream, instance: command.instance, token });
    }
  }

  #checkReady(): void {
    if (this.#isReady) return;
    const hs = this.#store.hs;
    for (const stream of hs.streams.names()) {
      for (const instance of writersOf(hs, stream))
        if (!this.#positioned.has(keyOf(stream, instance))) return;
    }
    this.#isReady = true;
    this.#logger.info('replication caught up');
    this.#resolveReady();
  }
}

/**
 * Throws unless `transport` hears every writer of the streams `hs` follows.
 * A link reaches one writer process and carries only what that writer says
 * for itself (docs/protocol.md 9.1), so without a transport that hears every
 * writer the followed streams must all have one writer, the same one: a
 * worker would otherwise stay stale on the other writers' rows, or never be
 * ready.
 */
function checkWritersHeard(hs: ServerContext, transport: ClientTransport): void {
  if (transport.hearsEveryWriter) return;
  const byWriter = new Map<string, string[]>();
  for (const stream of hs.streams.names()) {
    const writers = writersOf(hs, stream);
    if (writers.length > 1) {
      throw new Error(
        `stream ${stream} has ${writers.length} writers (${writers.join(', ')}), but the ` +
          `replication transport ${transport.describe()} links this worker to one writer only, ` +
          `so it would never see the other writers' rows: use the Redis transport ` +
          `(RedisClientTransport), on which every writer is heard, or give ${stream} one writer`,
      );
    }
    for (const writer of writers) byWriter.set(writer, [...(byWriter.get(writer) ?? []), stream]);
  }
  if (byWriter.size > 1) {
    const list = [...byWriter].map(([w, streams]) => `${w} (${streams.join(', ')})`).join(', ');
    throw new Error(
      `the followed streams are written by ${byWriter.size} processes: ${list}, but the ` +
        `replication transport ${transport.describe()} links this worker to one writer only, ` +
        `so it would never see the others' rows: use the Redis transport ` +
        `(RedisClientTransport), on which every writer is heard, or give every stream one writer`,
    );
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
