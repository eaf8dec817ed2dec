// Foreign keys in the schema files, and what their referential actions write.
// Deleting rows of a table that another table references with `ON DELETE
// CASCADE` deletes the rows that reference them, and `ON DELETE SET NULL` /
// `SET DEFAULT` updates them: the statement writes the referencing table too,
// whatever the code that ran it says. `TRUNCATE … CASCADE` empties every
// referencing table (a plain TRUNCATE of a referenced table fails). A cache
// reading the referencing table is then stale after the delete.
//
// Only writes that can delete rows fire these: DELETE, MERGE (it may delete),
// TRUNCATE, and writes whose kind is not known (a trigger function's). An
// INSERT never does. `ON UPDATE` actions are not followed: they act only when
// an UPDATE changes the referenced key, and which columns an update sets is
// not read (keys rarely change; see docs/rules/README.md). `DISABLE TRIGGER
// ALL` on the referenced table switches its actions off (schema.ts).
import type { SourceLocation } from './model.js';
import type { PgNode } from './pg-parser.js';
import { normaliseSqlName } from './table-names.js';

/** What kind of statement writes a table, as far as its foreign keys' actions care. */
export type WriteKind = 'insert' | 'update' | 'delete' | 'merge' | 'truncate' | 'unknown';

/** A referential action that writes the referencing table. */
export type WritingAction = 'cascade' | 'set null' | 'set default';

