/**
 * The wire codec of the replication protocol: commands to lines and back, and
 * a streaming splitter that turns received bytes into lines.
 *
 * docs/protocol.md is the reference for everything here: framing, the grammar
 * of each command, the limits and the error codes. Everything that reads peer
 * input (`parseCommand`, `LineDecoder`) throws nothing but `ProtocolError`,
 * and never recurses on it.
 */
import { isUtf8 } from 'node:buffer';

import {
  COMMAND_SYNTAX,
  isCommandName,
  maySend,
  type Command,
  type CommandName,
  type JsonValue,
  type PositionCommand,
  type Side,
} from './commands.js';
import { ProtocolError } from './protocol-error.js';

// ---------------------------------------------------------------------------
// Limits

/** Size limits the codec enforces on peer input (and on what it serialises). */
export interface CodecLimits {
  /** Longest line, in bytes of UTF-8, not counting the `\n`. Default 65,536 (64 KiB). */
  readonly maxLineBytes?: number;
  /** Deepest nesting of arrays and objects in a JSON argument; a scalar is depth 0. Default 32. */
  readonly maxJsonDepth?: number;
  /** Longest JSON argument, in bytes of UTF-8. Default: `maxLineBytes`. */
  readonly maxJsonBytes?: number;
}

/** Options of `parseCommand`. */
export interface ParseOptions extends CodecLimits {
  /**
   * The side of a direct TCP connection that sent the line. When given, a
   * command that side may not send is rejected with `wrong-side` before its
   * arguments are looked at. Omit it over Redis, where there are no sides.
   */
  readonly sender?: Side;
}

/** The resolved limits, every field present. */
export type ResolvedCodecLimits = Readonly<Required<CodecLimits>>;

/** Default line limit: 64 KiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
/** Default JSON nesting limit. */
export const DEFAULT_MAX_JSON_DEPTH = 32;
/** The smallest `maxLineBytes` accepted, so that an `ERROR` always fits. */
export const MIN_MAX_LINE_BYTES = 16;

/**
 * Fills in defaults and checks that the limits are sane. Throws `RangeError`
 * (a configuration mistake, not a protocol error) for a bad value.
 */
export function resolveLimits(limits?: CodecLimits): ResolvedCodecLimits {
  const maxLineBytes = limits?.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxJsonDepth = limits?.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
  const maxJsonBytes = limits?.maxJsonBytes ?? maxLineBytes;
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < MIN_MAX_LINE_BYTES) {
    throw new RangeError(`maxLineBytes must be an integer >= ${MIN_MAX_LINE_BYTES}`);
  }
  if (!Number.isSafeInteger(maxJsonDepth) || maxJsonDepth < 0) {
    throw new RangeError('maxJsonDepth must be a non-negative integer');
  }
  if (!Number.isSafeInteger(maxJsonBytes) || maxJsonBytes < 1) {
    throw new RangeError('maxJsonBytes must be a positive integer');
  }
  return { maxLineBytes, maxJsonDepth, maxJsonBytes };
}

// ---------------------------------------------------------------------------
// Grammar

/** `word`: one or more visible ASCII characters, U+0021–U+007E. */
const WORD = /^[\u0021-\u007e]+$/;
/** `uint`: a non-negative decimal integer without sign or leading zeros. */
const UINT = /^(?:0|[1-9][0-9]{0,15})$/;
/** Characters no line may contain: C0 controls (including `\r`, `\t`, `\n`) and DEL. */
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_GLOBAL = /[\u0000-\u001f\u007f]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATE_GLOBAL =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Whether `value` is a `word` (names, instance names, user IDs, the AUTH secret). */
export function isWord(value: string): boolean {
  return WORD.test(value);
}

