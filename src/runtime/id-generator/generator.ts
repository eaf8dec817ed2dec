// A stream ID generator backed by Postgres: allocates IDs from the stream's
// sequence, keeps them in flight until the write that uses them settles,
// persists this writer's finished position, and tracks every writer's position
// (tracker.ts holds the bookkeeping and the argument for why it is safe).
//
// Lifecycle of an allocation: the ID is in flight from the moment the
// sequence is asked until the transaction that writes its rows has settled;
// then `onCommitted` applies the writer's own rows (also when fn threw: it may
// have committed first), and the ID finishes, whatever happened: fn threw (a
// gap), onCommitted threw, or the caller gave up. An abort signal prevents an allocation that has not happened
// yet, but never finishes an ID whose transaction might still commit (the
// current token would pass a row that appears later): the ID finishes when fn
// settles, so fn should pass the signal on to whatever it awaits.
//
// One live writer per instance. The restart argument below holds only if no
// other generator runs as this instance: two would each persist positions for
// it and each take every ID below the sequence value for finished, so the
// position would pass IDs the other has not committed and workers would skip
// rows. So a writer's `load()` first takes the writer lock of (stream,
// instance) (writer-lock.ts: a session advisory lock, plus a registry for
// generators in this process), and fails with WriterAlreadyRunningError while
// another generator holds it, here or in another process; `close()` releases
// it after the last position write, and a process that dies releases it with
// its session. A worker takes no lock. If the lock's session alone ends under
// a live writer (the server or the network dropped it), the generator
// allocates nothing more (WriterLockLostError); an ID in flight at that
// moment is the one case the lock cannot cover.
//
// Restart. `load()` takes this writer's own position from the sequence's last
// value. That is safe because a process that starts has nothing in flight:
// every ID a previous run of this instance allocated was either committed or
// can never commit any more (its connection is gone), so "all my IDs up to the
// sequence value are finished" holds, and it is at least every position this
// instance ever reported (positions never pass what the sequence handed out),
// so the token cannot move backwards. It says nothing about other writers'
// IDs below that value, which the minimum over their positions covers. Other
// writers' positions come from the table, read after the sequence; a writer
// first registers its row and only then allocates, so a writer that has no row
// yet allocates above the sequence value read first and may start there.
import type { DatabaseHandle, Txn } from '../database.js';
import {
  createSequence,
  nextIds,
  persistPosition,
  readPositions,
  readSequence,
  sequenceName,
} from './persistence.js';
import { PositionTracker } from './tracker.js';
import { acquireWriterLock, type WriterLock, type WriterLockLostError } from './writer-lock.js';

export interface StreamIdGeneratorOptions {
  /** Stream name, `[a-z][a-z0-9_]*`; the sequence is `storesplit_seq_<stream>`, created on load. */
  stream: string;
  /** This process. */
  instanceName: string;
  /** Instances allowed to write this stream; default `[instanceName]`. More than one: multi-writer. */
  writers?: readonly string[];
  /**
   * Runs after fn settled and before the IDs are marked finished; the store
   * layer uses it to apply the writer's own rows. It runs also when fn threw,
   * since fn may have committed before throwing (`AfterCommitError`), so it
   * must expect IDs whose rows never committed (the store layer reads them
   * back and finds none). The IDs finish even if it throws. Not called for `nextIdInTxn`: that
   * caller applies its rows in a `txn.callAfter` registered before asking for
   * the ID (callbacks run in order, so before the ID finishes).
   */
  onCommitted?: (ids: readonly number[]) => Promise<void> | void;
  /**
   * Receives errors that have no caller to reject: a listener that threw, a
   * failed background position write (retried). Default: `console.error`.
   */
  onBackgroundError?: (error: unknown) => void;
  /** Delay before a failed position write is retried; default 1000 ms. */
  persistRetryMs?: number;
  /**
   * Least time between two background position writes; default 100 ms. The
   * writes are coalesced, not per allocation: a restart takes the own
   * position from the sequence, and a lagging row only makes other writers
   * conservative, so persisting later is safe. `flush()` writes at once.
   */
  persistIntervalMs?: number;
}

