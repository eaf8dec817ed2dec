// Imports the compiler drops. Unless told to keep imports as written, the
// TypeScript compiler (and tsx/esbuild, which follow it) removes an import
// declaration whose bindings are never used as values: `import { Request }
// from './handlers.js'` used only in annotations does not run handlers.js.
// Following such an import as app code would check a module the app never
// runs (a writer helper kept beside a shared type), so app modules skip it.
//
// Decided from the file's syntax alone, erring towards "runs": any use of the
// name outside a type counts, shadowing included.
import { ts } from './typescript.cjs';
import type { ModuleInfo } from './module-index.js';
import { isReference } from './receivers.js';

/**
 * Specifiers of `module` that run only through import declarations whose
 * every binding is used in types alone (or not at all). A specifier also
 * named by another import, a re-export or a dynamic `import()` still runs.
 */
export function elidedImportSpecifiers(module: ModuleInfo): Set<string> {
  const { sf } = module.file;
  // Each import declaration with bindings, and the names it binds.
  const candidates: { specifier: string; names: string[] }[] = [];
  for (const stmt of sf.statements) {
    if (!ts.isImportDeclaration(stmt) || !ts.isStringLiteral(stmt.moduleSpecifier)) continue;
    const clause = stmt.importClause;
    if (!clause || clause.isTypeOnly) continue; // a side-effect import runs; `import type` is not a run specifier
    const names: string[] = [];
    if (clause.name) names.push(clause.name.text);
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) names.push(bindings.name.text);
    if (bindings && ts.isNamedImports(bindings))
      for (const el of bindings.elements) if (!el.isTypeOnly) names.push(el.name.text);
    candidates.push({ specifier: stmt.moduleSpecifier.text, names });
  }
  if (candidates.length === 0) return new Set();
  const used = valueNames(sf, new Set(candidates.flatMap((c) => c.names)));
  const elidedCount = new Map<string, number>();
  for (const c of candidates) {
    if (c.names.some((n) => used.has(n))) continue;
    elidedCount.set(c.specifier, (elidedCount.get(c.specifier) ?? 0) + 1);
  }
  const elided = new Set<string>();
  for (const [specifier, count] of elidedCount) {
    if (module.runSpecifiers.filter((s) => s === specifier).length === count) elided.add(specifier);
  }
  return elided;
}

/** Which of `names` the file uses as values: references outside types and import clauses. */
function valueNames(sf: ts.SourceFile, names: ReadonlySet<string>): Set<string> {
  const used = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (used.size === names.size) return;
    // `class A extends X<T>` and `f<T>`: the expression is a value, its type arguments are not.
    if (ts.isExpressionWithTypeArguments(node)) return visit(node.expression);
    if (
      ts.isTypeNode(node) ||
      ts.isImportDeclaration(node) ||
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node) ||
      isImplementsClause(node)
    )
      return;
    if (ts.isIdentifier(node)) {
      if (names.has(node.text) && isReference(node)) used.add(node.text);
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return used;
}

function isImplementsClause(node: ts.Node): boolean {
  return ts.isHeritageClause(node) && node.token === ts.SyntaxKind.ImplementsKeyword;
}
