// Apps: each config `apps` entry's composition (`file#Class`) and, following
// its `entry` modules through their imports (relative or path-mapped, and
// into a workspace package the tsconfig includes; outside the store-lint root
// only into files the tsconfig includes, never into the storesplit runtime),
// the store methods that code calls.
//
// The rule for "a call to a store method": a property access `recv.m` (called
// or passed as a value) in a module that runs in the app, outside store code
// (mixin functions, store classes, compositions), where
//   1. `m` is the name of a method some analysed store declares (a cheap
//      filter: `app.listen()` is never looked at), and
//   2. `recv` holds a composition or a store. Syntax decides first, from
//      declared types written in the project: `recv`'s parameter, variable
//      or field annotation, followed through type aliases, destructuring and
//      members of interfaces, type literals and classes (`ctx.store`,
//      `const { store } = ctx`, `type WorkerStore = ReaderDataStore`), the
//      standard library's member-keeping types (`Pick<MainDataStore, 'm'>`,
//      `Readonly<…>`) and interfaces extending them, or an
//      initialiser (`new X(…)`, `[await] openStore(X, …)`, another such
//      expression); `this` in an app class is that class. Only where syntax
//      cannot tell (no annotation, `typeof x`, `InstanceType<…>`, an inferred
//      return) does the type checker give the receiver's type; either way it
//      counts when it (or a member of its union or intersection) is a
//      composition or store class.
// The call is recorded with the type it was attributed to (a worker entry
// holding the writer's composition is recorded as such; the rules decide).
// A receiver whose type is `any` or `unknown` (declared or checked) cannot be
// attributed: that is an `app-call` UnresolvedFact, never a silent skip.
// Anything else (a `Map`'s `get`, an app class's own method) is not a store
// call.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ts } from './typescript.cjs';
import type { CodeIndex } from './code-index.js';
import { configuredSource, type StoreLintConfig } from './config.js';
import { AnalysisInputError } from './errors.js';
import { elidedImportSpecifiers } from './elided-imports.js';
import { compareLocations, locationOf, nodeLocation } from './location.js';
import type { AppCall, AppInfo, AppWrite } from './model.js';
import { indexModule, type ModuleGraph, type ModuleInfo } from './module-index.js';
import { isRuntimeSource, toPosix, type AnalysisProject } from './project.js';
import { WRITE_METHODS } from './query-consts.js';
import { analyseSqlTemplate } from './raw-sql.js';
import { findLocalDeclaration, syntacticReceiver, targetOfType } from './receivers.js';
import type { CompositionDecl } from './stores.js';
import { unwrapExpression } from './streams.js';
import {
  normaliseSqlName,
  normaliseTableName,
  parseTableReference,
  type Naming,
} from './table-names.js';
import type { UnresolvedSink } from './unresolved.js';

export interface AppsContext {
  readonly config: StoreLintConfig;
  readonly project: AnalysisProject;
  readonly graph: ModuleGraph;
  readonly index: CodeIndex;
  readonly naming: Naming;
  readonly unresolved: UnresolvedSink;
}

function moduleAt(ctx: AppsContext, configured: string, what: string): ModuleInfo {
  const known = ctx.graph.module(toPosix(configured));
  if (known) return known;
  // Not analysed yet: a configured `x.js` may name its `x.ts` source.
  const abs = configuredSource(configured, existsSync);
  const source = abs !== configured ? ctx.graph.module(toPosix(abs)) : undefined;
  if (source) return source;
  if (!existsSync(abs)) {
    throw new AnalysisInputError(
      `${what}: ${toPosix(path.relative(ctx.config.root, abs))} not found`,
    );
  }
  const info = indexModule(ctx.project.ensureFile(abs));
  ctx.graph.add(info);
  return info;
}

/** The composition an app's `store` names. */
export function appComposition(ctx: AppsContext, appName: string, store: string): CompositionDecl {
  const hash = store.lastIndexOf('#');
  if (hash <= 0 || hash === store.length - 1) {
    throw new AnalysisInputError(
      `apps.${appName}.store must be "path/to/file.ts#ClassName", got "${store}"`,
    );
  }
  const file = store.slice(0, hash);
  const className = store.slice(hash + 1);
  const module = moduleAt(ctx, path.resolve(ctx.config.root, file), `apps.${appName}.store`);
  const composition =
    ctx.index.compositions.find((c) => c.module === module && c.name === className) ??
    exportedComposition(ctx, module, className);
  if (composition) return composition;
  const declared = module.locals.get(className);
  // Compositions are found among the tsconfig's files only.
  if (declared && !ctx.project.includes(module.file.abs)) {
    throw new AnalysisInputError(
      `apps.${appName}.store: ${file} is not among the files of ${ctx.config.tsconfig} (its include, files and exclude), where store-lint finds stores and compositions: include it, or set "tsconfig" in the store-lint config to one that does`,
      module.file.rel,
    );
  }
  throw new AnalysisInputError(
    declared
      ? `apps.${appName}.store: ${className} in ${file} is not a store composition (a class extending mixins over SQLBaseStore)`
      : `apps.${appName}.store: ${file} declares no class ${className}`,
    module.file.rel,
  );
}

