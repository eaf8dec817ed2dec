// Store discovery, purely syntactic:
// - a mixin is a function with one parameter whose body returns a class (an
//   expression, or a local class declaration it returns) extending that
//   parameter, possibly through other mixins (`class X extends XWorker(Base)`);
//   a function returning only mixin calls over its parameter
//   (`return A(B(Base))`) is a mixin too, one that composes others and adds
//   no members, once every function it applies is known to be a mixin
//   (`return encodeURIComponent(value)` has the same shape);
// - a composition is a top-level class extending mixin calls over
//   `SQLBaseStore` (`extends A(B(SQLBaseStore<DB>))`) or over another
//   composition;
// - a plain store is any other top-level class in a file the config's
//   `stores` globs name (a repository holding a Kysely handle).
import { ts } from './typescript.cjs';
import { nodeLocation } from './location.js';
import type { ModuleInfo } from './module-index.js';
import type { UnresolvedSink } from './unresolved.js';
import { unwrapExpression } from './streams.js';

export interface MemberDecl {
  readonly name: string;
  /** The function-like node whose body is the method's. */
  readonly fn: ts.FunctionLikeDeclaration;
  readonly member: ts.ClassElement;
  readonly nameNode: ts.Node;
}

export interface FieldDecl {
  readonly name: string;
  readonly node: ts.PropertyDeclaration | ts.ParameterDeclaration;
  /** The declared type's name (`UsersRepo` for `users: UsersRepo`), if a plain type reference. */
  readonly typeName: string | null;
  readonly initializer: ts.Expression | null;
}

export interface NameRef {
  readonly name: string;
  readonly node: ts.Node;
}

export interface StoreDecl {
  readonly name: string;
  readonly exportName: string;
  readonly kind: 'mixin' | 'class';
  readonly module: ModuleInfo;
  readonly classNode: ts.ClassLikeDeclaration | null;
  readonly nameNode: ts.Node;
  /** Mixin calls (innermost first), or for a plain class its superclass. */
  readonly composesRefs: readonly NameRef[];
  readonly members: readonly MemberDecl[];
  readonly fields: ReadonlyMap<string, FieldDecl>;
  readonly ctor: ts.ConstructorDeclaration | null;
  /** The mixin function or the class: code inside it is store code, not app code. */
  readonly extent: ts.Node;
}

export interface CompositionDecl {
  readonly name: string;
  readonly module: ModuleInfo;
  readonly classNode: ts.ClassDeclaration;
  readonly nameNode: ts.Node;
  /** Mixins applied, innermost first, unexpanded. */
  readonly mixinRefs: readonly NameRef[];
  /** `null` for `SQLBaseStore`, else the composition it extends. */
  readonly baseComposition: NameRef | null;
  readonly hasMembers: boolean;
}

export interface Discovered {
  readonly stores: StoreDecl[];
  readonly compositions: CompositionDecl[];
  /** Top-level classes over an identifier that is neither SQLBaseStore nor known yet (resolved later). */
  readonly pendingClasses: ts.ClassDeclaration[];
}

interface Chain {
  /** Mixin identifiers, innermost first. */
  readonly mixins: NameRef[];
  readonly base: ts.Expression;
}

/** `A(B(Base))` → mixins [B, A] and base `Base` (type arguments and parentheses ignored). */
export function parseChain(expr: ts.Expression): Chain {
  const outerFirst: NameRef[] = [];
  let e = unwrapHeritage(expr);
  for (let consts = 0; ;) {
    while (ts.isCallExpression(e) && e.arguments.length >= 1) {
      const callee = unwrapHeritage(e.expression);
      const name = qualifiedName(callee);
      if (name === null) break;
      outerFirst.push({ name, node: callee });
      e = unwrapHeritage(e.arguments[0]!);
    }
    // `const ReaderBase = A(B(SQLBaseStore))` in the same file: the chain goes on there.
    const next = ts.isIdentifier(e) && consts < 8 ? topLevelConstChain(e) : null;
    if (!next) break;
    e = next;
    consts++;
  }
  return { mixins: outerFirst.reverse(), base: e };
}

/**
 * `TagsStore`, or `stores.TagsStore` through a namespace import (resolved by
 * `ModuleGraph.resolve` as one name); null for any other callee.
 */
function qualifiedName(callee: ts.Expression): string | null {
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression))
    return `${callee.expression.text}.${callee.name.text}`;
  return null;
}