/** Whether `value` is a valid token: a non-negative safe integer. */
export function isToken(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Whether the UTF-8 encoding of `s` is longer than `max` bytes, without encoding it if it can tell. */
function exceedsBytes(s: string, max: number): boolean {
  // One UTF-16 code unit is 1 to 3 bytes of UTF-8 (a surrogate pair is 4).
  if (s.length > max) return true;
  if (s.length * 3 <= max) return false;
  return Buffer.byteLength(s, 'utf8') > max;
}

/** A short, quoted, log-safe rendering of peer input for error messages. */
function quote(value: string): string {
  const cut = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(cut);
}

function badArgument(command: CommandName, detail: string): ProtocolError {
  const syntax = COMMAND_SYNTAX[command];
  return new ProtocolError(
    'bad-argument',
    `${command}: ${detail} (syntax: ${command}${syntax === '' ? '' : ` ${syntax}`})`,
  );
}

function checkWord(command: CommandName, field: string, value: unknown): string {
  if (typeof value === 'string' && WORD.test(value)) return value;
  // Never echo the AUTH secret, not even a bad one.
  const shown = command === 'AUTH' ? '' : typeof value === 'string' ? `, got ${quote(value)}` : '';
  return fail(
    badArgument(
      command,
      `<${field}> must be one or more visible ASCII characters (U+0021-U+007E)${shown}`,
    ),
  );
}

function parseUint(command: CommandName, field: string, text: string): number {
  if (UINT.test(text)) {
    const value = Number(text);
    if (value <= Number.MAX_SAFE_INTEGER) return value;
  }
  return fail(
    badArgument(
      command,
      `<${field}> must be a decimal integer from 0 to ${Number.MAX_SAFE_INTEGER} without sign or leading zeros, got ${quote(text)}`,
    ),
  );
}

function checkUint(command: CommandName, field: string, value: unknown): string {
  if (isToken(value)) return String(value);
  return fail(
    badArgument(command, `<${field}> must be a safe integer >= 0, got ${describe(value)}`),
  );
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return quote(value);
  return typeof value;
}

function fail(error: ProtocolError): never {
  throw error;
}

type Fields<N extends number> = N extends 1
  ? [string]
  : N extends 2
    ? [string, string]
    : N extends 3
      ? [string, string, string]
      : N extends 4
        ? [string, string, string, string]
        : string[];

/** Splits `args` into exactly `n` non-empty fields separated by single spaces. */
function splitFields<N extends 1 | 2 | 3 | 4>(
  command: CommandName,
  args: string | undefined,
  n: N,
): Fields<N> {
  if (args === undefined) {
    throw badArgument(command, `expected ${n} argument${n === 1 ? '' : 's'}, got none`);
  }
  // The limit keeps a line of 60,000 spaces from making a 60,000-element array.
  const fields = args.split(' ', n + 1);
  if (fields.includes('')) {
    throw badArgument(command, 'arguments are separated by exactly one space');
  }
  if (fields.length !== n) {
    throw badArgument(
      command,
      fields.length > n
        ? `expected ${n} argument${n === 1 ? '' : 's'}, got more`
        : `expected ${n} arguments, got ${fields.length}`,
    );
  }
  return fields as Fields<N>;
}

/** `POSITION`'s four fields and its optional fifth, `<epoch>`. */
function splitPositionFields(
  args: string | undefined,
): [string, string, string, string, string | undefined] {
  if (args === undefined) throw badArgument('POSITION', 'expected 4 arguments, got none');
  const fields = args.split(' ', 6);
  if (fields.includes('')) {
    throw badArgument('POSITION', 'arguments are separated by exactly one space');
  }
  if (fields.length < 4 || fields.length > 5) {
    throw badArgument(
      'POSITION',
      fields.length > 5
        ? 'expected 4 arguments and an optional <epoch>, got more'
        : `expected 4 arguments, got ${fields.length}`,
    );
  }
  const [stream, instance, prev, next, epoch] = fields as [string, string, string, string, string?];
  return [stream, instance, prev, next, epoch];
}

/**
 * Splits off `n` leading non-empty fields; the rest of the line, after one
 * more space, is returned as the last element (it may contain spaces).
 */
function splitHead(command: CommandName, args: string | undefined, n: 3): [...Fields<3>, string] {
  const fields: string[] = [];
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const sp = args === undefined ? -1 : args.indexOf(' ', pos);
    if (args === undefined || sp === -1) {
      throw badArgument(
        command,
        `expected ${n + 1} arguments, got ${args === undefined ? 0 : i + 1}`,
      );
    }
    const field = args.slice(pos, sp);
    if (field === '') throw badArgument(command, 'arguments are separated by exactly one space');
    fields.push(field);
    pos = sp + 1;
  }
  return [...(fields as Fields<3>), (args ?? '').slice(pos)];
}

// ---------------------------------------------------------------------------
// JSON

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }

