// Applies ordered SQL files (`NNN_name.sql`) from a folder, once each, and
// records what it applied with a checksum so that an edited, already-applied
// file is refused instead of silently diverging from the database. Used for
// the runtime's own `schema/runtime` and for an application's schema folder.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { PACKAGE_ROOT } from '../package-root.js';
import type { DatabaseHandle, Txn } from './database.js';

/** A migration problem the user must fix (changed file, bad name): rendered as one line. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface MigrationSource {
  /** Namespace of the recorded names, e.g. `storesplit` or `app`. */
  source: string;
  /** Folder holding `NNN_name.sql` files. */
  dir: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

/** The runtime's own tables. */
export const RUNTIME_SCHEMA: MigrationSource = {
  source: 'storesplit',
  dir: join(PACKAGE_ROOT.dir, 'schema', 'runtime'),
};

const FILE_NAME = /^(\d+)_[A-Za-z0-9_.-]+\.sql$/;

interface MigrationFile {
  name: string;
  order: number;
  text: string;
  checksum: string;
}

async function readMigrations(dir: string): Promise<MigrationFile[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    throw new MigrationError(`schema folder ${dir} cannot be read`);
  }
  const files: MigrationFile[] = [];
  for (const name of entries.filter((n) => n.endsWith('.sql'))) {
    const match = FILE_NAME.exec(name);
    if (!match) throw new MigrationError(`${join(dir, name)}: name must be NNN_description.sql`);
    const text = await readFile(join(dir, name), 'utf8');
    const checksum = createHash('sha256').update(text).digest('hex');
    files.push({ name, order: Number(match[1]), text, checksum });
  }
  files.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.order === files[i - 1]!.order) {
      throw new MigrationError(
        `${dir}: ${files[i - 1]!.name} and ${files[i]!.name} share the number ${files[i]!.order}`,
      );
    }
  }
  return files;
}

/**
 * Applies every not-yet-applied file of each source, in order, each in its
 * own transaction together with its record. Throws MigrationError when an
 * applied file's text changed.
 */
export async function migrate<DB>(
  db: DatabaseHandle<DB>,
  sources: readonly MigrationSource[] = [RUNTIME_SCHEMA],
): Promise<MigrationResult> {
  await sql`CREATE TABLE IF NOT EXISTS storesplit_migrations (
    source text NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, name)
  )`.execute(db);
  const result: MigrationResult = { applied: [], alreadyApplied: [] };
  for (const source of sources) {
    for (const file of await readMigrations(source.dir)) {
      const label = `${source.source}/${file.name}`;
      const applied = await db.runInteraction(`migrate ${label}`, async (txn) => {
        // Serialises concurrent migrators (several processes starting at once).
        await sql`LOCK TABLE storesplit_migrations IN EXCLUSIVE MODE`.execute(txn);
        const { rows } = await sql<{
          checksum: string;
        }>`SELECT checksum FROM storesplit_migrations WHERE source = ${source.source} AND name = ${file.name}`.execute(
          txn,
        );
        const existing = rows[0];
        if (existing) {
          if (existing.checksum !== file.checksum) {
            throw new MigrationError(
              `${label} was changed after it was applied; add a new migration instead of editing it`,
            );
          }
          return false;
        }
        await runScript(db, txn, file.text, label);
        await sql`INSERT INTO storesplit_migrations (source, name, checksum) VALUES (${source.source}, ${file.name}, ${file.checksum})`.execute(
          txn,
        );
        return true;
      });
      (applied ? result.applied : result.alreadyApplied).push(label);
    }
  }
  return result;
}

async function runScript<DB>(
  db: DatabaseHandle<DB>,
  txn: Txn<DB>,
  text: string,
  label: string,
): Promise<void> {
  try {
    if (db.pglite) {
      // PGlite's extended-protocol `query` takes one statement; `exec` takes a
      // script and runs on the same (single) session, so inside this transaction.
      await db.pglite.exec(text);
    } else {
      // With no parameters `pg` uses the simple protocol, which accepts a script.
      await sql.raw(text).execute(txn);
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`${label} failed: ${reason}`);
  }
}
