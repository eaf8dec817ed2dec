// Shared pieces of the chat tests: a migrated PGlite database built from the
// test run's template (a fresh PGlite cluster takes seconds; the template
// loads fast), and a cluster on it.
import { readFile } from 'node:fs/promises';
import { inject } from 'vitest';
import {
  createDatabase,
  migrate,
  RUNTIME_SCHEMA,
  type DatabaseHandle,
} from '../../../src/index.js';
import { startInProcessCluster, type ClusterOptions } from '../src/cluster.js';
import { CHAT_SCHEMA, type ChatDB } from '../src/db.js';

export const DATABASE_URL = process.env.DATABASE_URL;
export const REDIS_URL = process.env.REDIS_URL;

let template: Blob | undefined;

/** A new in-memory PGlite with the runtime's and the chat's tables. */
export async function openTestDatabase(): Promise<DatabaseHandle<ChatDB>> {
  template ??= new Blob([await readFile(inject('pgliteTemplatePath'))]);
  const db = await createDatabase<ChatDB>({ pgliteTemplate: template });
  await migrate(db, [RUNTIME_SCHEMA, CHAT_SCHEMA]);
  return db;
}

/** An in-process cluster on a fresh test database (closed with the cluster). */
export async function startTestCluster(options: ClusterOptions = {}) {
  const db = await openTestDatabase();
  const cluster = await startInProcessCluster({ ...options, db });
  return {
    ...cluster,
    async stop() {
      await cluster.stop();
      await db.destroy();
    },
  };
}
