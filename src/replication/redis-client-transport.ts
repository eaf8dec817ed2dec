// A worker's Redis transport: each link subscribes to the deployment's
// channel and resolves once Redis acknowledged the subscription, so that the
// `REPLICATE` the replication client then publishes cannot be answered before
// the worker listens. A lost connection closes the link; the client opens a
// new one (with its backoff), which starts again with `REPLICATE` and
// catch-up from the database (docs/protocol.md, section 10).
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { defaultLogger } from './logger.js';
import {
  describeRedis,
  droppedCounter,
  RedisChannelLink,
  redisChannel,
  type RedisTransportOptions,
} from './redis-link.js';
import type { ClientTransport, CommandLink } from './transport.js';

export interface RedisClientTransportOptions extends Omit<RedisTransportOptions, 'logger'> {
  readonly logger?: Logger;
}

export class RedisClientTransport implements ClientTransport {
  /** Every writer publishes on the channel, and answers `REPLICATE` for itself. */
  readonly hearsEveryWriter = true;
  readonly registry: Registry;
  readonly #options: RedisTransportOptions;

  constructor(options: RedisClientTransportOptions) {
    this.registry = options.registry ?? new Registry();
    this.#options = {
      ...options,
      logger: options.logger ?? defaultLogger('storesplit-replication-client'),
    };
  }

  describe(): string {
    return `${describeRedis(this.#options)} channel ${redisChannel(this.#options)}`;
  }

  connect(signal: AbortSignal): Promise<CommandLink> {
    return RedisChannelLink.open(this.#options, droppedCounter(this.registry), signal);
  }
}
