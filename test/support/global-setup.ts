// Runs once per test run: builds the migrated PGlite template every PGlite
// test starts from (loading it takes ~0.3 s, a fresh cluster ~1.7 s), and says
// clearly when the Postgres and Redis suites will be skipped.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../src/runtime/database.js';
import { migrate } from '../../src/runtime/migrator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplatePath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'storesplit-test-'));
  const db = await createDatabase();
  await migrate(db);
  const dump = await db.pglite!.dumpDataDir('none');
  await db.destroy();
  const path = join(dir, 'template.tar');
  await writeFile(path, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplatePath', path);
  if (!process.env.DATABASE_URL) {
    console.warn('storesplit tests: DATABASE_URL is not set, so the Postgres suites are skipped.');
  }
  if (!process.env.REDIS_URL) {
    console.warn('storesplit tests: REDIS_URL is not set, so the Redis suites are skipped.');
  }
  return async () => rm(dir, { recursive: true, force: true });
}
