// Where transactions open: `x.runInteraction(desc, cb)` (callback 1), Kysely's
// `x.transaction()…execute(cb)` (callback 0), and wrapper helpers — a store
// method or top-level function that hands one of its own parameters (or a
// function calling it) to one of those as the callback, found to a fixpoint
// so wrappers of wrappers count. Also: functions whose parameter is declared
// as a `Txn`/`Transaction` run inside a transaction (the `_fooTxn(txn, …)`
// helpers a `runInteraction` callback calls).
import { ts } from './typescript.cjs';
import type { CodeIndex, Unit } from './code-index.js';
import { typeReferenceName } from './stores.js';
import { unwrapExpression } from './streams.js';
import { isConst } from './query-consts.js';
import { findLocalDeclaration, isReference } from './receivers.js';

const TXN_TYPES = new Set(['Txn', 'Transaction', 'ControlledTransaction']);

/**
 * True when a function declares a parameter of a transaction type. Without
 * `controlled`, a `ControlledTransaction` does not count: the walker follows
 * it to its commit (`controlled-transactions.ts`) instead of taking the whole
 * body as inside.
 */
export function hasTxnParameter(fn: ts.SignatureDeclaration, controlled = true): boolean {
  return fn.parameters.some((p) => isTxnType(p.type, controlled));
}

/** `Txn<DB>`, `Transaction<DB>`, or what `Txn` stands for written out (`Transaction<DB> & TxnHooks`). */
export function isTxnType(type: ts.TypeNode | undefined, controlled = true): boolean {
  if (type && ts.isParenthesizedTypeNode(type)) return isTxnType(type.type, controlled);
  if (type && ts.isIntersectionTypeNode(type))
    return type.types.some((t) => isTxnType(t, controlled));
  const name = typeReferenceName(type);
  return name !== null && TXN_TYPES.has(name) && (controlled || name !== 'ControlledTransaction');
}

/**
 * Whether a call chain calls `name`, following a const that holds part of
 * it (`const tx = db.transaction().setIsolationLevel(…); tx.execute(cb)`).
 */
export function chainHasCall(expr: ts.Expression, name: string): boolean {
  let e = unwrapExpression(expr);
  for (let held = 0; ;) {
    if (ts.isIdentifier(e) && held++ < 4) {
      const decl = findLocalDeclaration(e);
      if (decl && ts.isVariableDeclaration(decl) && isConst(decl) && decl.initializer) {
        e = unwrapExpression(decl.initializer);
        continue;
      }
      return false;
    }
    if (ts.isCallExpression(e)) {
      const callee = unwrapExpression(e.expression);
      if (ts.isPropertyAccessExpression(callee)) {
        if (callee.name.text === name) return true;
        e = unwrapExpression(callee.expression);
        continue;
      }
      return false;
    }
    if (ts.isPropertyAccessExpression(e)) {
      e = unwrapExpression(e.expression);
      continue;
    }
    return false;
  }
}

/** False for parameters declared with a type no callback has (`id: number`, `rows: Row[]`). */
function mayBeCallback(type: ts.TypeNode | undefined): boolean {
  if (!type) return true;
  return (
    ts.isFunctionTypeNode(type) ||
    ts.isTypeReferenceNode(type) ||
    ts.isUnionTypeNode(type) ||
    ts.isIntersectionTypeNode(type) ||
    ts.isParenthesizedTypeNode(type) ||
    ts.isTypeQueryNode(type)
  );
}

/** Hooks whose callbacks run after the transaction settles, not inside it. */
export const DEFERRING_HOOKS: ReadonlySet<string> = new Set([
  'callAfter',
  'callOnException',
  'callOnRollback',
]);

/** The hook `arg` is handed to, when it is an argument of `txn.callAfter(…)` and the like. */
export function deferringHook(arg: ts.Node): string | null {
  const call = arg.parent;
  if (!call || !ts.isCallExpression(call) || !call.arguments.includes(arg as ts.Expression))
    return null;
  const callee = unwrapExpression(call.expression);
  return ts.isPropertyAccessExpression(callee) && DEFERRING_HOOKS.has(callee.name.text)
    ? callee.name.text
    : null;
}

const NO_DEFERRALS: ReadonlyMap<number, boolean> = new Map();

/**
 * The hooks a name is handed to within `scope` (the `callAfter` of
 * `txn.callAfter(after)`, or of `txn.callAfter(() => after())`), when that is
 * every use of it; null when it is used otherwise, or not at all. Uses are
 * found by name, leaving out property names, object keys, the declaration
 * itself (`declared`) and scopes that declare the name again.
 */
