import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  AfterCommitError,
  createDatabase,
  DatabaseConfigError,
  redactUrl,
} from '../../src/runtime/database.js';
import { describeEachDatabase } from '../support/databases.js';

interface DB {
  counter: { id: number; n: number };
}

function retryable(code: string): Error {
  return Object.assign(new Error(`simulated ${code}`), { code });
}

describeEachDatabase('runInteraction', (backend) => {
  it('commits and runs callAfter once, after commit', async () => {
    const db = await backend.open<DB>();
    await sql`CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)`.execute(db);
    const seen: number[] = [];
    await db.runInteraction('insert', async (txn) => {
      await txn.insertInto('counter').values({ id: 1, n: 1 }).execute();
      txn.callAfter(() => seen.push(1));
      expect(seen).toEqual([]);
    });
    expect(seen).toEqual([1]);
    const row = await db.selectFrom('counter').selectAll().executeTakeFirstOrThrow();
    expect(row.n).toBe(1);
  });

  it('retries a serialization failure and runs only the committing attempt’s callbacks', async () => {
    const db = await backend.open<DB>();
    await sql`CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)`.execute(db);
    let attempts = 0;
    const after: number[] = [];
    const onException: number[] = [];
    const onRollback: number[] = [];
    await db.runInteraction('retry', async (txn) => {
      attempts++;
      await txn.insertInto('counter').values({ id: attempts, n: attempts }).execute();
      txn.callAfter(() => after.push(attempts));
      txn.callOnException(() => onException.push(attempts));
      txn.callOnRollback(() => onRollback.push(attempts));
      if (attempts < 3) throw retryable(attempts === 1 ? '40001' : '40P01');
    });
    expect(attempts).toBe(3);
    expect(after).toEqual([3]);
    expect(onException).toEqual([]);
    // Each rolled-back attempt released what it took.
    expect(onRollback).toEqual([1, 2]);
    // The failed attempts rolled back.
    const rows = await db.selectFrom('counter').select('id').execute();
    expect(rows.map((r) => r.id)).toEqual([3]);
    expect(db.interactionTimings().get('retry')).toMatchObject({
      count: 1,
      retries: 2,
      failures: 0,
    });
  });

  it('runs every callAfter when one throws, and says the transaction committed', async () => {
    const db = await backend.open<DB>();
    await sql`CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)`.execute(db);
    const ran: string[] = [];
    const failure = db.runInteraction('insert', async (txn) => {
      await txn.insertInto('counter').values({ id: 1, n: 1 }).execute();
      txn.callAfter(() => {
        ran.push('first');
        throw new Error('hook failed');
      });
      // A later callback, e.g. the local invalidation of this write's cache.
      txn.callAfter(() => ran.push('second'));
      txn.callOnRollback(() => ran.push('rollback'));
      txn.callOnException(() => ran.push('exception'));
      return 'inserted';
    });
    const error = await failure.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AfterCommitError);
    expect(error).toMatchObject({ committed: true, result: 'inserted', desc: 'insert' });
    expect((error as Error).message).toBe(
      'interaction insert committed, but 1 callAfter callback(s) failed: hook failed',
    );
    expect(ran).toEqual(['first', 'second']);
    expect(await db.selectFrom('counter').select('n').execute()).toEqual([{ n: 1 }]);
    expect(db.interactionTimings().get('insert')).toMatchObject({ count: 1, failures: 0 });
  });

  it('runs callOnException once when the interaction fails for good, and never callAfter', async () => {
    const db = await backend.open<DB>();
    const after: number[] = [];
    const onException: number[] = [];
    let attempts = 0;
    await expect(
      db.runInteraction(
        'always fails',
        (txn) => {
          attempts++;
          txn.callAfter(() => after.push(attempts));
          txn.callOnException(() => onException.push(attempts));
          return Promise.reject(retryable('40001'));
        },
        { maxAttempts: 2 },
      ),
    ).rejects.toThrow('simulated 40001');
    expect(attempts).toBe(2);
    expect(after).toEqual([]);
    expect(onException).toEqual([2]);
  });

  it('runs every rollback and exception callback when one throws, still retries, and rejects with the body’s error', async () => {
    const callbackErrors: string[] = [];
    const db = await backend.open<DB>({
      onCallbackError: (error, desc) => callbackErrors.push(`${desc}: ${(error as Error).message}`),
    });
    const released: number[] = [];
    const gaveUp: number[] = [];
    let attempts = 0;
    await expect(
      db.runInteraction(
        'release',
        (txn) => {
          const attempt = ++attempts;
          txn.callOnRollback(() => {
            throw new Error(`cleanup ${attempt} failed`);
          });
          txn.callOnRollback(() => released.push(attempt));
          txn.callOnException(() => {
            throw new Error('report failed');
          });
          txn.callOnException(() => gaveUp.push(attempt));
          return Promise.reject(retryable('40001'));
        },
        { maxAttempts: 2 },
      ),
    ).rejects.toThrow('simulated 40001');
    expect(attempts).toBe(2);
    expect(released).toEqual([1, 2]);
    expect(gaveUp).toEqual([2]);
    expect(callbackErrors).toEqual([
      'release: cleanup 1 failed',
      'release: cleanup 2 failed',
      'release: report failed',
    ]);
  });

  it('does not retry other errors', async () => {
    const db = await backend.open<DB>();
    let attempts = 0;
    await expect(
      db.runInteraction('bad sql', async (txn) => {
        attempts++;
        await sql`SELECT * FROM no_such_table`.execute(txn);
      }),
    ).rejects.toThrow(/no_such_table/);
    expect(attempts).toBe(1);
  });

  if (backend.kind === 'postgres') {
    it('retries a real serialization failure between two serializable transactions', async () => {
      const db = await backend.open<DB>();
      await sql`CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)`.execute(db);
      await db.insertInto('counter').values({ id: 1, n: 0 }).execute();
      let bothRead!: () => void;
      const barrier = new Promise<void>((r) => (bothRead = r));
      let readers = 0;
      const increment = (label: string) =>
        db.runInteraction(
          label,
          async (txn) => {
            const { n } = await txn
              .selectFrom('counter')
              .select('n')
              .where('id', '=', 1)
              .executeTakeFirstOrThrow();
            if (++readers === 2) bothRead();
            await barrier;
            await txn
              .updateTable('counter')
              .set({ n: n + 1 })
              .where('id', '=', 1)
              .execute();
          },
          { isolationLevel: 'serializable' },
        );
      await Promise.all([increment('a'), increment('b')]);
      const { n } = await db
        .selectFrom('counter')
        .select('n')
        .where('id', '=', 1)
        .executeTakeFirstOrThrow();
      expect(n).toBe(2);
      const retries =
        (db.interactionTimings().get('a')?.retries ?? 0) +
        (db.interactionTimings().get('b')?.retries ?? 0);
      expect(retries).toBeGreaterThanOrEqual(1);
    });
  }
});

