// The database handle every store receives as `dbConn`: a Kysely instance over
// embedded PGlite (the default, nothing to install) or a `pg` pool (a
// `postgres://` URL), plus `runInteraction`, the one way stores open a
// transaction: it retries serialization failures and deadlocks, runs
// `callAfter` callbacks only after the attempt that commits, runs
// `callOnException` callbacks only when the interaction finally fails, and
// times every interaction by its description.
import { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  type Dialect,
  type IsolationLevel,
  type QueryResult,
  type Transaction,
} from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';

/** A transaction handed to a `runInteraction` body. */
export type Txn<DB> = Transaction<DB> & TxnHooks;

export interface TxnHooks {
  /** Runs `fn` after this transaction commits (never if it rolls back or is retried). */
  callAfter(fn: () => void): void;
  /** Runs `fn` if the interaction fails for good (after the last retry). */
  callOnException(fn: () => void): void;
  /**
   * Runs `fn` when this attempt rolls back, including an attempt that is then
   * retried: for resources the attempt took (a stream ID allocated inside it)
   * that must be released whatever happens next.
   */
  callOnRollback(fn: () => void): void;
}

export interface InteractionOptions {
  /** Postgres isolation level; default `read committed`. */
  isolationLevel?: IsolationLevel;
  /** Attempts in all before a retryable failure is thrown; default 5. */
  maxAttempts?: number;
}

/** Per-description timing of interactions, for metrics and logs. */
export interface InteractionTiming {
  count: number;
  failures: number;
  retries: number;
  totalMs: number;
  maxMs: number;
}

export type DatabaseKind = 'pglite' | 'postgres';

export interface CreateDatabaseOptions {
  /**
   * Where the data lives: `postgres://…` / `postgresql://…` for a server,
   * `memory://` (the default) for an in-memory PGlite, or a directory path
   * (optionally `file://`) for an on-disk PGlite.
   */
  url?: string;
  /**
   * Postgres only: the schema that becomes the connection's `search_path`
   * (created if missing). Lets parallel test files share one database.
   */
  schema?: string;
  /** PGlite only: a data directory dump (`dumpDataDir`) to start from instead of an empty cluster. */
  pgliteTemplate?: Blob;
  /**
   * Postgres only: pool size; default 10. A process running as a writer holds
   * one more connection, outside the pool, for its writer locks.
   */
  poolSize?: number;
  /**
   * Where a `callOnRollback` or `callOnException` callback's error goes (the
   * interaction rejects with the body's own error); default `console.error`.
   */
  onCallbackError?: (error: unknown, desc: string) => void;
}

/**
 * The transaction committed, but some of its `callAfter` callbacks threw.
 * Every callback still ran, and no rollback or exception callback did:
 * the write happened, so do not repeat it. `result` is what `fn` returned.
 */
export class AfterCommitError extends Error {
  override name = 'AfterCommitError';
  readonly committed = true;
  constructor(
    readonly desc: string,
    readonly result: unknown,
    readonly causes: readonly unknown[],
  ) {
    super(
      `interaction ${desc} committed, but ${causes.length} callAfter callback(s) failed: ` +
        causes.map((c) => (c instanceof Error ? c.message : String(c))).join('; '),
    );
  }
}

/**
 * A database session of its own, for state that must outlive any one query
 * and belongs to a session: the stream ID generators' writer locks (session
 * advisory locks). On Postgres a connection outside the pool, which the pool
 * can neither recycle nor lend to a query; on PGlite the one session there is.
 */
export interface DedicatedSession {
  /** Runs one statement on this session and returns its rows. */
  query<R>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** True once the session is gone (closed, dropped by the server or network, or the database destroyed). */
  readonly ended: boolean;
  /**
   * Calls `listener` once if the session ends without `close()`: the server
   * or the network dropped it, and its session-level locks with it.
   */
  onLost(listener: (error: Error) => void): void;
  /** Ends the session; on Postgres its session-level locks are released with it. */
  close(): Promise<void>;
}

/** A user-caused configuration mistake (bad URL, unreachable server): rendered as one line. */
export class DatabaseConfigError extends Error {
  override name = 'DatabaseConfigError';
}

const RETRYABLE_SQLSTATES = new Set([
  '40001' /* serialization_failure */,
  '40P01' /* deadlock_detected */,
]);

/** True for errors Postgres asks the client to retry (serialization failure, deadlock). */
export function isRetryableError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

/**
 * The handle stores use: every Kysely method (`this.dbConn.selectFrom(…)`)
 * plus `runInteraction`.
 */
export class DatabaseHandle<DB> extends Kysely<DB> {
  readonly kind: DatabaseKind;
  /** The PGlite instance when `kind === 'pglite'` (for dumps and tests). */
  readonly pglite: PGlite | undefined;
  readonly #timings = new Map<string, InteractionTiming>();
  readonly #onCallbackError: (error: unknown, desc: string) => void;
  readonly #connectSession: (() => Promise<pg.Client>) | undefined;
  readonly #sessions = new Set<DedicatedSession>();

