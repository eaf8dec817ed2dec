// Runs a suite once per database backend: embedded PGlite always, Postgres
// when DATABASE_URL is set. Each test gets a database of its own (a PGlite
// loaded from the migrated template, or a fresh Postgres schema) so test files
// can run in parallel.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { afterEach, describe, inject } from 'vitest';
import {
  createDatabase,
  type CreateDatabaseOptions,
  type DatabaseHandle,
} from '../../src/runtime/database.js';
import { migrate } from '../../src/runtime/migrator.js';

export const DATABASE_URL = process.env.DATABASE_URL;

export interface Backend {
  kind: 'pglite' | 'postgres';
  /** A new, migrated, empty database for this test; closed after the test. */
  open<DB = unknown>(options?: HandleOptions): Promise<DatabaseHandle<DB>>;
  /** Closes `resource` (a store, a generator) after the test, before its database closes. */
  track<T extends { close(): Promise<void> }>(resource: T): T;
}

/** The options a test may give the handle; where the data lives is the backend's. */
export type HandleOptions = Pick<CreateDatabaseOptions, 'onCallbackError'>;

let template: Blob | undefined;

async function openPglite<DB>(options: HandleOptions): Promise<DatabaseHandle<DB>> {
  template ??= new Blob([await readFile(inject('pgliteTemplatePath'))]);
  return createDatabase<DB>({ ...options, pgliteTemplate: template });
}

async function openPostgres<DB>(
  url: string,
  cleanups: Array<() => Promise<void>>,
  options: HandleOptions,
) {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const db = await createDatabase<DB>({ ...options, url, schema, poolSize: 4 });
  await migrate(db);
  cleanups.push(async () => {
    await sql.raw(`DROP SCHEMA "${schema}" CASCADE`).execute(db);
  });
  return db;
}

/** `describe` the suite on every available backend. */
export function describeEachDatabase(name: string, suite: (backend: Backend) => void): void {
  for (const kind of ['pglite', 'postgres'] as const) {
    const skipped = kind === 'postgres' && !DATABASE_URL;
    const title = skipped
      ? `${name} on postgres (skipped: DATABASE_URL is not set)`
      : `${name} on ${kind}`;
    describe.skipIf(skipped)(title, () => {
      const opened: Array<DatabaseHandle<unknown>> = [];
      const cleanups: Array<() => Promise<void>> = [];
      const tracked: Array<{ close(): Promise<void> }> = [];
      afterEach(async () => {
        for (const resource of tracked.splice(0).reverse()) await resource.close();
        for (const cleanup of cleanups.splice(0)) await cleanup();
        for (const db of opened.splice(0)) await db.destroy();
      });
      suite({
        kind,
        async open<DB>(options: HandleOptions = {}) {
          const db =
            kind === 'pglite'
              ? await openPglite<DB>(options)
              : await openPostgres<DB>(DATABASE_URL!, cleanups, options);
          opened.push(db as DatabaseHandle<unknown>);
          return db;
        },
        track(resource) {
          tracked.push(resource);
          return resource;
        },
      });
    });
  }
}