export interface AllocationOptions {
  /** Aborted before the IDs are allocated: nothing is allocated and the call rejects with its reason. */
  signal?: AbortSignal;
}

export interface StreamIdGenerator {
  readonly stream: string;
  readonly instanceName: string;
  /** True when `instanceName` is one of the stream's writers. */
  readonly isWriter: boolean;
  /**
   * (Re)starts from persisted state; call before anything else. Refused while
   * IDs are in flight. A writer first takes the writer lock of its stream and
   * instance: rejects with `WriterAlreadyRunningError` while another open
   * generator, in this process or another, is that writer.
   */
  load(): Promise<void>;
  /** Allocates an ID, runs fn with it, and finishes the ID when fn settles. */
  withNextId<T>(fn: (id: number) => Promise<T>, options?: AllocationOptions): Promise<T>;
  /** Allocates `n` IDs in one round trip, ascending; finished together when fn settles. */
  withNextIds<T>(
    n: number,
    fn: (ids: number[]) => Promise<T>,
    options?: AllocationOptions,
  ): Promise<T>;
  /**
   * Allocates inside the caller's transaction, which must write the ID's rows;
   * the ID finishes after the transaction commits (`callAfter`) or fails for
   * rolls back (`callOnRollback`, also for an attempt that is retried).
   * onCommitted is not called.
   */
  nextIdInTxn<DB>(txn: Txn<DB>): Promise<number>;
  /** The minimum safe ("linear") token over all writers: no unfinished ID is at or below it. */
  currentToken(): number;
  /** One writer's position (an instance never heard of: the current token). */
  currentTokenFor(instance: string): number;
  /** Every writer's position. */
  positions(): Readonly<Record<string, number>>;
  /** Another writer's position, learnt from replication; only moves forward. */
  advance(instance: string, token: number): void;
  /** The sequence's last value: no token can be above it. */
  maxAllocatedToken(): Promise<number>;
  /** Called whenever `currentToken()` moves (synchronously); returns unsubscribe. */
  onAdvance(listener: (token: number) => void): () => void;
  /**
   * This writer's own position as persisted in `storesplit_stream_positions`.
   * Announce this one to other processes, not `currentTokenFor(instanceName)`:
   * a process that learnt an unpersisted position would, after its own
   * restart, load an older one from the table and see its token move back.
   */
  persistedPosition(): number;
  /** Called (synchronously) whenever `persistedPosition()` moves; returns unsubscribe. */
  onPersisted(listener: (position: number) => void): () => void;
  /** Waits until this writer's finished position is persisted; rejects if the write failed. */
  flush(): Promise<void>;
  /** Refuses new allocations, waits for those in flight to settle, flushes, then releases the writer lock. */
  close(): Promise<void>;
}

export function createStreamIdGenerator<DB>(
  db: DatabaseHandle<DB>,
  options: StreamIdGeneratorOptions,
): StreamIdGenerator {
  // Only the runtime's own tables and sequence are queried, so the
  // application's table types do not matter here.
  return new PostgresStreamIdGenerator(db as unknown as DatabaseHandle<unknown>, options);
}

class PostgresStreamIdGenerator implements StreamIdGenerator {
  readonly stream: string;
  readonly instanceName: string;
  readonly isWriter: boolean;
  readonly #db: DatabaseHandle<unknown>;
  readonly #sequence: string;
  readonly #writers: readonly string[];
  readonly #onCommitted: StreamIdGeneratorOptions['onCommitted'];
  readonly #reportError: (error: unknown) => void;
  readonly #persistRetryMs: number;
  readonly #persistIntervalMs: number;
  #lastPersistStart = Number.NEGATIVE_INFINITY;