/**
 * The deepest nesting of arrays and objects in JSON text (a scalar is 0,
 * `[]` is 1, `[{}]` is 2), found by one linear scan that skips strings and
 * their escapes, so that it is safe on hostile input. It is exact for valid
 * JSON; for invalid text it never reports less nesting than `JSON.parse`
 * would reach before failing. Stops early once the depth exceeds `stopAbove`.
 */
export function jsonNestingDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if ((c === CLOSE_BRACKET || c === CLOSE_BRACE) && depth > 0) {
      depth--;
    }
  }
  return max;
}

/** JSON.parse reviver: rejects numbers outside the double range and normalises -0. */
function reviveJson(_key: string, value: unknown): unknown {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new ProtocolError('bad-json', 'JSON number out of range');
    }
    if (value === 0) return 0; // -0 becomes 0: JSON.stringify cannot tell them apart
  }
  return value;
}

function parseJson(
  command: CommandName,
  field: string,
  text: string,
  limits: ResolvedCodecLimits,
): JsonValue {
  if (exceedsBytes(text, limits.maxJsonBytes)) {
    throw new ProtocolError(
      'json-too-large',
      `${command}: <${field}> is longer than ${limits.maxJsonBytes} bytes`,
    );
  }
  if (jsonNestingDepth(text, limits.maxJsonDepth) > limits.maxJsonDepth) {
    throw new ProtocolError(
      'json-too-deep',
      `${command}: <${field}> nests arrays/objects deeper than ${limits.maxJsonDepth}`,
    );
  }
  try {
    return JSON.parse(text, reviveJson) as JsonValue;
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    if (error instanceof RangeError) {
      throw new ProtocolError('json-too-deep', `${command}: <${field}> nests too deeply`);
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProtocolError('bad-json', `${command}: <${field}> is not JSON: ${reason}`);
  }
}

/** JSON.stringify replacer: refuses values JSON would silently drop or turn into null. */
function refuseNonJson(_key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) {
        throw new ProtocolError('bad-json', `${String(value)} is not a JSON number`);
      }
      return value;
    case 'undefined':
    case 'function':
    case 'symbol':
    case 'bigint':
      throw new ProtocolError('bad-json', `a ${typeof value} is not a JSON value`);
    default:
      return value;
  }
}

function stringifyJson(
  command: CommandName,
  field: string,
  value: unknown,
  limits: ResolvedCodecLimits,
): string {
  let text: string;
  try {
    text = JSON.stringify(value, refuseNonJson);
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new ProtocolError(error.code, `${command}: <${field}>: ${error.message}`);
    }
    if (error instanceof RangeError) {
      throw new ProtocolError('json-too-deep', `${command}: <${field}> nests too deeply`);
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProtocolError('bad-json', `${command}: <${field}> is not JSON: ${reason}`);
  }
  if (exceedsBytes(text, limits.maxJsonBytes)) {
    throw new ProtocolError(
      'json-too-large',
      `${command}: <${field}> is longer than ${limits.maxJsonBytes} bytes as JSON`,
    );
  }
  if (jsonNestingDepth(text, limits.maxJsonDepth) > limits.maxJsonDepth) {
    throw new ProtocolError(
      'json-too-deep',
      `${command}: <${field}> nests arrays/objects deeper than ${limits.maxJsonDepth}`,
    );
  }
  return text;
}

// ---------------------------------------------------------------------------
// Parsing

function checkLine(line: string, limits: ResolvedCodecLimits): void {
  if (exceedsBytes(line, limits.maxLineBytes)) {
    throw new ProtocolError('line-too-long', `line longer than ${limits.maxLineBytes} bytes`);
  }
  if (LONE_SURROGATE.test(line)) {
    throw new ProtocolError('bad-utf8', 'line is not valid UTF-8 (lone surrogate)');
  }
  if (line === '') throw new ProtocolError('empty-line', 'empty line');
  const control = CONTROL.exec(line);
  if (control !== null) {
    const code = control[0].charCodeAt(0);
    const hex = code.toString(16).toUpperCase().padStart(4, '0');
    throw new ProtocolError(
      'control-character',
      code === 0x0d
        ? `carriage return (U+000D) at offset ${control.index}: lines end with a bare LF, CRLF is not accepted`
        : `control character U+${hex} at offset ${control.index}`,
    );
  }
}

/**
 * Parses one line (without its `\n`) into a command. Throws `ProtocolError`
 * and nothing else for any input; the codes are listed in docs/protocol.md.
 * (A bad `options` value is a configuration error and throws `RangeError`.)
 */
