// Runs a suite on one database backend: Postgres when DATABASE_URL is set,
// else embedded PGlite. For the protocol suites, whose subject is the wire
// and not the database (the client suite and the fault suite cover both
// backends and real Postgres).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { afterEach, describe, inject } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/runtime/database.js';
import { migrate } from '../../src/runtime/migrator.js';
import { DATABASE_URL, type Backend } from '../support/databases.js';

export function describeOnOneDatabase(name: string, suite: (backend: Backend) => void): void {
  const kind = DATABASE_URL ? 'postgres' : 'pglite';
  describe(`${name} on ${kind}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    suite({
      kind,
      track(resource) {
        cleanups.push(() => resource.close());
        return resource;
      },
      async open<DB>(): Promise<DatabaseHandle<DB>> {
        if (kind === 'pglite') {
          const db = await createDatabase<DB>({
            pgliteTemplate: new Blob([await readFile(inject('pgliteTemplatePath'))]),
          });
          cleanups.push(() => db.destroy());
          return db;
        }
        const schema = `t_${randomBytes(6).toString('hex')}`;
        const db = await createDatabase<DB>({ url: DATABASE_URL!, schema, poolSize: 4 });
        await migrate(db);
        cleanups.push(async () => {
          await sql.raw(`DROP SCHEMA "${schema}" CASCADE`).execute(db);
          await db.destroy();
        });
        return db;
      },
    });
  });
}
