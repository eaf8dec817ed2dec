// Which of the runtime's decorators (`cached`, `cachedList`, `onReplication`)
// a decorator names: by its own name, renamed on import, as a property
// (`@runtime.cached()`), through a `const` alias (`const memo = cached`, also
// `runtime.cached`, in this module or exported by another), or through a
// module that re-exports one under a new name (`export { cached as memo }
// from 'storesplit'`). An alias store-lint cannot follow (a conditional, a
// factory function wrapping one, a `let`) is said when it mentions one of
// them; a decorator that mentions none of them is someone else's. A name is
// the runtime's only when it comes from storesplit: imported from
// `storesplit` (or a path into it), or from a module that resolves to no file
// at all (nothing says otherwise). Another library's `cached`, or a
// function of the project's own named `cached`, is not.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ts } from './typescript.cjs';
import type { ModuleGraph, ModuleInfo } from './module-index.js';
import { isConst } from './query-consts.js';
import { findLocalDeclaration, isReference } from './receivers.js';
import { unwrapExpression } from './streams.js';

/** The runtime's decorators store-lint reads. */
const RUNTIME_DECORATORS: ReadonlySet<string> = new Set(['cached', 'cachedList', 'onReplication']);

/** Aliases of aliases: how far store-lint follows them. */
const MAX_DEPTH = 8;

/** The runtime decorator named, why it cannot be told, or null for a decorator of someone else's. */
export type DecoratorResolution =
  { readonly name: string } | { readonly unresolved: string } | null;

/** Code as one line, for a message. */
function oneLine(node: ts.Node): string {
  return node.getText().replace(/\s+/g, ' ');
}

/**
 * The local declaration `id` names. A decorator runs around its class, so for
 * one the parameters of the member it decorates are not in scope.
 */
function localDeclaration(id: ts.Identifier): ts.Node | null {
  const decl = findLocalDeclaration(id);
  const decorated = decl && ts.isParameter(decl) && ts.findAncestor(id, ts.isDecorator)?.parent;
  if (!decorated || decl.parent !== decorated) return decl;
  for (let n: ts.Node | undefined = decorated.parent; n; n = n.parent) {
    if (ts.isFunctionLike(n)) {
      const p = n.parameters.find((x) => ts.isIdentifier(x.name) && x.name.text === id.text);
      if (p) return p;
    }
    if (ts.isBlock(n) || ts.isSourceFile(n))
      for (const st of n.statements)
        if (ts.isVariableStatement(st))
          for (const d of st.declarationList.declarations)
            if (ts.isIdentifier(d.name) && d.name.text === id.text) return d;
  }
  return null;
}