export function parseCommand(line: string, options?: ParseOptions): Command {
  const limits = resolveLimits(options);
  checkLine(line, limits);
  const sp = line.indexOf(' ');
  const name = sp === -1 ? line : line.slice(0, sp);
  if (!isCommandName(name)) {
    throw new ProtocolError('unknown-command', `unknown command ${quote(name)}`);
  }
  const sender = options?.sender;
  if (sender !== undefined && !maySend(sender, name)) {
    throw new ProtocolError(
      'wrong-side',
      `${name} may not be sent by the ${sender === 'server' ? 'server' : 'client'}`,
    );
  }
  const args = sp === -1 ? undefined : line.slice(sp + 1);
  switch (name) {
    case 'SERVER': {
      const [serverName] = splitFields(name, args, 1);
      return { type: name, serverName: checkWord(name, 'server_name', serverName) };
    }
    case 'AUTH': {
      const [secret] = splitFields(name, args, 1);
      return { type: name, secret: checkWord(name, 'secret', secret) };
    }
    case 'NAME': {
      const [clientName] = splitFields(name, args, 1);
      return { type: name, clientName: checkWord(name, 'client_name', clientName) };
    }
    case 'REPLICATE':
      if (args !== undefined) throw badArgument(name, 'takes no arguments');
      return { type: name };
    case 'RDATA': {
      const [stream, instance, token, row] = splitHead(name, args, 3);
      return {
        type: name,
        stream: checkWord(name, 'stream', stream),
        instance: checkWord(name, 'instance', instance),
        token: token === 'batch' ? 'batch' : parseUint(name, 'token|batch', token),
        row: parseJson(name, 'row_json', row, limits),
      };
    }
    case 'POSITION': {
      const [stream, instance, prev, next, epoch] = splitPositionFields(args);
      const cmd: PositionCommand = {
        type: name,
        stream: checkWord(name, 'stream', stream),
        instance: checkWord(name, 'instance', instance),
        prevToken: parseUint(name, 'prev_token', prev),
        newToken: parseUint(name, 'new_token', next),
      };
      if (cmd.prevToken > cmd.newToken) {
        throw badArgument(
          name,
          `<prev_token> ${cmd.prevToken} is greater than <new_token> ${cmd.newToken}`,
        );
      }
      return epoch === undefined ? cmd : { ...cmd, epoch: checkWord(name, 'epoch', epoch) };
    }
    case 'PING': {
      const [ms] = splitFields(name, args, 1);
      return { type: name, ms: parseUint(name, 'ms', ms) };
    }
    case 'USER_SYNC': {
      const [instance, userId, state, ms] = splitFields(name, args, 4);
      const checkedInstance = checkWord(name, 'instance', instance);
      const checkedUserId = checkWord(name, 'user_id', userId);
      if (state !== 'start' && state !== 'end') {
        throw badArgument(name, `<start|end> must be "start" or "end", got ${quote(state)}`);
      }
      return {
        type: name,
        instance: checkedInstance,
        userId: checkedUserId,
        state,
        ms: parseUint(name, 'ms', ms),
      };
    }
    case 'FEDERATION_ACK': {
      const [instance, token] = splitFields(name, args, 2);
      return {
        type: name,
        instance: checkWord(name, 'instance', instance),
        token: parseUint(name, 'token', token),
      };
    }
    case 'ERROR':
      return { type: name, message: args ?? '' };
  }
}

// ---------------------------------------------------------------------------
// Serialising

/**
 * Makes free text fit for an `ERROR` line: every control character (C0,
 * including `\r` and `\n`, and DEL) becomes a space and every lone surrogate
 * U+FFFD. Nothing else changes.
 */
export function sanitizeErrorMessage(message: string): string {
  return message.replace(CONTROL_GLOBAL, ' ').replace(LONE_SURROGATE_GLOBAL, '\ufffd');
}

/** Cuts `s` to at most `maxBytes` bytes of UTF-8, at a code point boundary. */
function truncateUtf8(s: string, maxBytes: number): string {
  if (!exceedsBytes(s, maxBytes)) return s;
  const bytes = Buffer.from(s, 'utf8');
  let cut = maxBytes;
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return bytes.subarray(0, cut).toString('utf8');
}

