// The replication protocol over Redis pub/sub: one channel per deployment
// (named by the server name), one line per message. A `RedisChannelLink` is
// the whole channel seen as one `CommandLink`: what it sends is PUBLISHed to
// every process on the channel, and it delivers what every other process
// published. It owns two connections (a subscribed connection cannot be
// relied on to publish), and it never outlives them: if either connection
// drops, or a PUBLISH fails, the link closes, and whoever owns it opens a new
// one, which starts with `REPLICATE` (docs/protocol.md, section 10). A closing
// link lets its publisher flush what it still holds (QUIT after it), and says
// when that is done (`ended`): a new link that published before the old one's
// backlog reached Redis would be overtaken by it. Nothing
// reconnects or resubscribes behind the protocol's back, since a worker that
// missed messages silently would apply later rows over a gap.
//
// What the link drops (counted in `storesplit_replication_redis_dropped_total`
// by reason): messages that are not a valid line (no connection to close on
// Redis), the commands Redis has no use for (`SERVER`, `AUTH`, `NAME`, `PING`,
// `ERROR`), and this process's own echoes (`RDATA` and `POSITION` whose
// instance is its own).
import { isUtf8 } from 'node:buffer';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Registry } from 'prom-client';
import { parseCommand, resolveLimits, serializeCommand, type CodecLimits } from './codec.js';
import type { Command } from './commands.js';
import { ProtocolError } from './protocol-error.js';
import type { CommandLink } from './transport.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Options both Redis transports take. */
export interface RedisTransportOptions {
  /** `redis://[user:password@]host:port[/db]`; default redis://127.0.0.1:6379. */
  readonly url?: string;
  /**
   * More ioredis options (TLS, password, …). The transport sets its own
   * reconnection, resubscription and offline-queue options over these: a
   * lost connection closes the link instead.
   */
  readonly redisOptions?: RedisOptions;
  /** The deployment's name; the channel is `<channelPrefix><serverName>`. */
  readonly serverName: string;
  /** Prepended to the channel's name, to share one Redis among deployments (or test runs). */
  readonly channelPrefix?: string;
  /** This process's instance name: `RDATA` and `POSITION` of this instance are its own echoes. */
  readonly instanceName: string;
  readonly limits?: CodecLimits;
  /**
   * PUBLISHes awaiting Redis's reply before the link is given up
   * (`slow-reader`), as found at the start of a synchronous run of sends (one
   * announcement is never cut); default 10,000.
   */
  readonly maxPending?: number;
  /** A Redis `PING` on each connection this often; default 5,000 ms. */
  readonly pingIntervalMs?: number;
  /** Closes the link when a `PING` (or connecting) takes longer; default 25,000 ms. */
  readonly pingTimeoutMs?: number;
  /** Where the dropped-message counter goes; default: a Registry of its own (`transport.registry`). */
  readonly registry?: Registry;
  readonly logger: Logger;
}

/** The channel a deployment's commands travel on. */
export function redisChannel(options: Pick<RedisTransportOptions, 'serverName' | 'channelPrefix'>) {
  return `${options.channelPrefix ?? ''}${options.serverName}`;
}

/** `redis://host:port`, without credentials, for logs. */
export function describeRedis(options: Pick<RedisTransportOptions, 'url' | 'redisOptions'>) {
  const url = options.url ?? DEFAULT_REDIS_URL;
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'redis://?';
  }
}

/** The counter of messages a link dropped, by reason (one per Registry). */
export function droppedCounter(registry: Registry): Counter<'reason'> {
  const name = 'storesplit_replication_redis_dropped_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'reason'>;
  return new Counter({
    name,
    help: 'Redis messages a replication link dropped: malformed, not used on Redis, or its own echo',
    labelNames: ['reason'],
    registers: [registry],
  });
}

/**
 * The name a connection gives itself (`CLIENT SETNAME`), for `CLIENT LIST`:
 * `storesplit/<channel>/<instance>/<sub|pub>`, spaces and control characters
 * replaced (Redis refuses them).
 */
export function connectionName(
  options: Pick<RedisTransportOptions, 'serverName' | 'channelPrefix' | 'instanceName'>,
  role: 'sub' | 'pub',
): string {
  return `storesplit/${redisChannel(options)}/${options.instanceName}/${role}`.replace(
    /[^\x21-\x7e]/g,
    '_',
  );
}

/** Resolves when an ioredis connection has ended for good (it never reconnects here). */
function connectionEnded(connection: Redis): Promise<void> {
  if (connection.status === 'end') return Promise.resolve();
  return new Promise((resolve) => connection.once('end', () => resolve()));
}

