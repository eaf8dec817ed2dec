// The writer's side of an in-memory stream (typing notifications and other
// ephemeral data): rows get tokens from a counter, the last `maxHistory`
// tokens are kept so a worker that fell behind can fetch what it missed, and
// older history is reported as lost so the worker drops what the stream feeds.
import type { MemoryStreamDefinition, StreamPage, StreamUpdate } from './stream.js';

export type MemoryPage<Row> =
  StreamPage<Row> | { readonly historyLost: true; readonly earliest: number };

export class MemoryStreamSource<Row> {
  readonly #history: Array<StreamUpdate<Row>> = [];
  readonly #listeners = new Set<(token: number) => void>();
  #token = 0;
  /** Tokens at or below this are no longer held. */
  #forgottenUpTo = 0;

  /**
   * @param onAppended runs on each appended token's rows before listeners
   *   hear of the token (the writer's handlers run before replication wakes).
   */
  constructor(
    readonly definition: MemoryStreamDefinition<Row>,
    private readonly onAppended?: (token: number, rows: readonly Row[]) => void,
  ) {}

  currentToken(): number {
    return this.#token;
  }

  /**
   * Records rows under one new token and returns it. When a writer-side
   * handler throws, the rows keep their token and are announced all the
   * same; then the handler's error is thrown.
   */
  append(rows: readonly Row[]): number {
    const token = ++this.#token;
    for (const row of rows) this.#history.push({ token, row });
    this.#trim();
    try {
      this.onAppended?.(token, rows);
    } finally {
      // The row has its token and is in the history: it is announced even
      // when a writer-side handler threw, or no worker would see it until
      // some later append.
      for (const listener of this.#listeners) listener(token);
    }
    return token;
  }

  /** Rows with `from < token <= to`; `historyLost` when some of them were forgotten. */
  getPage(from: number, to: number, limit: number): MemoryPage<Row> {
    if (from < this.#forgottenUpTo) return { historyLost: true, earliest: this.#forgottenUpTo };
    const upper = Math.min(to, this.#token);
    const rows = this.#history.filter((u) => u.token > from && u.token <= upper);
    if (rows.length <= limit) return { updates: rows, upTo: upper, limited: false };
    // Never split a token: extend the page to the end of the boundary token.
    const boundary = rows[limit - 1]!.token;
    return {
      updates: rows.filter((u) => u.token <= boundary),
      upTo: boundary,
      limited: boundary < upper,
    };
  }

  /** Called with the new token after every append; returns an unsubscribe function. */
  onAdvance(listener: (token: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #trim(): void {
    const keepFrom = this.#token - this.definition.maxHistory;
    if (keepFrom <= this.#forgottenUpTo) return;
    let drop = 0;
    while (drop < this.#history.length && this.#history[drop]!.token <= keepFrom) drop++;
    this.#history.splice(0, drop);
    this.#forgottenUpTo = keepFrom;
  }
}
