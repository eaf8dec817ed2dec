// Kysely's controlled transactions, as syntax: `const trx = await
// db.startTransaction()….execute()` opens a transaction that stays open, in
// the method's own flow, until `await trx.commit().execute()` (or
// `rollback()`); `await trx.savepoint('s').execute()` (and
// `releaseSavepoint`, `rollbackToSavepoint`) gives another handle on the same
// transaction. A parameter typed `ControlledTransaction` is one the function
// is handed open. This module finds those shapes and sorts every use of such a
// handle: a query on it, a commit or rollback store-lint can place in the flow,
// or one it cannot (a commit on one branch only, in another function), and the
// handle escaping (returned, stored, handed to code that might commit it). The
// walker (`method-facts.ts`) keeps the state; what cannot be placed becomes an
// `analysis-unresolved` fact, never a guess.
import { ts } from './typescript.cjs';
import { isConst } from './query-consts.js';
import { isReference } from './receivers.js';
import { typeReferenceName } from './stores.js';
import { unwrapExpression } from './streams.js';
import { chainHasCall } from './transactions.js';

/** Calls that end a controlled transaction. */
export type Settle = 'commit' | 'rollback';

/** Calls on a controlled transaction that return another handle on it. */
const SAVEPOINTS = new Set(['savepoint', 'releaseSavepoint', 'rollbackToSavepoint']);
/** Options of `startTransaction()` before its `execute()`. */
const START_OPTIONS = new Set(['setIsolationLevel', 'setAccessMode']);

/**
 * Where a commit or rollback stands in its function, when store-lint can place it:
 * - `straight`: a statement of the block that declares the handle, or of a
 *   block or `try` block nested in it, so it runs whenever that block goes on;
 * - `branch`: a statement of an `if` branch that ends in `return` or `throw`,
 *   so the code after the `if` runs only where the branch was not taken;
 * - `catch`: a rollback in a `catch` block;
 * - `return`: its result is returned: nothing of the function runs after it.
 */
export type SettlePosition = 'straight' | 'branch' | 'catch' | 'return';

/** One use of a controlled-transaction handle, sorted. */
export type HandleUse =
  | { readonly kind: 'query' }
  /** `await h.commit().execute()`: `call` is the `execute()` call; `position` null when it cannot be placed. */
  | {
      readonly kind: 'settle';
      readonly settle: Settle;
      readonly call: ts.CallExpression;
      readonly position: SettlePosition | null;
      readonly why: string;
    }
  /** `const sp = await h.savepoint('s').execute()`: another handle on the same transaction. */
  | { readonly kind: 'alias'; readonly decl: ts.VariableDeclaration }
  /** Handed to a call as argument `index`: whether that may end it depends on the callee. */
  | { readonly kind: 'argument'; readonly call: ts.CallExpression; readonly index: number }
  /** Anything else: where it goes, store-lint does not follow. */
  | { readonly kind: 'escape'; readonly how: string };

/** `e` with the parentheses, type assertions and `!` around it: what its parent sees. */
function outermost(e: ts.Node): ts.Node {
  let n = e;
  while (
    ts.isParenthesizedExpression(n.parent) ||
    ts.isAsExpression(n.parent) ||
    ts.isNonNullExpression(n.parent) ||
    ts.isSatisfiesExpression(n.parent) ||
    ts.isTypeAssertionExpression(n.parent)
  )
    n = n.parent;
  return n;
}

/** `recv.name(…)` where `recv` is `e`: that call and the method name; null for anything else. */
function calledOn(e: ts.Node): { call: ts.CallExpression; name: string } | null {
  const outer = outermost(e);
  const access = outer.parent;
  if (!ts.isPropertyAccessExpression(access) || access.expression !== outer) return null;
  const call = outermost(access).parent;
  if (!ts.isCallExpression(call) || outermost(access) !== call.expression) return null;
  return { call, name: access.name.text };
}

/** `const x = await e`: that declaration, when `e` is awaited straight into a `const` with a plain name. */
function awaitedIntoConst(e: ts.Node): ts.VariableDeclaration | null {
  const awaited = outermost(e).parent;
  if (!ts.isAwaitExpression(awaited)) return null;
  const decl = outermost(awaited).parent;
  return ts.isVariableDeclaration(decl) &&
    decl.initializer === outermost(awaited) &&
    ts.isIdentifier(decl.name) &&
    isConst(decl)
    ? decl
    : null;
}

/**
 * Whether a variable's initializer opens a controlled transaction:
 * `await x.startTransaction()….execute()`, also through a const that holds
 * the builder (`const b = db.startTransaction(); await b.execute()`).
 */
