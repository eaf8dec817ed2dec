// One direct TCP connection of the replication protocol, as a `CommandLink`:
// line framing in both directions (the codec's `LineDecoder` and
// `serializeCommand`), the output queue and its limit (a reader that does not
// read is disconnected rather than buffered without bound; the answer to
// `REPLICATE`, bounded by the writer's history, is queued but not counted),
// keep-alive (`PING` when idle; a timeout once the peer has pinged, or from
// the start on a storesplit worker), and the `ERROR` line that precedes a
// close. What the commands mean is the protocol's business (server.ts,
// client.ts), not this module's.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { LineDecoder, parseCommand, serializeCommand, type CodecLimits } from './codec.js';
import type { Command, Side } from './commands.js';
import { ProtocolError } from './protocol-error.js';
import type { CommandLink } from './transport.js';

export interface LineConnectionOptions {
  /** Which end this process is; received commands are checked against the other end's. */
  readonly side: Side;
  readonly limits?: CodecLimits;
  /** Commands queued past the socket's buffer before the peer is dropped; default 10,000. */
  readonly maxQueue?: number;
  /** Send `PING` after this long without sending anything; default 5,000 ms. */
  readonly pingIntervalMs?: number;
  /** Drop a peer that has sent nothing for this long (see `pingTimeoutFrom`); default 25,000 ms. */
  readonly pingTimeoutMs?: number;
  /**
   * When the ping timeout is armed: `'peer-ping'` (default) once the peer has
   * sent its first `PING`, so that a person driving the protocol with `nc` is
   * not timed out (a server's view of its clients, docs/protocol.md 11.5);
   * `'open'` from the start, for a peer known to ping (a storesplit worker's
   * view of its writer, which must not wait forever on a writer that stalls
   * before its first `PING`).
   */
  readonly pingTimeoutFrom?: 'peer-ping' | 'open';
  /** After an `ERROR` (or a close), how long the socket may take to flush before it is destroyed; default 1,000 ms. */
  readonly closeTimeoutMs?: number;
  readonly logger: Logger;
  /** Called once when the link closes, with the reason (e.g. `slow-reader: …`). */
  readonly onClosed?: (reason: string) => void;
}

export const DEFAULT_MAX_QUEUE = 10_000;
export const DEFAULT_PING_INTERVAL_MS = 5_000;
export const DEFAULT_PING_TIMEOUT_MS = 25_000;

/** Lines written per `socket.write` when draining the queue. */
const DRAIN_BATCH = 256;