/** The runtime decorator `node` uses by name or through an import renaming one, if any. */
function mentioned(node: ts.Node, module: ModuleInfo): string | null {
  let found: string | null = null;
  const visit = (n: ts.Node): void => {
    if (found !== null) return;
    if (ts.isIdentifier(n)) {
      const imported = isReference(n) ? module.imports.get(n.text)?.imported : undefined;
      if (RUNTIME_DECORATORS.has(n.text)) found = n.text;
      else if (imported !== undefined && RUNTIME_DECORATORS.has(imported)) found = imported;
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

/** Folder → whether the nearest package.json at or above it names storesplit. */
const storesplitFolders = new Map<string, boolean>();

/** Whether `dir` is inside the storesplit package (installed, linked, vendored, or this checkout). */
function inStoresplitPackage(dir: string): boolean {
  const known = storesplitFolders.get(dir);
  if (known !== undefined) return known;
  let found: boolean;
  const manifest = path.join(dir, 'package.json');
  if (existsSync(manifest)) {
    try {
      found =
        (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'storesplit';
    } catch {
      found = false;
    }
  } else {
    const parent = path.dirname(dir);
    found = parent !== dir && inStoresplitPackage(parent);
  }
  storesplitFolders.set(dir, found);
  return found;
}

export class DecoratorResolver {
  constructor(readonly graph: ModuleGraph) {}

  /** Whether names imported from `specifier` in `module` are the runtime's (see the top of this file). */
  #fromRuntime(module: ModuleInfo, specifier: string): boolean {
    if (specifier === 'storesplit' || specifier.startsWith('storesplit/')) return true;
    const file = this.graph.project.resolvedFile(specifier, module.file.abs);
    return file === null || inStoresplitPackage(path.dirname(file));
  }

  /** Whether `imported`, imported from `specifier` in `module`, is one of the runtime's decorators. */
  #runtimeImport(module: ModuleInfo, specifier: string, imported: string): boolean {
    return RUNTIME_DECORATORS.has(imported) && this.#fromRuntime(module, specifier);
  }

  /** What the callee of a decorator (`memo` of `@memo()`) in `module` names. */
  resolve(callee: ts.Expression, module: ModuleInfo): DecoratorResolution {
    return this.#expression(callee, module, 0);
  }

  #expression(expr: ts.Expression, module: ModuleInfo, depth: number): DecoratorResolution {
    const e = unwrapExpression(expr);
    if (depth > MAX_DEPTH) return null;
    if (ts.isIdentifier(e)) return this.#identifier(e, module, depth);
    if (ts.isPropertyAccessExpression(e)) {
      // `ns.memo`, `ns` a namespace import: what that module exports as `memo`.
      const ns = unwrapExpression(e.expression);
      const binding = ts.isIdentifier(ns) ? module.imports.get(ns.text) : undefined;
      if (binding?.imported !== '*' || findLocalDeclaration(ns as ts.Identifier)) return null;
      if (this.#runtimeImport(module, binding.specifier, e.name.text)) return { name: e.name.text };
      const target = this.graph.importTarget(module, binding.specifier);
      return target ? this.#exported(target, e.name.text, depth + 1, new Set()) : null;
    }
    return null;
  }

  #identifier(id: ts.Identifier, module: ModuleInfo, depth: number): DecoratorResolution {
    if (depth > MAX_DEPTH) return null;
    const binding = module.imports.get(id.text);
    if (binding && this.#runtimeImport(module, binding.specifier, binding.imported))
      return { name: binding.imported };
    const local = localDeclaration(id);
    if (local) {
      if (!ts.isVariableDeclaration(local) || !local.initializer) return null;
      return this.#value(id.text, local, module, depth);
    }
    return this.#topLevel(module, id.text, depth);
  }

  /** A name declared or imported at the top of `module`. */
  #topLevel(module: ModuleInfo, name: string, depth: number): DecoratorResolution {
    if (depth > MAX_DEPTH) return null;
    const binding = module.imports.get(name);
    if (binding) {
      if (this.#runtimeImport(module, binding.specifier, binding.imported))
        return { name: binding.imported };
      if (binding.imported === '*') return null;
      const target = this.graph.importTarget(module, binding.specifier);
      return target ? this.#exported(target, binding.imported, depth + 1, new Set()) : null;
    }
    const node = module.locals.get(name);
    // Neither imported nor declared here: a global of that name, taken as the runtime's.
    if (!node && RUNTIME_DECORATORS.has(name)) return { name };
    if (node && ts.isVariableDeclaration(node) && node.initializer)
      return this.#value(name, node, module, depth);
    if (node && ts.isFunctionDeclaration(node) && node.body) {
      const uses = mentioned(node.body, module);
      return uses
        ? {
            unresolved: `\`${name}\` is a function that uses \`${uses}\`, and store-lint does not follow decorator factories`,
          }
        : null;
    }
    return null;
  }

  /** What `module` exports as `exported`: its own declaration, or a re-export. */
  #exported(
    module: ModuleInfo,
    exported: string,
    depth: number,
    seen: Set<string>,
  ): DecoratorResolution {
    const key = `${module.file.abs}#${exported}`;
    if (depth > MAX_DEPTH || seen.has(key)) return null;
    seen.add(key);
    const local = module.exports.get(exported);
    if (local !== undefined) return this.#topLevel(module, local, depth);
    for (const re of module.reExports) {
      const imported = re.names ? re.names.get(exported) : exported;
      if (imported === undefined) continue;
      if (this.#runtimeImport(module, re.specifier, imported)) return { name: imported };
      const target = this.graph.importTarget(module, re.specifier);
      const found = target ? this.#exported(target, imported, depth + 1, seen) : null;
      if (found) return found;
    }
    return null;
  }

  /** `const name = init`: an alias when `init` names a decorator; said when store-lint cannot follow it. */
  #value(
    name: string,
    decl: ts.VariableDeclaration,
    module: ModuleInfo,
    depth: number,
  ): DecoratorResolution {
    const init = unwrapExpression(decl.initializer!);
    const plain = ts.isIdentifier(init) || ts.isPropertyAccessExpression(init);
    if (plain && isConst(decl)) return this.#expression(init, module, depth + 1);
    // Anything else is said only when it could hold one of them.
    const uses = plain
      ? (() => {
          const r = this.#expression(init, module, depth + 1);
          return r && 'name' in r ? r.name : null;
        })()
      : this.#mentions(init, module, depth);
    if (uses === null) return null;
    return {
      unresolved: isConst(decl)
        ? `\`${name}\` holds \`${oneLine(init)}\`, which store-lint does not follow`
        : `\`${name}\` is not a \`const\`, so store-lint does not follow what it holds`,
    };
  }

  /** The runtime decorator an expression may evaluate to, by a name in it (aliases followed). */
  #mentions(expr: ts.Expression, module: ModuleInfo, depth: number): string | null {
    const direct = mentioned(expr, module);
    if (direct) return direct;
    let found: string | null = null;
    const visit = (n: ts.Node): void => {
      if (found !== null || ts.isFunctionLike(n)) return;
      if (ts.isIdentifier(n) && isReference(n)) {
        const r = this.#identifier(n, module, depth + 1);
        if (r) found = 'name' in r ? r.name : 'an alias';
        return;
      }
      ts.forEachChild(n, visit);
    };
    visit(expr);
    return found;
  }
}
