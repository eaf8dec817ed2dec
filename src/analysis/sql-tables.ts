// Tables named by a Postgres parse tree (libpg-query's JSON): which are read
// and which are written, with CTE names left out the way Postgres scopes them
// (a recursive WITH sees all its names in every body; a plain WITH's body sees
// only the names before it, so `WITH users AS (SELECT … FROM users)` reads the
// real table).
import type { WriteKind } from './foreign-keys.js';
import type { PgNode } from './pg-parser.js';

export interface SqlTableRef {
  /** The relation name as the parser gave it (unquoted names folded to lower case). */
  readonly name: string;
  readonly schema: string | null;
  readonly access: 'read' | 'write';
  /** For a write: the kind of statement (its foreign keys' actions depend on it). */
  readonly kind?: WriteKind;
  /** Byte offset in the parsed text, or -1 when the parser gave none. */
  readonly offset: number;
}

/** Statement kinds whose listed fields name the table they write. */
const WRITE_TARGETS: Readonly<Record<string, readonly string[]>> = {
  InsertStmt: ['relation'],
  UpdateStmt: ['relation'],
  DeleteStmt: ['relation'],
  MergeStmt: ['relation'],
  TruncateStmt: ['relations'],
  // A materialised view's rows change when it is refreshed, and only then.
  RefreshMatViewStmt: ['relation'],
  CreateStmt: ['relation'],
  AlterTableStmt: ['relation'],
  IndexStmt: ['relation'],
};

/** What kind of write each statement of WRITE_TARGETS is (DDL and REFRESH delete no rows). */
const WRITE_KINDS: Readonly<Record<string, WriteKind>> = {
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
  TruncateStmt: 'truncate',
  RefreshMatViewStmt: 'update',
  CreateStmt: 'update',
  AlterTableStmt: 'update',
  IndexStmt: 'update',
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A RangeVar, wrapped (`{ RangeVar: {…} }`) or bare (`{ relname, … }`). */
function asRangeVar(v: unknown): Obj | null {
  if (!isObj(v)) return null;
  if (typeof v.relname === 'string') return v;
  const inner = v.RangeVar;
  return isObj(inner) && typeof inner.relname === 'string' ? inner : null;
}

/** Values Postgres takes as false for a boolean option (`EXPLAIN (ANALYZE off)`). */
const FALSE_WORDS = new Set(['false', 'off', 'no', '0']);

/**
 * Whether an `EXPLAIN` runs its statement: only with `ANALYZE` (not set to
 * false). Without it Postgres plans the statement and touches no rows, so
 * `EXPLAIN DELETE …` writes nothing and `EXPLAIN SELECT …` reads nothing.
 */
function explainRuns(explain: Obj): boolean {
  const options = Array.isArray(explain.options) ? explain.options : [];
  for (const o of options) {
    const def = isObj(o) && isObj(o.DefElem) ? o.DefElem : null;
    if (def?.defname !== 'analyze') continue;
    const arg = isObj(def.arg) ? def.arg : null;
    if (arg === null) return true;
    const word = isObj(arg.String) ? arg.String.sval : undefined;
    const int = isObj(arg.Integer) ? (arg.Integer.ival ?? 0) : undefined;
    const bool = isObj(arg.Boolean) ? (arg.Boolean.boolval ?? false) : undefined;
    if (typeof word === 'string') return !FALSE_WORDS.has(word.toLowerCase());
    if (int !== undefined) return int !== 0;
    if (bool !== undefined) return bool !== false;
    return true;
  }
  return false;
}

export function tablesInStatements(stmts: readonly PgNode[]): SqlTableRef[] {
  const out: SqlTableRef[] = [];
  for (const stmt of stmts) walk(stmt, new Set(), out);
  return out;
}

function addRef(
  rv: Obj,
  access: 'read' | 'write',
  scope: ReadonlySet<string>,
  out: SqlTableRef[],
  kind: WriteKind = 'unknown',
): void {
  const name = rv.relname as string;
  const schema = typeof rv.schemaname === 'string' ? rv.schemaname : null;
  if (schema === null && scope.has(name)) return;
  const offset = typeof rv.location === 'number' ? rv.location : -1;
  out.push(
    access === 'write' ? { name, schema, access, kind, offset } : { name, schema, access, offset },
  );
}

function walk(
  node: unknown,
  scope: ReadonlySet<string>,
  out: SqlTableRef[],
  writeKeys: readonly string[] = [],
  writeKind: WriteKind = 'unknown',
): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, scope, out);
    return;
  }
  if (!isObj(node)) return;
  if (isObj(node.ExplainStmt) && !explainRuns(node.ExplainStmt)) return;
  const rv = asRangeVar(node);
  if (rv) {
    addRef(rv, 'read', scope, out);
    return;
  }
  let inner = scope;
  const withClause = node.withClause;
  if (isObj(withClause) && Array.isArray(withClause.ctes)) {
    const ctes = (withClause.ctes as unknown[])
      .map((c) => (isObj(c) && isObj(c.CommonTableExpr) ? c.CommonTableExpr : null))
      .filter((c): c is Obj => c !== null);
    const names = ctes.map((c) => String(c.ctename));
    const recursive = withClause.recursive === true;
    ctes.forEach((cte, i) => {
      const visible = new Set([...scope, ...(recursive ? names : names.slice(0, i))]);
      walk(cte.ctequery, visible, out);
    });
    inner = new Set([...scope, ...names]);
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'withClause') continue;
    if (writeKeys.includes(key)) {
      const targets = Array.isArray(value) ? value : [value];
      for (const target of targets) {
        const trv = asRangeVar(target);
        if (trv) addRef(trv, 'write', inner, out, writeKind);
        else walk(target, inner, out);
      }
      continue;
    }
    if ((key === 'intoClause' || key === 'into') && isObj(value)) {
      const trv = asRangeVar(value.rel);
      if (trv) addRef(trv, 'write', inner, out, 'insert');
      continue;
    }
    if (key === 'CopyStmt' && isObj(value)) {
      const trv = asRangeVar(value.relation);
      if (trv) addRef(trv, value.is_from === true ? 'write' : 'read', inner, out, 'insert');
      walk({ ...value, relation: undefined }, inner, out);
      continue;
    }
    const targets = WRITE_TARGETS[key];
    if (targets && isObj(value)) {
      walk(value, inner, out, targets, WRITE_KINDS[key]);
      continue;
    }
    walk(value, inner, out);
  }
}