export function opensControlledTransaction(decl: ts.VariableDeclaration): boolean {
  const init = decl.initializer && unwrapExpression(decl.initializer);
  if (!init || !ts.isAwaitExpression(init)) return false;
  const call = unwrapExpression(init.expression);
  if (!ts.isCallExpression(call) || call.arguments.length > 0) return false;
  const callee = unwrapExpression(call.expression);
  return (
    ts.isPropertyAccessExpression(callee) &&
    callee.name.text === 'execute' &&
    chainHasCall(callee.expression, 'startTransaction')
  );
}

/**
 * Why a `startTransaction()` call opens a transaction store-lint cannot
 * follow; null when it is awaited into a `const` (through the builder's
 * options, or a `const` holding the builder whose every use is).
 */
export function untrackedStart(start: ts.Node, depth = 0): string | null {
  let node: ts.Node = start;
  for (;;) {
    const next = calledOn(node);
    if (next && START_OPTIONS.has(next.name)) {
      node = next.call;
      continue;
    }
    if (next && next.name === 'execute') {
      if (awaitedIntoConst(next.call)) return null;
      const awaited = outermost(next.call).parent;
      const holder = ts.isAwaitExpression(awaited) ? outermost(awaited).parent : awaited;
      if (ts.isReturnStatement(holder) || ts.isArrowFunction(holder)) return 'is returned';
      if (ts.isBinaryExpression(holder) && holder.operatorToken.kind === ts.SyntaxKind.EqualsToken)
        return `is assigned to \`${holder.left.getText()}\``;
      return 'is not awaited into a `const`';
    }
    if (next) return `is used as \`….${next.name}(…)\``;
    break;
  }
  // `const b = db.startTransaction()…`: each use of `b` must start it as above.
  const decl = outermost(node).parent;
  if (
    depth < 3 &&
    ts.isVariableDeclaration(decl) &&
    decl.initializer === outermost(node) &&
    ts.isIdentifier(decl.name) &&
    isConst(decl)
  ) {
    const scope = declarationScope(decl);
    for (const use of usesOf(scope, decl.name)) {
      const why = untrackedStart(use, depth + 1);
      if (why) return `is held in \`${decl.name.text}\`, which ${why}`;
    }
    return null;
  }
  return 'is not awaited into a `const`';
}

/** The block (or function body, file, case clause) whose statements declare `decl`. */
export function declarationScope(decl: ts.VariableDeclaration | ts.ParameterDeclaration): ts.Node {
  if (ts.isParameter(decl)) return (decl.parent as ts.FunctionLikeDeclaration).body ?? decl.parent;
  const statement = decl.parent.parent;
  return ts.isVariableStatement(statement) ? statement.parent : decl.parent.parent;
}

/** The function `node` runs in: its nearest enclosing function-like node (or the file). */
export function enclosingFunction(node: ts.Node): ts.Node {
  let n = node.parent;
  while (n && !ts.isFunctionLike(n) && !ts.isSourceFile(n) && !ts.isClassStaticBlockDeclaration(n))
    n = n.parent;
  return n;
}

/** A declaration or scope that declares `name` again, so uses inside it are another binding's. */
function shadows(n: ts.Node, name: string): boolean {
  if (ts.isFunctionLike(n))
    return n.parameters.some((p) => ts.isIdentifier(p.name) && p.name.text === name);
  if (ts.isCatchClause(n))
    return (
      n.variableDeclaration !== undefined &&
      ts.isIdentifier(n.variableDeclaration.name) &&
      n.variableDeclaration.name.text === name
    );
  const lists = ts.isBlock(n)
    ? n.statements.flatMap((st) => (ts.isVariableStatement(st) ? [st.declarationList] : []))
    : (ts.isForStatement(n) || ts.isForOfStatement(n) || ts.isForInStatement(n)) &&
        n.initializer &&
        ts.isVariableDeclarationList(n.initializer)
      ? [n.initializer]
      : [];
  return lists.some((l) =>
    l.declarations.some((d) => ts.isIdentifier(d.name) && d.name.text === name),
  );
}