const NOT_USED_ON_REDIS = new Set<Command['type']>(['SERVER', 'AUTH', 'NAME', 'PING', 'ERROR']);

interface PingState {
  since: number | undefined;
}

export class RedisChannelLink implements CommandLink {
  label: string;
  readonly closedReason: Promise<string>;
  /**
   * Resolves once both connections are gone, after the link closed: what the
   * publisher still held has reached Redis (or was given up with a failed
   * connection, or after `pingTimeoutMs`). Open the next link after this.
   */
  readonly ended: Promise<void>;
  readonly channel: string;
  readonly #subscriber: Redis;
  readonly #publisher: Redis;
  readonly #options: RedisTransportOptions;
  readonly #maxLineBytes: number;
  readonly #maxPending: number;
  readonly #pingTimeoutMs: number;
  readonly #dropped: Counter<'reason'>;
  readonly #logger: Logger;
  readonly #pings = new Map<Redis, PingState>();
  #resolveClosed!: (reason: string) => void;
  #closed = false;
  #pending = 0;
  /** Publishes pending when this tick's first send came; null between ticks. */
  #backlog: number | null = null;
  #handler: ((command: Command) => void) | undefined;
  readonly #queued: Command[] = [];
  readonly #keepAlive: NodeJS.Timeout;

