/**
 * The one error type the replication codec throws.
 */

/**
 * Machine-readable reason for a protocol error. See docs/protocol.md
 * ("Error codes") for the exact condition behind each one.
 */
export type ProtocolErrorCode =
  /** A line (excluding its `\n`) is longer than `maxLineBytes`. */
  | 'line-too-long'
  /** A line is not valid UTF-8 (or, for a string, holds a lone surrogate). */
  | 'bad-utf8'
  /** The stream ended inside a line (`LineDecoder.end()`). */
  | 'truncated-line'
  /** `parseCommand('')`; the `LineDecoder` skips empty lines instead. */
  | 'empty-line'
  /** A line contains U+0000–U+001F or U+007F (this includes `\r`, tab and `\n`). */
  | 'control-character'
  /** The first field is not a command of this protocol. */
  | 'unknown-command'
  /** The command may not be sent by this side of a direct TCP connection. */
  | 'wrong-side'
  /** Wrong number of fields, an empty field, or a field outside its grammar. */
  | 'bad-argument'
  /** The JSON argument is not JSON text, or holds a number outside the double range. */
  | 'bad-json'
  /** The JSON argument nests arrays/objects deeper than `maxJsonDepth`. */
  | 'json-too-deep'
  /** The JSON argument is longer than `maxJsonBytes`. */
  | 'json-too-large';

/** Every `ProtocolErrorCode`, for exhaustive tests and metrics labels. */
export const PROTOCOL_ERROR_CODES: readonly ProtocolErrorCode[] = Object.freeze([
  'line-too-long',
  'bad-utf8',
  'truncated-line',
  'empty-line',
  'control-character',
  'unknown-command',
  'wrong-side',
  'bad-argument',
  'bad-json',
  'json-too-deep',
  'json-too-large',
]);

/**
 * A violation of the replication protocol, by the peer (when parsing) or by
 * the caller (when serialising a command that could not be parsed back).
 *
 * `message` never contains a control character, so it can be sent as-is in
 * an `ERROR` line, and never echoes an `AUTH` secret.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(cleanMessage(message));
    this.code = code;
  }
}

/** Longest `message` a ProtocolError carries, in UTF-16 code units. */
const MAX_MESSAGE_LENGTH = 400;

/**
 * Replaces control characters and lone surrogates, so that the message is
 * safe to log and to send in an `ERROR` line, and caps its length.
 */
function cleanMessage(message: string): string {
  let out = message
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  if (out.length > MAX_MESSAGE_LENGTH) {
    let cut = MAX_MESSAGE_LENGTH - 1;
    // Do not split a surrogate pair.
    const last = out.charCodeAt(cut - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut--;
    out = `${out.slice(0, cut)}…`;
  }
  return out;
}