  /**
   * `connectSession` (Postgres): connects a client outside the pool, with the
   * pool's settings, for `openDedicatedSession`; without it a Postgres handle
   * has no dedicated sessions, so it cannot run a writer.
   */
  constructor(
    dialect: Dialect,
    kind: DatabaseKind,
    pglite?: PGlite,
    onCallbackError?: (error: unknown, desc: string) => void,
    connectSession?: () => Promise<pg.Client>,
  ) {
    super({ dialect });
    this.kind = kind;
    this.pglite = pglite;
    this.#connectSession = connectSession;
    this.#onCallbackError =
      onCallbackError ??
      ((error, desc) =>
        console.error(`interaction ${desc}: a rollback or exception callback failed:`, error));
  }

  /**
   * Runs `fn` in a transaction. A serialization failure or deadlock rolls
   * back and runs `fn` again (so `fn` must be safe to repeat: keep side
   * effects in `callAfter`). `callAfter` callbacks run once, after the
   * attempt that commits; `callOnException` callbacks once, if every attempt
   * failed. A `callAfter` callback that throws does not stop the others: the
   * interaction then rejects with an `AfterCommitError`, which says that it
   * committed. A `callOnRollback` or `callOnException` callback that throws
   * stops neither the others (one may release a stream ID) nor a retry, and
   * the interaction still rejects with the body's error; the callback's goes
   * to `onCallbackError`.
   */
  async runInteraction<T>(
    desc: string,
    fn: (txn: Txn<DB>) => Promise<T>,
    options: InteractionOptions = {},
  ): Promise<T> {
    const maxAttempts = options.maxAttempts ?? 5;
    const started = performance.now();
    let retries = 0;
    for (let attempt = 1; ; attempt++) {
      const after: Array<() => void> = [];
      const onRollback: Array<() => void> = [];
      const onException: Array<() => void> = [];
      let result: T;
      try {
        let builder = this.transaction();
        if (options.isolationLevel) builder = builder.setIsolationLevel(options.isolationLevel);
        result = await builder.execute((trx) => {
          const txn = Object.assign(trx, {
            callAfter: (cb: () => void) => void after.push(cb),
            callOnException: (cb: () => void) => void onException.push(cb),
            callOnRollback: (cb: () => void) => void onRollback.push(cb),
          });
          return fn(txn);
        });
      } catch (error) {
        this.#runEach(onRollback, desc);
        if (attempt < maxAttempts && isRetryableError(error)) {
          retries++;
          continue;
        }
        this.#record(desc, started, retries, true);
        this.#runEach(onException, desc);
        throw error;
      }
      // Committed: from here on nothing may look like a rollback. Every
      // callAfter runs even when an earlier one throws (a later one may be the
      // local cache invalidation of this very write).
      this.#record(desc, started, retries, false);
      const failures: unknown[] = [];
      for (const cb of after) {
        try {
          cb();
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length) throw new AfterCommitError(desc, result, failures);
      return result;
    }
  }

  /** Runs every callback, even when an earlier one throws. */
  #runEach(callbacks: ReadonlyArray<() => void>, desc: string): void {
    for (const cb of callbacks) {
      try {
        cb();
      } catch (error) {
        this.#onCallbackError(error, desc);
      }
    }
  }

  /**
   * Opens a session of its own (see `DedicatedSession`); `destroy()` closes
   * any still open. On PGlite every call shares the one session, and its
   * queries wait, like any other, for the transaction in progress.
   */
  async openDedicatedSession(): Promise<DedicatedSession> {
    if (this.pglite) return pgliteSession((query) => this.executeQuery(query), this.pglite);
    if (!this.#connectSession) {
      throw new DatabaseConfigError(
        'this database handle cannot open a dedicated session (it was not made by createDatabase)',
      );
    }
    const client = await this.#connectSession();
    const session = new PostgresSession(client, () => this.#sessions.delete(session));
    this.#sessions.add(session);
    return session;
  }

  /** Closes the dedicated sessions still open, then the pool or PGlite. */
  override async destroy(): Promise<void> {
    const sessions = [...this.#sessions];
    this.#sessions.clear();
    await Promise.all(sessions.map((session) => session.close()));
    await super.destroy();
  }

  /** Timing per interaction description since the handle opened. */
  interactionTimings(): ReadonlyMap<string, Readonly<InteractionTiming>> {
    return this.#timings;
  }

  #record(desc: string, started: number, retries: number, failed: boolean): void {
    const ms = performance.now() - started;
    let t = this.#timings.get(desc);
    if (!t) {
      t = { count: 0, failures: 0, retries: 0, totalMs: 0, maxMs: 0 };
      this.#timings.set(desc, t);
    }
    t.count++;
    t.retries += retries;
    t.totalMs += ms;
    t.maxMs = Math.max(t.maxMs, ms);
    if (failed) t.failures++;
  }
}

/** PGlite has one session: its queries go through the handle, which serialises them with transactions. */
function pgliteSession(
  execute: (query: CompiledQuery) => Promise<QueryResult<unknown>>,
  pglite: PGlite,
): DedicatedSession {
  return {
    async query<R>(text: string, params: readonly unknown[] = []): Promise<R[]> {
      const result = await execute(CompiledQuery.raw(text, [...params]));
      return result.rows as R[];
    },
    get ended() {
      return pglite.closed;
    },
    // Nothing but the process (or destroy) ends it.
    onLost: () => undefined,
    close: () => Promise.resolve(),
  };
}

/** A `pg` client outside the pool; an error or an end we did not ask for is a lost session. */
class PostgresSession implements DedicatedSession {
  readonly #client: pg.Client;
  readonly #onEnd: () => void;
  #closing = false;
  #lost: Error | undefined;
  readonly #lostListeners: Array<(error: Error) => void> = [];

