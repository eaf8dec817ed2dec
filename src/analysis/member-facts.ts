// Facts a store's declarations carry, beside what its method bodies do:
// `@cached()` / `@cachedList()` (key arity, the cache a list method fronts),
// `@onReplication(Stream)`, stream ID generator and memory-stream fields, and
// a declared constructor. Decorators are recognised by name (`cached`,
// `cachedList`, `onReplication`, also as `x.cached`, renamed on import, or
// through an alias: see `decorators.ts`).
import { ts } from './typescript.cjs';
import { DecoratorResolver } from './decorators.js';
import { nodeLocation } from './location.js';
import type { CachedInfo, ConstructorInfo, IdGeneratorField, MethodInfo } from './model.js';
import type { ModuleGraph, ModuleInfo } from './module-index.js';
import type { StoreDecl } from './stores.js';
import { constantValue } from './query-consts.js';
import { unwrapExpression, type StreamRef } from './streams.js';
import type { UnresolvedSink } from './unresolved.js';

type ResolveStream = (module: ModuleInfo, expr: ts.Expression) => StreamRef;

/** `readonly xIdGen = this.streamIdGenerator(S)` and `readonly xSource = this.memoryStream(S)` fields, per store. */
export function generatorFields(
  stores: readonly StoreDecl[],
  resolveStream: ResolveStream,
  unresolved: UnresolvedSink,
): Map<StoreDecl, IdGeneratorField[]> {
  const generators = new Map<StoreDecl, IdGeneratorField[]>();
  for (const s of stores) {
    const list: IdGeneratorField[] = [];
    for (const field of s.fields.values()) {
      const init = field.initializer && unwrapExpression(field.initializer);
      if (!init || !ts.isCallExpression(init)) continue;
      const callee = unwrapExpression(init.expression);
      if (
        !ts.isPropertyAccessExpression(callee) ||
        callee.expression.kind !== ts.SyntaxKind.ThisKeyword
      )
        continue;
      const kind =
        callee.name.text === 'streamIdGenerator'
          ? 'idGenerator'
          : callee.name.text === 'memoryStream'
            ? 'memoryStream'
            : null;
      if (!kind || !init.arguments[0]) continue;
      const ref = resolveStream(s.module, init.arguments[0]);
      const location = nodeLocation(field.node.name, s.module.file.rel, s.module.file.sf);
      if (!ref.resolved) {
        unresolved.add(
          'stream',
          `\`${field.name}\` allocates on \`${ref.variable}\`, which names no stream definition`,
          location,
          { store: s.exportName },
        );
      }
      list.push({ field: field.name, stream: ref.name, kind, location });
    }
    generators.set(s, list);
  }
  return generators;
}

/**
 * The first of `member`'s decorators that names one of `names`: by its own
 * name, by the name an import renamed (`import { cached as memo }` →
 * `@memo()`), as a property (`@runtime.cached()`), or through an alias
 * (`const memo = cached`). A decorator that may name one but that
 * store-lint cannot follow is said at the decorator, so the rules hold back.
 */
function decoratorCall(
  member: ts.ClassElement,
  store: StoreDecl,
  names: readonly string[],
  graph: ModuleGraph,
  unresolved: UnresolvedSink,
): { name: string; args: readonly ts.Expression[]; node: ts.Decorator } | null {
  const decorators = ts.canHaveDecorators(member) ? (ts.getDecorators(member) ?? []) : [];
  const { module } = store;
  const resolver = new DecoratorResolver(graph);
  for (const d of decorators) {
    const e = d.expression;
    const callee = ts.isCallExpression(e) ? e.expression : e;
    const found = resolver.resolve(callee, module);
    if (found && 'unresolved' in found) {
      const { rel, sf } = module.file;
      const methodName = member.name?.getText(sf) ?? '?';
      unresolved.add(
        'decorator',
        `@${callee.getText(sf).replace(/\s+/g, ' ')} on ${methodName}: ${found.unresolved}; whether it makes ${methodName} \`@cached\`, \`@cachedList\` or \`@onReplication\` is not known`,
        nodeLocation(d, rel, sf),
        { store: store.exportName, method: methodName },
      );
    } else if (found && names.includes(found.name))
      return { name: found.name, args: ts.isCallExpression(e) ? e.arguments : [], node: d };
  }
  return null;
}

/** The parameters a call passes, less a `this` parameter. */
function callParameters(fn: ts.FunctionLikeDeclaration): ts.ParameterDeclaration[] {
  return fn.parameters.filter((p) => !(ts.isIdentifier(p.name) && p.name.text === 'this'));
}

