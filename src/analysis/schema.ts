// Schema tables from the SQL files named by the config's `schema` globs,
// parsed with the Postgres parser and applied in path order the way a
// migrator would: CREATE TABLE / CREATE TABLE AS / CREATE [MATERIALIZED] VIEW
// add a name (views count: queries name them like tables), ALTER TABLE …
// RENAME TO renames, DROP TABLE / DROP VIEW remove. Functions and triggers
// are kept the same way (CREATE [OR REPLACE], ALTER … RENAME, DROP), and
// each trigger left at the end is resolved to what its function writes
// (`triggers.ts`). A file that cannot be read or does not parse is the
// user's error.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import type { StoreLintConfig } from './config.js';
import { AnalysisInputError, systemReason } from './errors.js';
import type { DatabaseWrite, SourceLocation } from './model.js';
import {
  byteToCharOffsets,
  ensurePgParser,
  parsePg,
  type PgNode,
  type PgSpan,
} from './pg-parser.js';
import {
  actionWrites,
  applyForeignKeys,
  dropTable,
  referencedBy,
  renameTable,
  type ActionWrite,
  type ForeignKeyInfo,
  type ForeignKeys,
  type WriteKind,
} from './foreign-keys.js';
import { tablesInStatements } from './sql-tables.js';
import { normaliseSqlName } from './table-names.js';
import {
  lastName,
  objectSignature,
  fires,
  resolveTriggers,
  routineAccess,
  triggerEvents,
  routineDef,
  type FiredTrigger,
  type RoutineAccess,
  type RoutineDef,
  type TriggerDecl,
  type TriggerInfo,
} from './triggers.js';

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
  /** Functions and procedures the schema defines (lower case): code whose tables raw SQL does not follow. */
  readonly routines: ReadonlySet<string>;
  /** A table or view → the triggers on it, with what their functions write. */
  readonly triggers: ReadonlyMap<string, readonly TriggerInfo[]>;
  /** A routine with a definition → what running it reads and writes (raw SQL that calls it does). */
  readonly routineAccess: ReadonlyMap<string, RoutineAccess>;
  /** A table → the foreign keys referencing it whose `ON DELETE` action writes (or which TRUNCATE … CASCADE empties). */
  readonly referencedBy: ReadonlyMap<string, readonly ForeignKeyInfo[]>;
}

interface SchemaState {
  readonly tables: Set<string>;
  readonly viewReads: Map<string, string[]>;
  readonly routines: Set<string>;
  /** By name: every definition (overloads) as the last statement left it. */
  readonly routineDefs: Map<string, RoutineDef[]>;
  /** By `table\0trigger`. */
  readonly triggers: Map<string, TriggerDecl>;
  readonly foreignKeys: ForeignKeys;
  /**
   * Tables whose internal triggers `DISABLE TRIGGER ALL` switched off: the
   * ones that carry out the `ON DELETE` actions of foreign keys referencing them.
   */
  readonly actionsOff: Set<string>;
}

const triggerKey = (table: string, name: string): string => `${table}\0${name}`;

/** Moves the triggers on `from` to `to` (a rename), or drops them (`to` null). */
function moveTriggers(triggers: Map<string, TriggerDecl>, from: string, to: string | null): void {
  for (const [key, t] of [...triggers]) {
    if (t.table !== from) continue;
    triggers.delete(key);
    if (to !== null) triggers.set(triggerKey(to, t.name), { ...t, table: to });
  }
}