/** `recv.m` or `recv['m']`: the receiver, the member's name and the node naming it. */
function memberAccess(
  node: ts.Node,
): { receiver: ts.Expression; method: string; nameNode: ts.Node } | null {
  if (ts.isPropertyAccessExpression(node))
    return { receiver: node.expression, method: node.name.text, nameNode: node.name };
  if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression))
    return {
      receiver: node.expression,
      method: node.argumentExpression.text,
      nameNode: node.argumentExpression,
    };
  return null;
}

/** A composition the module exports under `name`: an alias, or a re-export (`export { X as Y } from`). */
function exportedComposition(
  ctx: AppsContext,
  module: ModuleInfo,
  name: string,
): CompositionDecl | undefined {
  const resolved = ctx.graph.resolveExport(module, name, new Set());
  return resolved ? ctx.index.compositions.find((c) => c.classNode === resolved.node) : undefined;
}

/** The entry modules and everything they import, in discovery order. */
function appModules(ctx: AppsContext, appName: string, entries: readonly string[]): ModuleInfo[] {
  const seen = new Set<string>();
  const order: ModuleInfo[] = [];
  const queue = entries.map((e) =>
    moduleAt(ctx, path.resolve(ctx.config.root, e), `apps.${appName}.entry`),
  );
  while (queue.length > 0) {
    const m = queue.shift()!;
    if (seen.has(m.file.abs)) continue;
    seen.add(m.file.abs);
    order.push(m);
    const elided = ctx.project.dropsTypeOnlyImports(m.file)
      ? elidedImportSpecifiers(m)
      : new Set<string>();
    const runs = ctx.project.keepsInlineTypeImports
      ? [...m.runSpecifiers, ...m.inlineTypeSpecifiers]
      : m.runSpecifiers.filter((s) => !elided.has(s));
    for (const spec of runs) {
      const target = ctx.project.resolveImport(spec, m.file.abs);
      const named = path.resolve(path.dirname(m.file.abs), spec);
      // Only a name with nothing behind it: a `.js` with declarations or a `.css` file exists.
      if (!target && spec.startsWith('.') && isInside(ctx.config.root, named) && !existsSync(named))
        missingImport(ctx, m, spec);
      // A `paths` alias that finds no file (a package of that name would resolve).
      if (
        !target &&
        !spec.startsWith('.') &&
        ctx.project.mapsPath(spec) &&
        ctx.project.resolvesNowhere(spec, m.file.abs)
      )
        missingImport(ctx, m, spec);
      const outside = target ? null : ctx.project.sourceOutsideProject(spec, m.file.abs);
      if (outside) outsideImport(ctx, m, spec, outside);
      if (!target || seen.has(target)) continue;
      if (!isInside(ctx.config.root, target) && !followedOutsideRoot(ctx, m, spec, target))
        continue;
      queue.push(moduleAt(ctx, target, `import "${spec}" in ${m.file.rel}`));
    }
  }
  return order;
}

/** A relative import of app code that names no file: what that file would run is not checked. */
function missingImport(ctx: AppsContext, m: ModuleInfo, spec: string): void {
  appImportUnresolved(ctx, m, spec, 'names no file');
}

/** A package import of app code that lands on TypeScript sources the tsconfig leaves out. */
function outsideImport(ctx: AppsContext, m: ModuleInfo, spec: string, rel: string): void {
  appImportUnresolved(ctx, m, spec, `resolves to ${rel}, which the tsconfig does not include`);
}

function appImportUnresolved(ctx: AppsContext, m: ModuleInfo, spec: string, why: string): void {
  const { sf, rel } = m.file;
  // The first string naming it: the import's specifier (the file's start if none).
  const find = (n: ts.Node): ts.Node | undefined =>
    ts.isStringLiteralLike(n) && n.text === spec ? n : ts.forEachChild(n, find);
  const at = find(sf) ?? sf;
  ctx.unresolved.add(
    'app-call',
    `\`${spec}\`, imported by app code in ${rel}, ${why}; the store calls made there are not checked`,
    nodeLocation(at, rel, sf),
  );
}