export function hooksTakingEveryUse(
  scope: ts.Node,
  declared: ts.Identifier | string,
): Set<string> | null {
  const name = typeof declared === 'string' ? declared : declared.text;
  const hooks = new Set<string>();
  let other = false;
  const visit = (n: ts.Node): void => {
    if (other) return;
    if (n !== scope && redeclares(n, name)) return;
    if (ts.isIdentifier(n) && n.text === name && n !== declared && isReference(n)) {
      const hook = hookOfUse(n);
      if (hook) hooks.add(hook);
      else other = true;
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(scope);
  return other || hooks.size === 0 ? null : hooks;
}

/** A block or function that declares `name` itself, so uses inside it are another binding's. */
function redeclares(n: ts.Node, name: string): boolean {
  if (ts.isFunctionLike(n))
    return n.parameters.some((p) => ts.isIdentifier(p.name) && p.name.text === name);
  if (!ts.isBlock(n) && !ts.isSourceFile(n) && !ts.isForStatement(n) && !ts.isForOfStatement(n))
    return false;
  const lists =
    ts.isBlock(n) || ts.isSourceFile(n)
      ? n.statements.flatMap((st) => (ts.isVariableStatement(st) ? [st.declarationList] : []))
      : n.initializer && ts.isVariableDeclarationList(n.initializer)
        ? [n.initializer]
        : [];
  return lists.some((l) =>
    l.declarations.some((d) => ts.isIdentifier(d.name) && d.name.text === name),
  );
}

/**
 * The hook `id` is handed to: as its argument, or called in a function that
 * is one (`txn.callAfter(() => after())`).
 */
function hookOfUse(id: ts.Identifier): string | null {
  let arg: ts.Node = id;
  while (ts.isParenthesizedExpression(arg.parent) || ts.isAsExpression(arg.parent))
    arg = arg.parent;
  const direct = deferringHook(arg);
  if (direct) return direct;
  // `after()` as the body of a function passed to the hook.
  const call = arg.parent;
  if (!ts.isCallExpression(call) || call.expression !== arg) return null;
  let fn: ts.Node | undefined = call.parent;
  while (fn && !ts.isFunctionLike(fn)) {
    if (ts.isBlock(fn) || ts.isExpressionStatement(fn) || ts.isParenthesizedExpression(fn)) {
      fn = fn.parent;
      continue;
    }
    return null;
  }
  return fn && (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) ? deferringHook(fn) : null;
}

/** A call in a function's body that hands on one of its parameters (or a function calling them). */
interface Forward {
  readonly call: ts.CallExpression;
  readonly argIndex: number;
  /** The function's parameters that this argument runs (it is one, or a function calling them). */
  readonly params: readonly number[];
}

// Both below read only the function's own syntax: kept per node, so that a
// long-running process (`store-lint --watch`) reads again only the
// functions of files it parsed again.
const forwardsOf = new WeakMap<ts.Node, readonly Forward[]>();
const deferredOf = new WeakMap<ts.Node, ReadonlyMap<number, boolean>>();

/** The calls in `fn`'s body that hand on one of its possible callback parameters. */
function parameterForwards(fn: Unit['fn']): readonly Forward[] {
  const known = forwardsOf.get(fn);
  if (known) return known;
  const forwards: Forward[] = [];
  const params = fn.parameters
    .map((p, i) =>
      ts.isIdentifier(p.name) && mayBeCallback(p.type) ? ([p.name.text, i] as const) : null,
    )
    .filter((x): x is readonly [string, number] => x !== null);
  if (params.length > 0 && fn.body) {
    const paramIndex = new Map(params);
    // Every parameter called inside `f`, except in callbacks it defers
    // past the transaction (`txn.callAfter(() => notify())`).
    const calledParams = (f: ts.Node): number[] => {
      const found = new Set<number>();
      const visit = (n: ts.Node): void => {
        if (n !== f && ts.isFunctionLike(n) && deferringHook(n) !== null) return;
        if (ts.isCallExpression(n) && ts.isIdentifier(n.expression)) {
          const i = paramIndex.get(n.expression.text);
          if (i !== undefined) found.add(i);
        }
        ts.forEachChild(n, visit);
      };
      visit(f);
      return [...found].sort((a, b) => a - b);
    };
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n)) {
        n.arguments.forEach((arg, argIndex) => {
          const a = unwrapExpression(arg);
          const direct = ts.isIdentifier(a) ? paramIndex.get(a.text) : undefined;
          const called =
            direct !== undefined
              ? [direct]
              : ts.isArrowFunction(a) || ts.isFunctionExpression(a)
                ? calledParams(a)
                : [];
          if (called.length) forwards.push({ call: n, argIndex, params: called });
        });
      }
      ts.forEachChild(n, visit);
    };
    visit(fn.body);
  }
  forwardsOf.set(fn, forwards);
  return forwards;
}

