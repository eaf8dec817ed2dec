// Per-module top-level names: local declarations, imports and exports, so an
// identifier in one file can be traced to the declaration it names in
// another (`@onReplication(ReceiptsStream)` → the stream's `defineStream`,
// a composition's mixin → the mixin function, a helper function → its body),
// through `export { a as b }`, `export … from` and `export * from` barrels.
import { ts } from './typescript.cjs';
import type { AnalysisProject, ProjectFile } from './project.js';

export interface ImportBinding {
  readonly specifier: string;
  /** The exported name imported (`default` for default imports, `*` for namespaces). */
  readonly imported: string;
}

interface ReExport {
  readonly specifier: string;
  /** exported name → imported name; null for `export * from`. */
  readonly names: ReadonlyMap<string, string> | null;
}

export interface ModuleInfo {
  readonly file: ProjectFile;
  /** Top-level declarations by local name (values, and types no value shares a name with). */
  readonly locals: ReadonlyMap<string, ts.Node>;
  readonly imports: ReadonlyMap<string, ImportBinding>;
  /** exported name → local name. */
  readonly exports: ReadonlyMap<string, string>;
  readonly reExports: readonly ReExport[];
  /** Module specifiers this module imports or re-exports, types included (what the model may read). */
  readonly specifiers: readonly string[];
  /**
   * The specifiers whose modules run when this one does (for following app
   * entries): all but `import type` and `export type … from`, which the
   * compiler erases.
   */
  readonly runSpecifiers: readonly string[];
  /**
   * Specifiers of imports whose every binding is an inline type (`import {
   * type A } from`): the compiler drops them unless `verbatimModuleSyntax`
   * keeps them as `import {} from`, which runs the module.
   */
  readonly inlineTypeSpecifiers: readonly string[];
}

/** A declaration found for a name: the module it lives in and the top-level node. */
export interface ResolvedName {
  readonly module: ModuleInfo;
  readonly name: string;
  readonly node: ts.Node;
}

function isExported(node: ts.Node): boolean {
  return (ts.getCombinedModifierFlags(node as ts.Declaration) & ts.ModifierFlags.Export) !== 0;
}

function isDefaultExport(node: ts.Node): boolean {
  return (ts.getCombinedModifierFlags(node as ts.Declaration) & ts.ModifierFlags.Default) !== 0;
}

export function indexModule(file: ProjectFile): ModuleInfo {
  const locals = new Map<string, ts.Node>();
  const imports = new Map<string, ImportBinding>();
  const exports = new Map<string, string>();
  const reExports: ReExport[] = [];
  const specifiers: string[] = [];
  const runSpecifiers: string[] = [];
  const inlineTypeSpecifiers: string[] = [];
  const depend = (specifier: string, typeOnly: boolean): void => {
    specifiers.push(specifier);
    if (!typeOnly) runSpecifiers.push(specifier);
  };
  for (const stmt of file.sf.statements) {
    if (ts.isImportDeclaration(stmt) && ts.isStringLiteral(stmt.moduleSpecifier)) {
      const specifier = stmt.moduleSpecifier.text;
      const clause = stmt.importClause;
      const named = clause?.namedBindings;
      const inlineTypesOnly =
        clause !== undefined &&
        !clause.name &&
        named !== undefined &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((el) => el.isTypeOnly);
      depend(specifier, clause?.isTypeOnly === true || inlineTypesOnly);
      if (inlineTypesOnly && !clause.isTypeOnly) inlineTypeSpecifiers.push(specifier);
      if (clause?.name) imports.set(clause.name.text, { specifier, imported: 'default' });
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings))
        imports.set(bindings.name.text, { specifier, imported: '*' });
      if (bindings && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) {
          imports.set(el.name.text, {
            specifier,
            imported: (el.propertyName ?? el.name).getText(file.sf),
          });
        }
      }
    } else if (ts.isExportDeclaration(stmt)) {
      const specifier =
        stmt.moduleSpecifier && ts.isStringLiteral(stmt.moduleSpecifier)
          ? stmt.moduleSpecifier.text
          : null;
      const clause = stmt.exportClause;
      if (specifier !== null) {
        depend(specifier, stmt.isTypeOnly);
        if (!clause) reExports.push({ specifier, names: null });
        else if (ts.isNamedExports(clause)) {
          const names = new Map<string, string>();
          for (const el of clause.elements)
            names.set(el.name.text, (el.propertyName ?? el.name).getText(file.sf));
          reExports.push({ specifier, names });
        }
      } else if (clause && ts.isNamedExports(clause)) {
        for (const el of clause.elements)
          exports.set(el.name.text, (el.propertyName ?? el.name).getText(file.sf));
      }
    } else if (ts.isFunctionDeclaration(stmt) || ts.isClassDeclaration(stmt)) {
      if (!stmt.name) continue;
      locals.set(stmt.name.text, stmt);
      if (isExported(stmt)) exports.set(stmt.name.text, stmt.name.text);
      if (isDefaultExport(stmt)) exports.set('default', stmt.name.text);
    } else if (ts.isTypeAliasDeclaration(stmt) || ts.isInterfaceDeclaration(stmt)) {
      // Types share the namespace only where no value has the name (a class and its merged interface).
      if (!locals.has(stmt.name.text)) locals.set(stmt.name.text, stmt);
      if (isExported(stmt)) exports.set(stmt.name.text, stmt.name.text);
    } else if (ts.isVariableStatement(stmt)) {
      const exported = isExported(stmt);
      for (const decl of stmt.declarationList.declarations) {
        if (!ts.isIdentifier(decl.name)) continue;
        locals.set(decl.name.text, decl);
        if (exported) exports.set(decl.name.text, decl.name.text);
      }
    } else if (ts.isExportAssignment(stmt) && ts.isIdentifier(stmt.expression)) {
      exports.set('default', stmt.expression.text);
    }
  }
  // Dynamic imports with a literal specifier also bring modules into an app.
  if (file.sf.text.includes('import(')) {
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        node.arguments[0] &&
        ts.isStringLiteralLike(node.arguments[0])
      ) {
        depend(node.arguments[0].text, false);
      }
      ts.forEachChild(node, visit);
    };
    visit(file.sf);
  }
  return {
    file,
    locals,
    imports,
    exports,
    reExports,
    specifiers,
    runSpecifiers,
    inlineTypeSpecifiers,
  };
}