/** The initializer of the top-level `const` that `id` names in its file, when it is a call. */
function topLevelConstChain(id: ts.Identifier): ts.Expression | null {
  if (declaredInEnclosingFunction(id)) return null;
  const sf = id.getSourceFile();
  for (const stmt of sf.statements) {
    if (!ts.isVariableStatement(stmt) || !(stmt.declarationList.flags & ts.NodeFlags.Const))
      continue;
    for (const d of stmt.declarationList.declarations) {
      if (!ts.isIdentifier(d.name) || d.name.text !== id.text || !d.initializer) continue;
      const init = unwrapHeritage(d.initializer);
      return ts.isCallExpression(init) ? init : null;
    }
  }
  return null;
}

/** True when a parameter or a local of a function around `id` takes its name (`Base` in a mixin). */
function declaredInEnclosingFunction(id: ts.Identifier): boolean {
  for (let n: ts.Node | undefined = id.parent; n && !ts.isSourceFile(n); n = n.parent) {
    if (
      ts.isFunctionLike(n) &&
      n.parameters.some((p) => ts.isIdentifier(p.name) && p.name.text === id.text)
    )
      return true;
    if (ts.isBlock(n)) {
      for (const stmt of n.statements) {
        if (
          ts.isVariableStatement(stmt) &&
          stmt.declarationList.declarations.some(
            (d) => ts.isIdentifier(d.name) && d.name.text === id.text,
          )
        )
          return true;
        if (ts.isClassDeclaration(stmt) && stmt.name?.text === id.text) return true;
      }
    }
  }
  return false;
}

function unwrapHeritage(expr: ts.Expression): ts.Expression {
  let e = unwrapExpression(expr);
  while (ts.isExpressionWithTypeArguments(e)) e = unwrapExpression(e.expression);
  return e;
}

export function extendsExpression(cls: ts.ClassLikeDeclaration): ts.Expression | null {
  for (const clause of cls.heritageClauses ?? []) {
    if (clause.token === ts.SyntaxKind.ExtendsKeyword && clause.types[0])
      return clause.types[0].expression;
  }
  return null;
}

export function memberName(name: ts.PropertyName | undefined): string | null {
  if (!name) return null;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) return name.text;
  if (ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return null;
}

export function isStatic(node: ts.Node): boolean {
  return (ts.getCombinedModifierFlags(node as ts.Declaration) & ts.ModifierFlags.Static) !== 0;
}

export function typeReferenceName(type: ts.TypeNode | undefined): string | null {
  if (!type || !ts.isTypeReferenceNode(type)) return null;
  const n = type.typeName;
  return ts.isIdentifier(n) ? n.text : n.right.text;
}

function collectClass(cls: ts.ClassLikeDeclaration): {
  members: MemberDecl[];
  fields: Map<string, FieldDecl>;
  ctor: ts.ConstructorDeclaration | null;
} {
  const members: MemberDecl[] = [];
  const fields = new Map<string, FieldDecl>();
  let ctor: ts.ConstructorDeclaration | null = null;
  for (const m of cls.members) {
    if (ts.isConstructorDeclaration(m)) {
      if (!m.body) continue;
      ctor = m;
      for (const p of m.parameters) {
        if (ts.isIdentifier(p.name) && ts.isParameterPropertyDeclaration(p, m)) {
          fields.set(p.name.text, {
            name: p.name.text,
            node: p,
            typeName: typeReferenceName(p.type),
            initializer: null,
          });
        }
      }
      continue;
    }
    if (isStatic(m)) continue;
    const name = memberName(m.name);
    if (name === null || !m.name) continue;
    if ((ts.isMethodDeclaration(m) || ts.isGetAccessorDeclaration(m)) && m.body) {
      members.push({ name, fn: m, member: m, nameNode: m.name });
    } else if (ts.isSetAccessorDeclaration(m) && m.body) {
      // Assigning runs it; named apart from a getter of the same name.
      members.push({ name: `set ${name}`, fn: m, member: m, nameNode: m.name });
    } else if (ts.isPropertyDeclaration(m)) {
      const init = m.initializer && unwrapExpression(m.initializer);
      if (init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) {
        members.push({ name, fn: init, member: m, nameNode: m.name });
      } else {
        fields.set(name, {
          name,
          node: m,
          typeName: typeReferenceName(m.type),
          initializer: m.initializer ?? null,
        });
      }
    }
  }
  return { members, fields, ctor };
}

function classStore(
  cls: ts.ClassLikeDeclaration,
  kind: 'mixin' | 'class',
  exportName: string,
  composesRefs: NameRef[],
  module: ModuleInfo,
  extent: ts.Node,
  fallbackNameNode: ts.Node,
): StoreDecl {
  const { members, fields, ctor } = collectClass(cls);
  return {
    name: cls.name?.text ?? exportName,
    exportName,
    kind,
    module,
    classNode: cls,
    nameNode: cls.name ?? fallbackNameNode,
    composesRefs,
    members,
    fields,
    ctor,
    extent,
  };
}