/** The identifiers in `scope` that read the binding `declared` names (not other bindings of the name). */
export function usesOf(scope: ts.Node, declared: ts.Identifier): ts.Identifier[] {
  const name = declared.text;
  const out: ts.Identifier[] = [];
  const visit = (n: ts.Node): void => {
    if (n !== scope && shadows(n, name)) return;
    if (ts.isIdentifier(n)) {
      if (n.text === name && n !== declared && isReference(n)) out.push(n);
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(scope);
  return out;
}

/** Whether a block ends in `return` or `throw`: code after the statement holding it does not run after it. */
export function endsAbruptly(statement: ts.Statement): boolean {
  if (ts.isReturnStatement(statement) || ts.isThrowStatement(statement)) return true;
  if (!ts.isBlock(statement)) return false;
  const last = statement.statements.at(-1);
  return last !== undefined && endsAbruptly(last);
}

/**
 * Where a commit or rollback statement stands relative to `scope`, the block
 * that declares its handle (see `SettlePosition`); null when it runs on a
 * path store-lint does not follow (a branch that goes on, a loop, a `finally`).
 */
function settlePosition(
  statement: ts.Statement,
  settle: Settle,
  scope: ts.Node,
): SettlePosition | null {
  let cur: ts.Node = statement;
  for (;;) {
    const p = cur.parent;
    if (p === scope) return 'straight';
    if (!ts.isBlock(p)) return null;
    const holder = p.parent;
    if (ts.isTryStatement(holder) && holder.tryBlock === p) cur = holder;
    else if (ts.isBlock(holder) || holder === scope) cur = p;
    else if (
      ts.isIfStatement(holder) &&
      (holder.thenStatement === p || holder.elseStatement === p) &&
      endsAbruptly(p)
    )
      return 'branch';
    else if (ts.isCatchClause(holder) && settle === 'rollback') return 'catch';
    else return null;
  }
}

/** A parameter type that cannot end a transaction: `Transaction<DB>`, `Txn<DB>`, `Kysely<DB>`. */
export function cannotSettle(type: ts.TypeNode | undefined): boolean {
  if (!type) return false;
  if (ts.isParenthesizedTypeNode(type)) return cannotSettle(type.type);
  if (ts.isIntersectionTypeNode(type))
    return (
      type.types.some(cannotSettle) &&
      !type.types.some((t) => typeReferenceName(t) === 'ControlledTransaction')
    );
  const name = typeReferenceName(type);
  return name === 'Transaction' || name === 'Txn' || name === 'Kysely';
}

/** Whether a parameter is declared as a `ControlledTransaction`: one the function is handed open. */
export function isControlledParameter(p: ts.ParameterDeclaration): boolean {
  return ts.isIdentifier(p.name) && typeReferenceName(p.type) === 'ControlledTransaction';
}

/**
 * Sorts a use of a handle declared in `home` (the function that declares it)
 * with `scope` the block that does.
 */
export function classifyUse(id: ts.Identifier, home: ts.Node, scope: ts.Node): HandleUse {
  const name = id.text;
  const on = calledOn(id);
  if (on && (on.name === 'commit' || on.name === 'rollback')) {
    const settle: Settle = on.name;
    const exec = calledOn(on.call);
    if (!exec || exec.name !== 'execute')
      return {
        kind: 'escape',
        how: `\`${name}.${settle}()\` is not run as \`await ${name}.${settle}().execute()\``,
      };
    const call = exec.call;
    if (enclosingFunction(id) !== home)
      return { kind: 'settle', settle, call, position: null, why: 'in another function' };
    const awaited = outermost(call).parent;
    const top = ts.isAwaitExpression(awaited) ? outermost(awaited) : outermost(call);
    const statement = top.parent;
    if (
      ts.isReturnStatement(statement) ||
      (ts.isArrowFunction(statement) && statement.body === top)
    )
      return { kind: 'settle', settle, call, position: 'return', why: '' };
    if (!ts.isAwaitExpression(awaited) || !ts.isExpressionStatement(statement))
      return {
        kind: 'settle',
        settle,
        call,
        position: null,
        why: 'not awaited as a statement of its own',
      };
    const position = settlePosition(statement, settle, scope);
    return {
      kind: 'settle',
      settle,
      call,
      position,
      why: position
        ? ''
        : 'on some paths only (a branch that goes on after it, a loop, a `finally`)',
    };
  }
  if (on && SAVEPOINTS.has(on.name)) {
    const exec = calledOn(on.call);
    if (exec && exec.name === 'execute') {
      const decl = awaitedIntoConst(exec.call);
      if (decl && enclosingFunction(decl) === home) return { kind: 'alias', decl };
      const parent = outermost(exec.call).parent;
      if (ts.isAwaitExpression(parent) && ts.isExpressionStatement(outermost(parent).parent))
        return { kind: 'query' };
    }
    return {
      kind: 'escape',
      how: `the handle \`${name}.${on.name}(…)\` gives is not awaited into a \`const\` of the same function`,
    };
  }
  const outer = outermost(id);
  const parent = outer.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.expression === outer)
    return { kind: 'query' };
  if (ts.isCallExpression(parent) && parent.arguments.includes(outer as ts.Expression))
    return {
      kind: 'argument',
      call: parent,
      index: parent.arguments.indexOf(outer as ts.Expression),
    };
  if (ts.isReturnStatement(parent) || (ts.isArrowFunction(parent) && parent.body === outer))
    return { kind: 'escape', how: `\`${name}\` is returned` };
  if (
    ts.isBinaryExpression(parent) &&
    parent.right === outer &&
    parent.operatorToken.kind === ts.SyntaxKind.EqualsToken
  )
    return { kind: 'escape', how: `\`${name}\` is assigned to \`${parent.left.getText()}\`` };
  if (ts.isVariableDeclaration(parent))
    return { kind: 'escape', how: `\`${name}\` is held in \`${parent.name.getText()}\` too` };
  return { kind: 'escape', how: `\`${name}\` is used as a value` };
}