/**
 * Whether app code outside the root is followed: yes when the tsconfig
 * includes it (a workspace's shared folder); never into the storesplit
 * runtime itself (reached by a relative path from inside its checkout); any
 * other TypeScript source is said not to be checked.
 */
function followedOutsideRoot(
  ctx: AppsContext,
  m: ModuleInfo,
  spec: string,
  target: string,
): boolean {
  if (isRuntimeSource(target)) return false;
  if (ctx.project.includes(target)) return true;
  const rel = toPosix(path.relative(ctx.config.root, target));
  appImportUnresolved(
    ctx,
    m,
    spec,
    `resolves to ${rel}, outside the store-lint root, which the tsconfig does not include`,
  );
  return false;
}

function isInside(root: string, abs: string): boolean {
  const rel = path.relative(root, abs);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Store methods taken by destructuring: `const { m } = store` (the receiver is
 * the initializer) and a parameter `({ m }: MainDataStore)` (the receiver is
 * the pattern, whose type the checker knows).
 */
function destructuredAccesses(
  node: ts.Node,
): Array<{ receiver: ts.Expression | ts.ObjectBindingPattern; method: string; nameNode: ts.Node }> {
  const pattern =
    (ts.isVariableDeclaration(node) || ts.isParameter(node)) && ts.isObjectBindingPattern(node.name)
      ? node.name
      : null;
  if (!pattern) return [];
  const receiver = ts.isVariableDeclaration(node) ? node.initializer : pattern;
  if (!receiver) return [];
  return pattern.elements.flatMap((el) => {
    if (el.dotDotDotToken) return [];
    const key = el.propertyName ?? el.name;
    if (!ts.isIdentifier(key) && !ts.isStringLiteral(key)) return [];
    return [{ receiver, method: key.text, nameNode: key }];
  });
}

/**
 * Whether `expr` is a store's database handle in app code: `<store>.dbConn`
 * (the receiver declared as a store or composition), or the transaction a
 * callback of `<store>.dbConn.runInteraction(…)` is handed.
 */
function storeHandle(expr: ts.Expression, index: CodeIndex): boolean {
  const e = unwrapExpression(expr);
  if (ts.isPropertyAccessExpression(e) && e.name.text === 'dbConn') {
    const target = syntacticReceiver(e.expression, null, index);
    return target.kind === 'store' || target.kind === 'composition';
  }
  if (!ts.isIdentifier(e)) return false;
  const decl = findLocalDeclaration(e);
  const fn = decl && ts.isParameter(decl) ? decl.parent : null;
  const call = fn && (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) ? fn.parent : null;
  if (!call || !ts.isCallExpression(call)) return false;
  const callee = unwrapExpression(call.expression);
  return (
    ts.isPropertyAccessExpression(callee) &&
    callee.name.text === 'runInteraction' &&
    storeHandle(callee.expression, index)
  );
}

/**
 * Tables app code writes itself through a store's handle: a Kysely write
 * builder (`store.dbConn.deleteFrom('t')`) or raw SQL executed on it.
 */
function appWrites(ctx: AppsContext, m: ModuleInfo, node: ts.Node): AppWrite[] {
  if (!ts.isCallExpression(node)) return [];
  const callee = unwrapExpression(node.expression);
  if (!ts.isPropertyAccessExpression(callee)) return [];
  const { sf, rel } = m.file;
  const name = callee.name.text;
  const table = node.arguments[0] && unwrapExpression(node.arguments[0]);
  if (
    WRITE_METHODS.has(name) &&
    table &&
    ts.isStringLiteralLike(table) &&
    storeHandle(callee.expression, ctx.index)
  ) {
    const ref = parseTableReference(table.text);
    return [
      {
        table: normaliseTableName(ref.table, ctx.naming),
        location: nodeLocation(table, rel, sf),
      },
    ];
  }
  // `sql\`DELETE FROM t\`.execute(store.dbConn)`
  const template = unwrapExpression(callee.expression);
  if (
    name === 'execute' &&
    ts.isTaggedTemplateExpression(template) &&
    node.arguments[0] &&
    storeHandle(node.arguments[0], ctx.index)
  ) {
    return analyseSqlTemplate(template, () => null)
      .tables.filter((t) => t.access === 'write' && !t.builderName)
      .map((t) => ({
        table: normaliseSqlName(t.name),
        location: locationOf(sf, rel, t.start, t.end),
      }));
  }
  return [];
}

function appCalls(
  ctx: AppsContext,
  modules: readonly ModuleInfo[],
): { calls: AppCall[]; writes: AppWrite[] } {
  const calls: AppCall[] = [];
  const writes: AppWrite[] = [];
  const { index } = ctx;
  for (const m of modules) {
    const { sf, rel } = m.file;
    const record = (
      receiver: ts.Expression | ts.ObjectBindingPattern,
      method: string,
      nameNode: ts.Node,
    ): void => {
      let target = ts.isObjectBindingPattern(receiver)
        ? ({ kind: 'unknown' } as const)
        : syntacticReceiver(receiver, null, index);
      if (target.kind === 'unknown') {
        const checker = ctx.project.checker();
        target = targetOfType(checker.getTypeAtLocation(receiver), checker, index);
      }
      const location = nodeLocation(nameNode, rel, sf);
      if (target.kind === 'store' || target.kind === 'composition') {
        const receiverType =
          target.kind === 'store' ? target.store.exportName : target.composition.name;
        calls.push({ method, receiverType, location });
      } else if (target.kind === 'unresolvable') {
        ctx.unresolved.add(
          'app-call',
          `\`${receiver.getText(sf)}.${method}\` may call store method \`${method}\`, but the receiver's type (\`${target.type}\`) names no store or composition`,
          location,
        );
      }
    };
    const visit = (node: ts.Node): void => {
      if (index.isStoreExtent(node) || index.isCompositionNode(node)) return;
      // `recv.m`, or `recv['m']` with a literal name.
      const access = memberAccess(node);
      if (access && index.isStoreMethodName(access.method))
        record(access.receiver, access.method, access.nameNode);
      for (const d of destructuredAccesses(node))
        if (index.isStoreMethodName(d.method)) record(d.receiver, d.method, d.nameNode);
      writes.push(...appWrites(ctx, m, node));
      // `store[name](…)`: which method is not known. Said when syntax alone
      // shows a store (asking the checker about every `xs[i]` would not pay).
      if (
        ts.isElementAccessExpression(node) &&
        !ts.isStringLiteralLike(node.argumentExpression) &&
        ts.isCallExpression(node.parent) &&
        node.parent.expression === node
      ) {
        const target = syntacticReceiver(node.expression, null, index);
        if (target.kind === 'store' || target.kind === 'composition') {
          ctx.unresolved.add(
            'app-call',
            `\`${node.getText(sf)}(…)\` calls a method of ${target.kind === 'store' ? target.store.exportName : target.composition.name} by a computed name; store-lint cannot tell which`,
            nodeLocation(node.argumentExpression, rel, sf),
          );
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { calls, writes };
}

/** The store calls and own writes of an app's modules, in source order. */
function appAccesses(
  ctx: AppsContext,
  modules: readonly ModuleInfo[],
): { calls: AppCall[]; writes: AppWrite[] } {
  const { calls, writes } = appCalls(ctx, modules);
  return {
    calls: calls.sort(
      (a, b) => compareLocations(a.location, b.location) || (a.method < b.method ? -1 : 1),
    ),
    writes: writes.sort(
      (a, b) => compareLocations(a.location, b.location) || (a.table < b.table ? -1 : 1),
    ),
  };
}

export function analyseApps(ctx: AppsContext): {
  apps: AppInfo[];
  compositions: Map<string, CompositionDecl>;
} {
  const out: AppInfo[] = [];
  const compositions = new Map<string, CompositionDecl>();
  const names = Object.keys(ctx.config.apps).sort();
  // First every module (files outside the tsconfig are added), then the calls
  // (the checker sees every file at once).
  const plans = names.map((name) => {
    const app = ctx.config.apps[name]!;
    const composition = appComposition(ctx, name, app.store);
    compositions.set(name, composition);
    return { name, app, composition, modules: appModules(ctx, name, app.entry) };
  });
  for (const { name, app, composition, modules } of plans) {
    out.push({
      name,
      role: app.role,
      composition: composition.name,
      compositionFile: composition.module.file.rel,
      entries: app.entry.map((e) =>
        toPosix(path.relative(ctx.config.root, path.resolve(ctx.config.root, e))),
      ),
      allowedWrites: [...new Set(app.writes.map((t) => normaliseTableName(t, ctx.naming)))].sort(),
      ...appAccesses(ctx, modules),
      modules: modules.map((m) => m.file.rel).sort(),
    });
  }
  return { apps: out, compositions };
}