/** `fn`'s parameters handed only to a transaction hook: index → true when they run after commit. */
function deferredParameters(fn: Unit['fn']): ReadonlyMap<number, boolean> {
  const known = deferredOf.get(fn);
  if (known) return known;
  const deferred = new Map<number, boolean>();
  const body = fn.body;
  if (body) {
    fn.parameters.forEach((p, i) => {
      if (!ts.isIdentifier(p.name) || !mayBeCallback(p.type)) return;
      const hooks = hooksTakingEveryUse(body, p.name.text);
      if (hooks) deferred.set(i, hooks.has('callAfter'));
    });
  }
  deferredOf.set(fn, deferred);
  return deferred;
}

export class TransactionOpeners {
  /** Wrapper units → the indices of their parameters that run inside the transaction. */
  readonly wrappers = new Map<Unit, readonly number[]>();
  /** Deferring units → their parameters handed only to a hook (true: `callAfter`). */
  readonly deferrers = new Map<Unit, ReadonlyMap<number, boolean>>();

  constructor(readonly index: CodeIndex) {}

  /** The argument indices of the callbacks `call` runs inside a transaction it opens (none: not an opener). */
  callbackIndices(call: ts.CallExpression, from: Unit): readonly number[] {
    const callee = unwrapExpression(call.expression);
    if (ts.isPropertyAccessExpression(callee)) {
      const name = callee.name.text;
      if (name === 'runInteraction') return [1];
      if (name === 'execute' && chainHasCall(callee.expression, 'transaction')) return [0];
    }
    if (!this.wrappers.size) return [];
    for (const unit of this.calleeUnits(call, from)) {
      const indices = this.wrappers.get(unit);
      if (indices) return indices;
    }
    return [];
  }

  /**
   * The arguments a call hands to a helper that only defers them to a
   * transaction hook (`onCommit(txn, () => …)` over `txn.callAfter(fn)`):
   * index → true when they run after commit, false after a failure.
   */
  deferredIndices(call: ts.CallExpression, from: Unit): ReadonlyMap<number, boolean> {
    if (!this.deferrers.size) return NO_DEFERRALS;
    for (const unit of this.calleeUnits(call, from)) {
      const indices = this.deferrers.get(unit);
      if (indices) return indices;
    }
    return NO_DEFERRALS;
  }

  /** The units a call may run: `this.m(…)`/`super.m(…)` in a store, or a helper function `f(…)`. */
  calleeUnits(call: ts.CallExpression, from: Unit): readonly Unit[] {
    const callee = unwrapExpression(call.expression);
    if (ts.isPropertyAccessExpression(callee)) {
      const recv = callee.expression.kind;
      if (
        (recv !== ts.SyntaxKind.ThisKeyword && recv !== ts.SyntaxKind.SuperKeyword) ||
        !from.store
      )
        return [];
      const target = this.index.resolveThis(
        from.store,
        callee.name.text,
        recv === ts.SyntaxKind.SuperKeyword,
      );
      return target?.units ?? [];
    }
    if (ts.isIdentifier(callee)) {
      const unit = this.index.functionUnit(from.module, callee.text);
      return unit ? [unit] : [];
    }
    return [];
  }

  /**
   * Finds the helpers among `units` that only hand a parameter to a
   * transaction hook: every use of it in the body is an argument of
   * `callAfter`, `callOnException` or `callOnRollback`.
   */
  findDeferrers(units: readonly Unit[]): void {
    for (const unit of units) {
      const deferred = deferredParameters(unit.fn);
      if (deferred.size) this.deferrers.set(unit, deferred);
    }
  }

  /** Finds the wrapper helpers among `units` (to a fixpoint). */
  findWrappers(units: readonly Unit[]): void {
    const forwards = units.flatMap((unit) =>
      parameterForwards(unit.fn).map((f) => ({ ...f, unit })),
    );
    for (let changed = true; changed;) {
      changed = false;
      for (const f of forwards) {
        if (!this.callbackIndices(f.call, f.unit).includes(f.argIndex)) continue;
        const known = this.wrappers.get(f.unit) ?? [];
        const added = f.params.filter((i) => !known.includes(i));
        if (added.length) {
          this.wrappers.set(
            f.unit,
            [...known, ...added].sort((a, b) => a - b),
          );
          changed = true;
        }
      }
    }
  }
}
