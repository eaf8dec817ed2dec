// The writer lock: at most one live writer generator per (database, stream,
// instance). Two would both persist positions for the instance and both take
// every ID below the sequence value for their own, so the instance's position
// would pass IDs the other has not committed and workers would skip rows.
//
// The lock is a Postgres session advisory lock, taken without waiting
// (pg_try_advisory_lock) when the generator loads and released by close(); a
// process that dies releases it because its session ends. The key is the
// two-int4 form (oid of storesplit_writer_locks, lock_id): lock_id is the
// number that table gave the pair on its first start, so two pairs never share
// a key (a hash of the names could collide and refuse a writer that is not
// running), and the table's oid tells apart storesplit installations in other
// schemas of the same database (advisory locks are per database, not per
// schema). Postgres's convention for the two-int4 form is (table oid, row
// number), so no code following it uses this table's oid for anything else.
//
// One session per database handle holds every lock of the process, not one
// per stream: a writer of many streams would otherwise tie up as many idle
// connections, and PGlite has only one session anyway. Session locks are
// re-entrant within a session, so the lock alone would let a second generator
// of the same pair in this process through: a registry in this process, keyed
// by the session's database (the handle, or the PGlite instance), refuses it
// first. Two handles on one Postgres database are two sessions, which the
// advisory lock tells apart.
import { CompiledQuery } from 'kysely';
import type { DatabaseHandle, DedicatedSession } from '../database.js';

/**
 * Another generator is already the live writer of this stream and instance on
 * this database, in another process or in this one; the new one did not start.
 */
export class WriterAlreadyRunningError extends Error {
  override name = 'WriterAlreadyRunningError';
  constructor(
    readonly stream: string,
    readonly instance: string,
    /** Where the live writer runs; `holderPid` is its Postgres backend, when it could be read. */
    readonly where: 'this process' | 'another process',
    readonly holderPid?: number,
  ) {
    const writers = `a different instanceName listed in the stream's writers (config.streamWriters)`;
    const why =
      'Two live writers of one instance would each move its position past IDs the other has ' +
      'not committed yet, and workers would skip those rows.';
    super(
      where === 'this process'
        ? `this process already runs as writer \`${instance}\` of stream \`${stream}\` on this ` +
            `database (an ID generator, or the store that holds it, is still open); close() it ` +
            `before opening another (a restart stops the old run first), or give this one ${writers}. ${why}`
        : `another process is running as writer \`${instance}\` of stream \`${stream}\`` +
            (holderPid === undefined ? '' : ` (Postgres backend pid ${holderPid} holds its lock)`) +
            `; stop it, or give this process ${writers}. ${why}`,
    );
  }
}

/**
 * The session that held this process's writer lock ended without close() (the
 * server restarted, the network dropped it): another process may now start
 * as that writer, so the generator refuses new IDs. Restart the process.
 */
export class WriterLockLostError extends Error {
  override name = 'WriterLockLostError';
  constructor(
    readonly stream: string,
    readonly instance: string,
    cause: Error,
  ) {
    super(
      `the database session holding the writer lock of \`${instance}\` on stream \`${stream}\` ended ` +
        `(${cause.message}); another process may now start as that writer, so this one allocates no ` +
        `more IDs for it: restart this process.`,
      { cause },
    );
  }
}

export interface WriterLock {
  /** Releases the lock (nothing if the session already ended); call once nothing is in flight. */
  release(): Promise<void>;
}

/**
 * Takes the writer lock of (stream, instance) on `db`, or throws
 * `WriterAlreadyRunningError`. `onLost` is called if the lock's session ends
 * before `release()`.
 */
export function acquireWriterLock(
  db: DatabaseHandle<unknown>,
  stream: string,
  instance: string,
  onLost: (error: WriterLockLostError) => void,
): Promise<WriterLock> {
  const identity: object = db.pglite ?? db;
  let registry = registries.get(identity);
  if (!registry) {
    registry = new LockRegistry(db);
    registries.set(identity, registry);
  }
  return registry.acquire(stream, instance, onLost);
}

const registries = new WeakMap<object, LockRegistry>();

/** The two int4 keys of `pg_try_advisory_lock(key1, key2)`. */
type LockKey = readonly [number, number];

class LockRegistry {
  readonly #db: DatabaseHandle<unknown>;
  /** Pairs held or being taken in this process (NUL cannot occur in either name). */
  readonly #taken = new Set<string>();
  /** The shared session, while any pair is taken. */
  #session: Promise<DedicatedSession> | undefined;