/** Applies a routine statement (CREATE, DROP, RENAME of functions and procedures); false for another statement. */
function applyRoutine(stmt: PgNode, { routines, routineDefs, triggers }: SchemaState): boolean {
  const create = obj(stmt.CreateFunctionStmt);
  if (create) {
    const def = routineDef(create);
    if (!def) return true;
    routines.add(def.name);
    const defs = (routineDefs.get(def.name) ?? []).filter((d) => d.signature !== def.signature);
    routineDefs.set(def.name, [...defs, def]);
    return true;
  }
  const drop = obj(stmt.DropStmt);
  const rename = obj(stmt.RenameStmt);
  const kinds = ['OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_ROUTINE'];
  const targets =
    drop && kinds.includes(String(drop.removeType))
      ? (Array.isArray(drop.objects) ? drop.objects : []).map((o) => obj(obj(o)?.ObjectWithArgs))
      : rename && kinds.includes(String(rename.renameType))
        ? [obj(obj(rename.object)?.ObjectWithArgs)]
        : null;
  if (!targets) return false;
  for (const target of targets) {
    const { name, signature } = target ? objectSignature(target) : { name: null, signature: null };
    const defs = name ? (routineDefs.get(name) ?? []) : [];
    // Type names may be spelt otherwise than in CREATE: a lone definition is the one named.
    const named = defs.filter(
      (d) => signature === null || d.signature === signature || defs.length === 1,
    );
    if (!name || named.length === 0) continue;
    const left = defs.filter((d) => !named.includes(d));
    if (left.length) routineDefs.set(name, left);
    else routineDefs.delete(name);
    if (rename && typeof rename.newname === 'string') {
      const to = rename.newname.toLowerCase();
      routines.add(to);
      routineDefs.set(to, [
        ...(routineDefs.get(to) ?? []),
        ...named.map((d) => ({ ...d, name: to })),
      ]);
    }
    if (left.length) continue;
    // A trigger names its function by identity: it follows a rename, and goes with a cascading drop.
    for (const [key, t] of [...triggers]) {
      if (t.function !== name) continue;
      if (rename && typeof rename.newname === 'string')
        triggers.set(key, { ...t, function: rename.newname.toLowerCase() });
      else if (drop?.behavior === 'DROP_CASCADE') triggers.delete(key);
    }
  }
  return true;
}

/** Applies a trigger statement (CREATE, DROP, RENAME); false for another statement. */
function applyTrigger(
  stmt: PgNode,
  { triggers }: SchemaState,
  locate: () => SourceLocation,
): boolean {
  const create = obj(stmt.CreateTrigStmt);
  if (create) {
    const table = relName(create.relation);
    const fn = lastName(create.funcname);
    if (table && fn && typeof create.trigname === 'string') {
      const name = create.trigname;
      triggers.set(triggerKey(table, name), {
        name,
        table,
        function: fn,
        events: triggerEvents(create.events),
        enabled: true,
        location: locate(),
      });
    }
    return true;
  }
  const drop = obj(stmt.DropStmt);
  if (drop?.removeType === 'OBJECT_TRIGGER') {
    for (const item of Array.isArray(drop.objects) ? drop.objects : []) {
      const parts = (obj(obj(item)?.List)?.items as unknown[] | undefined) ?? [];
      const name = obj(obj(parts[parts.length - 1])?.String)?.sval;
      const table = lastName(parts.slice(0, -1));
      if (typeof name === 'string' && table)
        triggers.delete(triggerKey(normaliseSqlName(table), name));
    }
    return true;
  }
  const rename = obj(stmt.RenameStmt);
  if (rename?.renameType === 'OBJECT_TRIGGER') {
    const table = relName(rename.relation);
    const from = rename.subname;
    const to = rename.newname;
    const trigger =
      table && typeof from === 'string' ? triggers.get(triggerKey(table, from)) : null;
    if (trigger && typeof to === 'string') {
      triggers.delete(triggerKey(trigger.table, trigger.name));
      triggers.set(triggerKey(trigger.table, to), { ...trigger, name: to });
    }
    return true;
  }
  return false;
}

/** `ALTER TABLE … ENABLE | DISABLE TRIGGER name`: whether it fires for the app's writes after. */
const TRIGGER_SWITCHES: Readonly<Record<string, boolean>> = {
  AT_EnableTrig: true,
  AT_EnableAlwaysTrig: true,
  AT_EnableReplicaTrig: false,
  AT_DisableTrig: false,
};

