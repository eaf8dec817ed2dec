// Catch-up: how a process brings one (stream, writer instance) from the
// position it has applied to a newer token by paging the stream's rows out of
// the shared database (`from` exclusive, `to` inclusive, never splitting a
// token), applying each token's rows (handlers, then position, then waiters)
// and finally advancing over trailing tokens that carried no rows.
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
 * `signal` stops it between pages: what is applied stays applied.
 */
export async function catchUpStream<DB, Row>(
  store: SQLBaseStore<DB>,
  stream: DatabaseStreamDefinition<Row>,
  instance: string,
  upTo: number,
  pageSize = 100,
  signal?: AbortSignal,
): Promise<CatchUpResult> {
  const result: CatchUpResult = { pages: 0, rows: 0, handlerFailures: [] };
  let from = store.streamPositions.get(stream.name, instance);
  while (from < upTo && !signal?.aborted) {
    const page = await stream.getPage(
      store.dbConn as unknown as DatabaseHandle<unknown>,
      from,
      upTo,
      pageSize,
      instance,
    );
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
