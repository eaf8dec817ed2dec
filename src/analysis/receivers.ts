// What a receiver expression holds, for calls on values other than `this`
// (`this.users.activeIds()`, `store.getFoo()`, `ctx.store.getFoo()`): syntax
// first — the declared type written in the project, followed through
// parameters, variables and their initialisers (`new X(…)`, `openStore(X, …)`),
// fields, destructuring, members of interfaces, type literals and classes, and
// type aliases — and the type checker only where syntax cannot tell.
import { ts } from './typescript.cjs';
import type { CodeIndex } from './code-index.js';
import type { ModuleInfo } from './module-index.js';
import { toPosix } from './project.js';
import type { CompositionDecl, StoreDecl } from './stores.js';
import { typeReferenceName } from './stores.js';
import { unwrapExpression } from './streams.js';

export type ReceiverTarget =
  | { readonly kind: 'store'; readonly store: StoreDecl }
  | { readonly kind: 'composition'; readonly composition: CompositionDecl }
  /** Declared or typed as something that is not a store. */
  | { readonly kind: 'other' }
  /** Syntax cannot tell; the type checker may. */
  | { readonly kind: 'unknown' }
  /** The type checker cannot tell either (`any`, `unknown`, an error type). */
  | { readonly kind: 'unresolvable'; readonly type: string };

export type LocalDeclaration = ts.ParameterDeclaration | ts.VariableDeclaration | ts.BindingElement;

function bindingNamed(
  name: ts.BindingName,
  text: string,
): ts.BindingElement | ts.Identifier | null {
  if (ts.isIdentifier(name)) return name.text === text ? name : null;
  for (const el of name.elements) {
    if (ts.isOmittedExpression(el)) continue;
    const found = bindingNamed(el.name, text);
    if (found) return ts.isIdentifier(found) ? el : found;
  }
  return null;
}

function fromVariableList(list: ts.VariableDeclarationList, text: string): LocalDeclaration | null {
  for (const decl of list.declarations) {
    const found = bindingNamed(decl.name, text);
    if (found) return ts.isIdentifier(found) ? decl : found;
  }
  return null;
}

/** The nearest lexical declaration of an identifier (parameter, variable, destructured binding). */
export function findLocalDeclaration(id: ts.Identifier): LocalDeclaration | null {
  const text = id.text;
  for (let n: ts.Node | undefined = id.parent; n; n = n.parent) {
    if (ts.isFunctionLike(n)) {
      for (const p of n.parameters) {
        const found = bindingNamed(p.name, text);
        if (found) return ts.isIdentifier(found) ? p : found;
      }
    }
    if (
      ts.isBlock(n) ||
      ts.isSourceFile(n) ||
      ts.isModuleBlock(n) ||
      ts.isCaseClause(n) ||
      ts.isDefaultClause(n)
    ) {
      for (const stmt of n.statements) {
        if (ts.isVariableStatement(stmt)) {
          const found = fromVariableList(stmt.declarationList, text);
          if (found) return found;
        }
      }
    }
    if (
      (ts.isForOfStatement(n) || ts.isForInStatement(n) || ts.isForStatement(n)) &&
      n.initializer &&
      ts.isVariableDeclarationList(n.initializer)
    ) {
      const found = fromVariableList(n.initializer, text);
      if (found) return found;
    }
    if (ts.isCatchClause(n) && n.variableDeclaration) {
      const found = bindingNamed(n.variableDeclaration.name, text);
      if (found) return n.variableDeclaration;
    }
  }
  return null;
}

/**
 * An identifier that reads a binding: not the name of a member or property
 * (`a.x`, `{ x: 1 }`, `x() {}`, `get x()`, an enum member), the key of a
 * destructuring (`{ x: y }`), or a declared name.
 */
export function isReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (
    (ts.isPropertyAccessExpression(p) ||
      ts.isPropertyAssignment(p) ||
      ts.isPropertyDeclaration(p) ||
      ts.isMethodDeclaration(p) ||
      ts.isGetAccessorDeclaration(p) ||
      ts.isSetAccessorDeclaration(p) ||
      ts.isEnumMember(p)) &&
    p.name === id
  )
    return false;
  if (ts.isBindingElement(p) && p.propertyName === id) return false;
  if ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isBindingElement(p)) && p.name === id)
    return false;
  return true;
}

/** Generic types whose argument may be a store type: left to the checker. */
const WRAPPER_TYPES = new Set(['InstanceType', 'ReturnType', 'Awaited', 'Promise']);

/**
 * The standard library's types whose members are members of their first
 * argument: a call on a `Pick<MainDataStore, 'm'>` is a call of
 * MainDataStore's `m` (unless the project declares a type of that name).
 */