  constructor(client: pg.Client, onEnd: () => void) {
    this.#client = client;
    this.#onEnd = onEnd;
    client.on('error', (error) => this.#ended(error));
    client.on('end', () => this.#ended(new Error('the connection ended')));
  }

  get ended(): boolean {
    return this.#closing || this.#lost !== undefined;
  }

  async query<R>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    const result = await this.#client.query(text, [...params]);
    return result.rows as R[];
  }

  onLost(listener: (error: Error) => void): void {
    if (this.#lost) listener(this.#lost);
    else if (!this.#closing) this.#lostListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.#closing = true;
    this.#onEnd();
    // A client that cannot say goodbye is gone all the same.
    await this.#client.end().catch(() => undefined);
  }

  #ended(error: Error): void {
    if (this.ended) return;
    this.#lost = error;
    this.#onEnd();
    for (const listener of this.#lostListeners.splice(0)) listener(error);
    // The socket may still be open after an error; nothing will use it again.
    this.#client.end().catch(() => undefined);
  }
}

const POSTGRES_URL = /^postgres(ql)?:\/\//;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens the database named by `options.url`: embedded PGlite by default, a
 * `pg` pool for a `postgres://` URL. Both give the same handle.
 */
export async function createDatabase<DB>(
  options: CreateDatabaseOptions = {},
): Promise<DatabaseHandle<DB>> {
  const url = options.url ?? 'memory://';
  if (POSTGRES_URL.test(url)) return openPostgres<DB>(url, options);
  if (options.schema !== undefined) {
    throw new DatabaseConfigError('the `schema` option applies to Postgres URLs only');
  }
  const dataDir = url === 'memory://' ? undefined : url.replace(/^file:\/\//, '');
  const pglite = await PGlite.create({
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(options.pgliteTemplate ? { loadDataDir: options.pgliteTemplate } : {}),
  });
  return new DatabaseHandle<DB>(
    new PGliteDialect(pglite),
    'pglite',
    pglite,
    options.onCallbackError,
  );
}

async function openPostgres<DB>(
  url: string,
  options: CreateDatabaseOptions,
): Promise<DatabaseHandle<DB>> {
  const schema = options.schema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new DatabaseConfigError(
      `invalid schema name ${JSON.stringify(schema)}: use [a-z_][a-z0-9_]*`,
    );
  }
  const config: pg.PoolConfig = { connectionString: url, max: options.poolSize ?? 10 };
  if (schema !== undefined) {
    // Create the schema on a throwaway client first: the pool's connections
    // set it as search_path at connect time.
    const client = new pg.Client({ connectionString: url });
    await connectOrExplain(client, url);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } finally {
      await client.end();
    }
    config.options = `-c search_path=${schema}`;
  } else {
    const client = new pg.Client({ connectionString: url });
    await connectOrExplain(client, url);
    await client.end();
  }
  const pool = new pg.Pool(config);
  // An idle client's error (server restart) must not crash the process.
  pool.on('error', () => undefined);
  const connectSession = async () => {
    // The pool's connection settings. Keep-alive probes: a session that
    // holds locks idles for hours, and a dead peer must be noticed.
    const client = new pg.Client({
      connectionString: url,
      ...(config.options === undefined ? {} : { options: config.options }),
      keepAlive: true,
      keepAliveInitialDelayMillis: 30_000,
    });
    await connectOrExplain(client, url);
    return client;
  };
  return new DatabaseHandle<DB>(
    new PostgresDialect({ pool }),
    'postgres',
    undefined,
    options.onCallbackError,
    connectSession,
  );
}

async function connectOrExplain(client: pg.Client, url: string): Promise<void> {
  try {
    await client.connect();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatabaseConfigError(`cannot connect to ${redactUrl(url)}: ${reason}`);
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}