describeEachDatabase('dedicated session', (backend) => {
  it('keeps session state across its queries, on a connection of its own on Postgres and the one session on PGlite', async () => {
    const db = await backend.open();
    const session = await db.openDedicatedSession();
    await session.query(`SELECT set_config('storesplit.probe', 'held', false)`);
    const setting = `SELECT current_setting('storesplit.probe', true) AS v, pg_backend_pid() AS pid`;
    const [own] = await session.query<{ v: string | null; pid: number }>(setting);
    expect(own?.v).toBe('held');
    const { rows } = await sql.raw<{ v: string | null; pid: number }>(setting).execute(db);
    if (backend.kind === 'postgres') {
      expect(rows[0]?.v).not.toBe('held');
      expect(rows[0]?.pid).not.toBe(own?.pid);
    } else {
      expect(rows[0]?.v).toBe('held');
    }
    expect(session.ended).toBe(false);
    await session.close();
    expect(session.ended).toBe(backend.kind === 'postgres');
  });
});

describe('createDatabase', () => {
  it('explains an unreachable Postgres in one line without the password', async () => {
    const attempt = createDatabase({ url: 'postgres://user:secret@127.0.0.1:1/db' });
    await expect(attempt).rejects.toBeInstanceOf(DatabaseConfigError);
    await expect(attempt).rejects.toThrow(
      /^cannot connect to postgres:\/\/user:\*\*\*@127\.0\.0\.1:1\/db: /,
    );
  });

  it('rejects a bad schema name', async () => {
    await expect(
      createDatabase({ url: 'postgres://x@127.0.0.1:1/db', schema: 'a; drop' }),
    ).rejects.toThrow(/invalid schema name/);
  });

  it('redacts passwords', () => {
    expect(redactUrl('postgres://u:p@h/d')).toBe('postgres://u:***@h/d');
    expect(redactUrl('postgres://u@h/d')).toBe('postgres://u@h/d');
  });
});
