// The writer's side of replication, independent of the transport: answers
// `REPLICATE` with a `POSITION` for every stream this process is the source of
// (its store's ID generators and in-memory streams), its own position only (on
// a multi-writer stream every writer answers for itself), then announces each new
// token to every link that asked: `RDATA` for its rows (`batch` for all but
// the last row of a token), or a `POSITION` when the token moved without rows.
// It is woken by the generators' and memory sources' listeners, never by
// polling, reads new rows once and fans the same lines out to every link.
// `USER_SYNC` and `FEDERATION_ACK` go to the handlers it was given.
//
// A read of new rows that hangs (a black-holed database link) is given up
// after `readTimeoutMs` and handled like a failed read (workers get
// `POSITION t t` and read the rows themselves), and `stop()` waits for one in
// flight at most `stopTimeoutMs`; a result that comes later is not sent.
//
// In-memory streams have no database to catch up from, so `REPLICATE` also
// replays what the writer still holds: `POSITION <s> <me> <F> <F> <epoch>`,
// where F is the newest token it has forgotten (0 if none), then the held rows
// as `RDATA` (docs/protocol.md, section 8). Every POSITION of an in-memory
// stream carries the epoch of its token sequence (random, fixed for the life
// of the source), so that a worker tells a writer restart (tokens start again)
// from a replay meant for another worker or from its own reconnection.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { groupByToken } from '../runtime/catch-up.js';
import { settlesWithin, withDeadline } from '../runtime/deadline.js';
import type { DatabaseHandle } from '../runtime/database.js';
import type { StreamIdGenerator } from '../runtime/id-generator/index.js';
import type { MemoryStreamSource } from '../runtime/memory-stream.js';
import type { SQLBaseStore } from '../runtime/store.js';
import type { DatabaseStreamDefinition, StreamPage } from '../runtime/stream.js';
import { serializeCommand, type CodecLimits } from './codec.js';
import type {
  Command,
  FederationAckCommand,
  JsonValue,
  PositionCommand,
  UserSyncCommand,
} from './commands.js';
import { defaultLogger } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { ProtocolError } from './protocol-error.js';
import type { CommandLink, ServerTransport } from './transport.js';

export interface ReplicationServerOptions {
  readonly transport: ServerTransport;
  /** Rows read per query when announcing new tokens; default 500. */
  readonly pageSize?: number;
  /**
   * How long one read of new rows may take, in ms; default 30,000. Past it
   * the read counts as failed (`fetch_failures_total`): workers are sent
   * `POSITION t t` and read the rows from the database themselves, and a
   * result that comes later is dropped. Without it one query on a black-holed
   * database link would stop every announcement for good.
   */
  readonly readTimeoutMs?: number;
  /**
   * How long `stop()` waits for a read of new rows in flight, in ms; default
   * 5,000. Past it `stop()` resolves anyway and the read is abandoned.
   */
  readonly stopTimeoutMs?: number;
  /** Limits of the lines this server writes (the transport's limits should match). */
  readonly limits?: CodecLimits;
  /** A worker's `USER_SYNC`; `from` is the link's label. */
  readonly onUserSync?: (command: UserSyncCommand, from: string) => void;
  /** A consumer's `FEDERATION_ACK`; `from` is the link's label. */
  readonly onFederationAck?: (command: FederationAckCommand, from: string) => void;
  /** Where metrics go; default: a Registry of its own (`server.metrics.registry`). */
  readonly registry?: Registry;
  readonly logger?: Logger;
}

interface DatabaseSource {
  readonly kind: 'database';
  readonly name: string;
  readonly definition: DatabaseStreamDefinition<unknown>;
  readonly generator: StreamIdGenerator;
  /** Every token of ours at or below this has been announced (or skipped while nobody listened). */
  lastSent: number;
}

interface MemorySource {
  readonly kind: 'memory';
  readonly name: string;
  readonly source: MemoryStreamSource<unknown>;
  /** Names this run of the source's tokens (they start again with a new source). */
  readonly epoch: string;
  lastSent: number;
}