/** `fn.length`: parameters up to the first with a default value or a rest parameter. */
function declaredLength(fn: ts.FunctionLikeDeclaration): number {
  const params = callParameters(fn);
  const first = params.findIndex((p) => p.initializer || p.dotDotDotToken);
  return first < 0 ? params.length : first;
}

/** The parameters from the first that `fn.length` does not count: left out of a default key. */
function beyondLength(fn: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string[] {
  return callParameters(fn)
    .slice(declaredLength(fn))
    .map((p) => `${p.dotDotDotToken ? '...' : ''}${p.name.getText(sf)}`);
}

function objectProperty(arg: ts.Expression | undefined, name: string): ts.Expression | null {
  const o = arg && unwrapExpression(arg);
  if (!o || !ts.isObjectLiteralExpression(o)) return null;
  for (const p of o.properties) {
    if (ts.isPropertyAssignment(p) && p.name.getText() === name)
      return unwrapExpression(p.initializer);
    if (ts.isShorthandPropertyAssignment(p) && p.name.text === name) return p.name;
  }
  return null;
}

export function cachedInfo(
  member: ts.ClassElement,
  fn: ts.FunctionLikeDeclaration,
  store: StoreDecl,
  rel: string,
  sf: ts.SourceFile,
  unresolved: UnresolvedSink,
  graph: ModuleGraph,
): CachedInfo | null {
  const d = decoratorCall(member, store, ['cached', 'cachedList'], graph, unresolved);
  if (!d) return null;
  const methodName = member.name?.getText(sf) ?? '?';
  const context = { store: store.exportName, method: methodName };
  const location = nodeLocation(d.node, rel, sf);
  if (d.name === 'cachedList') {
    const target = objectProperty(d.args[0], 'cached');
    if (target && ts.isStringLiteralLike(target))
      return { kind: 'cachedList', keyArity: 1, fronts: target.text, unkeyedParameters: [] };
    unresolved.add(
      'cache-options',
      `@cachedList on ${methodName} does not name its cache with a literal \`cached\``,
      location,
      context,
    );
    return { kind: 'cachedList', keyArity: 1, fronts: null, unkeyedParameters: [] };
  }
  const numArgs = objectProperty(d.args[0], 'numArgs');
  if (numArgs) {
    const count = constantValue(numArgs);
    if (ts.isNumericLiteral(count))
      return { kind: 'cached', keyArity: Number(count.text), fronts: null, unkeyedParameters: [] };
    unresolved.add(
      'cache-options',
      `@cached on ${methodName}: \`numArgs\` is not a number literal or a const holding one; assuming the declared parameter count`,
      location,
      context,
    );
  }
  return {
    kind: 'cached',
    keyArity: declaredLength(fn),
    fronts: null,
    unkeyedParameters: numArgs ? [] : beyondLength(fn, sf),
  };
}

export function handlerInfo(
  member: ts.ClassElement,
  store: StoreDecl,
  resolveStream: ResolveStream,
  unresolved: UnresolvedSink,
  graph: ModuleGraph,
): MethodInfo['handles'] {
  const d = decoratorCall(member, store, ['onReplication'], graph, unresolved);
  if (!d) return null;
  const { rel, sf } = store.module.file;
  const methodName = member.name?.getText(sf) ?? '?';
  const arg = d.args[0];
  if (!arg) {
    unresolved.add(
      'stream',
      `@onReplication on ${methodName} names no stream`,
      nodeLocation(d.node, rel, sf),
      { store: store.exportName, method: methodName },
    );
    return null;
  }
  const ref = resolveStream(store.module, arg);
  if (!ref.resolved) {
    unresolved.add(
      'stream',
      `@onReplication(${ref.variable}) on ${methodName}: \`${ref.variable}\` names no stream definition`,
      nodeLocation(arg, rel, sf),
      { store: store.exportName, method: methodName },
    );
  }
  return { stream: ref.name, variable: ref.variable };
}

export function constructorInfo(store: StoreDecl): ConstructorInfo | null {
  const ctor = store.ctor;
  if (!ctor) return null;
  const { rel, sf } = store.module.file;
  const parameters = ctor.parameters.map((p) => p.name.getText(sf));
  let passes = false;
  for (const stmt of ctor.body?.statements ?? []) {
    if (!ts.isExpressionStatement(stmt) || !ts.isCallExpression(stmt.expression)) continue;
    const call = stmt.expression;
    if (call.expression.kind !== ts.SyntaxKind.SuperKeyword) continue;
    passes =
      call.arguments.length === parameters.length &&
      call.arguments.every((a, i) => ts.isIdentifier(a) && a.text === parameters[i]);
  }
  return {
    parameters,
    passesDbConnAndHsToSuper: passes,
    location: nodeLocation(ctor.getFirstToken(sf) ?? ctor, rel, sf),
  };
}