const MEMBER_VIEWS = new Set(['Pick', 'Omit', 'Readonly', 'Partial', 'Required', 'NonNullable']);

const MAX_DEPTH = 8;

/** What syntax says about an expression's type. */
type Declared =
  | { readonly kind: 'type'; readonly type: ts.TypeNode; readonly module: ModuleInfo }
  /** `new X(…)`, `openStore(X, …)`. */
  | { readonly kind: 'constructed'; readonly name: string }
  | { readonly kind: 'store'; readonly store: StoreDecl };

function moduleOf(node: ts.Node, index: CodeIndex): ModuleInfo | null {
  return index.graph.module(toPosix(node.getSourceFile().fileName)) ?? null;
}

function enclosingClassField(
  node: ts.Node,
  name: string,
): ts.PropertyDeclaration | ts.ParameterDeclaration | null {
  let cls: ts.Node | undefined = node.parent;
  while (cls && !ts.isClassLike(cls)) cls = cls.parent;
  if (!cls) return null;
  return classMember(cls, name);
}

function classMember(
  cls: ts.ClassLikeDeclaration,
  name: string,
): ts.PropertyDeclaration | ts.ParameterDeclaration | null {
  for (const m of cls.members) {
    if (ts.isPropertyDeclaration(m) && ts.isIdentifier(m.name) && m.name.text === name) return m;
    if (ts.isConstructorDeclaration(m)) {
      const p = m.parameters.find(
        (x) =>
          ts.isParameterPropertyDeclaration(x, m) &&
          ts.isIdentifier(x.name) &&
          x.name.text === name,
      );
      if (p) return p;
    }
  }
  return null;
}

/** The class `this` refers to: through arrow functions, up to a class member; null in a plain function. */
function thisClass(node: ts.Node): ts.ClassLikeDeclaration | null {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isClassLike(n)) return n;
    if (ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n)) return null;
  }
  return null;
}

/** `new X(…)`, `openStore(X, …)`, `await openStore(X, …)` → `X`. */
function constructedName(init: ts.Expression | undefined): string | null {
  if (!init) return null;
  let e = unwrapExpression(init);
  if (ts.isAwaitExpression(e)) e = unwrapExpression(e.expression);
  if (ts.isNewExpression(e) && ts.isIdentifier(e.expression)) return e.expression.text;
  if (
    ts.isCallExpression(e) &&
    ts.isIdentifier(e.expression) &&
    e.expression.text === 'openStore'
  ) {
    const first = e.arguments[0] && unwrapExpression(e.arguments[0]);
    if (first && ts.isIdentifier(first)) return first.text;
  }
  return null;
}

function declaredOfDeclaration(
  decl:
    | ts.PropertyDeclaration
    | ts.ParameterDeclaration
    | ts.VariableDeclaration
    | ts.PropertySignature,
  module: ModuleInfo | null,
  store: StoreDecl | null,
  index: CodeIndex,
  depth: number,
): Declared | null {
  if (decl.type && module) return { kind: 'type', type: decl.type, module };
  const init = 'initializer' in decl ? decl.initializer : undefined;
  const name = constructedName(init);
  if (name) return { kind: 'constructed', name };
  return init ? declaredOf(init, store, index, depth + 1) : null;
}

/**
 * `x as T` or `<T>x` (under parentheses, `!` and `satisfies`): `T`, the type
 * the code says `x` holds. Null for one that says nothing: `as const`,
 * `as unknown`, `as any`.
 */
function assertedType(expr: ts.Expression): ts.TypeNode | null {
  let e = expr;
  while (
    ts.isParenthesizedExpression(e) ||
    ts.isNonNullExpression(e) ||
    ts.isSatisfiesExpression(e)
  )
    e = e.expression;
  if (!ts.isAsExpression(e) && !ts.isTypeAssertionExpression(e)) return null;
  const t = e.type;
  if (t.kind === ts.SyntaxKind.AnyKeyword || t.kind === ts.SyntaxKind.UnknownKeyword) return null;
  if (ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName) && t.typeName.text === 'const')
    return null;
  return t;
}

