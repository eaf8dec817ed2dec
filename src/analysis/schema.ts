// Schema tables from the SQL files named by the config's `schema` globs,
// parsed with the Postgres parser and applied in path order the way a
// migrator would: CREATE TABLE / CREATE TABLE AS / CREATE [MATERIALIZED] VIEW
// add a name (views count: queries name them like tables), ALTER TABLE …
// RENAME TO renames, DROP TABLE / DROP VIEW remove. A file that cannot be
// read or does not parse is the user's error.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import type { StoreLintConfig } from './config.js';
import { AnalysisInputError, systemReason } from './errors.js';
import { ensurePgParser, parsePg, type PgNode } from './pg-parser.js';
import { tablesInStatements } from './sql-tables.js';
import { normaliseSqlName } from './table-names.js';

export interface SchemaFile {
  /** Relative to the project root, POSIX separators. */
  readonly file: string;
  readonly text: string;
}

export async function readSchemaFiles(config: StoreLintConfig): Promise<SchemaFile[]> {
  if (config.schema.length === 0) return [];
  const files = await glob([...config.schema], {
    cwd: config.root,
    onlyFiles: true,
    expandDirectories: false,
  });
  const sorted = files.map((f) => f.split(path.sep).join('/')).sort();
  return Promise.all(
    sorted.map(async (file) => {
      try {
        return { file, text: await readFile(path.join(config.root, file), 'utf8') };
      } catch (error) {
        throw new AnalysisInputError(
          `${file}: cannot read file: ${systemReason(error as Error)}`,
          file,
        );
      }
    }),
  );
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null;

function relName(rv: unknown): string | null {
  const o = obj(rv);
  return o && typeof o.relname === 'string' ? normaliseSqlName(o.relname) : null;
}

/** What the schema files define: tables and views by name, and what each plain view reads. */
export interface Schema {
  readonly tables: readonly string[];
  /** A (non-materialised) view → the tables and views its query reads. */
  readonly viewReads: ReadonlyMap<string, readonly string[]>;
  /** Functions and procedures the schema defines (lower case): code whose tables are not followed. */
  readonly routines: ReadonlySet<string>;
}

interface SchemaState {
  readonly tables: Set<string>;
  readonly viewReads: Map<string, string[]>;
  readonly routines: Set<string>;
}

/** Applies one statement to the defined tables, views and routines. */
function apply(stmt: PgNode, { tables, viewReads, routines }: SchemaState): void {
  const routine = obj(stmt.CreateFunctionStmt);
  if (routine) {
    const parts = Array.isArray(routine.funcname) ? routine.funcname : [];
    const last = obj(obj(parts[parts.length - 1])?.String)?.sval;
    if (typeof last === 'string') routines.add(last.toLowerCase());
    return;
  }
  const create = obj(stmt.CreateStmt);
  if (create) {
    const name = relName(create.relation);
    if (name) tables.add(name);
    return;
  }
  const createAs = obj(stmt.CreateTableAsStmt);
  if (createAs) {
    const name = relName(obj(createAs.into)?.rel);
    if (name) tables.add(name);
    return;
  }
  const view = obj(stmt.ViewStmt);
  if (view) {
    const name = relName(view.view);
    if (!name) return;
    tables.add(name);
    // A view's rows are its tables' rows: reading it reads them.
    const query = obj(view.query);
    const reads = query ? tablesInStatements([query]).map((r) => normaliseSqlName(r.name)) : [];
    viewReads.set(name, [...new Set(reads)].filter((t) => t !== name).sort());
    return;
  }
  const rename = obj(stmt.RenameStmt);
  if (rename && (rename.renameType === 'OBJECT_TABLE' || rename.renameType === 'OBJECT_VIEW')) {
    const from = relName(rename.relation);
    if (from && typeof rename.newname === 'string' && tables.delete(from)) {
      const to = normaliseSqlName(rename.newname);
      tables.add(to);
      const reads = viewReads.get(from);
      if (reads) {
        viewReads.delete(from);
        viewReads.set(to, reads);
      }
    }
    return;
  }
  const drop = obj(stmt.DropStmt);
  if (drop && ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW'].includes(String(drop.removeType))) {
    for (const item of Array.isArray(drop.objects) ? drop.objects : []) {
      const parts = (obj(obj(item)?.List)?.items as unknown[] | undefined) ?? [];
      const last = obj(obj(parts[parts.length - 1])?.String)?.sval;
      if (typeof last === 'string') {
        tables.delete(normaliseSqlName(last));
        viewReads.delete(normaliseSqlName(last));
      }
    }
  }
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The tables and views the schema files define (sorted), and what each view reads. */
export async function readSchema(config: StoreLintConfig): Promise<Schema> {
  const files = await readSchemaFiles(config);
  await ensurePgParser();
  const state: SchemaState = { tables: new Set(), viewReads: new Map(), routines: new Set() };
  for (const { file, text } of files) {
    const result = parsePg(text);
    if (!result.ok) {
      const line = lineAt(text, Math.max(0, result.cursor - 1));
      throw new AnalysisInputError(
        `${file}:${line}: schema file does not parse: ${result.message}`,
        file,
      );
    }
    for (const stmt of result.stmts) apply(stmt, state);
  }
  return { tables: [...state.tables].sort(), viewReads: state.viewReads, routines: state.routines };
}

/**
 * `tables` with the tables each view among them reads, through views of
 * views: a cache reading a view is stale when one of those is written, and a
 * write through a view writes them.
 */
export function throughViews(
  tables: ReadonlySet<string>,
  viewReads: ReadonlyMap<string, readonly string[]>,
): Set<string> {
  const out = new Set(tables);
  const queue = [...tables];
  while (queue.length) {
    for (const t of viewReads.get(queue.pop()!) ?? []) {
      if (out.has(t)) continue;
      out.add(t);
      queue.push(t);
    }
  }
  return out;
}
