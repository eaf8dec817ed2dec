// Stream definitions: a stream is an ordered, append-only sequence of rows
// keyed by integer tokens, announced by its writer(s) and followed by workers.
// `defineStream` is part of the runtime contract store-lint reads: the `name`
// and the `tables` whose writes the stream announces must be literals.
import type { DatabaseHandle } from './database.js';

/** One row of a stream and the token it was written at. */
export interface StreamUpdate<Row> {
  readonly token: number;
  readonly row: Row;
}

/** A page of a stream: rows with `from < token <= upTo`, in token order. */
export interface StreamPage<Row> {
  readonly updates: readonly StreamUpdate<Row>[];
  /** The token the page covers up to: the request's `to` unless limited. */
  readonly upTo: number;
  /** True when rows above `upTo` (and at most `to`) may remain. */
  readonly limited: boolean;
}

/**
 * A stream's row fetcher as the application writes it: the rows with
 * `from < token <= to` written by `instance`, ordered by token, at most
 * `limit` of them. The runtime turns it into pages that never split one
 * token's rows. Rows past `to` are ignored; a row at or below `from`, or out
 * of order, fails the read with a RangeError naming the stream.
 */
export type GetUpdates<Row> = (
  // The fetcher names its own tables; the handle's row types are the app's.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: DatabaseHandle<any>,
  from: number,
  to: number,
  limit: number,
  instance: string,
) => Promise<readonly StreamUpdate<Row>[]>;

export interface DatabaseStreamDefinition<Row> {
  readonly kind: 'database';
  readonly name: string;
  /** Tables whose writes this stream announces (what store-lint matches writes against). */
  readonly tables: readonly string[];
  readonly getUpdates: GetUpdates<Row>;
  /** One page (`from` exclusive, `to` inclusive) of at most about `limit` rows, never splitting a token. */
  getPage(
    db: DatabaseHandle<unknown>,
    from: number,
    to: number,
    limit: number,
    instance: string,
  ): Promise<StreamPage<Row>>;
}

/** An ephemeral stream (e.g. typing) held in the writer's memory with bounded history. */
export interface MemoryStreamDefinition<Row> {
  readonly kind: 'memory';
  readonly name: string;
  readonly tables: readonly string[];
  /** How many tokens of history the writer keeps for workers that fall behind. */
  readonly maxHistory: number;
  /** Never called: carries the row type. */
  readonly __row?: Row;
}

export type StreamDefinition<Row = unknown> =
  DatabaseStreamDefinition<Row> | MemoryStreamDefinition<Row>;

/** The row type of a stream definition. */
export type RowOf<S> = S extends StreamDefinition<infer Row> ? Row : never;

const STREAM_NAME = /^[a-z][a-z0-9_]*$/;

function checkName(name: string): void {
  if (!STREAM_NAME.test(name)) {
    throw new TypeError(`stream name ${JSON.stringify(name)} must match ${STREAM_NAME.source}`);
  }
}

/**
 * Defines a database-backed stream.
 *
 * @example
 * export const ReceiptsStream = defineStream({
 *   name: 'receipts',
 *   tables: ['receipts_linearized'],
 *   getUpdates: async (db, from, to, limit) =>
 *     (await db.selectFrom('receipts_linearized').selectAll()
 *       .where('stream_id', '>', from).where('stream_id', '<=', to)
 *       .orderBy('stream_id').limit(limit).execute())
 *       .map((r) => ({ token: Number(r.stream_id), row: { roomId: r.room_id, userId: r.user_id } })),
 * });
 */
export function defineStream<Row>(definition: {
  name: string;
  tables: readonly string[];
  getUpdates: GetUpdates<Row>;
}): DatabaseStreamDefinition<Row> {
  checkName(definition.name);
  const { getUpdates } = definition;
  return Object.freeze({
    kind: 'database' as const,
    name: definition.name,
    tables: Object.freeze([...definition.tables]),
    getUpdates,
    getPage: (
      db: DatabaseHandle<unknown>,
      from: number,
      to: number,
      limit: number,
      instance: string,
    ) =>
      pageUpdates(
        (f, t, l) => getUpdates(db, f, t, l, instance),
        from,
        to,
        limit,
        `stream ${definition.name}'s getUpdates`,
      ),
  });
}

/** Defines an in-memory stream whose writer keeps the last `maxHistory` tokens. */
export function defineMemoryStream<Row>(definition: {
  name: string;
  maxHistory?: number;
}): MemoryStreamDefinition<Row> {
  checkName(definition.name);
  return Object.freeze({
    kind: 'memory' as const,
    name: definition.name,
    tables: Object.freeze([]),
    maxHistory: definition.maxHistory ?? 1000,
  });
}

type Fetch<Row> = (
  from: number,
  to: number,
  limit: number,
) => Promise<readonly StreamUpdate<Row>[]>;

/**
 * The paging contract over a plain fetcher: asks for one row more than the
 * limit to learn whether the range was exhausted; when it was not, the page
 * ends at the last token it holds in full, fetching the rest of a boundary
 * token's rows if the limit cut through them.
 */
export async function pageUpdates<Row>(
  fetch: Fetch<Row>,
  from: number,
  to: number,
  limit: number,
  fetcher = 'getUpdates',
): Promise<StreamPage<Row>> {
  if (!(limit >= 1)) throw new RangeError(`page limit must be at least 1, got ${limit}`);
  if (to <= from) return { updates: [], upTo: Math.max(from, to), limited: false };
  const rows = withinRange(await fetch(from, to, limit + 1), from, to, fetcher);
  if (rows.length <= limit) return { updates: rows, upTo: to, limited: false };
  const boundary = rows[limit - 1]!.token;
  const complete = rows.slice(0, limit).filter((u) => u.token < boundary);
  if (rows[limit]!.token !== boundary) {
    return { updates: rows.slice(0, limit), upTo: boundary, limited: boundary < to };
  }
  // The limit cut through the boundary token's rows: take all of them.
  const boundaryRows = withinRange(
    await fetch(boundary - 1, boundary, Number.MAX_SAFE_INTEGER),
    boundary - 1,
    boundary,
    fetcher,
  );
  return { updates: [...complete, ...boundaryRows], upTo: boundary, limited: boundary < to };
}

/**
 * A fetcher's rows, checked against its contract. Rows past `to` are dropped:
 * their tokens may sit above one still being written, which must not be
 * announced yet (they come again in a later range), and in token order the
 * rows before them are the whole of `(from, to]`. A row at or below `from`,
 * or out of token order, breaks the paging itself: that is an error.
 */
function withinRange<Row>(
  rows: readonly StreamUpdate<Row>[],
  from: number,
  to: number,
  fetcher: string,
): readonly StreamUpdate<Row>[] {
  let previous = from;
  let end = rows.length;
  for (let i = 0; i < rows.length; i++) {
    const { token } = rows[i]!;
    if (!(token > previous || (token === previous && i > 0))) {
      throw new RangeError(
        `${fetcher} broke its contract: asked for tokens in (${from}, ${to}] in order, it returned token ${token} ${
          token <= from ? `at or below ${from}` : `after ${previous}`
        }`,
      );
    }
    previous = token;
    if (token > to && end === rows.length) end = i;
  }
  return end === rows.length ? rows : rows.slice(0, end);
}
