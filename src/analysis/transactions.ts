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

const TXN_TYPES = new Set(['Txn', 'Transaction', 'ControlledTransaction']);

/** True when a function declares a parameter of a transaction type. */
export function hasTxnParameter(fn: ts.SignatureDeclaration): boolean {
  return fn.parameters.some((p) => isTxnType(p.type));
}

/** `Txn<DB>`, `Transaction<DB>`, or what `Txn` stands for written out (`Transaction<DB> & TxnHooks`). */
export function isTxnType(type: ts.TypeNode | undefined): boolean {
  if (type && ts.isParenthesizedTypeNode(type)) return isTxnType(type.type);
  if (type && ts.isIntersectionTypeNode(type)) return type.types.some(isTxnType);
  const name = typeReferenceName(type);
  return name !== null && TXN_TYPES.has(name);
}

function chainHasCall(expr: ts.Expression, name: string): boolean {
  let e = unwrapExpression(expr);
  for (;;) {
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

export class TransactionOpeners {
  /** Wrapper units → the indices of their parameters that run inside the transaction. */
  readonly wrappers = new Map<Unit, readonly number[]>();

  constructor(readonly index: CodeIndex) {}

  /** The argument indices of the callbacks `call` runs inside a transaction it opens (none: not an opener). */
  callbackIndices(call: ts.CallExpression, from: Unit): readonly number[] {
    const callee = unwrapExpression(call.expression);
    if (ts.isPropertyAccessExpression(callee)) {
      const name = callee.name.text;
      if (name === 'runInteraction') return [1];
      if (name === 'execute' && chainHasCall(callee.expression, 'transaction')) return [0];
      const recv = callee.expression.kind;
      if (
        this.wrappers.size &&
        (recv === ts.SyntaxKind.ThisKeyword || recv === ts.SyntaxKind.SuperKeyword) &&
        from.store
      ) {
        const target = this.index.resolveThis(
          from.store,
          name,
          recv === ts.SyntaxKind.SuperKeyword,
        );
        for (const unit of target?.units ?? []) {
          const indices = this.wrappers.get(unit);
          if (indices) return indices;
        }
      }
      return [];
    }
    if (ts.isIdentifier(callee) && this.wrappers.size) {
      const unit = this.index.functionUnit(from.module, callee.text);
      return (unit && this.wrappers.get(unit)) ?? [];
    }
    return [];
  }

  /** Finds the wrapper helpers among `units` (to a fixpoint). */
  findWrappers(units: readonly Unit[]): void {
    interface Forward {
      readonly unit: Unit;
      readonly call: ts.CallExpression;
      readonly argIndex: number;
      /** The unit's parameters that this argument runs (it is one, or a function calling them). */
      readonly params: readonly number[];
    }
    const forwards: Forward[] = [];
    for (const unit of units) {
      const params = unit.fn.parameters
        .map((p, i) =>
          ts.isIdentifier(p.name) && mayBeCallback(p.type) ? ([p.name.text, i] as const) : null,
        )
        .filter((x): x is readonly [string, number] => x !== null);
      if (params.length === 0 || !unit.fn.body) continue;
      const paramIndex = new Map(params);
      // Every parameter called inside `fn`, except in callbacks it defers
      // past the transaction (`txn.callAfter(() => notify())`).
      const calledParams = (fn: ts.Node): number[] => {
        const found = new Set<number>();
        const visit = (n: ts.Node): void => {
          if (n !== fn && ts.isFunctionLike(n) && deferringHook(n) !== null) return;
          if (ts.isCallExpression(n) && ts.isIdentifier(n.expression)) {
            const i = paramIndex.get(n.expression.text);
            if (i !== undefined) found.add(i);
          }
          ts.forEachChild(n, visit);
        };
        visit(fn);
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
            if (called.length) forwards.push({ unit, call: n, argIndex, params: called });
          });
        }
        ts.forEachChild(n, visit);
      };
      visit(unit.fn.body);
    }
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
