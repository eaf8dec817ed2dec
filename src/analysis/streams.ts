// Stream definitions: `const X = defineStream({ name: 'x', tables: ['t'], getUpdates })`
// and `defineMemoryStream({ name })`, at the top level of any analysed module.
// The name and tables must be literals (the runtime contract); anything else
// is reported unresolved.
import { ts } from './typescript.cjs';
import type { StreamInfo } from './model.js';
import type { ModuleGraph, ModuleInfo } from './module-index.js';
import { nodeLocation } from './location.js';
import { normaliseTableName, type Naming } from './table-names.js';
import type { UnresolvedSink } from './unresolved.js';

export interface StreamDecl {
  readonly info: StreamInfo;
  readonly module: ModuleInfo;
}

/** The runtime's built-in stream, named by `CachesStream` from the package. */
export const BUILTIN_STREAM_VARIABLES: ReadonlyMap<string, string> = new Map([
  ['CachesStream', 'caches'],
]);

export function unwrapExpression(node: ts.Expression): ts.Expression {
  let e = node;
  for (;;) {
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e))
      e = e.expression;
    else if (ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e)) e = e.expression;
    else return e;
  }
}

/** `TABLES` naming a top-level `const TABLES = [...]` of the same file: that array; else `e`. */
function sameFileConstArray(e: ts.Expression): ts.Expression {
  if (!ts.isIdentifier(e)) return e;
  for (const stmt of e.getSourceFile().statements) {
    if (!ts.isVariableStatement(stmt) || !(stmt.declarationList.flags & ts.NodeFlags.Const))
      continue;
    for (const d of stmt.declarationList.declarations) {
      if (ts.isIdentifier(d.name) && d.name.text === e.text && d.initializer)
        return unwrapExpression(d.initializer);
    }
  }
  return e;
}

function calleeName(call: ts.CallExpression): string | null {
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return null;
}

function property(obj: ts.ObjectLiteralExpression, name: string): ts.Expression | null {
  for (const p of obj.properties) {
    if (ts.isPropertyAssignment(p) && p.name.getText() === name) return p.initializer;
    if (ts.isShorthandPropertyAssignment(p) && p.name.text === name) return p.name;
  }
  return null;
}

export function discoverStreams(
  module: ModuleInfo,
  naming: Naming,
  unresolved: UnresolvedSink,
): StreamDecl[] {
  const out: StreamDecl[] = [];
  const { sf, rel } = module.file;
  for (const [variable, node] of module.locals) {
    if (!ts.isVariableDeclaration(node) || !node.initializer) continue;
    const init = unwrapExpression(node.initializer);
    if (!ts.isCallExpression(init)) continue;
    const fn = calleeName(init);
    if (fn !== 'defineStream' && fn !== 'defineMemoryStream') continue;
    const arg = init.arguments[0] && unwrapExpression(init.arguments[0]);
    const location = nodeLocation(node.name, rel, sf);
    if (!arg || !ts.isObjectLiteralExpression(arg)) {
      unresolved.add(
        'stream',
        `${fn}(…) for \`${variable}\` takes no object literal; its name and tables are unknown`,
        location,
      );
      continue;
    }
    const nameExpr = property(arg, 'name');
    const name =
      nameExpr && ts.isStringLiteralLike(unwrapExpression(nameExpr))
        ? (unwrapExpression(nameExpr) as ts.StringLiteralLike).text
        : null;
    if (name === null) {
      unresolved.add('stream', `stream \`${variable}\` has no literal \`name\``, location);
      continue;
    }
    const tables: string[] = [];
    const tablesExpr = property(arg, 'tables');
    if (tablesExpr) {
      const list = sameFileConstArray(unwrapExpression(tablesExpr));
      if (ts.isArrayLiteralExpression(list)) {
        for (const el of list.elements) {
          const e = unwrapExpression(el);
          if (ts.isStringLiteralLike(e)) tables.push(normaliseTableName(e.text, naming));
          else
            unresolved.add(
              'stream',
              `stream \`${name}\` lists a table that is not a string literal`,
              nodeLocation(el, rel, sf),
            );
        }
      } else {
        unresolved.add(
          'stream',
          `stream \`${name}\`: \`tables\` is not an array literal or a const of this file holding one`,
          nodeLocation(tablesExpr, rel, sf),
        );
      }
    }
    out.push({
      module,
      info: {
        name,
        variable,
        kind: fn === 'defineStream' ? 'database' : 'memory',
        tables: [...new Set(tables)].sort(),
        location,
      },
    });
  }
  return out;
}

/** What a stream reference (`@onReplication(X)`, `streamIdGenerator(X)`) names. */
export interface StreamRef {
  /** The stream's name; the reference's text when unresolved. */
  readonly name: string;
  readonly variable: string;
  readonly resolved: boolean;
}

/**
 * Resolves stream references: an identifier traced through imports to a
 * stream definition, else the runtime's `CachesStream` (imported from the
 * package, which is not analysed), else the only definition held in a
 * variable of that name.
 */
export function streamResolver(
  streams: readonly StreamDecl[],
  graph: ModuleGraph,
): (module: ModuleInfo, expr: ts.Expression) => StreamRef {
  const byNode = new Map<ts.Node, StreamDecl>();
  for (const s of streams) {
    const node = s.module.locals.get(s.info.variable);
    if (node) byNode.set(node, s);
  }
  return (module, expr) => {
    const e = unwrapExpression(expr);
    const variable = e.getText(module.file.sf);
    if (ts.isIdentifier(e)) {
      const r = graph.resolve(module, e.text);
      const decl = r && byNode.get(r.node);
      if (decl) return { name: decl.info.name, variable, resolved: true };
      const builtin = BUILTIN_STREAM_VARIABLES.get(e.text);
      if (builtin && !r) return { name: builtin, variable, resolved: true };
      const byVariable = streams.filter((s) => s.info.variable === e.text);
      if (byVariable.length === 1)
        return { name: byVariable[0]!.info.name, variable, resolved: true };
    } else if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression)) {
      // `streams.ReceiptsStream` through `import * as streams`.
      const r = graph.resolve(module, `${e.expression.text}.${e.name.text}`);
      const decl = r && byNode.get(r.node);
      if (decl) return { name: decl.info.name, variable, resolved: true };
    }
    return { name: variable, variable, resolved: false };
  };
}