/** The same for every trigger on the table (`ALL`, `USER`). */
const ALL_TRIGGER_SWITCHES: Readonly<Record<string, boolean>> = {
  AT_EnableTrigAll: true,
  AT_EnableTrigUser: true,
  AT_DisableTrigAll: false,
  AT_DisableTrigUser: false,
};

/** Applies `ALTER TABLE … ENABLE | DISABLE TRIGGER`: which triggers fire. */
function applyTriggerSwitches(stmt: PgNode, { triggers, actionsOff }: SchemaState): void {
  const alter = obj(stmt.AlterTableStmt);
  const table = alter ? relName(alter.relation) : null;
  if (!alter || !table) return;
  for (const c of Array.isArray(alter.cmds) ? alter.cmds : []) {
    const cmd = obj(obj(c)?.AlterTableCmd);
    const subtype = String(cmd?.subtype);
    const named = typeof cmd?.name === 'string' ? triggerKey(table, cmd.name) : null;
    if (subtype in TRIGGER_SWITCHES && named) {
      const t = triggers.get(named);
      if (t) triggers.set(named, { ...t, enabled: TRIGGER_SWITCHES[subtype]! });
    } else if (subtype in ALL_TRIGGER_SWITCHES) {
      for (const [key, t] of triggers) {
        if (t.table === table) triggers.set(key, { ...t, enabled: ALL_TRIGGER_SWITCHES[subtype]! });
      }
      // ALL, unlike USER, includes the triggers behind foreign keys' actions.
      if (subtype === 'AT_DisableTrigAll') actionsOff.add(table);
      if (subtype === 'AT_EnableTrigAll') actionsOff.delete(table);
    }
  }
}

/** Applies one statement to the defined tables, views, routines and triggers. */
function apply(stmt: PgNode, state: SchemaState, locate: () => SourceLocation): void {
  if (applyRoutine(stmt, state) || applyTrigger(stmt, state, locate)) return;
  applyForeignKeys(stmt, state.foreignKeys, locate);
  applyTriggerSwitches(stmt, state);
  const { tables, viewReads, triggers, foreignKeys } = state;
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
      moveTriggers(triggers, from, to);
      renameTable(foreignKeys, from, to);
      if (state.actionsOff.delete(from)) state.actionsOff.add(to);
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
        moveTriggers(triggers, normaliseSqlName(last), null);
        dropTable(foreignKeys, normaliseSqlName(last));
        state.actionsOff.delete(normaliseSqlName(last));
      }
    }
  }
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Where a statement is in its file: from its first token (past comments) to its end. */
function statementLocation(
  file: string,
  text: string,
  toChar: (byte: number) => number,
  span: PgSpan,
): SourceLocation {
  let start = toChar(span.start);
  let end = Math.min(text.length, toChar(span.end));
  for (;;) {
    const skipped = /^(?:\s+|--[^\n]*|\/\*[\s\S]*?\*\/)/.exec(text.slice(start, end));
    if (!skipped) break;
    start += skipped[0].length;
  }
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  const at = (index: number) => {
    const lineStart = text.lastIndexOf('\n', index - 1) + 1;
    return { line: lineAt(text, index), column: index - lineStart + 1 };
  };
  const s = at(start);
  const e = at(end);
  return { file, line: s.line, column: s.column, endLine: e.line, endColumn: e.column };
}