/** The store a mixin function declares, or null when the function is not a mixin. */
function detectMixin(
  fn: ts.FunctionDeclaration | ts.ArrowFunction | ts.FunctionExpression,
  exportName: string,
  nameNode: ts.Node,
  module: ModuleInfo,
  extent: ts.Node,
): StoreDecl | null {
  if (fn.parameters.length !== 1) return null;
  const param = fn.parameters[0]!.name;
  if (!ts.isIdentifier(param) || !fn.body) return null;
  const baseName = param.text;
  const overBase = (expr: ts.Expression): Chain | null => {
    const chain = parseChain(expr);
    return ts.isIdentifier(chain.base) && chain.base.text === baseName ? chain : null;
  };
  const fromReturned = (
    returned: ts.Expression,
    locals: readonly ts.Statement[],
  ): StoreDecl | null => {
    const e = unwrapExpression(returned);
    let cls: ts.ClassLikeDeclaration | null = null;
    if (ts.isClassExpression(e)) cls = e;
    else if (ts.isIdentifier(e)) {
      cls =
        locals.find(
          (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === e.text,
        ) ?? null;
    }
    if (cls) {
      const ext = extendsExpression(cls);
      const chain = ext && overBase(ext);
      return chain
        ? classStore(cls, 'mixin', exportName, chain.mixins, module, extent, nameNode)
        : null;
    }
    const chain = overBase(e);
    if (!chain || chain.mixins.length === 0) return null;
    return {
      name: exportName,
      exportName,
      kind: 'mixin',
      module,
      classNode: null,
      nameNode,
      composesRefs: chain.mixins,
      members: [],
      fields: new Map(),
      ctor: null,
      extent,
    };
  };
  if (!ts.isBlock(fn.body)) return fromReturned(fn.body, []);
  const statements = fn.body.statements;
  for (const stmt of statements) {
    if (ts.isReturnStatement(stmt) && stmt.expression)
      return fromReturned(stmt.expression, statements);
  }
  return null;
}

/** `SQLBaseStore`, or `storesplit.SQLBaseStore` through a namespace import. */
export function isSqlBaseStore(expr: ts.Expression): boolean {
  return (
    (ts.isIdentifier(expr) && expr.text === 'SQLBaseStore') ||
    (ts.isPropertyAccessExpression(expr) &&
      ts.isIdentifier(expr.expression) &&
      expr.name.text === 'SQLBaseStore')
  );
}

function hasMembers(cls: ts.ClassLikeDeclaration): boolean {
  return cls.members.some((m) => !ts.isSemicolonClassElement(m));
}

/** Mixins, compositions over `SQLBaseStore`, and (for files the `stores` globs name) plain classes. */
export function discoverStores(module: ModuleInfo, plainStoreFile: boolean): Discovered {
  const stores: StoreDecl[] = [];
  const compositions: CompositionDecl[] = [];
  const pendingClasses: ts.ClassDeclaration[] = [];
  for (const [name, node] of module.locals) {
    if (ts.isFunctionDeclaration(node) && node.name) {
      const store = detectMixin(node, name, node.name, module, node);
      if (store) stores.push(store);
    } else if (ts.isVariableDeclaration(node) && node.initializer) {
      const init = unwrapExpression(node.initializer);
      if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) {
        const store = detectMixin(init, name, node.name, module, node);
        if (store) stores.push(store);
      }
    } else if (ts.isClassDeclaration(node) && node.name) {
      const ext = extendsExpression(node);
      const chain = ext ? parseChain(ext) : null;
      if (chain && isSqlBaseStore(chain.base)) {
        compositions.push({
          name,
          module,
          classNode: node,
          nameNode: node.name,
          mixinRefs: chain.mixins,
          baseComposition: null,
          hasMembers: hasMembers(node),
        });
      } else if (chain && ts.isIdentifier(chain.base)) {
        // Perhaps over another composition (decided once all are known), else a plain store.
        pendingClasses.push(node);
      } else if (plainStoreFile) {
        stores.push(classStore(node, 'class', name, [], module, node, node.name));
      }
    }
  }
  return { stores, compositions, pendingClasses };
}

/**
 * Classes over an identifier: a composition when the identifier names a
 * composition (directly or through those decided in earlier rounds), else a
 * plain store when its file is a `stores` file (its superclass, if a store,
 * becomes what it composes).
 */