export class LineConnection implements CommandLink {
  label: string;
  readonly closedReason: Promise<string>;
  readonly #socket: Socket;
  readonly #decoder: LineDecoder;
  readonly #limits: CodecLimits | undefined;
  readonly #peer: Side;
  readonly #maxQueue: number;
  readonly #pingIntervalMs: number;
  readonly #pingTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #logger: Logger;
  readonly #onClosed: ((reason: string) => void) | undefined;
  #resolveClosed!: (reason: string) => void;
  #closed = false;
  #handler: ((command: Command) => void) | undefined;
  readonly #pending: Command[] = [];
  /** Lines refused by the socket's buffer, waiting for 'drain'. */
  #queue: string[] = [];
  /**
   * The queue holds `#aheadOfAnswer` counted lines, then `#answerQueued`
   * lines of a `REPLICATE` answer (not counted against `maxQueue`), then
   * counted lines again.
   */
  #aheadOfAnswer = 0;
  #answerQueued = 0;
  #paused = false;
  #lastSent = Date.now();
  #lastReceived = Date.now();
  /** Whether silence for the ping timeout drops the peer. */
  #timeoutArmed: boolean;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(socket: Socket, options: LineConnectionOptions) {
    this.#socket = socket;
    this.#limits = options.limits;
    this.#decoder = new LineDecoder({ maxLineBytes: options.limits?.maxLineBytes });
    this.#peer = options.side === 'server' ? 'client' : 'server';
    this.#maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.#pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 1_000;
    this.#timeoutArmed = options.pingTimeoutFrom === 'open';
    this.#onClosed = options.onClosed;
    this.label = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.#logger = options.logger;
    this.closedReason = new Promise((resolve) => (this.#resolveClosed = resolve));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#drain());
    socket.on('end', () => this.#abort('peer closed the connection'));
    socket.on('close', () => this.#abort('connection closed'));
    socket.on('error', (error) => this.#abort(`socket error: ${error.message}`));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  /** Queued lines the slow-reader limit counts: all but those of a `REPLICATE` answer. */
  get #counted(): number {
    return this.#queue.length - this.#answerQueued;
  }

  /** Starts keep-alive: a `PING` now (so that the peer can time us out) and whenever idle. */
  startKeepAlive(): void {
    if (this.#closed || this.#keepAlive) return;
    this.send({ type: 'PING', ms: Date.now() });
    // Checked a few times per interval, so that PINGs go out about every interval.
    const tick = Math.max(
      1,
      Math.min(Math.ceil(this.#pingIntervalMs / 4), Math.ceil(this.#pingTimeoutMs / 5)),
    );
    this.#keepAlive = setInterval(() => this.#checkAlive(), tick);
    this.#keepAlive.unref();
  }

  setHandler(handler: ((command: Command) => void) | undefined): void {
    this.#handler = handler;
    while (handler && this.#handler === handler && !this.#closed && this.#pending.length) {
      handler(this.#pending.shift()!);
    }
  }

  send(command: Command | string): void {
    if (this.#closed) return;
    const line = typeof command === 'string' ? command : serializeCommand(command, this.#limits);
    if (this.#paused) {
      if (this.#counted >= this.#maxQueue) {
        this.close(`slow-reader: more than ${this.#maxQueue} commands queued`);
        return;
      }
      this.#queue.push(line);
      return;
    }
    this.#lastSent = Date.now();
    if (!this.#socket.write(`${line}\n`)) this.#paused = true;
  }

  sendAnswer(lines: readonly string[]): void {
    if (this.#answerQueued > 0) {
      // The previous answer has not been read yet: this one counts.
      for (const line of lines) this.send(line);
      return;
    }
    const ahead = this.#queue.length;
    for (const line of lines) {
      if (this.#closed) return;
      if (this.#paused) {
        this.#queue.push(line);
        continue;
      }
      this.#lastSent = Date.now();
      if (!this.#socket.write(`${line}\n`)) this.#paused = true;
    }
    this.#aheadOfAnswer = ahead;
    this.#answerQueued = this.#queue.length - ahead;
  }

  close(reason?: string): void {
    if (this.#closed) return;
    if (reason !== undefined) {
      // The last line, ahead of whatever was queued (which is dropped).
      this.#socket.write(`${serializeCommand({ type: 'ERROR', message: reason }, this.#limits)}\n`);
    }
    this.#finish(reason ?? 'closed');
    this.#socket.end();
    // A peer that does not read would keep the socket (and the ERROR) forever.
    setTimeout(() => this.#socket.destroy(), this.#closeTimeoutMs).unref();
  }

  /** Closes at once, without `ERROR` or flushing (tests cut connections with it). */
  destroy(): void {
    this.#abort('destroyed');
  }

  /** The peer went away or the socket failed: nothing more can be said. */
  #abort(reason: string): void {
    this.#finish(reason);
    this.#socket.destroy();
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    this.#queue = [];
    this.#aheadOfAnswer = 0;
    this.#answerQueued = 0;
    this.#pending.length = 0;
    this.#handler = undefined;
    this.#logger.debug({ peer: this.label, reason }, 'replication connection closed');
    this.#resolveClosed(reason);
    this.#onClosed?.(reason);
  }

  #drain(): void {
    this.#paused = false;
    while (this.#queue.length && !this.#paused && !this.#closed) {
      const batch = this.#queue.splice(0, DRAIN_BATCH);
      // Counted lines ahead of the answer leave first, then the answer's.
      const ahead = Math.min(batch.length, this.#aheadOfAnswer);
      this.#aheadOfAnswer -= ahead;
      this.#answerQueued = Math.max(0, this.#answerQueued - (batch.length - ahead));
      this.#lastSent = Date.now();
      if (!this.#socket.write(`${batch.join('\n')}\n`)) this.#paused = true;
    }
  }

  #checkAlive(): void {
    if (this.#closed) return;
    const now = Date.now();
    if (this.#timeoutArmed && now - this.#lastReceived > this.#pingTimeoutMs) {
      this.close(`ping-timeout: nothing received for ${this.#pingTimeoutMs} ms`);
      return;
    }
    if (now - this.#lastSent >= this.#pingIntervalMs && !this.#paused)
      this.send({ type: 'PING', ms: now });
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      for (const line of this.#decoder.push(chunk)) {
        // Only a whole line counts as hearing from the peer: a trickle of
        // bytes that never ends a line must not keep a dead link open.
        this.#lastReceived = Date.now();
        const command = parseCommand(line, { ...this.#limits, sender: this.#peer });
        this.#deliver(command);
        if (this.#closed) return;
      }
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.#logger.info(
          { peer: this.label, code: error.code },
          'replication protocol error from peer',
        );
        this.close(`${error.code}: ${error.message}`);
      } else {
        // A bug in a command handler: drop this connection, not the process.
        this.#logger.error({ peer: this.label, err: error }, 'replication command handler failed');
        this.close('internal-error: the command could not be handled');
      }
    }
  }

  #deliver(command: Command): void {
    if (command.type === 'PING') this.#timeoutArmed = true;
    if (command.type === 'ERROR') {
      this.#logger.info(
        { peer: this.label, message: command.message },
        'replication peer sent ERROR',
      );
      this.#finish(`peer sent ERROR ${command.message}`);
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), this.#closeTimeoutMs).unref();
      return;
    }
    if (this.#handler) this.#handler(command);
    else this.#pending.push(command);
  }
}