const epochs = new WeakMap<object, string>();

/**
 * The epoch of an in-memory stream source: a random word, the same for every
 * server that serves this source object, new for a new source (a restarted
 * writer), whose tokens start again from 0.
 */
export function memoryStreamEpoch(source: object): string {
  let epoch = epochs.get(source);
  if (epoch === undefined) {
    epoch = randomBytes(8).toString('hex');
    epochs.set(source, epoch);
  }
  return epoch;
}

type Source = DatabaseSource | MemorySource;

export class ReplicationServer {
  readonly metrics: ServerMetrics;
  readonly #store: SQLBaseStore<unknown>;
  readonly #transport: ServerTransport;
  readonly #instance: string;
  readonly #pageSize: number;
  readonly #readTimeoutMs: number;
  readonly #stopTimeoutMs: number;
  /** Aborted when `stop()` gives up waiting for a read in flight. */
  readonly #abandon = new AbortController();
  readonly #limits: CodecLimits | undefined;
  readonly #options: ReplicationServerOptions;
  readonly #logger: Logger;
  readonly #sources: Source[] = [];
  /** Links that sent REPLICATE: they get every new token. */
  readonly #subscribers = new Set<CommandLink>();
  readonly #links = new Set<CommandLink>();
  readonly #unsubscribe: Array<() => void> = [];
  #pumping: Promise<void> | undefined;
  #pumpAgain = false;
  #started = false;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  // The store's row types do not matter here: rows are read with each stream's own `getPage`.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(store: SQLBaseStore<any>, options: ReplicationServerOptions) {
    this.#store = store as SQLBaseStore<unknown>;
    this.#transport = options.transport;
    this.#instance = store.hs.instanceName;
    this.#pageSize = options.pageSize ?? 500;
    this.#readTimeoutMs = options.readTimeoutMs ?? 30_000;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
    this.#limits = options.limits;
    this.#options = options;
    this.metrics = new ServerMetrics(options.registry);
    this.#logger = options.logger ?? defaultLogger('storesplit-replication-server');
  }

  /** The streams this process is the source of, by name. */
  streams(): string[] {
    return this.#sources.map((s) => s.name);
  }

  /** Starts listening for the store's announcements and for peers. */
  async start(): Promise<void> {
    if (this.#started) throw new Error('ReplicationServer already started');
    this.#started = true;
    for (const [name, generator] of this.#store.idGenerators()) {
      const definition = this.#store.hs.streams.get(name);
      if (definition?.kind !== 'database') continue;
      const source: DatabaseSource = {
        kind: 'database',
        name,
        definition: definition,
        generator,
        lastSent: generator.currentTokenFor(this.#instance),
      };
      this.#sources.push(source);
      // currentToken() moves with our own position on a single-writer stream;
      // on a multi-writer stream our own position may move alone, and the
      // persisted position follows it shortly.
      this.#unsubscribe.push(generator.onAdvance(() => this.#wake()));
      this.#unsubscribe.push(generator.onPersisted(() => this.#wake()));
    }
    for (const [name, memory] of this.#store.memoryStreamSources()) {
      const source: MemorySource = {
        kind: 'memory',
        name,
        source: memory,
        epoch: memoryStreamEpoch(memory),
        lastSent: memory.currentToken(),
      };
      this.#sources.push(source);
      this.#unsubscribe.push(memory.onAdvance((token) => this.#memoryAdvanced(source, token)));
    }
    this.#sources.sort((a, b) => a.name.localeCompare(b.name));
    this.#unsubscribe.push(
      this.metrics.collectQueueDepth(() =>
        [...this.#links].map((l) => ({ labels: { client: l.label }, value: l.queueDepth })),
      ),
      this.metrics.collectClients(() => this.#subscribers.size),
    );
    await this.#transport.listen((link) => this.#attach(link));
    this.#logger.info(
      { at: this.#transport.describe(), streams: this.streams() },
      'replication server listening',
    );
  }

  /**
   * Stops serving: no more announcements, every link closed. A read of new
   * rows in flight gets `stopTimeoutMs`, then is abandoned. Every call
   * resolves once that is done (a second one waits for the first).
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#stopped = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    await this.#transport.close();
    this.#subscribers.clear();
    this.#links.clear();
    const pumping = this.#pumping;
    if (!pumping) return;
    if (!(await settlesWithin(pumping, this.#stopTimeoutMs))) {
      this.#logger.warn(
        { waitedMs: this.#stopTimeoutMs },
        'a read of new stream rows did not return in time; abandoning it',
      );
      this.#abandon.abort(new Error('the replication server stopped'));
      await pumping;
    }
  }

  /** Sends lines to every link that sent REPLICATE. */
  #broadcast(lines: readonly string[]): void {
    for (const link of this.#subscribers) {
      for (const line of lines) {
        if (link.closed) break;
        link.send(line);
      }
    }
  }

  #attach(link: CommandLink): void {
    if (this.#stopped) {
      link.close('server-stopping: the writer is shutting down');
      return;
    }
    this.#links.add(link);
    this.metrics.connections.inc();
    void link.closedReason.then((reason) => {
      this.#links.delete(link);
      this.#subscribers.delete(link);
      this.metrics.disconnects.inc({ reason: reasonCode(reason) });
    });
    link.setHandler((command) => this.#onCommand(link, command));
  }

  #onCommand(link: CommandLink, command: Command): void {
    switch (command.type) {
      case 'NAME':
        link.label = command.clientName;
        return;
      case 'REPLICATE':
        this.#answerReplicate(link);
        return;
      case 'USER_SYNC':
        this.#options.onUserSync?.(command, link.label);
        return;
      case 'FEDERATION_ACK':
        this.#options.onFederationAck?.(command, link.label);
        return;
      default:
        // PING is the transport's; nothing else reaches a server from a client.
        return;
    }
  }

  #answerReplicate(link: CommandLink): void {
    const lines: string[] = [];
    for (const source of this.#sources) {
      if (source.kind === 'database') {
        // Our own position only, also on a multi-writer stream: each writer
        // answers for itself (docs/protocol.md, 11.7).
        lines.push(this.#position(source.name, this.#instance, source.lastSent, source.lastSent));
      } else {
        // Replay what is still held: POSITION F F, then the rows after F.
        const all = source.source.getPage(0, source.lastSent, Number.MAX_SAFE_INTEGER);
        const forgotten = 'historyLost' in all ? Math.min(all.earliest, source.lastSent) : 0;
        const page =
          'historyLost' in all
            ? source.source.getPage(forgotten, source.lastSent, Number.MAX_SAFE_INTEGER)
            : all;
        lines.push(this.#position(source.name, this.#instance, forgotten, forgotten, source.epoch));
        if (!('historyLost' in page))
          lines.push(...this.#linesFor(source.name, forgotten, page, source.epoch));
      }
    }
    // Bounded by what we hold, and possibly larger than the slow-reader limit by itself.
    link.sendAnswer(lines);
    this.#subscribers.add(link);
    this.#logger.info({ peer: link.label }, 'replication client sent REPLICATE');
  }

  #position(stream: string, instance: string, prev: number, next: number, epoch?: string): string {
    this.metrics.positionSent.inc({ stream });
    const command: PositionCommand = {
      type: 'POSITION',
      stream,
      instance,
      prevToken: prev,
      newToken: next,
    };
    return serializeCommand(epoch === undefined ? command : { ...command, epoch }, this.#limits);
  }

  /**
   * The lines announcing one page of our rows after `from`: RDATA per row
   * (`batch` for all but a token's last), a token whose rows cannot be sent
   * becomes `POSITION t t` (workers fetch it themselves), and a `POSITION`
   * covers tokens up to the page's end that had no rows. `epoch`: an in-memory
   * stream's, carried by its POSITIONs.
   */
  #linesFor(stream: string, from: number, page: StreamPage<unknown>, epoch?: string): string[] {
    const lines: string[] = [];
    let last = from;
    for (const [token, rows] of groupByToken(page.updates)) {
      try {
        const group = rows.map((row, i) =>
          serializeCommand(
            {
              type: 'RDATA',
              stream,
              instance: this.#instance,
              token: i === rows.length - 1 ? token : 'batch',
              row: row as JsonValue,
            },
            this.#limits,
          ),
        );
        lines.push(...group);
        this.metrics.rdataSent.inc({ stream }, group.length);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        this.#logger.warn(
          { stream, token, code: error.code },
          'stream row cannot be sent; workers will read it from the database',
        );
        lines.push(this.#position(stream, this.#instance, token, token, epoch));
      }
      last = token;
    }
    if (page.upTo > last)
      lines.push(this.#position(stream, this.#instance, last, page.upTo, epoch));
    return lines;
  }

  #memoryAdvanced(source: MemorySource, token: number): void {
    if (this.#stopped || token <= source.lastSent) return;
    if (this.#subscribers.size === 0) {
      source.lastSent = token;
      return;
    }
    const page = source.source.getPage(source.lastSent, token, Number.MAX_SAFE_INTEGER);
    if ('historyLost' in page) {
      this.#broadcast([this.#position(source.name, this.#instance, token, token, source.epoch)]);
      source.lastSent = token;
      return;
    }
    this.#broadcast(this.#linesFor(source.name, source.lastSent, page, source.epoch));
    source.lastSent = page.upTo;
  }

  #wake(): void {
    this.#pumpAgain = true;
    if (this.#pumping || this.#stopped) return;
    this.#pumping = this.#pump();
  }

  /**
   * Announces new tokens until no wake-up is pending. `#pumping` is cleared
   * in the same synchronous step as the last check of `#pumpAgain`, so a
   * wake-up is never lost between the two.
   */
  async #pump(): Promise<void> {
    await Promise.resolve();
    while (this.#pumpAgain && !this.#stopped) {
      this.#pumpAgain = false;
      for (const source of this.#sources) {
        if (this.#stopped) break;
        if (source.kind !== 'database') continue;
        try {
          await this.#pumpDatabase(source);
        } catch (error) {
          // A bug, not a fault of the database (handled inside): retried at the next wake-up.
          this.#logger.error({ stream: source.name, err: error }, 'announcing new tokens failed');
        }
      }
    }
    this.#pumping = undefined;
  }

  async #pumpDatabase(source: DatabaseSource): Promise<void> {
    const target = source.generator.currentTokenFor(this.#instance);
    while (source.lastSent < target && !this.#stopped) {
      if (this.#subscribers.size === 0) {
        // Nobody listens: whoever asks later gets a POSITION and catches up.
        source.lastSent = target;
        break;
      }
      const from = source.lastSent;
      let page: StreamPage<unknown>;
      try {
        page = await withDeadline(
          source.definition.getPage(this.#db(), from, target, this.#pageSize, this.#instance),
          this.#readTimeoutMs,
          () =>
            new Error(
              `stream ${source.name}: reading the rows after ${from} took longer than ` +
                `${this.#readTimeoutMs} ms`,
            ),
          this.#abandon.signal,
        );
      } catch (error) {
        // Stopped meanwhile: nobody to tell.
        if (this.#stopped) return;
        this.metrics.fetchFailures.inc({ stream: source.name });
        this.#logger.warn(
          { stream: source.name, err: error },
          'cannot read new stream rows; announcing the position instead',
        );
        this.#broadcast([this.#position(source.name, this.#instance, target, target)]);
        source.lastSent = target;
        break;
      }
      if (this.#stopped) return;
      this.#broadcast(this.#linesFor(source.name, from, page));
      source.lastSent = page.upTo;
    }
  }

  #db(): DatabaseHandle<unknown> {
    return this.#store.dbConn;
  }
}

/** The code at the start of a close reason (`slow-reader: …` → `slow-reader`), for metrics labels. */
export function reasonCode(reason: string): string {
  const match = /^([a-z][a-z-]*)(?::|$)/.exec(reason);
  return match ? match[1]! : 'closed';
}
