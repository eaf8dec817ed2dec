/**
 * The commands of the replication protocol (see docs/protocol.md and the
 * "Replication protocol" section of DESIGN.md) as plain data.
 *
 * This module only describes commands; turning them into lines and back is
 * `codec.ts`, and what a server or worker does with them lives elsewhere.
 */

/** A JSON value as carried in `RDATA` rows. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One end of a direct TCP connection. */
export type Side = 'server' | 'client';

/** Which end of a direct TCP connection may send a command. */
export type Sender = Side | 'both';

/** A stream token: a non-negative safe integer. */
export type Token = number;

/**
 * `SERVER <server_name>`: the first line the server sends.
 */
export interface ServerCommand {
  readonly type: 'SERVER';
  readonly serverName: string;
}

/**
 * `AUTH <secret>`: the client's first command when the server has a secret.
 * The field is called `secret` (DESIGN.md writes `<token>`) so that it cannot
 * be confused with a stream token.
 */
export interface AuthCommand {
  readonly type: 'AUTH';
  readonly secret: string;
}

/** `NAME <client_name>`: names the worker, for logs and metrics. */
export interface NameCommand {
  readonly type: 'NAME';
  readonly clientName: string;
}

/** `REPLICATE`: "tell me where every stream is". No arguments. */
export interface ReplicateCommand {
  readonly type: 'REPLICATE';
}

/**
 * `RDATA <stream> <instance> <token|batch> <row_json>`: one row of a stream.
 * `token: 'batch'` means more rows with the same token follow; the row that
 * carries the numeric token closes the batch.
 */
export interface RdataCommand {
  readonly type: 'RDATA';
  readonly stream: string;
  readonly instance: string;
  readonly token: Token | 'batch';
  readonly row: JsonValue;
}

/**
 * `POSITION <stream> <instance> <prev_token> <new_token> [<epoch>]`: that
 * writer moved from `prevToken` to `newToken` and wrote no rows in between
 * that were not sent. `prevToken <= newToken`. `epoch` (a word) names the run
 * of the writer's token sequence: it changes when an in-memory stream's
 * tokens start again (a writer restart), so a worker can tell a restart from
 * a replay (docs/protocol.md, 8.1). Writers send it on in-memory streams only.
 */
export interface PositionCommand {
  readonly type: 'POSITION';
  readonly stream: string;
  readonly instance: string;
  readonly prevToken: Token;
  readonly newToken: Token;
  readonly epoch?: string;
}

/** `PING <ms_since_epoch>`: keep-alive, sent by both sides. */
export interface PingCommand {
  readonly type: 'PING';
  readonly ms: number;
}

/** `USER_SYNC <instance> <user_id> <start|end> <ms>`: presence-style state from a worker. */
export interface UserSyncCommand {
  readonly type: 'USER_SYNC';
  readonly instance: string;
  readonly userId: string;
  readonly state: 'start' | 'end';
  readonly ms: number;
}

/** `FEDERATION_ACK <instance> <token>`: a consumer worker's acknowledged position. */
export interface FederationAckCommand {
  readonly type: 'FEDERATION_ACK';
  readonly instance: string;
  readonly token: Token;
}

/** `ERROR <message>`: the last line before the sender closes. */
export interface ErrorCommand {
  readonly type: 'ERROR';
  readonly message: string;
}

/** Every command of the protocol, discriminated by `type`. */
export type Command =
  | ServerCommand
  | AuthCommand
  | NameCommand
  | ReplicateCommand
  | RdataCommand
  | PositionCommand
  | PingCommand
  | UserSyncCommand
  | FederationAckCommand
  | ErrorCommand;

/** The name of a command as it appears on the wire. */
export type CommandName = Command['type'];

/** The command of a given name. */
export type CommandOf<N extends CommandName> = Extract<Command, { type: N }>;

/**
 * Which side of a direct TCP connection may send each command. A receiver
 * rejects a command the other side may not send with `wrong-side`.
 *
 * `ERROR` is `'both'`: DESIGN.md's table lists it as S→C, but a worker that
 * drops a server (ping timeout, malformed line, wrong `SERVER`) says why
 * before closing, exactly as the server does.
 *
 * Over Redis there is no direction: every process publishes and receives
 * every command (see docs/protocol.md).
 */
export const COMMAND_SENDERS: Readonly<Record<CommandName, Sender>> = Object.freeze({
  SERVER: 'server',
  AUTH: 'client',
  NAME: 'client',
  REPLICATE: 'client',
  RDATA: 'server',
  POSITION: 'server',
  PING: 'both',
  USER_SYNC: 'client',
  FEDERATION_ACK: 'client',
  ERROR: 'both',
});

/**
 * The arguments each command takes on the wire, after `NAME SP`, for error
 * messages and documentation. An empty string means "no arguments".
 */
export const COMMAND_SYNTAX: Readonly<Record<CommandName, string>> = Object.freeze({
  SERVER: '<server_name>',
  AUTH: '<secret>',
  NAME: '<client_name>',
  REPLICATE: '',
  RDATA: '<stream> <instance> <token|batch> <row_json>',
  POSITION: '<stream> <instance> <prev_token> <new_token> [<epoch>]',
  PING: '<ms>',
  USER_SYNC: '<instance> <user_id> <start|end> <ms>',
  FEDERATION_ACK: '<instance> <token>',
  ERROR: '[<message>]',
});

/** All command names, in the order of DESIGN.md's table. */
export const COMMAND_NAMES: readonly CommandName[] = Object.freeze(
  Object.keys(COMMAND_SENDERS) as CommandName[],
);

/** Whether `name` is a command of this protocol (case-sensitive). */
export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMAND_SENDERS, name);
}

/** Whether `side` may send the command `name` on a direct TCP connection. */
export function maySend(side: Side, name: CommandName): boolean {
  const sender = COMMAND_SENDERS[name];
  return sender === 'both' || sender === side;
}