/** The tables and views the schema files define (sorted), what each view reads, and the triggers. */
export async function readSchema(config: StoreLintConfig): Promise<Schema> {
  const files = await readSchemaFiles(config);
  await ensurePgParser();
  const state: SchemaState = {
    tables: new Set(),
    viewReads: new Map(),
    routines: new Set(),
    routineDefs: new Map(),
    triggers: new Map(),
    foreignKeys: new Map(),
    actionsOff: new Set(),
  };
  for (const { file, text } of files) {
    const result = parsePg(text);
    if (!result.ok) {
      const line = lineAt(text, Math.max(0, result.cursor - 1));
      throw new AnalysisInputError(
        `${file}:${line}: schema file does not parse: ${result.message}`,
        file,
      );
    }
    const toChar = byteToCharOffsets(text);
    result.stmts.forEach((stmt, i) =>
      apply(stmt, state, () => statementLocation(file, text, toChar, result.spans[i]!)),
    );
  }
  return {
    tables: [...state.tables].sort(),
    viewReads: state.viewReads,
    routines: state.routines,
    triggers: resolveTriggers(state.triggers.values(), state.routineDefs),
    routineAccess: new Map(
      [...state.routineDefs.keys()].map((name) => [name, routineAccess(name, state.routineDefs)]),
    ),
    referencedBy: referencedBy(
      new Map([...state.foreignKeys].filter(([, fk]) => !state.actionsOff.has(fk.references))),
    ),
  };
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

/** A table a statement writes, with the statement's kind when known. */
export interface KindedWrite {
  readonly table: string;
  readonly kind: WriteKind;
}

/**
 * What writing `tables` writes in the database: through views to the tables
 * they read, through the triggers on each written table or view to what
 * their functions write, and through the foreign keys referencing a table
 * whose rows a write may delete (`foreign-keys.ts`), transitively; with the
 * triggers fired, each with the table of `tables` whose write leads to it,
 * and the writes foreign keys made. A plain table name is a write of
 * unknown kind.
 */
export function writesThrough(
  tables: Iterable<string | KindedWrite>,
  schema: Pick<Schema, 'viewReads' | 'triggers'> & Partial<Pick<Schema, 'referencedBy'>>,
): {
  tables: Set<string>;
  fired: FiredTrigger[];
  cascaded: ActionWrite[];
  /** Each table not among `tables` given, with the first thing found that writes it. */
  byDatabase: DatabaseWrite[];
} {
  const out = new Set<string>();
  const fired: FiredTrigger[] = [];
  const cascaded: ActionWrite[] = [];
  const byDatabase: DatabaseWrite[] = [];
  const because = (write: DatabaseWrite) => {
    if (!out.has(write.table)) byDatabase.push(write);
  };
  // Each table is followed once per kind of write: which triggers fire and
  // which foreign keys act depend on it.
  const followed = new Set<string>();
  const firedOnce = new Set<TriggerInfo>();
  const queue: { table: string; kind: WriteKind; from: string }[] = [];
  const add = (table: string, kind: WriteKind, from: string) => {
    out.add(table);
    if (followed.has(`${table}\0${kind}`)) return;
    followed.add(`${table}\0${kind}`);
    queue.push({ table, kind, from });
  };
  for (const t of tables) {
    if (typeof t === 'string') add(t, 'unknown', t);
    else add(t.table, t.kind, t.table);
  }
  while (queue.length) {
    const { table, kind, from } = queue.shift()!;
    for (const w of actionWrites(kind, schema.referencedBy?.get(table) ?? [])) {
      cascaded.push(w);
      because({ table: w.table, by: 'foreign key', name: w.foreignKey.name, after: table });
      add(w.table, w.kind, from);
    }
    for (const t of schema.viewReads.get(table) ?? []) {
      because({ table: t, by: 'view', name: table, after: table });
      add(t, kind, from);
    }
    for (const trigger of schema.triggers.get(table) ?? []) {
      if (!fires(trigger, kind)) continue;
      if (!firedOnce.has(trigger)) fired.push({ trigger, from });
      firedOnce.add(trigger);
      for (const t of trigger.writes) {
        because({ table: t, by: 'trigger', name: trigger.name, after: table });
        add(t, 'unknown', from);
      }
    }
  }
  byDatabase.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
  return { tables: out, fired, cascaded, byDatabase };
}