/** A routine a statement runs: a function call, a `CALL`ed procedure, or a `DO` block. */
export interface SqlRoutineRef {
  readonly kind: 'function' | 'procedure' | 'do';
  /** The routine's name, lower case, schema dropped (`''` for `DO`). */
  readonly name: string;
  /** Byte offset in the parsed text, or -1 when the parser gave none. */
  readonly offset: number;
}

/** The routines the statements run, besides what they read and write. */
export function routinesInStatements(stmts: readonly PgNode[]): SqlRoutineRef[] {
  const out: SqlRoutineRef[] = [];
  const nameOf = (funcname: unknown): string => {
    const parts = Array.isArray(funcname) ? funcname : [];
    const last = parts[parts.length - 1] as { String?: { sval?: unknown } } | undefined;
    return typeof last?.String?.sval === 'string' ? last.String.sval.toLowerCase() : '';
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (!isObj(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'DoStmt') out.push({ kind: 'do', name: '', offset: -1 });
      else if (key === 'CallStmt' && isObj(value) && isObj(value.funccall)) {
        const call = value.funccall;
        out.push({
          kind: 'procedure',
          name: nameOf(call.funcname),
          offset: typeof call.location === 'number' ? call.location : -1,
        });
        visit(call.args);
        continue;
      } else if (key === 'FuncCall' && isObj(value)) {
        out.push({
          kind: 'function',
          name: nameOf(value.funcname),
          offset: typeof value.location === 'number' ? value.location : -1,
        });
      }
      visit(value);
    }
  };
  visit(stmts);
  return out;
}