/** A foreign key whose `ON DELETE` action writes the referencing table. */
export interface ForeignKeyInfo {
  /** The constraint's name (Postgres's default, `<table>_<column>_fkey`, when the schema names none). */
  readonly name: string;
  /** The referencing table. */
  readonly table: string;
  /** The referenced table. */
  readonly references: string;
  /** Its `ON DELETE` action, or null for NO ACTION / RESTRICT (the delete then fails or leaves it alone). */
  readonly onDelete: WritingAction | null;
  /** Where the constraint is declared. */
  readonly location: SourceLocation;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const ACTIONS: Readonly<Record<string, WritingAction>> = {
  c: 'cascade',
  n: 'set null',
  d: 'set default',
};

function names(parts: unknown): string[] {
  return list(parts)
    .map((p) => obj(obj(p)?.String)?.sval)
    .filter((s): s is string => typeof s === 'string');
}

/** By `table\0constraint`. */
export type ForeignKeys = Map<string, ForeignKeyInfo>;

const keyOf = (table: string, name: string): string => `${table}\0${name}`;

/** The foreign key a `Constraint` node declares on `table` (`column`: a column constraint's column). */
function foreignKey(
  table: string,
  constraint: Obj,
  column: string | null,
  location: SourceLocation,
): ForeignKeyInfo | null {
  if (constraint.contype !== 'CONSTR_FOREIGN') return null;
  const references = obj(constraint.pktable);
  if (!references || typeof references.relname !== 'string') return null;
  const columns = column !== null ? [column] : names(constraint.fk_attrs);
  const name =
    typeof constraint.conname === 'string'
      ? constraint.conname
      : `${table}_${columns.join('_')}_fkey`;
  return {
    name,
    table,
    references: normaliseSqlName(references.relname),
    onDelete: ACTIONS[String(constraint.fk_del_action)] ?? null,
    location,
  };
}

/** The constraints of a column definition and of a table element list. */
function constraintsIn(elements: unknown): { constraint: Obj; column: string | null }[] {
  const out: { constraint: Obj; column: string | null }[] = [];
  for (const element of list(elements)) {
    const column = obj(obj(element)?.ColumnDef);
    if (column) {
      const colname = typeof column.colname === 'string' ? column.colname : null;
      for (const c of list(column.constraints)) {
        const constraint = obj(obj(c)?.Constraint);
        if (constraint) out.push({ constraint, column: colname });
      }
      continue;
    }
    const constraint = obj(obj(element)?.Constraint);
    if (constraint) out.push({ constraint, column: null });
  }
  return out;
}

/**
 * Applies the foreign keys a statement adds or drops: those of CREATE TABLE
 * and of ALTER TABLE … ADD [CONSTRAINT | COLUMN] / DROP CONSTRAINT. Renames
 * and drops of whole tables are `renameTable` and `dropTable`.
 */
export function applyForeignKeys(
  stmt: PgNode,
  keys: ForeignKeys,
  locate: () => SourceLocation,
): void {
  const add = (table: string, found: { constraint: Obj; column: string | null }[]) => {
    for (const { constraint, column } of found) {
      const fk = foreignKey(table, constraint, column, locate());
      if (fk) keys.set(keyOf(table, fk.name), fk);
    }
  };
  const create = obj(stmt.CreateStmt);
  if (create) {
    const table = obj(create.relation)?.relname;
    if (typeof table === 'string') add(normaliseSqlName(table), constraintsIn(create.tableElts));
    return;
  }
  const alter = obj(stmt.AlterTableStmt);
  if (!alter || alter.objtype !== 'OBJECT_TABLE') return;
  const relname = obj(alter.relation)?.relname;
  if (typeof relname !== 'string') return;
  const table = normaliseSqlName(relname);
  for (const c of list(alter.cmds)) {
    const cmd = obj(obj(c)?.AlterTableCmd);
    if (!cmd) continue;
    if (cmd.subtype === 'AT_AddConstraint') {
      const constraint = obj(obj(cmd.def)?.Constraint);
      if (constraint) add(table, [{ constraint, column: null }]);
    } else if (cmd.subtype === 'AT_AddColumn') {
      add(table, constraintsIn([cmd.def]));
    } else if (cmd.subtype === 'AT_DropConstraint' && typeof cmd.name === 'string') {
      keys.delete(keyOf(table, cmd.name));
    }
  }
}

/** A table renamed: its foreign keys, and those referencing it, follow. */
export function renameTable(keys: ForeignKeys, from: string, to: string): void {
  for (const [key, fk] of [...keys]) {
    if (fk.table !== from && fk.references !== from) continue;
    keys.delete(key);
    const moved = {
      ...fk,
      table: fk.table === from ? to : fk.table,
      references: fk.references === from ? to : fk.references,
    };
    keys.set(keyOf(moved.table, moved.name), moved);
  }
}

/** A table dropped: its foreign keys go, and so do those referencing it (DROP … CASCADE drops them). */
export function dropTable(keys: ForeignKeys, table: string): void {
  for (const [key, fk] of [...keys]) {
    if (fk.table === table || fk.references === table) keys.delete(key);
  }
}

/** The foreign keys referencing each table. */
export function referencedBy(keys: ForeignKeys): Map<string, ForeignKeyInfo[]> {
  const out = new Map<string, ForeignKeyInfo[]>();
  for (const fk of [...keys.values()].sort((a, b) =>
    a.table === b.table ? (a.name < b.name ? -1 : 1) : a.table < b.table ? -1 : 1,
  )) {
    const list = out.get(fk.references) ?? [];
    list.push(fk);
    out.set(fk.references, list);
  }
  return out;
}

/** A write of a referencing table that a write of the referenced one makes, with its kind. */
export interface ActionWrite {
  readonly table: string;
  readonly kind: WriteKind;
  readonly foreignKey: ForeignKeyInfo;
}

/** What a write of `kind` to a table writes through the foreign keys referencing it (`referencing`). */
export function actionWrites(
  kind: WriteKind,
  referencing: readonly ForeignKeyInfo[],
): ActionWrite[] {
  if (kind === 'insert' || kind === 'update') return [];
  const out: ActionWrite[] = [];
  for (const fk of referencing) {
    // TRUNCATE … CASCADE empties every referencing table, whatever its action.
    if (kind === 'truncate') out.push({ table: fk.table, kind: 'truncate', foreignKey: fk });
    else if (fk.onDelete === 'cascade')
      out.push({ table: fk.table, kind: 'delete', foreignKey: fk });
    else if (fk.onDelete !== null) out.push({ table: fk.table, kind: 'update', foreignKey: fk });
  }
  return out;
}
