// How far this process has applied each (stream, writer instance), and the
// waiters for a position: a request that wrote on the writer waits here, on a
// worker, until the worker has applied the write's token. Positions only move
// forward, but for an in-memory stream's writer restart (`restart`); a wait always ends (reached, timed out, or aborted), so nothing
// waits for a position that is never announced (Synapse #15150).

export class StreamPositionTimeoutError extends Error {
  override name = 'StreamPositionTimeoutError';
}

interface Waiter {
  token: number;
  resolve: () => void;
}

function keyOf(stream: string, instance: string): string {
  return `${stream}\u0000${instance}`;
}

export class StreamPositions {
  readonly #positions = new Map<string, number>();
  readonly #waiters = new Map<string, Waiter[]>();

  /** The applied token for a stream's writer instance (0 when nothing was applied). */
  get(stream: string, instance: string): number {
    return this.#positions.get(keyOf(stream, instance)) ?? 0;
  }

  /** Every known (stream, instance) position. */
  entries(): Array<{ stream: string; instance: string; token: number }> {
    return [...this.#positions].map(([key, token]) => {
      const [stream, instance] = key.split('\u0000') as [string, string];
      return { stream, instance, token };
    });
  }

  /**
   * Moves a position forward and wakes the waiters it satisfies. Returns
   * false (and changes nothing) for a token at or below the current one.
   */
  advance(stream: string, instance: string, token: number): boolean {
    const key = keyOf(stream, instance);
    if (token <= (this.#positions.get(key) ?? 0)) return false;
    this.#positions.set(key, token);
    const waiters = this.#waiters.get(key);
    if (waiters) {
      const remaining = waiters.filter((w) => w.token > token);
      for (const w of waiters) if (w.token <= token) w.resolve();
      if (remaining.length) this.#waiters.set(key, remaining);
      else this.#waiters.delete(key);
    }
    return true;
  }

  /**
   * Sets a position that may move backwards: only for an in-memory stream
   * whose writer restarted, so that its tokens start again from 0 (a new
   * epoch). Without it the old epoch's higher token would stay, and a wait
   * for the new epoch's tokens would end before their rows were applied.
   * Every waiter of the stream wakes: the tokens it waited for belong to the
   * old run, which is gone, and the reset that comes with a restart dropped
   * what the stream feeds, so what it reads next is fresh.
   */
  restart(stream: string, instance: string, token: number): void {
    const key = keyOf(stream, instance);
    this.#positions.set(key, token);
    const waiters = this.#waiters.get(key);
    this.#waiters.delete(key);
    for (const w of waiters ?? []) w.resolve();
  }

  /**
   * Resolves once `stream`/`instance` has been applied up to `token`; rejects
   * with StreamPositionTimeoutError after `timeoutMs`.
   */
  waitFor(stream: string, instance: string, token: number, timeoutMs: number): Promise<void> {
    if (this.get(stream, instance) >= token) return Promise.resolve();
    const key = keyOf(stream, instance);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        token,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const list = this.#waiters.get(key)?.filter((w) => w !== waiter) ?? [];
        if (list.length) this.#waiters.set(key, list);
        else this.#waiters.delete(key);
        reject(
          new StreamPositionTimeoutError(
            `timed out after ${timeoutMs} ms waiting for ${stream}/${instance} to reach ${token} (at ${this.get(stream, instance)})`,
          ),
        );
      }, timeoutMs);
      const list = this.#waiters.get(key) ?? [];
      list.push(waiter);
      this.#waiters.set(key, list);
    });
  }

  /** Number of pending waiters (for metrics and tests). */
  waiterCount(): number {
    let n = 0;
    for (const list of this.#waiters.values()) n += list.length;
    return n;
  }
}