/** The declared type of `expr`, followed through fields, variables, destructuring and members. */
function declaredOf(
  expr: ts.Expression,
  store: StoreDecl | null,
  index: CodeIndex,
  depth: number,
): Declared | null {
  if (depth > MAX_DEPTH) return null;
  // An assertion to a store or composition type says what the value holds;
  // one to another type (an interface it satisfies) says less than the value's own.
  const asserted = assertedType(expr);
  const module = asserted && moduleOf(expr, index);
  if (asserted && module) {
    const declared = { kind: 'type', type: asserted, module } as const;
    const target = targetOfTypeNode(declared, index, depth + 1);
    if (target.kind === 'store' || target.kind === 'composition') return declared;
  }
  const e = unwrapExpression(expr);
  if (e.kind === ts.SyntaxKind.ThisKeyword) {
    if (store) return { kind: 'store', store };
    const cls = thisClass(e);
    return cls?.name ? { kind: 'constructed', name: cls.name.text } : null;
  }
  if (ts.isPropertyAccessExpression(e)) {
    const name = e.name.text;
    if (e.expression.kind === ts.SyntaxKind.ThisKeyword) {
      if (store) {
        const found = index.fieldInChain(store, name);
        return found
          ? declaredOfDeclaration(found.field.node, found.store.module, found.store, index, depth)
          : null;
      }
      const field = enclosingClassField(e, name);
      return field ? declaredOfDeclaration(field, moduleOf(e, index), null, index, depth) : null;
    }
    const outer = declaredOf(e.expression, store, index, depth + 1);
    if (!outer) return null;
    if (outer.kind === 'type') return memberOf(outer, name, index, depth + 1);
    // A field of a store held in a variable (`store.users.find()`).
    const target = outer.kind === 'store' ? null : index.targetOfTypeName(outer.name);
    const owner =
      outer.kind === 'store' ? outer.store : target?.kind === 'store' ? target.store : null;
    const found = owner && index.fieldInChain(owner, name);
    return found
      ? declaredOfDeclaration(found.field.node, found.store.module, found.store, index, depth)
      : null;
  }
  if (ts.isIdentifier(e)) {
    const decl = findLocalDeclaration(e);
    if (!decl) return null;
    if (!ts.isBindingElement(decl))
      return declaredOfDeclaration(decl, moduleOf(e, index), store, index, depth);
    // `const { store } = options` / `({ store }: Options) => …`: the member of the destructured type.
    const property = decl.propertyName ?? decl.name;
    const container = decl.parent.parent;
    if (!ts.isIdentifier(property) || !ts.isObjectBindingPattern(decl.parent)) return null;
    if (!ts.isVariableDeclaration(container) && !ts.isParameter(container)) return null;
    const outer = declaredOfDeclaration(container, moduleOf(e, index), store, index, depth);
    return outer?.kind === 'type' ? memberOf(outer, property.text, index, depth + 1) : null;
  }
  return null;
}

/** The declared type of member `name` of a type written in the project (interface, type literal, class, alias). */
function memberOf(
  at: Declared & { kind: 'type' },
  name: string,
  index: CodeIndex,
  depth: number,
): Declared | null {
  if (depth > MAX_DEPTH) return null;
  const t = at.type;
  if (ts.isParenthesizedTypeNode(t))
    return memberOf({ ...at, type: t.type }, name, index, depth + 1);
  const fromMembers = (
    members: ts.NodeArray<ts.TypeElement>,
    module: ModuleInfo,
  ): Declared | null => {
    for (const m of members) {
      if (ts.isPropertySignature(m) && m.name.getText() === name && m.type)
        return { kind: 'type', type: m.type, module };
    }
    return null;
  };
  if (ts.isTypeLiteralNode(t)) return fromMembers(t.members, at.module);
  if (!ts.isTypeReferenceNode(t) || !ts.isIdentifier(t.typeName)) return null;
  const resolved = index.graph.resolve(at.module, t.typeName.text);
  if (!resolved) return null;
  const node = resolved.node;
  if (ts.isInterfaceDeclaration(node)) return fromMembers(node.members, resolved.module);
  if (ts.isTypeAliasDeclaration(node))
    return memberOf(
      { kind: 'type', type: node.type, module: resolved.module },
      name,
      index,
      depth + 1,
    );
  if (ts.isClassDeclaration(node)) {
    const m = classMember(node, name);
    return m ? declaredOfDeclaration(m, resolved.module, null, index, depth + 1) : null;
  }
  return null;
}

