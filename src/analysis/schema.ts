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
import { AnalysisInputError } from './errors.js';
import { ensurePgParser, parsePg, type PgNode } from './pg-parser.js';
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
        // Node's reason without its code and the absolute path (`EACCES: permission denied, open '…'`).
        const reason = (error as Error).message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '');
        throw new AnalysisInputError(`${file}: cannot read file: ${reason}`, file);
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

/** Applies one statement to the set of defined tables. */
function apply(stmt: PgNode, tables: Set<string>): void {
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
    if (name) tables.add(name);
    return;
  }
  const rename = obj(stmt.RenameStmt);
  if (rename && (rename.renameType === 'OBJECT_TABLE' || rename.renameType === 'OBJECT_VIEW')) {
    const from = relName(rename.relation);
    if (from && typeof rename.newname === 'string' && tables.delete(from)) {
      tables.add(normaliseSqlName(rename.newname));
    }
    return;
  }
  const drop = obj(stmt.DropStmt);
  if (drop && ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW'].includes(String(drop.removeType))) {
    for (const item of Array.isArray(drop.objects) ? drop.objects : []) {
      const parts = (obj(obj(item)?.List)?.items as unknown[] | undefined) ?? [];
      const last = obj(obj(parts[parts.length - 1])?.String)?.sval;
      if (typeof last === 'string') tables.delete(normaliseSqlName(last));
    }
  }
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The tables the schema files define, sorted. */
export async function readSchemaTables(config: StoreLintConfig): Promise<string[]> {
  const files = await readSchemaFiles(config);
  await ensurePgParser();
  const tables = new Set<string>();
  for (const { file, text } of files) {
    const result = parsePg(text);
    if (!result.ok) {
      const line = lineAt(text, Math.max(0, result.cursor - 1));
      throw new AnalysisInputError(
        `${file}:${line}: schema file does not parse: ${result.message}`,
        file,
      );
    }
    for (const stmt of result.stmts) apply(stmt, tables);
  }
  return [...tables].sort();
}