/** All modules of the project and name resolution across them. */
export class ModuleGraph {
  readonly #modules = new Map<string, ModuleInfo>();
  /** While `tracking`: the modules imports led to. */
  #reached: Set<ModuleInfo> | null = null;

  constructor(readonly project: AnalysisProject) {}

  add(info: ModuleInfo): void {
    this.#modules.set(info.file.abs, info);
  }

  module(abs: string): ModuleInfo | undefined {
    return this.#modules.get(abs);
  }

  /**
   * Runs `read` and says which modules the imports it followed led to
   * (through `importTarget`, which every step into another module takes).
   */
  tracking<T>(read: () => T): { readonly value: T; readonly modules: ReadonlySet<ModuleInfo> } {
    const outer = this.#reached;
    const reached = new Set<ModuleInfo>();
    this.#reached = reached;
    try {
      return { value: read(), modules: reached };
    } finally {
      this.#reached = outer;
      if (outer) for (const m of reached) outer.add(m);
    }
  }

  /** The module a specifier in `from` resolves to, if it is an analysed file. */
  importTarget(from: ModuleInfo, specifier: string): ModuleInfo | undefined {
    const found = this.#importTarget(from, specifier);
    if (found) this.#reached?.add(found);
    return found;
  }

  #importTarget(from: ModuleInfo, specifier: string): ModuleInfo | undefined {
    const target = this.project.resolveImport(specifier, from.file.abs);
    if (!target) return undefined;
    const known = this.#modules.get(target);
    if (known || !this.project.lazy) return known;
    // A lazily loaded project: index the module on first use.
    const file = this.project.get(target);
    if (!file) return undefined;
    const info = indexModule(file);
    this.add(info);
    return info;
  }

  /**
   * The top-level declaration an identifier used in `from` names, following
   * imports; `ns.Name` is `Name` exported by the module `ns` imports as a namespace.
   */
  resolve(from: ModuleInfo, name: string): ResolvedName | null {
    const dot = name.indexOf('.');
    if (dot > 0) {
      const binding = from.imports.get(name.slice(0, dot));
      if (!binding || binding.imported !== '*') return null;
      const target = this.importTarget(from, binding.specifier);
      return target ? this.resolveExport(target, name.slice(dot + 1), new Set()) : null;
    }
    const local = from.locals.get(name);
    if (local) return { module: from, name, node: local };
    const binding = from.imports.get(name);
    if (!binding || binding.imported === '*') return null;
    const target = this.importTarget(from, binding.specifier);
    return target ? this.resolveExport(target, binding.imported, new Set()) : null;
  }

  resolveExport(module: ModuleInfo, exported: string, seen: Set<string>): ResolvedName | null {
    const key = `${module.file.abs}#${exported}`;
    if (seen.has(key)) return null;
    seen.add(key);
    const localName = module.exports.get(exported);
    if (localName !== undefined) {
      const node = module.locals.get(localName);
      if (node) return { module, name: localName, node };
      return this.resolve(module, localName);
    }
    for (const re of module.reExports) {
      const imported = re.names ? re.names.get(exported) : exported;
      if (imported === undefined) continue;
      const target = this.importTarget(module, re.specifier);
      const found = target ? this.resolveExport(target, imported, seen) : null;
      if (found) return found;
    }
    return null;
  }
}
