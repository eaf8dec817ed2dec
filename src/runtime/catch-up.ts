// Catch-up: how a process brings one (stream, writer instance) from the
// position it has applied to a newer token by paging the stream's rows out of
// the shared database (`from` exclusive, `to` inclusive, never splitting a
// token), applying each token's rows (handlers, then position, then waiters)
// and finally advancing over trailing tokens that carried no rows. A page
// query that hangs (a black-holed database link: `pg` has no query timeout)
// neither keeps the caller waiting past `pageTimeoutMs` nor, once abandoned,
// applies anything when its result finally comes.
import { withDeadline } from './deadline.js';
import { ReplicationHandlerError } from './replication-handlers.js';
import type { SQLBaseStore } from './store.js';
import type { DatabaseHandle } from './database.js';
import type { DatabaseStreamDefinition, StreamUpdate } from './stream.js';

export interface CatchUpResult {
  pages: number;
  rows: number;
  /**
   * Tokens whose handlers threw. Their positions advanced and the later
   * tokens were still applied (#4702); the caller reports these.
   */
  handlerFailures: ReplicationHandlerError[];
}

export interface CatchUpPageOptions {
  /**
   * How long one page query may take; past it the catch-up rejects with a
   * `CatchUpTimeoutError`, as it would on a database error, and the query's
   * late result is ignored. Default: no limit.
   */
  pageTimeoutMs?: number;
  /**
   * Aborted: stop waiting for the page in flight at once (reject with the
   * signal's reason) and never apply its result. For a caller that shuts
   * down and will not wait for a hung query (`signal` waits for the page).
   */
  abandon?: AbortSignal;
}

/** A catch-up page query took longer than `pageTimeoutMs`. */
export class CatchUpTimeoutError extends Error {
  override name = 'CatchUpTimeoutError';
  constructor(
    readonly stream: string,
    readonly instance: string,
    readonly from: number,
    readonly timeoutMs: number,
  ) {
    super(
      `stream ${stream} (writer ${instance}): a catch-up page after token ${from} ` +
        `took longer than ${timeoutMs} ms`,
    );
  }
}

/** Groups a page's updates by token, keeping token order. */
export function groupByToken<Row>(updates: readonly StreamUpdate<Row>[]): Map<number, Row[]> {
  const groups = new Map<number, Row[]>();
  for (const { token, row } of updates) {
    const group = groups.get(token);
    if (group) group.push(row);
    else groups.set(token, [row]);
  }
  return groups;
}

/**
 * Applies every row of `stream` written by `instance` above the store's
 * position and at most `upTo`, in pages of about `pageSize` rows. An aborted
 * `signal` stops it between pages: what is applied stays applied (a page that
 * returns after the abort is not applied). `options.pageTimeoutMs` bounds each
 * page query, `options.abandon` stops waiting for one at once.
 */
export async function catchUpStream<DB, Row>(
  store: SQLBaseStore<DB>,
  stream: DatabaseStreamDefinition<Row>,
  instance: string,
  upTo: number,
  pageSize = 100,
  signal?: AbortSignal,
  options: CatchUpPageOptions = {},
): Promise<CatchUpResult> {
  const result: CatchUpResult = { pages: 0, rows: 0, handlerFailures: [] };
  let from = store.streamPositions.get(stream.name, instance);
  while (from < upTo && !signal?.aborted) {
    const pageFrom = from;
    const page = await withDeadline(
      stream.getPage(
        store.dbConn as unknown as DatabaseHandle<unknown>,
        from,
        upTo,
        pageSize,
        instance,
      ),
      options.pageTimeoutMs,
      () => new CatchUpTimeoutError(stream.name, instance, pageFrom, options.pageTimeoutMs!),
      options.abandon,
    );
    // Stopped while the page was read: apply nothing more.
    if (signal?.aborted) break;
    result.pages++;
    for (const [token, rows] of groupByToken(page.updates)) {
      // A concurrent live batch may already have applied this token.
      try {
        if (store.processReplicationRows(stream.name, instance, token, rows))
          result.rows += rows.length;
      } catch (error) {
        if (!(error instanceof ReplicationHandlerError)) throw error;
        result.handlerFailures.push(error);
        result.rows += rows.length;
      }
    }
    store.streamPositions.advance(stream.name, instance, page.upTo);
    if (!page.limited) break;
    from = page.upTo;
  }
  store.hs.metrics.inc('storesplit_catch_up_pages_total', { stream: stream.name }, result.pages);
  return result;
}
