// Waking long polls (sync, the consumer) when a stream position moves, with
// no polling. `ChangeNotifier.wait(check)` parks a request until `check()`
// holds; every poke re-runs the checks a microtask later.
//
// Where pokes come from:
// - on a worker, the `@onReplication` handlers below. The runtime runs every
//   handler, then advances the position, synchronously; the microtask runs
//   after that, so a check sees the new position.
// - on the writer, its ID generators' and memory streams' `onAdvance`
//   listeners (subscribed in `prepare`). The writer's handlers run while the
//   write's ID is still in flight, before its token is visible, so their
//   pokes may come early; a check that fails keeps waiting, and the advance
//   pokes again.
//
// The same handlers record when this process applied each token
// (`StreamActivity`), which the demo turns into replication lag.
import {
  CachesStream,
  onReplication,
  type CacheInvalidationRow,
  type StoreBase,
} from '../../../../src/index.js';
import type { ChatDB } from '../db.js';
import {
  AccountDataStream,
  EventsStream,
  ReceiptsStream,
  TypingStream,
  type AccountDataStreamRow,
  type EventsStreamRow,
  type ReceiptsStreamRow,
  type TypingStreamRow,
} from '../streams.js';

interface Waiter {
  readonly check: () => boolean;
  readonly finish: (satisfied: boolean) => void;
}

export class ChangeNotifier {
  readonly #waiters = new Set<Waiter>();
  #scheduled = false;
  #closed = false;

  /** Something may have changed: re-run every waiting check (a microtask later). */
  notify(): void {
    if (this.#scheduled || this.#waiters.size === 0) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      for (const waiter of [...this.#waiters]) {
        let satisfied: boolean;
        try {
          satisfied = waiter.check();
        } catch {
          satisfied = true; // let the caller find out
        }
        if (satisfied) waiter.finish(true);
      }
    });
  }

  /**
   * Resolves true as soon as `check()` holds (at once if it already does),
   * false after `timeoutMs`, when `signal` aborts, or when the notifier closes.
   */
  wait(check: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    if (this.#closed || timeoutMs <= 0 || signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const finish = (satisfied: boolean) => {
        if (!this.#waiters.delete(waiter)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(satisfied);
      };
      const onAbort = () => finish(false);
      const waiter: Waiter = { check, finish };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Requests parked now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Ends every wait (false) and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.finish(false);
  }
}

/** When this process applied each recent token of each stream (wall clock, sub-millisecond). */
export class StreamActivity {
  readonly #times = new Map<string, Map<number, number>>();

  constructor(readonly maxTokensPerStream = 20_000) {}

  record(stream: string, token: number): void {
    let times = this.#times.get(stream);
    if (!times) this.#times.set(stream, (times = new Map<number, number>()));
    if (times.has(token)) return;
    times.set(token, wallClockMs());
    if (times.size > this.maxTokensPerStream) {
      const oldest = times.keys().next();
      if (!oldest.done) times.delete(oldest.value);
    }
  }

  /** `{ stream: [[token, ms], …] }`, oldest first. */
  snapshot(): Record<string, Array<[number, number]>> {
    const out: Record<string, Array<[number, number]>> = {};
    for (const [stream, times] of this.#times) out[stream] = [...times];
    return out;
  }
}

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes of one host. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export function NotifierWorkerStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class NotifierWorkerStore extends Base {
    readonly notifier = new ChangeNotifier();
    readonly streamActivity = new StreamActivity();

    override async prepare(): Promise<void> {
      // The writer: its own streams' tokens become visible here.
      // (`caches` rows are applied locally after commit, not by handlers: the
      // advance is when they become visible.)
      for (const [stream, generator] of this.idGenerators()) {
        generator.onAdvance((token) => {
          this.streamActivity.record(stream, token);
          this.notifier.notify();
        });
      }
      for (const source of this.memoryStreamSources().values()) {
        source.onAdvance(() => this.notifier.notify());
      }
      return Promise.resolve();
    }

    @onReplication(EventsStream)
    pokeEvents(_rows: readonly EventsStreamRow[], token: number): void {
      this.streamActivity.record('events', token);
      this.notifier.notify();
    }

    @onReplication(ReceiptsStream)
    pokeReceipts(_rows: readonly ReceiptsStreamRow[], token: number): void {
      this.streamActivity.record('receipts', token);
      this.notifier.notify();
    }

    @onReplication(AccountDataStream)
    pokeAccountData(_rows: readonly AccountDataStreamRow[], token: number): void {
      this.streamActivity.record('account_data', token);
      this.notifier.notify();
    }

    @onReplication(TypingStream)
    pokeTyping(_rows: readonly TypingStreamRow[], token: number): void {
      this.streamActivity.record('typing', token);
      this.notifier.notify();
    }

    @onReplication(CachesStream)
    pokeCaches(_rows: readonly CacheInvalidationRow[], token: number): void {
      this.streamActivity.record('caches', token);
      this.notifier.notify();
    }
  }
  return NotifierWorkerStore;
}