/** What a type written in the project names, following aliases. */
function targetOfTypeNode(
  at: Declared & { kind: 'type' },
  index: CodeIndex,
  depth: number,
): ReceiverTarget {
  const t = at.type;
  if (depth > MAX_DEPTH) return { kind: 'unknown' };
  if (t.kind === ts.SyntaxKind.AnyKeyword) return { kind: 'unresolvable', type: 'any' };
  if (t.kind === ts.SyntaxKind.UnknownKeyword) return { kind: 'unresolvable', type: 'unknown' };
  if (ts.isParenthesizedTypeNode(t))
    return targetOfTypeNode({ ...at, type: t.type }, index, depth + 1);
  if (ts.isUnionTypeNode(t) || ts.isIntersectionTypeNode(t)) {
    let sawUnknown = false;
    for (const member of t.types) {
      const target = targetOfTypeNode({ ...at, type: member }, index, depth + 1);
      if (target.kind === 'store' || target.kind === 'composition') return target;
      if (target.kind !== 'other') sawUnknown = true;
    }
    return sawUnknown ? { kind: 'unknown' } : { kind: 'other' };
  }
  if (ts.isTypeReferenceNode(t)) {
    const name = typeReferenceName(t)!;
    if (MEMBER_VIEWS.has(name) && t.typeArguments?.[0] && !index.graph.resolve(at.module, name))
      return targetOfTypeNode({ ...at, type: t.typeArguments[0] }, index, depth + 1);
    if (WRAPPER_TYPES.has(name)) return { kind: 'unknown' };
    const target = index.targetOfTypeName(name);
    if (target) return target;
    if (!ts.isIdentifier(t.typeName)) return { kind: 'unknown' };
    const parameter = typeParameterInScope(t, name);
    if (parameter) {
      // `S extends MainDataStore`: a call on an S is a call on its constraint.
      if (!parameter.constraint) return { kind: 'unknown' };
      return targetOfTypeNode({ ...at, type: parameter.constraint }, index, depth + 1);
    }
    const resolved = index.graph.resolve(at.module, name);
    // Imported under another name (`import type { MainDataStore as Writer }`).
    const declared = resolved && index.targetOfDeclaration(resolved.node);
    if (declared) return declared;
    if (resolved && ts.isTypeAliasDeclaration(resolved.node)) {
      return targetOfTypeNode(
        { kind: 'type', type: resolved.node.type, module: resolved.module },
        index,
        depth + 1,
      );
    }
    // `interface Deps extends Pick<MainDataStore, 'm'> {}`: a view of the store it extends.
    if (resolved && ts.isInterfaceDeclaration(resolved.node)) {
      for (const clause of resolved.node.heritageClauses ?? []) {
        for (const base of clause.types) {
          if (!ts.isIdentifier(base.expression)) continue;
          const target = targetOfTypeNode(
            {
              kind: 'type',
              type: ts.factory.createTypeReferenceNode(base.expression, base.typeArguments),
              module: resolved.module,
            },
            index,
            depth + 1,
          );
          if (target.kind === 'store' || target.kind === 'composition') return target;
        }
      }
    }
    // Imported from a project file the analysis could not follow: the checker may.
    const binding = at.module.imports.get(name);
    if (!resolved && binding?.specifier.startsWith('.')) return { kind: 'unknown' };
    // A class or interface of the project that is no store, or a library or global type (Map, Promise…).
    return { kind: 'other' };
  }
  // `typeof x`, `import('…')`: the checker knows.
  if (ts.isTypeQueryNode(t) || ts.isImportTypeNode(t)) return { kind: 'unknown' };
  return { kind: 'other' };
}

/** The type parameter named `name` that a type reference at `node` sees, if any. */
function typeParameterInScope(node: ts.Node, name: string): ts.TypeParameterDeclaration | null {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    const parameters = (n as { typeParameters?: ts.NodeArray<ts.TypeParameterDeclaration> })
      .typeParameters;
    const hit = parameters?.find((p) => p.name.text === name);
    if (hit) return hit;
  }
  return null;
}

/** What `expr` holds, from syntax alone. `store` is the store whose code contains it, if any. */
export function syntacticReceiver(
  expr: ts.Expression,
  store: StoreDecl | null,
  index: CodeIndex,
): ReceiverTarget {
  const declared = declaredOf(expr, store, index, 0);
  if (!declared) return { kind: 'unknown' };
  if (declared.kind === 'store') return { kind: 'store', store: declared.store };
  if (declared.kind === 'constructed')
    return index.targetOfTypeName(declared.name) ?? { kind: 'other' };
  return targetOfTypeNode(declared, index, 0);
}

/** What a checked type names: a store, a composition, something else, or nothing knowable. */
export function targetOfType(
  type: ts.Type,
  checker: ts.TypeChecker,
  index: CodeIndex,
): ReceiverTarget {
  const t = checker.getNonNullableType(type);
  if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) {
    return { kind: 'unresolvable', type: checker.typeToString(t) };
  }
  if (t.isUnionOrIntersection()) {
    for (const member of t.types) {
      const target = targetOfType(member, checker, index);
      if (target.kind === 'store' || target.kind === 'composition') return target;
    }
    return { kind: 'other' };
  }
  const symbol = t.getSymbol() ?? t.aliasSymbol;
  const name = symbol?.getName();
  if (name) {
    const target = index.targetOfTypeName(name);
    if (target) return target;
  }
  return { kind: 'other' };
}
