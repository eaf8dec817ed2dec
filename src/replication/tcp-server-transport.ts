// The writer's TCP transport: a node:net server, bound to 127.0.0.1 unless
// told otherwise, that refuses to listen beyond loopback without a secret.
// Each connection says `SERVER <name>` first; with a secret, the client's
// first command must be `AUTH <secret>` (compared in constant time) before the
// connection is handed to the replication server. Framing, the output queue
// and keep-alive are the line connection's (line-connection.ts).
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { checkSecret, isLoopbackHost, secretChecker } from './auth.js';
import type { CodecLimits } from './codec.js';
import type { Command } from './commands.js';
import { LineConnection } from './line-connection.js';
import { defaultLogger } from './logger.js';
import type { CommandLink, ServerTransport } from './transport.js';

export interface TcpServerTransportOptions {
  /** The deployment's name, sent as `SERVER <serverName>`. */
  readonly serverName: string;
  /** Default 127.0.0.1. Anything beyond loopback requires `secret`. */
  readonly host?: string;
  /** Default 0 (any free port; see `address()`). */
  readonly port?: number;
  /** The shared secret clients must send in `AUTH`. */
  readonly secret?: string;
  readonly limits?: CodecLimits;
  /** Commands queued for a slow reader before it is disconnected; default 10,000. */
  readonly maxQueue?: number;
  /** Default 5,000 ms. */
  readonly pingIntervalMs?: number;
  /** Default 25,000 ms; also how long a client may take to send `AUTH`. */
  readonly pingTimeoutMs?: number;
  /** How long a closed connection may take to flush its `ERROR` before it is destroyed; default 1,000 ms. */
  readonly closeTimeoutMs?: number;
  readonly logger?: Logger;
}

export class TcpServerTransport implements ServerTransport {
  readonly #options: TcpServerTransportOptions;
  readonly #host: string;
  readonly #checkSecret: ((candidate: string) => boolean) | undefined;
  readonly #logger: Logger;
  readonly #connections = new Set<LineConnection>();
  #server: Server | undefined;
  #port: number | undefined;

  constructor(options: TcpServerTransportOptions) {
    this.#options = options;
    this.#host = options.host ?? '127.0.0.1';
    if (options.secret !== undefined) checkSecret(options.secret);
    if (!isLoopbackHost(this.#host) && options.secret === undefined) {
      throw new Error(
        `refusing to listen for replication on ${this.#host} without a secret: ` +
          'anything beyond loopback needs one (set `secret`)',
      );
    }
    this.#checkSecret = options.secret === undefined ? undefined : secretChecker(options.secret);
    this.#logger = options.logger ?? defaultLogger('storesplit-replication-server');
  }

  /** The port listened on (after `listen`). */
  get port(): number {
    if (this.#port === undefined) throw new Error('not listening');
    return this.#port;
  }

  describe(): string {
    return `tcp://${this.#host}:${this.#port ?? this.#options.port ?? 0}`;
  }

  async listen(onLink: (link: CommandLink) => void): Promise<void> {
    const server = createServer((socket) => this.#accept(socket, onLink));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port ?? 0, this.#host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string')
      throw new Error('replication server has no TCP address');
    if (!isLoopbackHost(address.address) && this.#checkSecret === undefined) {
      // `host` named something that resolved beyond loopback.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw new Error(`refusing to listen for replication on ${address.address} without a secret`);
    }
    this.#port = address.port;
    server.on('error', (error) => this.#logger.error({ err: error }, 'replication server error'));
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const closed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    const links = [...this.#connections];
    for (const link of links) link.close('server-stopping: the writer is shutting down');
    await Promise.all(links.map((l) => l.closedReason));
    await closed;
  }

  #accept(socket: Socket, onLink: (link: CommandLink) => void): void {
    const options = this.#options;
    const link = new LineConnection(socket, {
      side: 'server',
      limits: options.limits,
      maxQueue: options.maxQueue,
      pingIntervalMs: options.pingIntervalMs,
      pingTimeoutMs: options.pingTimeoutMs,
      closeTimeoutMs: options.closeTimeoutMs,
      logger: this.#logger,
      onClosed: () => this.#connections.delete(link),
    });
    this.#connections.add(link);
    link.send({ type: 'SERVER', serverName: options.serverName });
    const check = this.#checkSecret;
    const session = new SessionLink(link);
    let authenticated = check === undefined;
    let first = true;
    const open = () => {
      link.startKeepAlive();
      onLink(session);
    };
    let timeout: NodeJS.Timeout | undefined;
    if (authenticated) {
      open();
    } else {
      timeout = setTimeout(
        () => link.close(`auth-required: no AUTH within ${options.pingTimeoutMs ?? 25_000} ms`),
        options.pingTimeoutMs ?? 25_000,
      );
      timeout.unref();
      void link.closedReason.then(() => clearTimeout(timeout));
    }
    link.setHandler((command) => {
      const wasFirst = first;
      first = false;
      if (!authenticated) {
        clearTimeout(timeout);
        if (command.type !== 'AUTH')
          return link.close('auth-required: the first command must be AUTH');
        if (!check!(command.secret)) {
          this.#logger.warn({ peer: link.label }, 'replication client sent a wrong secret');
          return link.close('auth-failed: wrong secret');
        }
        authenticated = true;
        return open();
      }
      if (command.type === 'AUTH') {
        // Without a secret a leading AUTH is accepted and ignored (docs/protocol.md, 11.4).
        if (wasFirst) return;
        return link.close('unexpected-auth: AUTH is only accepted as the first command');
      }
      session.deliver(command);
    });
  }
}

/** The link as the replication server sees it: the connection, minus the commands the transport handles. */
class SessionLink implements CommandLink {
  readonly #link: LineConnection;
  #handler: ((command: Command) => void) | undefined;
  readonly #pending: Command[] = [];

  constructor(link: LineConnection) {
    this.#link = link;
  }

  get label(): string {
    return this.#link.label;
  }

  set label(value: string) {
    this.#link.label = value;
  }

  get closed(): boolean {
    return this.#link.closed;
  }

  get closedReason(): Promise<string> {
    return this.#link.closedReason;
  }

  get queueDepth(): number {
    return this.#link.queueDepth;
  }

  send(command: Command | string): void {
    this.#link.send(command);
  }

  sendAnswer(lines: readonly string[]): void {
    this.#link.sendAnswer(lines);
  }

  close(reason?: string): void {
    this.#link.close(reason);
  }

  setHandler(handler: ((command: Command) => void) | undefined): void {
    this.#handler = handler;
    while (handler && this.#handler === handler && !this.closed && this.#pending.length)
      handler(this.#pending.shift()!);
  }

  deliver(command: Command): void {
    if (this.#handler) this.#handler(command);
    else this.#pending.push(command);
  }
}