export function settlePendingClasses(
  pending: readonly { cls: ts.ClassDeclaration; module: ModuleInfo; plainStoreFile: boolean }[],
  isComposition: (module: ModuleInfo, name: string) => boolean,
): { compositions: CompositionDecl[]; stores: StoreDecl[] } {
  const compositions: CompositionDecl[] = [];
  const known = new Set<string>();
  let remaining = [...pending];
  for (let changed = true; changed;) {
    changed = false;
    const next: typeof remaining = [];
    for (const p of remaining) {
      const chain = parseChain(extendsExpression(p.cls)!);
      const base = chain.base as ts.Identifier;
      if (isComposition(p.module, base.text) || known.has(base.text)) {
        compositions.push({
          name: p.cls.name!.text,
          module: p.module,
          classNode: p.cls,
          nameNode: p.cls.name!,
          mixinRefs: chain.mixins,
          baseComposition: { name: base.text, node: base },
          hasMembers: hasMembers(p.cls),
        });
        known.add(p.cls.name!.text);
        changed = true;
      } else next.push(p);
    }
    remaining = next;
  }
  const stores = remaining
    .filter((p) => p.plainStoreFile)
    .map((p) => {
      const chain = parseChain(extendsExpression(p.cls)!);
      const base = chain.base as ts.Identifier;
      return classStore(
        p.cls,
        'class',
        p.cls.name!.text,
        [...chain.mixins, { name: base.text, node: base }],
        p.module,
        p.cls,
        p.cls.name!,
      );
    });
  return { compositions, stores };
}

/** A composition class with members is also a store (kind `class`) holding them. */
export function compositionStore(comp: CompositionDecl): StoreDecl {
  return classStore(
    comp.classNode,
    'class',
    comp.name,
    [],
    comp.module,
    comp.classNode,
    comp.nameNode,
  );
}

/**
 * Drops class-less mixins (`return A(B(Base))`) that apply something other
 * than a mixin: syntax alone cannot tell `(Base) => EventsWorkerStore(Base)`
 * from `(value) => encodeURIComponent(value)`. Repeated until stable, since
 * such a mixin may apply another one. `resolve` finds the declaration a name
 * refers to from a module (through imports).
 */
export function confirmComposingMixins(
  stores: readonly StoreDecl[],
  resolve: (module: ModuleInfo, name: string) => ts.Node | null,
): StoreDecl[] {
  let kept = [...stores];
  for (;;) {
    const extents = new Set<ts.Node>(kept.map((s) => s.extent));
    const byExport = new Map<string, number>();
    for (const s of kept) byExport.set(s.exportName, (byExport.get(s.exportName) ?? 0) + 1);
    const isStore = (module: ModuleInfo, name: string): boolean => {
      const node = resolve(module, name);
      return node ? extents.has(node) : byExport.get(name) === 1;
    };
    const next = kept.filter(
      (s) =>
        s.classNode !== null ||
        s.kind !== 'mixin' ||
        s.composesRefs.every((r) => isStore(s.module, r.name)),
    );
    if (next.length === kept.length) return next;
    kept = next;
  }
}

/**
 * The model names stores by export name and compositions by class name, so
 * two of either with one name (a test fixture's copy under the same
 * tsconfig) would make the rules read one for the other. Each such name is
 * reported where it is declared instead of letting one silently win.
 */
export function reportDuplicateNames(
  stores: readonly StoreDecl[],
  compositions: readonly CompositionDecl[],
  unresolved: UnresolvedSink,
): void {
  const declared = [
    ...stores.map((s) => ({
      what: 'store',
      name: s.exportName,
      module: s.module,
      node: s.nameNode,
    })),
    ...compositions.map((c) => ({
      what: 'composition',
      name: c.name,
      module: c.module,
      node: c.nameNode,
    })),
  ];
  const groups = new Map<string, typeof declared>();
  for (const d of declared) {
    const key = `${d.what}\0${d.name}`;
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  for (const group of groups.values()) {
    const files = [...new Set(group.map((d) => d.module.file.rel))];
    if (files.length < 2) continue;
    for (const d of group) {
      const all = files.filter((f) => f !== d.module.file.rel);
      const others = all.length > 3 ? [...all.slice(0, 3), `${all.length - 3} more files`] : all;
      unresolved.add(
        'duplicate-name',
        `${d.what} \`${d.name}\` is also declared in ${others.join(', ')}; rules name ${d.what}s by name and could mistake one for the other: rename one, or set \`tsconfig\` in the store-lint config to a tsconfig that leaves the other out`,
        nodeLocation(d.node, d.module.file.rel, d.module.file.sf),
        d.what === 'store' ? { store: d.name } : {},
      );
    }
  }
}