/**
 * Turns a command into one line, without the trailing `\n`. The result never
 * contains `\n` (or any other control character) and `parseCommand` with the
 * same limits gives the command back; a command for which that would not hold
 * throws `ProtocolError` instead (`bad-argument`, `bad-json`, `json-too-deep`,
 * `json-too-large`, `line-too-long`, or `unknown-command` for a bad `type`).
 *
 * Two normalisations: an `ERROR` message is sanitised (`sanitizeErrorMessage`)
 * and cut to fit `maxLineBytes` rather than refused; a JSON `-0` is sent as `0`.
 */
export function serializeCommand(cmd: Command, limits?: CodecLimits): string {
  const l = resolveLimits(limits);
  let line: string;
  switch (cmd.type) {
    case 'SERVER':
      line = `SERVER ${checkWord(cmd.type, 'server_name', cmd.serverName)}`;
      break;
    case 'AUTH':
      line = `AUTH ${checkWord(cmd.type, 'secret', cmd.secret)}`;
      break;
    case 'NAME':
      line = `NAME ${checkWord(cmd.type, 'client_name', cmd.clientName)}`;
      break;
    case 'REPLICATE':
      line = 'REPLICATE';
      break;
    case 'RDATA': {
      const stream = checkWord(cmd.type, 'stream', cmd.stream);
      const instance = checkWord(cmd.type, 'instance', cmd.instance);
      const token = cmd.token === 'batch' ? 'batch' : checkUint(cmd.type, 'token', cmd.token);
      const row = stringifyJson(cmd.type, 'row_json', cmd.row, l);
      line = `RDATA ${stream} ${instance} ${token} ${row}`;
      break;
    }
    case 'POSITION': {
      const stream = checkWord(cmd.type, 'stream', cmd.stream);
      const instance = checkWord(cmd.type, 'instance', cmd.instance);
      const prev = checkUint(cmd.type, 'prev_token', cmd.prevToken);
      const next = checkUint(cmd.type, 'new_token', cmd.newToken);
      if (cmd.prevToken > cmd.newToken) {
        throw badArgument(cmd.type, `<prev_token> ${prev} is greater than <new_token> ${next}`);
      }
      line = `POSITION ${stream} ${instance} ${prev} ${next}`;
      if (cmd.epoch !== undefined) line += ` ${checkWord(cmd.type, 'epoch', cmd.epoch)}`;
      break;
    }
    case 'PING':
      line = `PING ${checkUint(cmd.type, 'ms', cmd.ms)}`;
      break;
    case 'USER_SYNC': {
      const instance = checkWord(cmd.type, 'instance', cmd.instance);
      const userId = checkWord(cmd.type, 'user_id', cmd.userId);
      const state: unknown = cmd.state;
      if (state !== 'start' && state !== 'end') {
        throw badArgument(cmd.type, `<start|end> must be "start" or "end", got ${describe(state)}`);
      }
      line = `USER_SYNC ${instance} ${userId} ${state} ${checkUint(cmd.type, 'ms', cmd.ms)}`;
      break;
    }
    case 'FEDERATION_ACK': {
      const instance = checkWord(cmd.type, 'instance', cmd.instance);
      line = `FEDERATION_ACK ${instance} ${checkUint(cmd.type, 'token', cmd.token)}`;
      break;
    }
    case 'ERROR': {
      const raw: unknown = cmd.message;
      if (typeof raw !== 'string') throw badArgument(cmd.type, '<message> must be a string');
      const message = truncateUtf8(sanitizeErrorMessage(raw), l.maxLineBytes - 'ERROR '.length);
      return message === '' ? 'ERROR' : `ERROR ${message}`;
    }
    default: {
      const type: unknown = (cmd as { type?: unknown }).type;
      throw new ProtocolError('unknown-command', `unknown command type ${describe(type)}`);
    }
  }
  if (exceedsBytes(line, l.maxLineBytes)) {
    throw new ProtocolError(
      'line-too-long',
      `${cmd.type} line would be longer than ${l.maxLineBytes} bytes`,
    );
  }
  return line;
}

// ---------------------------------------------------------------------------
// Framing

const LF = 0x0a;

