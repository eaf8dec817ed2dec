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
  return fn.parameters.some((p) => {
    const name = typeReferenceName(p.type);
    return name !== null && TXN_TYPES.has(name);
  });
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

export class TransactionOpeners {
  readonly wrappers = new Map<Unit, number>();

  constructor(readonly index: CodeIndex) {}

  /** The argument index of the transaction callback if `call` opens a transaction, else null. */
  callbackIndex(call: ts.CallExpression, from: Unit): number | null {
    const callee = unwrapExpression(call.expression);
    if (ts.isPropertyAccessExpression(callee)) {
      const name = callee.name.text;
      if (name === 'runInteraction') return 1;
      if (name === 'execute' && chainHasCall(callee.expression, 'transaction')) return 0;
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
          const i = this.wrappers.get(unit);
          if (i !== undefined) return i;
        }
      }
      return null;
    }
    if (ts.isIdentifier(callee) && this.wrappers.size) {
      const unit = this.index.functionUnit(from.module, callee.text);
      const i = unit && this.wrappers.get(unit);
      return i ?? null;
    }
    return null;
  }

  /** Finds the wrapper helpers among `units` (to a fixpoint). */
  findWrappers(units: readonly Unit[]): void {
    interface Forward {
      readonly unit: Unit;
      readonly call: ts.CallExpression;
      readonly argIndex: number;
      readonly paramIndex: number;
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
      const callsParam = (fn: ts.Node): number | null => {
        let found: number | null = null;
        const visit = (n: ts.Node): void => {
          if (found !== null) return;
          if (ts.isCallExpression(n) && ts.isIdentifier(n.expression)) {
            const i = paramIndex.get(n.expression.text);
            if (i !== undefined) found = i;
          }
          ts.forEachChild(n, visit);
        };
        visit(fn);
        return found;
      };
      const visit = (n: ts.Node): void => {
        if (ts.isCallExpression(n)) {
          n.arguments.forEach((arg, argIndex) => {
            const a = unwrapExpression(arg);
            const i = ts.isIdentifier(a)
              ? paramIndex.get(a.text)
              : ts.isArrowFunction(a) || ts.isFunctionExpression(a)
                ? callsParam(a)
                : null;
            if (i !== undefined && i !== null)
              forwards.push({ unit, call: n, argIndex, paramIndex: i });
          });
        }
        ts.forEachChild(n, visit);
      };
      visit(unit.fn.body);
    }
    for (let changed = true; changed;) {
      changed = false;
      for (const f of forwards) {
        if (this.wrappers.has(f.unit)) continue;
        if (this.callbackIndex(f.call, f.unit) === f.argIndex) {
          this.wrappers.set(f.unit, f.paramIndex);
          changed = true;
        }
      }
    }
  }
}
