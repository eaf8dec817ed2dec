// ID allocation rate: `withNextId` (allocate, run an empty body, finish,
// advance the token) against raw `SELECT nextval(...)` round trips on the
// same database handle. Runs on PGlite, and on Postgres when DATABASE_URL is set.
import { sql } from 'kysely';
import { createDatabase, type DatabaseHandle } from '../src/runtime/database.js';
import { createStreamIdGenerator } from '../src/runtime/id-generator/index.js';
import { migrate } from '../src/runtime/migrator.js';
import { best, measure, report } from './report.js';

async function benchOn(label: string, db: DatabaseHandle<unknown>): Promise<void> {
  const ops = 2000;
  const generator = createStreamIdGenerator(db, { stream: 'bench_ids', instanceName: 'main' });
  await generator.load();
  await sql`CREATE SEQUENCE IF NOT EXISTS bench_raw_seq`.execute(db);
  const allocate = await best(3, () =>
    measure(ops, () => generator.withNextId((id) => Promise.resolve(id))),
  );
  const raw = await best(3, () =>
    measure(ops, () => sql`SELECT nextval('bench_raw_seq')`.execute(db)),
  );
  await generator.close();
  report(
    'id-allocation',
    { name: 'withNextId', ...allocate },
    { name: 'nextval', ...raw },
    {
      database: label,
      allocations_per_s: Math.round(1e9 / allocate.nsPerOp),
    },
  );
}

export async function benchIdAllocation(): Promise<void> {
  const pglite = await createDatabase();
  await migrate(pglite);
  await benchOn('pglite', pglite);
  await pglite.destroy();
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.log('id-allocation on postgres skipped: DATABASE_URL is not set');
    return;
  }
  const schema = `bench_${process.pid}`;
  const pg = await createDatabase({ url, schema, poolSize: 1 });
  try {
    await migrate(pg);
    await benchOn('postgres', pg);
  } finally {
    await sql.raw(`DROP SCHEMA "${schema}" CASCADE`).execute(pg);
    await pg.destroy();
  }
}
