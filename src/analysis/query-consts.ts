// What counts as a query, and query constants: consts whose initializer is
// `sql` text or a Kysely builder chain, which run where a unit uses them.
// Found per scope (module level, or a mixin function around its class) and,
// to be reported rather than followed, across an import.
import { ts } from './typescript.cjs';
import type { CodeIndex } from './code-index.js';
import type { ModuleGraph, ModuleInfo } from './module-index.js';
import { isSqlTemplate, sqlHelper } from './raw-sql.js';
import { findLocalDeclaration } from './receivers.js';
import { unwrapExpression } from './streams.js';

/** Kysely methods that read the table they name. */
export const READ_METHODS = new Set([
  'selectFrom',
  'innerJoin',
  'leftJoin',
  'rightJoin',
  'fullJoin',
  'crossJoin',
  'innerJoinLateral',
  'leftJoinLateral',
  'crossJoinLateral',
]);

export type QueryKind = 'select' | 'insert' | 'update' | 'delete' | 'merge';

export const WRITE_METHODS = new Map<string, QueryKind>([
  ['insertInto', 'insert'],
  ['replaceInto', 'insert'],
  ['updateTable', 'update'],
  ['deleteFrom', 'delete'],
  ['mergeInto', 'merge'],
]);

/** `sql` text, a raw statement (`sql.raw(…)`, `CompiledQuery.raw(…)`) or a Kysely builder chain. */
export function isQuery(expr: ts.Expression): boolean {
  const e = unwrapExpression(expr);
  return isSqlTemplate(e) || sqlHelper(e) === 'raw' || buildsQuery(e);
}

/** A call chain with a Kysely query method in it (`db.selectFrom('t').where(…)`). */
function buildsQuery(expr: ts.Expression): boolean {
  for (let e = unwrapExpression(expr); ;) {
    if (ts.isCallExpression(e)) e = unwrapExpression(e.expression);
    else if (ts.isPropertyAccessExpression(e)) {
      if (READ_METHODS.has(e.name.text) || WRITE_METHODS.has(e.name.text)) return true;
      e = unwrapExpression(e.expression);
    } else return false;
  }
}

const queryConsts = new WeakMap<ts.Node, ReadonlySet<string>>();

/** Names of the consts declared directly in a block or file whose initializer is a query. */
export function queryConstNames(scope: ts.Block | ts.SourceFile): ReadonlySet<string> {
  let names = queryConsts.get(scope);
  if (!names) {
    const found = new Set<string>();
    for (const stmt of scope.statements) {
      if (!ts.isVariableStatement(stmt) || !(stmt.declarationList.flags & ts.NodeFlags.Const))
        continue;
      for (const d of stmt.declarationList.declarations) {
        const init = d.initializer && unwrapExpression(d.initializer);
        if (ts.isIdentifier(d.name) && init && isQuery(init)) found.add(d.name.text);
      }
    }
    names = found;
    queryConsts.set(scope, names);
  }
  return names;
}

// Per module graph (one analysis): a module's index outlives an analysis
// when its file did not change (`file-discovery.ts`), what its names resolve
// to in other files need not.
const importedQueries = new WeakMap<ModuleGraph, WeakMap<ModuleInfo, Map<string, string | null>>>();

/** The file an imported name's query const is declared in, or null when it names no query const. */
export function importedQueryModule(
  index: CodeIndex,
  module: ModuleInfo,
  name: string,
): string | null {
  let byModule = importedQueries.get(index.graph);
  if (!byModule) importedQueries.set(index.graph, (byModule = new WeakMap()));
  let known = byModule.get(module);
  if (!known) byModule.set(module, (known = new Map<string, string | null>()));
  let from = known.get(name);
  if (from === undefined) {
    const resolved = index.graph.resolve(module, name);
    const decl = resolved?.node;
    const init =
      decl && ts.isVariableDeclaration(decl) && decl.initializer && isConst(decl)
        ? unwrapExpression(decl.initializer)
        : null;
    from = init && isQuery(init) ? resolved!.module.file.rel : null;
    known.set(name, from);
  }
  return from;
}

export function isConst(decl: ts.VariableDeclaration): boolean {
  return (
    ts.isVariableDeclarationList(decl.parent) && (decl.parent.flags & ts.NodeFlags.Const) !== 0
  );
}

/**
 * `expr` unwrapped, or, for an identifier naming a `const` of its enclosing
 * scopes (this file), that const's initializer: where a literal written once
 * under a name is read (`sql.raw(PURGE)`, `numArgs: KEY_ARGS`).
 */
export function constantValue(expr: ts.Expression): ts.Expression {
  const e = unwrapExpression(expr);
  if (!ts.isIdentifier(e)) return e;
  const decl = findLocalDeclaration(e);
  if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer || !isConst(decl)) return e;
  return unwrapExpression(decl.initializer);
}