  #tracker: PositionTracker | undefined;
  #loading: Promise<void> | undefined;
  #closed = false;
  /** Allocations between asking the sequence and finishing. */
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];
  #lastToken: number | undefined;
  readonly #advanceListeners = new Set<(token: number) => void>();
  readonly #persistedListeners = new Set<(position: number) => void>();

  /** The own position that should be persisted, and what is. */
  #persistTarget = 0;
  #persisted = 0;
  #persisting: Promise<void> | undefined;
  #persistError: unknown;
  #retryTimer: NodeJS.Timeout | undefined;

  /** The writer lock, from the first load of a writer until close. */
  #lock: WriterLock | undefined;
  /**
   * Set when the lock's session ended under us: no more allocations or
   * reloads. Finishing and persisting the IDs already handed out stays safe:
   * a writer that starts after the loss allocates above all of them.
   */
  #lockLost: WriterLockLostError | undefined;

  constructor(db: DatabaseHandle<unknown>, options: StreamIdGeneratorOptions) {
    if (typeof options.instanceName !== 'string' || options.instanceName === '') {
      throw new Error('instanceName must be a non-empty string');
    }
    this.#sequence = sequenceName(options.stream);
    this.#db = db;
    this.stream = options.stream;
    this.instanceName = options.instanceName;
    this.#writers = [...new Set(options.writers ?? [options.instanceName])];
    if (this.#writers.length === 0)
      throw new Error(`stream ${options.stream}: writers must not be empty`);
    this.isWriter = this.#writers.includes(options.instanceName);
    this.#onCommitted = options.onCommitted;
    this.#reportError =
      options.onBackgroundError ??
      ((error: unknown) => console.error(`stream ${this.stream}:`, error));
    this.#persistRetryMs = options.persistRetryMs ?? 1000;
    this.#persistIntervalMs = options.persistIntervalMs ?? 100;
  }

  load(): Promise<void> {
    if (this.#closed)
      return Promise.reject(new Error(`stream ${this.stream}: generator is closed`));
    // A reload takes the own position from the sequence, which may by now
    // hold IDs of the writer that started when the lock went.
    if (this.#lockLost) return Promise.reject(this.#lockLost);
    if (this.#loading) return this.#loading;
    if (this.#inFlight > 0) {
      // The own position would jump past our own in-flight IDs.
      return Promise.reject(
        new Error(`stream ${this.stream}: cannot reload while IDs are in flight`),
      );
    }
    this.#loading = this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    // The lock before anything is read: the restart argument (see the header
    // comment) holds only once no other run of this instance is live.
    const lockedNow = this.isWriter && !this.#lock;
    if (lockedNow) {
      this.#lock = await acquireWriterLock(this.#db, this.stream, this.instanceName, (error) => {
        this.#lockLost = error;
        this.#reportError(error);
      });
    }
    try {
      await this.#loadState();
    } catch (error) {
      // A generator that never loaded does not keep others from starting.
      if (lockedNow) {
        const lock = this.#lock;
        this.#lock = undefined;
        await lock?.release().catch(this.#reportError);
      }
      throw error;
    }
  }

  async #loadState(): Promise<void> {
    const db = this.#db;
    if (this.isWriter) await createSequence(db, this.#sequence);
    // The sequence first, then the rows: see the header comment.
    const sequenceValue = await readSequence(db, this.#sequence, this.isWriter);
    const rows = await readPositions(db, this.stream);
    const positions: Record<string, number> = {};
    for (const writer of this.#writers) {
      const position = rows[writer];
      if (position !== undefined) positions[writer] = position;
    }
    const ahead = Object.entries(positions).filter(([, p]) => p > sequenceValue);
    if (ahead.length > 0) {
      // A row may have moved on since the sequence was read; read it again.
      const now = await readSequence(db, this.#sequence, this.isWriter);
      const [instance, position] = ahead.reduce((a, b) => (b[1] > a[1] ? b : a));
      if (position > now) {
        throw new Error(
          `stream ${this.stream}: sequence ${this.#sequence} is at ${now} but ${instance} has ` +
            `persisted position ${position}; the sequence is behind (restored or failed over?). ` +
            `Move it forward: SELECT setval('${this.#sequence}', ${position})`,
        );
      }
    }
    // A reload never moves anything back.
    for (const [instance, position] of Object.entries(this.#tracker?.positions() ?? {})) {
      if (instance !== this.instanceName)
        positions[instance] = Math.max(positions[instance] ?? 0, position);
    }
    if (this.isWriter) {
      // Register before allocating anything (see the header comment).
      await persistPosition(db, this.stream, this.instanceName, sequenceValue);
    }
    this.#tracker = new PositionTracker({
      instanceName: this.instanceName,
      writers: this.#writers,
      positions,
      sequenceValue,
    });
    if (this.isWriter) {
      this.#persistTarget = Math.max(this.#persistTarget, sequenceValue);
      this.#setPersisted(sequenceValue);
    }
    if (this.#lastToken === undefined) this.#lastToken = this.#tracker.currentToken();
    this.#afterChange();
  }

  withNextId<T>(fn: (id: number) => Promise<T>, options?: AllocationOptions): Promise<T> {
    return this.withNextIds(1, (ids) => fn(ids[0]!), options);
  }

  async withNextIds<T>(
    n: number,
    fn: (ids: number[]) => Promise<T>,
    options: AllocationOptions = {},
  ): Promise<T> {
    if (!Number.isSafeInteger(n) || n < 1)
      throw new RangeError(`n must be a positive integer, got ${n}`);
    const tracker = this.#allocatingTracker();
    options.signal?.throwIfAborted();
    const ids = await this.#allocate(tracker, this.#db, n);
    try {
      // Aborted while the sequence was asked: fn never runs, so nothing can commit.
      options.signal?.throwIfAborted();
      let result: T;
      try {
        result = await fn([...ids]);
      } catch (error) {
        // fn may have committed before it threw (an AfterCommitError, or its
        // own code after the transaction): whatever committed is applied.
        // fn's error is what the caller gets; a second one is reported.
        await this.#applyCommitted(ids).catch(this.#reportError);
        throw error;
      }
      await this.#applyCommitted(ids);
      return result;
    } finally {
      this.#finish(tracker, ids);
    }
  }

  async #applyCommitted(ids: readonly number[]): Promise<void> {
    if (this.#onCommitted) await this.#onCommitted(Object.freeze([...ids]));
  }

  async nextIdInTxn<DB>(txn: Txn<DB>): Promise<number> {
    const tracker = this.#allocatingTracker();
    const ids = await this.#allocate(tracker, txn as unknown as Txn<unknown>, 1);
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      this.#finish(tracker, ids);
    };
    txn.callAfter(finish);
    // Per attempt: an ID taken by an attempt that is rolled back and retried
    // must finish too, or it pins the token (#19800).
    txn.callOnRollback(finish);
    return ids[0]!;
  }

  /** The tracker to allocate with; throws when this instance may not allocate now. */
  #allocatingTracker(): PositionTracker {
    if (!this.isWriter) {
      throw new Error(`instance ${this.instanceName} is not a writer of stream ${this.stream}`);
    }
    if (this.#closed) throw new Error(`stream ${this.stream}: generator is closed`);
    if (this.#lockLost) throw this.#lockLost;
    if (this.#loading) throw new Error(`stream ${this.stream}: load() is in progress`);
    return this.#loadedTracker();
  }

  #loadedTracker(): PositionTracker {
    if (!this.#tracker) throw new Error(`stream ${this.stream}: call load() first`);
    return this.#tracker;
  }

  /** Asks the sequence for `n` IDs, in flight from before the question until `#finish`. */
  async #allocate(
    tracker: PositionTracker,
    executor: DatabaseHandle<unknown> | Txn<unknown>,
    n: number,
  ): Promise<number[]> {
    const ticket = tracker.beginFetch();
    this.#inFlight++;
    let ids: number[];
    try {
      ids = await nextIds(executor, this.#sequence, n);
      // Throws, recording nothing, if the sequence went backwards.
      tracker.endFetch(ticket, ids);
    } catch (error) {
      if (tracker.hasFetch(ticket)) tracker.endFetch(ticket);
      this.#settled();
      throw error;
    } finally {
      this.#afterChange();
    }
    return ids;
  }

  #finish(tracker: PositionTracker, ids: readonly number[]): void {
    try {
      tracker.finish(ids);
      this.#afterChange();
    } finally {
      this.#settled();
    }
  }

  #settled(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** Tells listeners about a new current token and queues the own position for persisting. */
  #afterChange(): void {
    const tracker = this.#tracker;
    if (!tracker) return;
    const token = tracker.currentToken();
    if (token !== this.#lastToken) {
      this.#lastToken = token;
      for (const listener of [...this.#advanceListeners]) {
        try {
          listener(token);
        } catch (error) {
          this.#reportError(error);
        }
      }
    }
    const own = tracker.ownPosition();
    if (own !== undefined && own > this.#persistTarget) {
      this.#persistTarget = own;
      if (!this.#closed) this.#schedulePersist();
    }
  }

  currentToken(): number {
    return this.#loadedTracker().currentToken();
  }

  currentTokenFor(instance: string): number {
    return this.#loadedTracker().currentTokenFor(instance);
  }

  positions(): Readonly<Record<string, number>> {
    return this.#loadedTracker().positions();
  }

  advance(instance: string, token: number): void {
    this.#loadedTracker().advance(instance, token);
    this.#afterChange();
  }

  async maxAllocatedToken(): Promise<number> {
    const value = await readSequence(this.#db, this.#sequence, this.isWriter);
    return Math.max(value, this.#tracker?.maxSeenAllocated() ?? 0);
  }

  onAdvance(listener: (token: number) => void): () => void {
    const own = (token: number) => listener(token);
    this.#advanceListeners.add(own);
    return () => void this.#advanceListeners.delete(own);
  }

  persistedPosition(): number {
    this.#loadedTracker();
    return this.#persisted;
  }

  onPersisted(listener: (position: number) => void): () => void {
    const own = (position: number) => listener(position);
    this.#persistedListeners.add(own);
    return () => void this.#persistedListeners.delete(own);
  }

  /** Starts a background position write, or times one for when the interval allows (`now` skips the wait). */
  #schedulePersist(now = false): void {
    if (this.#persisting !== undefined || this.#persisted >= this.#persistTarget) return;
    const wait = now ? 0 : this.#lastPersistStart + this.#persistIntervalMs - performance.now();
    if (wait > 0) {
      this.#retryTimer ??= setTimeout(() => {
        this.#retryTimer = undefined;
        this.#schedulePersist();
      }, wait).unref();
      return;
    }
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#persisting = this.#persistLoop();
  }

  /** Writes the latest target; a target that moved meanwhile is scheduled again; stops at a failure. */
  async #persistLoop(): Promise<void> {
    let failed = false;
    try {
      if (this.#persisted < this.#persistTarget) {
        const value = this.#persistTarget;
        this.#lastPersistStart = performance.now();
        try {
          await persistPosition(this.#db, this.stream, this.instanceName, value);
        } catch (error) {
          failed = true;
          this.#persistError = error;
          this.#reportError(error);
          if (!this.#closed) {
            this.#retryTimer = setTimeout(() => {
              this.#retryTimer = undefined;
              this.#schedulePersist();
            }, this.#persistRetryMs).unref();
          }
          return;
        }
        this.#persistError = undefined;
        this.#setPersisted(value);
      }
    } finally {
      this.#persisting = undefined;
      if (!failed && !this.#closed) this.#schedulePersist();
    }
  }

  #setPersisted(position: number): void {
    if (position <= this.#persisted) return;
    this.#persisted = position;
    for (const listener of [...this.#persistedListeners]) {
      try {
        listener(position);
      } catch (error) {
        this.#reportError(error);
      }
    }
  }

  async flush(): Promise<void> {
    const goal = this.#persistTarget;
    while (this.#persisted < goal) {
      this.#schedulePersist(true);
      await this.#persisting;
      if (this.#persisted < goal && this.#persistError !== undefined) {
        const error = this.#persistError;
        throw error instanceof Error
          ? error
          : new Error(`stream ${this.stream}: position write failed`, { cause: error });
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    // A load in progress may be taking the lock; it must not outlive close().
    await this.#loading?.catch(() => undefined);
    if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    try {
      await this.flush();
    } finally {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      this.#advanceListeners.clear();
      this.#persistedListeners.clear();
      // Last: a writer that starts next reads the positions written above.
      const lock = this.#lock;
      this.#lock = undefined;
      await lock?.release();
    }
  }
}