  constructor(db: DatabaseHandle<unknown>) {
    this.#db = db;
  }

  async acquire(
    stream: string,
    instance: string,
    onLost: (error: WriterLockLostError) => void,
  ): Promise<WriterLock> {
    const pair = `${stream}\u0000${instance}`;
    // Claimed before the first await, so two loads at once cannot both pass.
    if (this.#taken.has(pair))
      throw new WriterAlreadyRunningError(stream, instance, 'this process');
    this.#taken.add(pair);
    let session: DedicatedSession;
    let key: LockKey;
    try {
      key = await lockKey(this.#db, stream, instance);
      session = await this.#openSession();
      const [row] = await session.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1::int4, $2::int4) AS locked',
        key,
      );
      if (row?.locked !== true) {
        const pid = await holderPid(session, key).catch(() => undefined);
        throw new WriterAlreadyRunningError(stream, instance, 'another process', pid);
      }
    } catch (error) {
      this.#untake(pair);
      throw error;
    }
    let released = false;
    session.onLost((error) => {
      if (!released) onLost(new WriterLockLostError(stream, instance, error));
    });
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          if (!session.ended) {
            await session.query('SELECT pg_advisory_unlock($1::int4, $2::int4)', key);
          }
        } finally {
          this.#untake(pair);
        }
      },
    };
  }

  #openSession(): Promise<DedicatedSession> {
    if (!this.#session) {
      const opening = this.#db.openDedicatedSession();
      this.#session = opening;
      opening.then(
        // A lost session holds nothing any more; the next pair opens a new one.
        (session) => session.onLost(() => this.#forget(opening)),
        () => this.#forget(opening),
      );
    }
    return this.#session;
  }

  #forget(session: Promise<DedicatedSession>): void {
    if (this.#session === session) this.#session = undefined;
  }

  /** Frees a pair; the session closes with the last one (PGlite's stays: it is the only one). */
  #untake(pair: string): void {
    this.#taken.delete(pair);
    if (this.#taken.size > 0 || !this.#session) return;
    const session = this.#session;
    this.#session = undefined;
    session.then((s) => s.close()).catch(() => undefined);
  }
}

/** The pair's lock key: (the table's oid as a signed int4, the pair's lock_id), numbering the pair on first use. */
async function lockKey(
  db: DatabaseHandle<unknown>,
  stream: string,
  instance: string,
): Promise<LockKey> {
  const read = () =>
    db.executeQuery<{ table_oid: unknown; lock_id: unknown }>(
      CompiledQuery.raw(
        `SELECT 'storesplit_writer_locks'::regclass::oid::bigint AS table_oid,
          (SELECT lock_id FROM storesplit_writer_locks WHERE stream_name = $1 AND instance_name = $2) AS lock_id`,
        [stream, instance],
      ),
    );
  let [row] = (await read()).rows;
  if (row && row.lock_id === null) {
    // Read first, insert only when missing: a conflicting insert would use up
    // an identity value on every start. Two first starts at once both insert;
    // the loser waits for the winner's row, does nothing and reads it.
    await db.executeQuery(
      CompiledQuery.raw(
        `INSERT INTO storesplit_writer_locks (stream_name, instance_name) VALUES ($1, $2)
          ON CONFLICT DO NOTHING`,
        [stream, instance],
      ),
    );
    [row] = (await read()).rows;
  }
  const tableOid = Number(row?.table_oid);
  const lockId = Number(row?.lock_id);
  if (!Number.isSafeInteger(tableOid) || !Number.isSafeInteger(lockId) || lockId < 1) {
    throw new Error(`stream ${stream}: no writer lock number for instance ${instance}`);
  }
  // An oid is unsigned 32-bit; the function takes a signed int4 (pg_locks shows it back as the oid).
  return [tableOid > 0x7fffffff ? tableOid - 0x1_0000_0000 : tableOid, lockId];
}

/** The backend that holds the lock, for the error message. */
async function holderPid(
  session: DedicatedSession,
  [key1, key2]: LockKey,
): Promise<number | undefined> {
  const [row] = await session.query<{ pid: unknown }>(
    `SELECT pid FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND objsubid = 2
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND classid = ($1::bigint & 4294967295)::oid AND objid = $2::bigint::oid
      LIMIT 1`,
    [key1, key2],
  );
  return row === undefined ? undefined : Number(row.pid);
}
