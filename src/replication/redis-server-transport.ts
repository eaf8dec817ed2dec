// The writer's Redis transport: the deployment's channel is its one link.
// Redis does not tell a publisher that someone subscribed, so the writer
// announces its positions itself on every new link (when it starts, and
// after its connection to Redis was lost and opened again): the transport
// hands the server a `REPLICATE` of its own, whose answer (a `POSITION` per
// stream, with the in-memory streams' epochs and replay) is the first thing
// the writer publishes. Workers thereby notice a restarted writer, and catch
// up whatever a lost connection made them miss, before any new row reaches
// them (docs/protocol.md, section 10). A new link is opened only once the
// old one has ended: the old publisher's backlog reaches Redis first, so no
// old row arrives after the new announcement.
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { defaultLogger } from './logger.js';
import {
  describeRedis,
  droppedCounter,
  RedisChannelLink,
  redisChannel,
  type RedisTransportOptions,
} from './redis-link.js';
import type { CommandLink, ServerTransport } from './transport.js';

export interface RedisServerTransportOptions extends Omit<RedisTransportOptions, 'logger'> {
  /** Delays between attempts to open the channel again after it was lost. */
  readonly reconnect?: BackoffOptions;
  readonly logger?: Logger;
}

export class RedisServerTransport implements ServerTransport {
  readonly registry: Registry;
  readonly #options: RedisTransportOptions & { reconnect?: BackoffOptions };
  readonly #stop = new AbortController();
  #link: RedisChannelLink | undefined;
  #reconnecting: Promise<void> | undefined;
  #onLink: ((link: CommandLink) => void) | undefined;

  constructor(options: RedisServerTransportOptions) {
    this.registry = options.registry ?? new Registry();
    this.#options = {
      ...options,
      logger: options.logger ?? defaultLogger('storesplit-replication-server'),
    };
  }

  describe(): string {
    return `${describeRedis(this.#options)} channel ${redisChannel(this.#options)}`;
  }

  /** The channel's current link, if open (for tests and metrics). */
  get link(): CommandLink | undefined {
    return this.#link && !this.#link.closed ? this.#link : undefined;
  }

  /** Subscribes to the channel (rejects if Redis cannot be reached now); later losses are retried. */
  async listen(onLink: (link: CommandLink) => void): Promise<void> {
    if (this.#onLink) throw new Error('RedisServerTransport is already listening');
    this.#onLink = onLink;
    const link = await RedisChannelLink.open(
      this.#options,
      droppedCounter(this.registry),
      this.#stop.signal,
    );
    this.#attach(link);
  }

  async close(): Promise<void> {
    this.#stop.abort();
    const link = this.#link;
    link?.close('server-stopping: the writer is shutting down');
    // What the writer published last is flushed before stop() returns.
    if (link) await link.ended;
    await this.#reconnecting;
  }

  #attach(link: RedisChannelLink): void {
    this.#link = link;
    this.#onLink!(link);
    // Announce our positions before anything else goes out on this link.
    link.deliver({ type: 'REPLICATE' });
    void link.closedReason.then((reason) => {
      if (this.#stop.signal.aborted) return;
      this.#options.logger.warn(
        { at: this.describe(), reason },
        'lost the replication channel; opening it again',
      );
      this.#reconnecting = link.ended.then(() => this.#reopen());
    });
  }

  async #reopen(): Promise<void> {
    const signal = this.#stop.signal;
    for (let attempt = 1; !signal.aborted; attempt++) {
      await sleep(backoffDelay(attempt, this.#options.reconnect), signal);
      if (signal.aborted) return;
      try {
        const link = await RedisChannelLink.open(
          this.#options,
          droppedCounter(this.registry),
          signal,
        );
        if (signal.aborted) {
          link.close();
          return;
        }
        this.#attach(link);
        return;
      } catch (error) {
        this.#options.logger.warn(
          { at: this.describe(), err: error, attempt },
          'cannot open the replication channel',
        );
      }
    }
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
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