  private constructor(
    subscriber: Redis,
    publisher: Redis,
    options: RedisTransportOptions,
    dropped: Counter<'reason'>,
  ) {
    this.#subscriber = subscriber;
    this.#publisher = publisher;
    this.#options = options;
    this.channel = redisChannel(options);
    this.label = `redis:${this.channel}`;
    this.#maxLineBytes = resolveLimits(options.limits).maxLineBytes;
    this.#maxPending = options.maxPending ?? 10_000;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 25_000;
    this.#dropped = dropped;
    this.#logger = options.logger;
    this.closedReason = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.ended = Promise.all([subscriber, publisher].map(connectionEnded)).then(() => undefined);
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) =>
      this.#onMessage(channel, message),
    );
    for (const [connection, role] of [
      [subscriber, 'subscriber'],
      [publisher, 'publisher'],
    ] as const) {
      this.#pings.set(connection, { since: undefined });
      connection.on('close', () =>
        this.#shutDown(`redis-disconnected: the ${role} connection closed`, role === 'subscriber'),
      );
    }
    this.#keepAlive = setInterval(() => this.#ping(), options.pingIntervalMs ?? 5_000);
    this.#keepAlive.unref();
  }

  /**
   * Connects both connections and subscribes to the channel; resolves once
   * Redis acknowledged the subscription (so that nothing published after
   * this resolves is missed). Aborting `signal` abandons the attempt.
   */
  static async open(
    options: RedisTransportOptions,
    dropped: Counter<'reason'>,
    signal?: AbortSignal,
  ): Promise<RedisChannelLink> {
    signal?.throwIfAborted();
    const connectTimeout = options.pingTimeoutMs ?? 25_000;
    const connection = (role: 'sub' | 'pub') => {
      const redis = new Redis(options.url ?? DEFAULT_REDIS_URL, {
        ...options.redisOptions,
        lazyConnect: true,
        connectTimeout,
        connectionName: connectionName(options, role),
        // A lost connection ends the link; nothing is retried, resent or resubscribed silently.
        retryStrategy: () => null,
        reconnectOnError: () => false,
        autoResubscribe: false,
        autoResendUnfulfilledCommands: false,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
      });
      // Failures show as 'close' (and rejected commands); without a listener ioredis prints them.
      redis.on('error', (error: Error) =>
        options.logger.debug({ role, err: error }, 'redis connection error'),
      );
      return redis;
    };
    const subscriber = connection('sub');
    const publisher = connection('pub');
    const abandon = () => {
      subscriber.disconnect();
      publisher.disconnect();
    };
    signal?.addEventListener('abort', abandon, { once: true });
    try {
      await Promise.all([subscriber.connect(), publisher.connect()]);
      await subscriber.subscribe(redisChannel(options));
      signal?.throwIfAborted();
    } catch (error) {
      abandon();
      throw error;
    } finally {
      signal?.removeEventListener('abort', abandon);
    }
    const link = new RedisChannelLink(subscriber, publisher, options, dropped);
    if (subscriber.status !== 'ready' || publisher.status !== 'ready')
      link.#shutDown('redis-disconnected: a connection closed while subscribing', false);
    return link;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** PUBLISHes not yet acknowledged by Redis. */
  get queueDepth(): number {
    return this.#pending;
  }

  send(command: Command | string): void {
    if (this.#closed) return;
    const line =
      typeof command === 'string' ? command : serializeCommand(command, this.#options.limits);
    // The limit judges the backlog this tick's sends found, not one burst:
    // an announcement (a REPLICATE answer replaying a memory stream's held
    // rows) is published in one synchronous run and may exceed it by itself.
    if (this.#backlog === null) {
      this.#backlog = this.#pending;
      queueMicrotask(() => (this.#backlog = null));
    }
    if (this.#backlog >= this.#maxPending) {
      this.#shutDown(`slow-reader: more than ${this.#maxPending} publishes pending`, true);
      return;
    }
    this.#pending++;
    this.#publisher.publish(this.channel, line).then(
      () => this.#pending--,
      (error: Error) => {
        this.#pending--;
        // Later publishes must not reach workers over a lost one: give the link up at once.
        this.#shutDown(`redis-error: PUBLISH failed: ${error.message}`, false);
      },
    );
  }

  /** One synchronous run of sends, which the `maxPending` rule never cuts (see `send`). */
  sendAnswer(lines: readonly string[]): void {
    for (const line of lines) this.send(line);
  }

  setHandler(handler: ((command: Command) => void) | undefined): void {
    this.#handler = handler;
    while (handler && this.#handler === handler && !this.#closed && this.#queued.length)
      handler(this.#queued.shift()!);
  }

  /** Hands a command to the handler as if it had arrived (a writer's own `REPLICATE`). */
  deliver(command: Command): void {
    if (this.#closed) return;
    if (this.#handler) this.#handler(command);
    else this.#queued.push(command);
  }

  /**
   * Closes the link: what was published is flushed (QUIT after it), the
   * subscription ends. There is no peer to tell why; the reason is logged.
   */
  close(reason?: string): void {
    this.#shutDown(reason ?? 'closed', true);
  }

  /**
   * Ends the link and both connections. With `flush`, a publisher still
   * connected sends what it holds and QUITs (`ended` waits for it, at most
   * `pingTimeoutMs`); without, as when it failed or hangs, it is dropped with
   * whatever it held.
   */
  #shutDown(reason: string, flush: boolean): void {
    if (this.#closed) return;
    this.#finish(reason);
    this.#subscriber.disconnect();
    const publisher = this.#publisher;
    if (!flush || publisher.status !== 'ready') {
      publisher.disconnect();
      return;
    }
    const giveUp = setTimeout(() => publisher.disconnect(), this.#pingTimeoutMs);
    giveUp.unref();
    publisher
      .quit()
      .catch(() => publisher.disconnect())
      .finally(() => clearTimeout(giveUp));
  }

  #finish(reason: string): void {
    this.#closed = true;
    clearInterval(this.#keepAlive);
    this.#queued.length = 0;
    this.#handler = undefined;
    this.#logger.debug({ link: this.label, reason }, 'redis replication link closed');
    this.#resolveClosed(reason);
  }

  #ping(): void {
    if (this.#closed) return;
    const now = Date.now();
    for (const [connection, state] of this.#pings) {
      if (state.since !== undefined) {
        if (now - state.since > this.#pingTimeoutMs)
          this.#shutDown(
            `ping-timeout: Redis did not answer PING for ${this.#pingTimeoutMs} ms`,
            false,
          );
        continue;
      }
      state.since = now;
      connection.ping().then(
        () => (state.since = undefined),
        (error: Error) => this.#shutDown(`redis-error: PING failed: ${error.message}`, false),
      );
    }
  }

  #onMessage(channel: Buffer, message: Buffer): void {
    if (this.#closed || channel.toString('utf8') !== this.channel) return;
    if (message.length > this.#maxLineBytes) return this.#drop('line-too-long');
    if (!isUtf8(message)) return this.#drop('bad-utf8');
    let command: Command;
    try {
      // No sides on Redis: every process may publish every command.
      command = parseCommand(message.toString('utf8'), this.#options.limits);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return this.#drop(error.code);
    }
    if (NOT_USED_ON_REDIS.has(command.type)) return this.#drop('not-used-on-redis');
    if (
      (command.type === 'RDATA' || command.type === 'POSITION') &&
      command.instance === this.#options.instanceName
    )
      return this.#drop('echo');
    try {
      this.deliver(command);
    } catch (error) {
      // A bug in a command handler: give up this link (a new one starts over), not the process.
      this.#logger.error({ link: this.label, err: error }, 'replication command handler failed');
      this.#shutDown('internal-error: the command could not be handled', true);
    }
  }

  #drop(reason: string): void {
    this.#dropped.inc({ reason });
    if (reason !== 'echo' && reason !== 'not-used-on-redis')
      this.#logger.warn({ link: this.label, reason }, 'dropped a malformed Redis message');
  }
}
