// A worker's TCP transport: connects to the writer, waits for `SERVER` (and
// checks the name when told which deployment to expect), sends `AUTH` when it
// has a secret and `NAME`, starts keep-alive, and hands the link to the
// replication client, which sends `REPLICATE`. Its ping timeout runs from the
// start (a writer pings), not from the writer's first `PING`, which comes only
// after `AUTH`: a writer that stalls right after `SERVER` is dropped too.
import { connect } from 'node:net';
import type { Logger } from 'pino';
import { checkSecret } from './auth.js';
import type { CodecLimits } from './codec.js';
import { LineConnection } from './line-connection.js';
import { defaultLogger } from './logger.js';
import type { ClientTransport, CommandLink } from './transport.js';

export interface TcpClientTransportOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly port: number;
  /** The deployment expected in `SERVER`; another one is refused (`wrong-server`). */
  readonly serverName?: string;
  /** The shared secret, sent in `AUTH`. */
  readonly secret?: string;
  /** Sent in `NAME`; usually the worker's instance name. */
  readonly clientName?: string;
  readonly limits?: CodecLimits;
  /** Commands queued before the server is dropped as a slow reader; default 10,000. */
  readonly maxQueue?: number;
  /** Default 5,000 ms. */
  readonly pingIntervalMs?: number;
  /**
   * Drops the writer after this long without a line from it, from the
   * start (not only after its first `PING`); also how long connecting and
   * `SERVER` may take. Default 25,000 ms.
   */
  readonly pingTimeoutMs?: number;
  readonly logger?: Logger;
}

export class TcpClientTransport implements ClientTransport {
  /** A connection to one writer: one writer per followed stream (docs/protocol.md, 9.1). */
  readonly hearsEveryWriter = false;
  readonly #options: TcpClientTransportOptions;
  readonly #logger: Logger;

  constructor(options: TcpClientTransportOptions) {
    if (options.secret !== undefined) checkSecret(options.secret);
    this.#options = options;
    this.#logger = options.logger ?? defaultLogger('storesplit-replication-client');
  }

  describe(): string {
    return `tcp://${this.#options.host ?? '127.0.0.1'}:${this.#options.port}`;
  }

  connect(signal: AbortSignal): Promise<CommandLink> {
    const options = this.#options;
    const timeoutMs = options.pingTimeoutMs ?? 25_000;
    return new Promise<CommandLink>((resolve, reject) => {
      signal.throwIfAborted();
      const socket = connect({ host: options.host ?? '127.0.0.1', port: options.port });
      let link: LineConnection | undefined;
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (link) link.close();
        socket.destroy();
        reject(error);
      };
      const onAbort = () => fail(new Error('connection attempt aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(
        () => fail(new Error(`no SERVER line within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.once('error', (error) => fail(error));
      socket.once('connect', () => {
        const opened = new LineConnection(socket, {
          side: 'client',
          limits: options.limits,
          maxQueue: options.maxQueue,
          pingIntervalMs: options.pingIntervalMs,
          pingTimeoutMs: options.pingTimeoutMs,
          // A storesplit writer pings; do not wait for its first PING to arm the timeout.
          pingTimeoutFrom: 'open',
          logger: this.#logger,
        });
        link = opened;
        void opened.closedReason.then((reason) =>
          fail(new Error(`connection closed before SERVER: ${reason}`)),
        );
        opened.setHandler((command) => {
          if (command.type !== 'SERVER') {
            opened.close(`wrong-server: expected SERVER first, got ${command.type}`);
            return;
          }
          if (options.serverName !== undefined && command.serverName !== options.serverName) {
            opened.close(`wrong-server: expected ${options.serverName}, got ${command.serverName}`);
            return;
          }
          opened.setHandler(undefined);
          if (options.secret !== undefined) opened.send({ type: 'AUTH', secret: options.secret });
          if (options.clientName !== undefined)
            opened.send({ type: 'NAME', clientName: options.clientName });
          opened.startKeepAlive();
          opened.label = command.serverName;
          settled = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(opened);
        });
      });
    });
  }
}