/**
 * Splits a byte stream into lines: feed it chunks as they arrive (split
 * anywhere, also inside a multi-byte character) and iterate what `push`
 * returns.
 *
 * - A line ends at `\n` (0x0A). The `\n` is not part of the line; a `\r`
 *   before it is (and `parseCommand` rejects it: the protocol is LF only).
 * - Empty lines are skipped.
 * - A line is decoded as strict UTF-8 (no overlongs, surrogates, or code
 *   points above U+10FFFF; a BOM is kept, not stripped): `bad-utf8`.
 * - More than `maxLineBytes` bytes without a `\n` is `line-too-long`, raised
 *   while iterating the chunk that crosses the limit, before any of that
 *   chunk is buffered: the decoder never holds more than `maxLineBytes` bytes
 *   of an unfinished line (plus, if iterators are not run, the chunks pushed
 *   since).
 * - After an error the decoder is dead: every later `push` or `end` throws
 *   the same error.
 *
 * `push` registers the chunk at once and returns an iterator that decodes
 * lazily, so the chunk must not be modified until the iterator is done. Lines
 * are produced one at a time: every line before a bad one is yielded before
 * the error is thrown. Stopping early (closing the connection) is fine; any
 * unread input stays queued and the next iterator resumes with it.
 */
export class LineDecoder {
  readonly #maxLineBytes: number;
  /** Received chunks not yet scanned (the first one from `#offset`). */
  readonly #queue: Buffer[] = [];
  #offset = 0;
  /** Bytes of the unfinished line, already scanned (no `\n` in them). */
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #failure: ProtocolError | undefined;

  constructor(limits?: Pick<CodecLimits, 'maxLineBytes'>) {
    this.#maxLineBytes = resolveLimits({ maxLineBytes: limits?.maxLineBytes }).maxLineBytes;
  }

  /** Bytes held for the unfinished line (at most `maxLineBytes`). */
  get bufferedBytes(): number {
    return this.#partialBytes;
  }

  /** Bytes pushed but not yet scanned, because an iterator was not run to its end. */
  get unscannedBytes(): number {
    let n = 0;
    for (const chunk of this.#queue) n += chunk.length;
    return n - this.#offset;
  }

  /** Adds a chunk and returns an iterator over the lines it completes. */
  push(chunk: Uint8Array): IterableIterator<string> {
    if (this.#failure !== undefined) throw this.#failure;
    if (chunk.length > 0) {
      this.#queue.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    return this.#drain();
  }

  /**
   * The input has ended. Throws `truncated-line` if it ended inside a line
   * (or with input no iterator has read); after `end` the decoder is dead.
   */
  end(): void {
    if (this.#failure !== undefined) throw this.#failure;
    const left = this.#partialBytes + this.unscannedBytes;
    if (left > 0) {
      throw this.#fail(
        new ProtocolError('truncated-line', `input ended inside a line (${left} bytes)`),
      );
    }
  }

  *#drain(): Generator<string, void, undefined> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const chunk = this.#queue[0];
      if (chunk === undefined) return;
      const start = this.#offset;
      const lf = chunk.indexOf(LF, start);
      if (lf === -1) {
        const tail = chunk.subarray(start);
        if (this.#partialBytes + tail.length > this.#maxLineBytes) this.#tooLong();
        // Copy: the caller may reuse its buffer once this iterator is done.
        this.#partial.push(Buffer.from(tail));
        this.#partialBytes += tail.length;
        this.#queue.shift();
        this.#offset = 0;
        continue;
      }
      const length = this.#partialBytes + (lf - start);
      if (length > this.#maxLineBytes) this.#tooLong();
      const bytes =
        this.#partialBytes === 0
          ? chunk.subarray(start, lf)
          : Buffer.concat([...this.#partial, chunk.subarray(start, lf)], length);
      // Advance before yielding, so that an abandoned iterator leaves a
      // consistent state behind.
      this.#partial = [];
      this.#partialBytes = 0;
      if (lf + 1 === chunk.length) {
        this.#queue.shift();
        this.#offset = 0;
      } else {
        this.#offset = lf + 1;
      }
      if (length === 0) continue;
      if (!isUtf8(bytes)) {
        throw this.#fail(new ProtocolError('bad-utf8', 'line is not valid UTF-8'));
      }
      yield bytes.toString('utf8');
    }
  }

  #tooLong(): never {
    throw this.#fail(
      new ProtocolError('line-too-long', `line longer than ${this.#maxLineBytes} bytes`),
    );
  }

  /** Kills the decoder: drops everything it holds and remembers `error`. */
  #fail(error: ProtocolError): ProtocolError {
    this.#failure = error;
    this.#queue.length = 0;
    this.#offset = 0;
    this.#partial = [];
    this.#partialBytes = 0;
    return error;
  }
}
