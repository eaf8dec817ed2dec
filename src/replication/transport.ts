// The seam between the replication protocol and how its commands travel.
//
// The protocol state machines (`ReplicationServer` on the writer,
// `ReplicationClient` on a worker) only ever see `CommandLink`s: channels of
// parsed commands. A transport turns bytes into links: the TCP transports
// frame lines over sockets and run the connection-level commands themselves
// (`SERVER`, `AUTH`, `PING`, the output queue); a Redis transport would make
// one link of a pub/sub channel. Writer and worker code picks a transport in
// its configuration and does not change otherwise.
import type { Command } from './commands.js';

/** A channel of commands to and from one peer (or, on pub/sub, the channel). */
export interface CommandLink {
  /** For logs and metrics: the peer's `NAME`, or an address. Settable by the protocol. */
  label: string;
  /** True once the link is closed; nothing is delivered or sent after that. */
  readonly closed: boolean;
  /** Resolves with the reason once the link is closed (by either side). */
  readonly closedReason: Promise<string>;
  /** Commands waiting to be written (the slow-reader queue); 0 where the transport has none. */
  readonly queueDepth: number;
  /**
   * Sends a command, or a line `serializeCommand` produced for one (so that a
   * line sent to many links is serialised once). A no-op once closed. Throws
   * `ProtocolError` for a command that cannot be serialised.
   */
  send(command: Command | string): void;
  /**
   * Sends the answer to a `REPLICATE` (its `POSITION`s and the replay of the
   * in-memory streams), in order, as `send` would each line, except that a
   * slow-reader limit does not count these lines while they wait: the
   * answer's size is bounded by the history the writer holds, not by how far
   * the reader fell behind, and it may exceed the limit by itself. What is
   * sent after it counts as usual. One answer at a time: lines of another
   * answer sent while one still waits count as usual.
   */
  sendAnswer(lines: readonly string[]): void;
  /**
   * Receives every command from the peer, in order; commands that arrived
   * before a handler was set are delivered to it at once. `undefined` holds
   * them again.
   */
  setHandler(handler: ((command: Command) => void) | undefined): void;
  /** Closes the link; with a reason, tells the peer (`ERROR <reason>`) first. Idempotent. */
  close(reason?: string): void;
}

/** The writer's side of a transport: hands every authenticated peer to the server. */
export interface ServerTransport {
  /** Starts accepting peers; each becomes a link, ready for `REPLICATE`. */
  listen(onLink: (link: CommandLink) => void): Promise<void>;
  /** Stops accepting, closes every link, and resolves when they are closed. */
  close(): Promise<void>;
  /** Where it listens, for logs. */
  describe(): string;
}

/** A worker's side of a transport: opens one link to the writer(s). */
export interface ClientTransport {
  /**
   * Whether one link hears every writer of the deployment (`true` on Redis,
   * where every writer publishes on the one channel and answers `REPLICATE`
   * for itself) or a single writer (`false` on TCP: a connection to one
   * writer). A worker that follows a stream with more than one writer needs
   * `true`: a writer announces its own position and rows only
   * (docs/protocol.md, 9.1), so `ReplicationClient` refuses such a store on a
   * transport that says `false`.
   */
  readonly hearsEveryWriter: boolean;
  /**
   * Opens a link and resolves once the peer may be sent `REPLICATE` (on TCP:
   * after `SERVER`, `AUTH` and `NAME`; on pub/sub: once subscribed). Rejects
   * if the link cannot be opened; aborting `signal` abandons the attempt.
   */
  connect(signal: AbortSignal): Promise<CommandLink>;
  /** Where it connects, for logs. */
  describe(): string;
}
