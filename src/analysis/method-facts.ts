// Fact collection for one unit (a store method or a top-level helper
// function): one walk of the raw `ts` tree of its body, in source order,
// collecting
// - table accesses: Kysely builder calls, on any receiver (`this.dbConn`,
//   `txn`, `eb`, a handle field or constructor parameter, a helper's result),
//   and destructured builder functions (`({ selectFrom }) => …`); raw `sql`;
// - invalidations with their transaction context, ID allocations, calls and
//   method references to other store methods, calls to helper functions.
// The walk threads two things down the tree: the CTE names visible at a node
// (a `with` call defines its name for the rest of its chain, for later `with`
// bodies and, if recursive, for its own body; names never leak out of a
// callback), and the transaction context (inside a transaction callback,
// inside `callAfter`, after an awaited interaction, and, through the
// function's own flow of `if`, `try` and loops, whether a Kysely controlled
// transaction is open, committed or not known: `controlled-transactions.ts`).
// The type checker is asked only for a table argument that is not a literal.
import { ts } from './typescript.cjs';
import type { CodeIndex, Unit } from './code-index.js';
import {
  cannotSettle,
  classifyUse,
  declarationScope,
  endsAbruptly,
  enclosingFunction,
  isControlledParameter,
  opensControlledTransaction,
  untrackedStart,
  usesOf,
  type Settle,
  type SettlePosition,
} from './controlled-transactions.js';
import { locationOf, nodeLocation } from './location.js';
import type { RoutineAccess } from './triggers.js';
import type { WriteKind } from './foreign-keys.js';
import type {
  InvalidationInfo,
  InvalidationKind,
  SourceLocation,
  StreamAllocation,
  TableAccess,
  UnresolvedKind,
} from './model.js';
import { isRuntimeSource, type AnalysisProject } from './project.js';
import {
  analyseSqlTemplate,
  analyseSqlText,
  isSqlTemplate,
  sqlHelper,
  type RawSqlResult,
} from './raw-sql.js';
import {
  findLocalDeclaration,
  syntacticReceiver,
  targetOfType,
  type ReceiverTarget,
} from './receivers.js';
import type { CompositionDecl, FieldDecl, StoreDecl } from './stores.js';
import { unwrapExpression } from './streams.js';
import {
  cteName,
  normaliseBuilderName,
  normaliseSqlName,
  parseTableReference,
  type Naming,
} from './table-names.js';
import {
  importedQueryModule,
  isQuery,
  constantValue,
  isConst,
  queryConstNames,
  READ_METHODS,
  WRITE_METHODS,
  type QueryKind,
} from './query-consts.js';
import {
  DEFERRING_HOOKS,
  hasTxnParameter,
  hooksTakingEveryUse,
  isTxnType,
  type TransactionOpeners,
} from './transactions.js';
import type { UnresolvedSink } from './unresolved.js';

const INVALIDATIONS = new Map<
  InvalidationKind,
  { readonly target: number; readonly keyed: boolean }
>([
  ['invalidate', { target: 0, keyed: true }],
  ['invalidatePrefix', { target: 0, keyed: true }],
  ['invalidateAll', { target: 0, keyed: false }],
  ['invalidateCacheAndStream', { target: 1, keyed: true }],
  ['invalidateCacheAndStreamBulk', { target: 1, keyed: false }],
  ['invalidateAllCacheAndStream', { target: 1, keyed: false }],
]);

const ID_ALLOCATIONS = new Set(['withNextId', 'withNextIds', 'nextIdInTxn']);

export interface GeneratorField {
  readonly stream: string;
  readonly kind: 'idGenerator' | 'memoryStream';
}

export interface WalkContext {
  readonly project: AnalysisProject;
  readonly index: CodeIndex;
  readonly openers: TransactionOpeners;
  readonly naming: Naming;
  readonly unresolved: UnresolvedSink;
  /** Functions and procedures the schema defines. */
  readonly schemaRoutines: ReadonlySet<string>;
  /** What running each routine the schema defines (with a body store-lint reads) reads and writes. */
  readonly routineAccess: ReadonlyMap<string, RoutineAccess>;
  generatorField(store: StoreDecl, field: string): GeneratorField | null;
}

/** A call (or reference) to a store method, resolved as far as the calling code alone allows. */
export interface CallFact {
  readonly method: string;
  readonly receiver: string;
  /** `this`/`super`: the composition may re-resolve it; `typed`: fixed by the receiver's type. */
  readonly kind: 'this' | 'super' | 'typed';
  readonly store: StoreDecl | null;
  readonly units: readonly Unit[];
  /** For a receiver typed as a composition: resolved in that composition. */
  readonly composition: CompositionDecl | null;
  readonly reference: boolean;
  readonly inTransaction: boolean;
  readonly location: SourceLocation;
}

/** The kind of write a builder call (`deleteFrom`) makes; unknown for one that names no write. */
function builderWriteKind(method: string): WriteKind {
  const kind = WRITE_METHODS.get(method);
  return kind === undefined || kind === 'select' ? 'unknown' : kind;
}

/** A table access as the walk finds it: a write with the kind of statement (for foreign keys' actions). */
export interface FoundAccess extends TableAccess {
  readonly kind?: WriteKind;
}

export interface UnitFacts {
  readonly accesses: FoundAccess[];
  readonly invalidations: InvalidationInfo[];
  readonly allocations: StreamAllocation[];
  readonly calls: CallFact[];
  readonly helpers: Set<Unit>;
  /** How many unresolved facts the walk reported. */
  unresolved: number;
}

/**
 * Where a controlled transaction stands at a point of its function's flow:
 * open, committed, closed (rolled back, or committed on some paths and rolled
 * back on the others), not known here, or not known and already said by an
 * unresolved fact (a use store-lint does not follow).
 */
type ControlledState = 'open' | 'committed' | 'closed' | 'unknown' | 'said';

/** A controlled transaction (with every savepoint handle on it) in the flow of the function that holds it. */
interface Controlled {
  readonly name: string;
  state: ControlledState;
  /** How many times a use changed its state: a `catch` may start after any of them. */
  changes: number;
  /** The uses store-lint does not follow: a loop around one may run it before any code of the loop. */
  readonly unfollowed: ts.Node[];
}

type Snapshot = Map<Controlled, ControlledState>;

interface Flow {
  afterInteraction: boolean;
  /** The controlled transactions this function opened or was handed, by declaration (handles on one share it). */
  readonly controlled: Map<ts.Node, Controlled>;
}

function newFlow(): Flow {
  return { afterInteraction: false, controlled: new Map() };
}

interface Env {
  readonly inTxn: boolean;
  readonly afterCommit: boolean;
  /** Inside a function nested in the unit's body: calling the unit need not run it. */
  readonly nested: boolean;
  /**
   * The name of a controlled transaction that was open (or may have been)
   * where this nested function was made: whether it runs before or after the
   * commit is not known.
   */
  readonly around: string | null;
  readonly flow: Flow;
}

function snapshot(flow: Flow): Snapshot {
  const out: Snapshot = new Map();
  for (const c of flow.controlled.values()) out.set(c, c.state);
  return out;
}

/**
 * Sets the states a snapshot holds, except where a use store-lint does not
 * follow has been said since: that stays (a `return` in a synchronous
 * callback leaves the callback, not the function).
 */
function restore(snap: Snapshot): void {
  for (const [c, state] of snap) if (c.state !== 'said') c.state = state;
}

/**
 * The state after two paths meet. Open on one and rolled back on the other
 * is open: an invalidation after it comes before the commit where the
 * transaction goes on, and no commit follows where it was rolled back.
 */
function joinState(a: ControlledState, b: ControlledState): ControlledState {
  if (a === b) return a;
  if (a === 'said' || b === 'said') return 'said';
  if ((a === 'committed' || a === 'closed') && (b === 'committed' || b === 'closed'))
    return 'closed';
  if ((a === 'open' && b === 'closed') || (a === 'closed' && b === 'open')) return 'open';
  return 'unknown';
}

/** The states after either of two paths (null: a path that does not reach there). */
function join(a: Snapshot | null, b: Snapshot | null): Snapshot | null {
  if (!a || !b) return a ?? b;
  const out: Snapshot = new Map();
  for (const [c, state] of a) out.set(c, joinState(state, b.get(c) ?? state));
  return out;
}

function openControlled(flow: Flow, also?: ControlledState): Controlled | null {
  for (const c of flow.controlled.values()) if (c.state === 'open' || c.state === also) return c;
  return null;
}

function hasCommitted(flow: Flow): boolean {
  for (const c of flow.controlled.values()) if (c.state === 'committed') return true;
  return false;
}

function isLoop(node: ts.Node): boolean {
  return (
    ts.isForStatement(node) ||
    ts.isForOfStatement(node) ||
    ts.isForInStatement(node) ||
    ts.isWhileStatement(node) ||
    ts.isDoStatement(node)
  );
}

interface ChainState {
  readonly ctes: ReadonlySet<string>;
  readonly query: QueryKind | null;
  /** The chain contains a transaction opener (for `.then` after it). */
  readonly interaction: boolean;
}

type LiteralNames = { readonly names: string[] } | 'object' | { readonly unresolved: string };

function isFunctionWithBody(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    (ts.isArrowFunction(node) ||
      ts.isFunctionExpression(node) ||
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node) ||
      ts.isConstructorDeclaration(node)) &&
    node.body !== undefined
  );
}

function isThis(e: ts.Expression): boolean {
  return unwrapExpression(e).kind === ts.SyntaxKind.ThisKeyword;
}

/** `this`, or a const holding it (`const self = this`). */
function isSelf(e: ts.Expression): boolean {
  if (isThis(e)) return true;
  const u = unwrapExpression(e);
  if (!ts.isIdentifier(u)) return false;
  const decl = findLocalDeclaration(u);
  return (
    decl !== null &&
    ts.isVariableDeclaration(decl) &&
    decl.initializer !== undefined &&
    isConst(decl) &&
    isThis(decl.initializer)
  );
}

/**
 * The field `this.f` whose code runs when `callee` is called: `this.f(…)`,
 * `this.f.x(…)`, `this.f['x']?.(…)`, `this.f.x.call(this, …)`, or a local
 * const holding one of those values.
 */
function fieldRunBy(callee: ts.Expression, depth = 0): ts.PropertyAccessExpression | null {
  // Consts may name each other (`const a = b.call; const b = a.call`).
  if (depth > 4) return null;
  // `const handle = this.handlers[type]; handle(row)`: the const's value.
  if (ts.isIdentifier(callee)) {
    const decl = findLocalDeclaration(callee);
    if (!decl || !ts.isVariableDeclaration(decl) || !isConst(decl) || !decl.initializer)
      return null;
    return fieldRunBy(unwrapExpression(decl.initializer), depth + 1);
  }
  if (
    ts.isPropertyAccessExpression(callee) &&
    (callee.name.text === 'call' || callee.name.text === 'apply')
  )
    return fieldRunBy(unwrapExpression(callee.expression), depth + 1);
  if (ts.isPropertyAccessExpression(callee) && isThis(callee.expression)) return callee;
  if (ts.isPropertyAccessExpression(callee) || ts.isElementAccessExpression(callee)) {
    const owner = unwrapExpression(callee.expression);
    if (ts.isPropertyAccessExpression(owner) && isThis(owner.expression)) return owner;
  }
  return null;
}

/**
 * Whether a field's initializer holds code that runs when the field's value
 * is used: a function expression, or a reference to a store method
 * (`this.dropA`), outside any function of its own.
 */
function holdsCode(init: ts.Expression, index: CodeIndex): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (
      ts.isArrowFunction(n) ||
      ts.isFunctionExpression(n) ||
      (ts.isPropertyAccessExpression(n) &&
        isThis(n.expression) &&
        index.isStoreMethodName(n.name.text))
    ) {
      found = true;
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(init);
  return found;
}

/**
 * Methods of arrays, maps and sets that call their callback (the first
 * argument) before they return: `forEach`, `map`, `filter`, `reduce`, ….
 */
const CALLS_CALLBACK_AT_ONCE = new Set([
  'forEach',
  'map',
  'flatMap',
  'filter',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'some',
  'every',
  'reduce',
  'reduceRight',
  'sort',
  'toSorted',
]);

/** `T[]`, `readonly T[]`, a tuple, `Array<T>`, `Map<K, V>`, `Set<T>` and their read-only forms. */
const COLLECTION_TYPES = new Set([
  'Array',
  'ReadonlyArray',
  'Map',
  'ReadonlyMap',
  'Set',
  'ReadonlySet',
]);

function isCollectionType(type: ts.TypeNode): boolean {
  if (ts.isTypeOperatorNode(type)) return isCollectionType(type.type);
  if (ts.isParenthesizedTypeNode(type)) return isCollectionType(type.type);
  if (ts.isArrayTypeNode(type) || ts.isTupleTypeNode(type)) return true;
  return (
    ts.isTypeReferenceNode(type) &&
    ts.isIdentifier(type.typeName) &&
    COLLECTION_TYPES.has(type.typeName.text)
  );
}

/**
 * Whether `receiver` may be an array, a map or a set: anything but a local
 * name declared with another type (`signal: Signal`, whose `forEach` may
 * keep the callback for later).
 */
function mayBeCollection(receiver: ts.Expression): boolean {
  const r = unwrapExpression(receiver);
  if (!ts.isIdentifier(r)) return true;
  const decl = findLocalDeclaration(r);
  const type = decl && 'type' in decl ? decl.type : undefined;
  return type === undefined || isCollectionType(type);
}

/** `node` with the parentheses around it: what its parent sees. */
function withParentheses(node: ts.Node): ts.Node {
  let outer = node;
  while (ts.isParenthesizedExpression(outer.parent)) outer = outer.parent;
  return outer;
}

/** `await Promise.all(call)` (or `allSettled`): every callback `call` started has finished. */
function awaitedByPromiseAll(call: ts.CallExpression): boolean {
  const arg = withParentheses(call);
  const all = arg.parent;
  if (!ts.isCallExpression(all) || all.arguments[0] !== arg) return false;
  const callee = all.expression;
  if (
    !ts.isPropertyAccessExpression(callee) ||
    !ts.isIdentifier(callee.expression) ||
    callee.expression.text !== 'Promise' ||
    (callee.name.text !== 'all' && callee.name.text !== 'allSettled')
  )
    return false;
  return ts.isAwaitExpression(withParentheses(all).parent);
}

/**
 * A synchronous callback that runs where it is written: `rows.forEach((r) =>
 * this.invalidate(…))` invalidates before the enclosing call returns, so
 * calling the unit runs it; so does `Array.from(xs, cb)`. An `async` one runs
 * only up to its first await there, and is treated as any nested function,
 * except in `await Promise.all(xs.map(async (x) => …))`, which waits for all
 * of it.
 */
function runsAtOnce(fn: ts.FunctionLikeDeclaration): boolean {
  if (!ts.isArrowFunction(fn) && !ts.isFunctionExpression(fn)) return false;
  const arg = withParentheses(fn);
  const call = arg.parent;
  if (!ts.isCallExpression(call) || !ts.isPropertyAccessExpression(call.expression)) return false;
  const { expression: receiver, name } = call.expression;
  if (fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword))
    return (
      name.text === 'map' &&
      call.arguments[0] === arg &&
      mayBeCollection(receiver) &&
      awaitedByPromiseAll(call)
    );
  if (ts.isIdentifier(receiver) && receiver.text === 'Array' && name.text === 'from')
    return call.arguments[1] === arg;
  return (
    call.arguments[0] === arg && CALLS_CALLBACK_AT_ONCE.has(name.text) && mayBeCollection(receiver)
  );
}

/**
 * For `const after = () => …` whose every use hands it to `txn.callAfter` /
 * `callOnException` (as the argument, or called from a function that is the
 * argument), when it runs: as it would written inline there (after commit
 * when `callAfter` takes it). Null for any other function.
 */
function deferredTo(fn: ts.FunctionLikeDeclaration): Deferral | null {
  const decl = fn.parent;
  if (
    !ts.isVariableDeclaration(decl) ||
    decl.initializer !== fn ||
    !ts.isIdentifier(decl.name) ||
    !isConst(decl)
  )
    return null;
  const hooks = hooksTakingEveryUse(decl.parent.parent.parent, decl.name);
  return hooks && (hooks.has('callAfter') ? 'afterCommit' : 'afterFailure');
}

/**
 * When a transaction hook's callback runs: after commit (`callAfter`), or
 * after a failure (`callOnException`, `callOnRollback`). Never inside it.
 */
type Deferral = 'afterCommit' | 'afterFailure';

function deferralOf(hook: string | null): Deferral | null {
  return hook === null ? null : hook === 'callAfter' ? 'afterCommit' : 'afterFailure';
}

/**
 * The field of `this` an expression holds: `this.f`, or a local const
 * initialised with it (`const gen = this.f`, `const { f } = this`,
 * `const { f: gen } = this`; `self` for `this` as well). Null for anything else.
 */
function thisFieldHeldBy(expr: ts.Expression): string | null {
  const e = unwrapExpression(expr);
  if (ts.isPropertyAccessExpression(e)) return isSelf(e.expression) ? e.name.text : null;
  if (!ts.isIdentifier(e)) return null;
  const decl = findLocalDeclaration(e);
  if (decl && ts.isVariableDeclaration(decl) && isConst(decl) && decl.initializer) {
    const init = unwrapExpression(decl.initializer);
    return ts.isPropertyAccessExpression(init) && isSelf(init.expression) ? init.name.text : null;
  }
  if (decl && ts.isBindingElement(decl) && !decl.dotDotDotToken) {
    const pattern = decl.parent;
    const holder = pattern.parent;
    const key = decl.propertyName ?? decl.name;
    if (
      ts.isObjectBindingPattern(pattern) &&
      ts.isVariableDeclaration(holder) &&
      isConst(holder) &&
      holder.initializer &&
      isSelf(holder.initializer) &&
      ts.isIdentifier(key)
    )
      return key.text;
  }
  return null;
}

export class UnitWalker {
  readonly facts: UnitFacts = {
    accesses: [],
    invalidations: [],
    allocations: [],
    calls: [],
    helpers: new Set(),
    unresolved: 0,
  };
  readonly #sf: ts.SourceFile;
  readonly #file: string;
  readonly #vars = new Map<string, ChainState>();
  /** Consts and fields whose query is being walked here (`#walkInline`). */
  readonly #walkingInline = new Set<ts.Node>();
  #scopes: (ts.Block | ts.SourceFile)[] | null = null;
  #interactions = 0;
  /** Commits and rollbacks of controlled transactions, by their `execute()` call. */
  readonly #settles = new Map<
    ts.CallExpression,
    { controlled: Controlled; settle: Settle; position: SettlePosition | null }
  >();
  /** Uses of controlled-transaction handles that store-lint does not follow. */
  readonly #escapes = new Map<ts.Identifier, Controlled>();
  /** Savepoint handles, by declaration: the transaction they are a handle on. */
  readonly #aliases = new Map<ts.VariableDeclaration, Controlled>();

  constructor(
    readonly unit: Unit,
    readonly ctx: WalkContext,
  ) {
    this.#sf = unit.module.file.sf;
    this.#file = unit.module.file.rel;
  }

  run(): UnitFacts {
    const fn = this.unit.fn;
    this.#visitFunction(
      fn,
      {
        inTxn: hasTxnParameter(fn, false),
        afterCommit: false,
        nested: false,
        around: null,
        flow: newFlow(),
      },
      new Set(),
    );
    return this.facts;
  }

  #loc(node: ts.Node): SourceLocation {
    return nodeLocation(node, this.#file, this.#sf);
  }

  #unresolved(kind: UnresolvedKind, message: string, location: SourceLocation): void {
    this.facts.unresolved++;
    this.ctx.unresolved.add(kind, message, location, {
      store: this.unit.store?.exportName ?? null,
      method: this.unit.store ? this.unit.name : null,
    });
  }

  #visitFunction(fn: ts.FunctionLikeDeclaration, env: Env, ctes: ReadonlySet<string>): void {
    // A `ControlledTransaction` parameter is handed open: inside until its commit.
    const handed = fn.parameters.filter(isControlledParameter);
    for (const p of handed) {
      const c = this.#controlled((p.name as ts.Identifier).text);
      env.flow.controlled.set(p, c);
      this.#track(p.name as ts.Identifier, fn, fn.body ?? fn, c);
    }
    for (const p of fn.parameters) if (p.initializer) this.#visit(p.initializer, env, ctes);
    if (fn.body) this.#visit(fn.body, env, ctes);
    for (const p of handed) env.flow.controlled.delete(p);
  }

  #nestedEnv(fn: ts.FunctionLikeDeclaration, env: Env): Env {
    const open = openControlled(env.flow, 'unknown');
    return {
      inTxn: env.inTxn || hasTxnParameter(fn, false),
      nested: true,
      afterCommit:
        env.afterCommit || env.flow.afterInteraction || (!open && hasCommitted(env.flow)),
      around: open?.name ?? env.around,
      flow: newFlow(),
    };
  }

  /** Inside a transaction here: lexically, or while a controlled transaction of this flow is open. */
  #inTxn(env: Env): boolean {
    return env.inTxn || openControlled(env.flow) !== null;
  }

  #controlled(name: string): Controlled {
    return { name, state: 'open', changes: 0, unfollowed: [] };
  }

  /** Sets a controlled transaction's state at a use of it. */
  #settle(c: Controlled, state: ControlledState): void {
    c.state = state;
    c.changes++;
  }

  /**
   * Sorts every use of a controlled-transaction handle declared by `id` in
   * `home` (its block: `scope`): commits and rollbacks to place in the flow,
   * savepoint handles on the same transaction, and uses store-lint does not
   * follow, which are said here.
   */
  #track(id: ts.Identifier, home: ts.Node, scope: ts.Node, c: Controlled): void {
    for (const use of usesOf(scope, id)) {
      const found = classifyUse(use, home, scope);
      switch (found.kind) {
        case 'query':
          break;
        case 'settle':
          this.#settles.set(found.call, {
            controlled: c,
            settle: found.settle,
            position: found.position,
          });
          // A rollback cannot put an invalidation before a commit: one store-lint
          // cannot place changes nothing (the paths it is not on stay open).
          if (found.position === null && found.settle === 'commit') {
            c.unfollowed.push(found.call);
            this.#unresolved(
              'transaction',
              `\`${use.text}.${found.settle}()\` runs ${found.why}: store-lint cannot tell which invalidations run before it`,
              this.#loc(found.call),
            );
          }
          break;
        case 'alias':
          this.#aliases.set(found.decl, c);
          this.#track(found.decl.name as ts.Identifier, home, declarationScope(found.decl), c);
          break;
        case 'argument': {
          const how = this.#mayEnd(found.call, found.index);
          if (how) this.#escape(use, c, `\`${use.text}\` is handed to ${how}`);
          break;
        }
        case 'escape':
          this.#escape(use, c, found.how);
          break;
      }
    }
  }

  #escape(use: ts.Identifier, c: Controlled, how: string): void {
    c.unfollowed.push(use);
    this.#escapes.set(use, c);
    this.#unresolved(
      'transaction',
      `${how}: store-lint does not follow the controlled transaction there, so it cannot tell which invalidations run before its commit`,
      this.#loc(use),
    );
  }

  /**
   * Whether handing a controlled transaction to `call` as argument `index`
   * may end it: how, for the message; null for a query's `execute(trx)` or a
   * function of this project whose parameter there is typed as a plain
   * `Transaction`, `Txn` or `Kysely`, which cannot commit.
   */
  #mayEnd(call: ts.CallExpression, index: number): string | null {
    const callee = unwrapExpression(call.expression);
    if (ts.isPropertyAccessExpression(callee) && callee.name.text.startsWith('execute'))
      return null;
    const units = this.ctx.openers.calleeUnits(call, this.unit);
    const ends =
      units.length === 0 ||
      units.some((u) => {
        const p = u.fn.parameters[index];
        return !p || p.dotDotDotToken !== undefined || !cannotSettle(p.type);
      });
    return ends ? `\`${callee.getText(this.#sf)}(…)\`` : null;
  }

  #visit(node: ts.Node, env: Env, ctes: ReadonlySet<string>): void {
    if (ts.isTypeNode(node)) return;
    if (isFunctionWithBody(node)) {
      const hook = deferredTo(node);
      const nested: Env = hook
        ? {
            inTxn: false,
            afterCommit: hook === 'afterCommit',
            nested: true,
            around: null,
            flow: newFlow(),
          }
        : runsAtOnce(node)
          ? // The same flow: the callback runs in order with its surroundings.
            { ...env, inTxn: env.inTxn || hasTxnParameter(node, false) }
          : this.#nestedEnv(node, env);
      this.#visitFunction(node, nested, ctes);
      return;
    }
    if (ts.isCallExpression(node)) {
      this.#call(node, env, ctes);
      return;
    }
    if (isSqlTemplate(node)) {
      this.#rawSql(
        analyseSqlTemplate(node, (e) => this.#namesOf(e)),
        env,
        ctes,
      );
      return;
    }
    if (ts.isPropertyAccessExpression(node)) {
      this.#chain(node, env, ctes);
      return;
    }
    if (ts.isAwaitExpression(node)) {
      const before = this.#interactions;
      this.#visit(node.expression, env, ctes);
      if (this.#interactions > before) env.flow.afterInteraction = true;
      return;
    }
    if (ts.isVariableDeclaration(node)) {
      if (!node.initializer) return;
      // `const { m } = this`: the store's own methods, taken as values.
      if (ts.isObjectBindingPattern(node.name) && isSelf(node.initializer)) {
        for (const el of node.name.elements) {
          const key = el.propertyName ?? el.name;
          if (ts.isIdentifier(key) || ts.isStringLiteralLike(key))
            this.#storeCall(key.text, key, node.initializer, true, false);
        }
      }
      const state = this.#chain(node.initializer, env, ctes);
      if (ts.isIdentifier(node.name) && (state.ctes.size > ctes.size || state.query !== null)) {
        this.#vars.set(node.name.text, state);
      }
      this.#declaresControlled(node, env);
      return;
    }
    if (ts.isIdentifier(node)) {
      this.#escapeAt(node);
      if (!this.#vars.has(node.text)) this.#outerQuery(node, env, ctes);
      this.#helperReference(node);
      return;
    }
    if (ts.isPropertyAssignment(node)) {
      this.#visit(node.initializer, env, ctes);
      return;
    }
    if (env.flow.controlled.size > 0) {
      if (ts.isIfStatement(node)) {
        this.#visitIf(node, env, ctes);
        return;
      }
      if (ts.isTryStatement(node)) {
        this.#visitTry(node, env, ctes);
        return;
      }
      // A loop runs its body again after a use store-lint does not follow.
      if (isLoop(node))
        for (const c of env.flow.controlled.values())
          if (c.unfollowed.some((n) => isWithin(n, node))) this.#settle(c, 'said');
    }
    ts.forEachChild(node, (child) => this.#visit(child, env, ctes));
    // A handle declared in this block is out of reach after it: a transaction
    // still open there is never committed, so nothing later runs before its commit.
    if (ts.isBlock(node) && env.flow.controlled.size > 0)
      for (const decl of [...env.flow.controlled.keys()])
        if (ts.isVariableDeclaration(decl) && declarationScope(decl) === node)
          env.flow.controlled.delete(decl);
  }

  /** `const trx = await db.startTransaction().execute()`, or a savepoint handle on one: tracked from here. */
  #declaresControlled(decl: ts.VariableDeclaration, env: Env): void {
    const alias = this.#aliases.get(decl);
    if (alias) {
      env.flow.controlled.set(decl, alias);
      return;
    }
    if (!ts.isIdentifier(decl.name) || !isConst(decl) || !opensControlledTransaction(decl)) return;
    const c = this.#controlled(decl.name.text);
    env.flow.controlled.set(decl, c);
    this.#track(decl.name, enclosingFunction(decl), declarationScope(decl), c);
  }

  /** A use of a handle that store-lint does not follow: from here, whether it is open is not known. */
  #escapeAt(id: ts.Identifier): void {
    const c = this.#escapes.size > 0 ? this.#escapes.get(id) : undefined;
    if (c) this.#settle(c, 'said');
  }

  /** An `if`: each branch from the state before it; after it, what either branch that goes on leaves. */
  #visitIf(node: ts.IfStatement, env: Env, ctes: ReadonlySet<string>): void {
    this.#visit(node.expression, env, ctes);
    const before = snapshot(env.flow);
    this.#visit(node.thenStatement, env, ctes);
    const afterThen = endsAbruptly(node.thenStatement) ? null : snapshot(env.flow);
    restore(before);
    let afterElse: Snapshot | null = before;
    if (node.elseStatement) {
      this.#visit(node.elseStatement, env, ctes);
      afterElse = endsAbruptly(node.elseStatement) ? null : snapshot(env.flow);
    }
    restore(join(afterThen, afterElse) ?? before);
  }

  /**
   * A `try`: the `catch` may start after any change the `try` block made (a
   * transaction it committed may still be open there); after the statement,
   * what the `try` block or the `catch` leaves when it goes on; a `finally`
   * block starts from any of those.
   */
  #visitTry(node: ts.TryStatement, env: Env, ctes: ReadonlySet<string>): void {
    const entry = snapshot(env.flow);
    const changes = new Map([...entry.keys()].map((c) => [c, c.changes]));
    this.#visit(node.tryBlock, env, ctes);
    const afterTry = endsAbruptly(node.tryBlock) ? null : snapshot(env.flow);
    const thrown: Snapshot = new Map();
    for (const [c, state] of entry) {
      if (c.changes === changes.get(c)) thrown.set(c, state);
      else thrown.set(c, c.unfollowed.some((n) => isWithin(n, node.tryBlock)) ? 'said' : 'unknown');
    }
    let after = afterTry;
    if (node.catchClause) {
      restore(thrown);
      this.#visit(node.catchClause, env, ctes);
      after = join(afterTry, endsAbruptly(node.catchClause.block) ? null : snapshot(env.flow));
    }
    if (node.finallyBlock) {
      const start = join(after, thrown)!;
      restore(start);
      this.#visit(node.finallyBlock, env, ctes);
      // What the finally block changed holds after the statement; the rest is as before it.
      const result: Snapshot = new Map();
      for (const [c, state] of snapshot(env.flow))
        result.set(c, state !== start.get(c) ? state : (after?.get(c) ?? state));
      restore(result);
    } else restore(after ?? entry);
  }

  /** Visits a receiver expression and returns the query state its chain builds up. */
  #chain(expr: ts.Expression, env: Env, ctes: ReadonlySet<string>): ChainState {
    const e = unwrapExpression(expr);
    if (ts.isCallExpression(e)) return this.#call(e, env, ctes);
    if (ts.isPropertyAccessExpression(e)) {
      if (isThis(e.expression)) {
        this.#methodReference(e);
        const field = this.#fieldQuery(e, env, ctes);
        if (field) return { ...field, ctes: new Set([...ctes, ...field.ctes]), interaction: false };
      }
      return this.#chain(e.expression, env, ctes);
    }
    if (ts.isIdentifier(e)) {
      this.#escapeAt(e);
      const saved = this.#vars.get(e.text) ?? this.#outerQuery(e, env, ctes);
      this.#helperReference(e);
      if (saved)
        return { ctes: new Set([...ctes, ...saved.ctes]), query: saved.query, interaction: false };
      return { ctes, query: null, interaction: false };
    }
    this.#visit(e, env, ctes);
    return { ctes, query: null, interaction: false };
  }

  #call(call: ts.CallExpression, env: Env, ctes: ReadonlySet<string>): ChainState {
    const callee = unwrapExpression(call.expression);
    const args = call.arguments;
    const handled = new Set<number>();
    let name: string | null = null;
    let receiver: ts.Expression | null = null;
    let state: ChainState = { ctes, query: null, interaction: false };
    const field = fieldRunBy(callee);
    if (field) this.#fieldCode(field, env, ctes);
    if (ts.isPropertyAccessExpression(callee)) {
      name = callee.name.text;
      receiver = callee.expression;
      state = this.#chain(receiver, env, ctes);
    } else if (ts.isIdentifier(callee)) {
      name = callee.text;
    } else {
      // `this['m'](…)`: a store call by a literal name.
      if (ts.isElementAccessExpression(callee) && ts.isStringLiteralLike(callee.argumentExpression))
        this.#storeCall(
          callee.argumentExpression.text,
          callee.argumentExpression,
          callee.expression,
          false,
          this.#inTxn(env),
        );
      this.#visit(callee, env, ctes);
    }
    let result: ChainState = { ...state, interaction: state.interaction };
    const argCtes = state.ctes;
    const visitArg = (i: number, e: Env = env, scope: ReadonlySet<string> = argCtes): void => {
      const arg = args[i];
      if (arg && !handled.has(i)) {
        handled.add(i);
        this.#visit(arg, e, scope);
      }
    };

    if (name !== null) {
      const viaThis = receiver !== null && isSelf(receiver);
      const kyselyCallee =
        receiver !== null || this.#isDestructuredBuilder(callee as ts.Identifier);

      // Cache invalidations on the store itself.
      const inv = INVALIDATIONS.get(name as InvalidationKind);
      if (inv && viaThis) {
        this.#invalidation(call, name as InvalidationKind, inv.target, inv.keyed, env);
        handled.add(inv.target);
      } else if (inv && receiver && this.#namesStoreMethod(call.arguments[inv.target])) {
        // `store.invalidate(store.getX, …)` on another receiver: not followed, and said.
        this.#unresolved(
          'invalidation',
          `\`${call.expression.getText(this.#sf)}(…)\` invalidates through a receiver other than \`this\`, which store-lint does not follow`,
          this.#loc(call),
        );
      }

      // ID allocations on a generator field.
      if (receiver && (ID_ALLOCATIONS.has(name) || name === 'append')) {
        const field = this.unit.store ? thisFieldHeldBy(receiver) : null;
        const gen = field !== null ? this.ctx.generatorField(this.unit.store!, field) : null;
        if (gen && (name === 'append') === (gen.kind === 'memoryStream')) {
          this.facts.allocations.push({
            stream: gen.stream,
            field: field!,
            location: this.#loc(callee),
          });
        } else if (name !== 'append') {
          // The write it wraps is announced on some stream: which one is not known.
          this.#unresolved(
            'stream',
            `\`${callee.getText(this.#sf)}(…)\` allocates on a generator store-lint cannot tie to a stream; write it as \`this.<field>.${name}(…)\` on a field initialised with \`this.streamIdGenerator(Stream)\``,
            this.#loc(callee),
          );
        }
      }

      // Tables named by builder calls.
      if (kyselyCallee && args[0]) {
        let access: 'read' | 'write' | null = null;
        const writeKind = WRITE_METHODS.get(name);
        if (READ_METHODS.has(name)) access = 'read';
        else if (writeKind) {
          access = 'write';
          result = { ...result, query: writeKind };
        } else if (name === 'using' && (state.query === 'delete' || state.query === 'merge'))
          access = 'read';
        else if (name === 'from' && state.query === 'update') access = 'read';
        if (name === 'selectFrom') result = { ...result, query: 'select' };
        if (access) {
          handled.add(0);
          this.#tableArgument(args[0], access, name, env, argCtes, 0);
        }
      }

      // Common table expressions.
      if (
        (name === 'with' || name === 'withRecursive') &&
        receiver &&
        args.length === 2 &&
        this.#looksLikeCte(args[0]!, args[1]!)
      ) {
        const cte = this.#cteNameOf(args[0]!);
        if (cte === null) {
          this.#unresolved(
            'cte-name',
            `the CTE name in \`${name}(${args[0]!.getText(this.#sf)}, …)\` is not a literal; queries naming it may be taken for tables`,
            this.#loc(args[0]!),
          );
          visitArg(0);
        } else handled.add(0);
        const bodyScope =
          name === 'withRecursive' && cte !== null ? new Set([...argCtes, cte]) : argCtes;
        visitArg(1, env, bodyScope);
        if (cte !== null) result = { ...result, ctes: new Set([...argCtes, cte]) };
      }

      // Callbacks a helper only hands to a transaction hook run after it settles.
      for (const [i, afterCommit] of this.ctx.openers.deferredIndices(call, this.unit)) {
        const cb = args[i] && unwrapExpression(args[i]);
        if (!cb || !isFunctionWithBody(cb)) continue;
        handled.add(i);
        this.#visitFunction(
          cb,
          { inTxn: false, afterCommit, nested: true, around: null, flow: newFlow() },
          argCtes,
        );
      }

      // Transactions.
      const cbIndices = this.ctx.openers.callbackIndices(call, this.unit);
      if (cbIndices.length) {
        this.#interactions++;
        result = { ...result, interaction: true };
      }
      for (const cbIndex of cbIndices) {
        const cb = args[cbIndex] && unwrapExpression(args[cbIndex]);
        if (cb && isFunctionWithBody(cb)) {
          handled.add(cbIndex);
          this.#visitFunction(
            cb,
            { inTxn: true, afterCommit: false, nested: true, around: null, flow: newFlow() },
            argCtes,
          );
        }
      }
      const deferral = name !== null && DEFERRING_HOOKS.has(name) ? deferralOf(name) : null;
      if (deferral || ((name === 'then' || name === 'finally') && state.interaction)) {
        const after = deferral !== 'afterFailure';
        args.forEach((arg, i) => {
          const fn = unwrapExpression(arg);
          const deferred: Env = {
            inTxn: false,
            afterCommit: after,
            nested: true,
            around: null,
            flow: newFlow(),
          };
          if (isFunctionWithBody(fn)) {
            handled.add(i);
            this.#visitFunction(fn, deferred, argCtes);
          } else {
            // `txn.callAfter(this.recounts.all)`: code held in a field, run by the hook.
            const field = fieldRunBy(fn);
            if (field) this.#fieldCode(field, deferred, argCtes);
          }
        });
      }

      // `sql.table('t')`, `sql.raw('…')` and `db.dynamic.table('t')` outside a template.
      const helper = sqlHelper(call);
      if (helper === 'table' && args[0]) {
        handled.add(0);
        this.#tableArgument(args[0], 'read', 'sql.table', env, argCtes, 0);
      } else if (helper === 'raw' && args[0]) {
        handled.add(0);
        const value = constantValue(args[0]);
        const text = ts.isStringLiteralLike(value) ? value : null;
        if (text)
          this.#rawSql(
            analyseSqlText(text, (e) => this.#namesOf(e)),
            env,
            argCtes,
          );
        // Interpolated into a `sql` template, the template's analysis says so.
        else if (!ts.isTemplateSpan(call.parent))
          this.#unresolved(
            'raw-sql',
            `the SQL text in \`${call.getText(this.#sf)}\` cannot be resolved`,
            this.#loc(call),
          );
      } else if (name === 'table' && receiver && this.#isDynamic(receiver) && args[0]) {
        handled.add(0);
        this.#tableArgument(args[0], 'read', 'dynamic.table', env, argCtes, 0);
      }

      // Calls to store methods and helper functions.
      if (receiver) {
        this.#storeCall(
          name,
          (callee as ts.PropertyAccessExpression).name,
          receiver,
          false,
          this.#inTxn(env),
        );
        if (!this.#staticReference(receiver, name)) this.#unfollowedHelper(call, receiver);
      } else if (!this.#helperReference(callee as ts.Identifier))
        this.#unfollowedHelper(call, null);
    }

    args.forEach((_, i) => visitArg(i));
    // A bare `x.startTransaction();` builds nothing that runs (or is another library's).
    if (
      name === 'startTransaction' &&
      receiver &&
      args.length === 0 &&
      !ts.isExpressionStatement(call.parent)
    ) {
      const why = untrackedStart(call);
      if (why)
        this.#unresolved(
          'transaction',
          `\`${call.getText(this.#sf)}\` opens a controlled transaction that ${why}: store-lint does not follow it to its commit, so it cannot tell which invalidations run before that`,
          this.#loc(call),
        );
    } else if (name === 'execute') this.#commitOrRollback(call, receiver);
    return result;
  }

  /** `h.commit().execute()` or `h.rollback().execute()`: the state from here; said for a commit store-lint cannot place. */
  #commitOrRollback(call: ts.CallExpression, receiver: ts.Expression | null): void {
    const known = this.#settles.get(call);
    if (known) {
      if (known.settle === 'rollback' && known.position === null) return;
      const ended = known.settle === 'commit' ? 'committed' : 'closed';
      this.#settle(known.controlled, known.position === null ? 'said' : ended);
      return;
    }
    const inner = receiver && unwrapExpression(receiver);
    if (!inner || !ts.isCallExpression(inner) || inner.arguments.length > 0) return;
    const callee = unwrapExpression(inner.expression);
    // A rollback of one cannot put an invalidation before a commit.
    if (!ts.isPropertyAccessExpression(callee) || callee.name.text !== 'commit') return;
    this.#unresolved(
      'transaction',
      `\`${inner.getText(this.#sf)}\` commits a controlled transaction that store-lint did not see start in this function: it cannot tell which invalidations run before the commit`,
      this.#loc(inner),
    );
  }

  #isDynamic(receiver: ts.Expression): boolean {
    const r = unwrapExpression(receiver);
    return ts.isPropertyAccessExpression(r) && r.name.text === 'dynamic';
  }

  #isDestructuredBuilder(id: ts.Identifier): boolean {
    if (!READ_METHODS.has(id.text) && !WRITE_METHODS.has(id.text)) return false;
    const decl = findLocalDeclaration(id);
    return decl !== null && ts.isBindingElement(decl);
  }

  /** Kysely's `with(name, body)`, not `Array.prototype.with(index, value)`. */
  #looksLikeCte(nameArg: ts.Expression, bodyArg: ts.Expression): boolean {
    const n = unwrapExpression(nameArg);
    return (
      ts.isStringLiteralLike(n) ||
      isFunctionWithBody(n) ||
      isFunctionWithBody(unwrapExpression(bodyArg))
    );
  }

  /** `'name'`, `'name(a, b)'`, or `(cte) => cte('name').materialized()`. */
  #cteNameOf(arg: ts.Expression): string | null {
    const a = unwrapExpression(arg);
    if (ts.isStringLiteralLike(a)) return cteName(a.text);
    if (
      (ts.isArrowFunction(a) || ts.isFunctionExpression(a)) &&
      a.parameters[0] &&
      ts.isIdentifier(a.parameters[0].name)
    ) {
      const param = a.parameters[0].name.text;
      let found: string | null = null;
      const visit = (n: ts.Node): void => {
        if (found !== null) return;
        if (
          ts.isCallExpression(n) &&
          ts.isIdentifier(n.expression) &&
          n.expression.text === param
        ) {
          const first = n.arguments[0] && unwrapExpression(n.arguments[0]);
          if (first && ts.isStringLiteralLike(first)) found = cteName(first.text);
        }
        ts.forEachChild(n, visit);
      };
      visit(a);
      return found;
    }
    return null;
  }

  /** `method`: the builder call naming the table (`deleteFrom`), which says what kind of write it is. */
  #addBuilderTable(
    text: string,
    access: 'read' | 'write',
    method: string,
    node: ts.Node,
    ctes: ReadonlySet<string>,
  ): void {
    const ref = parseTableReference(text);
    if (ref.schema === null && ctes.has(ref.table)) return;
    if (ref.table === '') return;
    this.facts.accesses.push({
      table: normaliseBuilderName(ref.table, this.ctx.naming),
      access,
      via: 'kysely',
      location: this.#loc(node),
      ...(access === 'write' ? { kind: builderWriteKind(method) } : {}),
    });
  }

  /** A table argument: literal, array, conditional, derived table, dynamic table, or (lazily) typed. */
  #tableArgument(
    arg: ts.Expression,
    access: 'read' | 'write',
    method: string,
    env: Env,
    ctes: ReadonlySet<string>,
    depth: number,
  ): void {
    const e = unwrapExpression(arg);
    if (ts.isStringLiteralLike(e)) {
      this.#addBuilderTable(e.text, access, method, e, ctes);
      return;
    }
    if (ts.isArrayLiteralExpression(e)) {
      for (const el of e.elements) {
        if (ts.isSpreadElement(el)) this.#typedTable(el.expression, access, method, ctes);
        else this.#tableArgument(el, access, method, env, ctes, depth);
      }
      return;
    }
    if (ts.isConditionalExpression(e)) {
      this.#visit(e.condition, env, ctes);
      this.#tableArgument(e.whenTrue, access, method, env, ctes, depth);
      this.#tableArgument(e.whenFalse, access, method, env, ctes, depth);
      return;
    }
    if (ts.isCallExpression(e)) {
      const callee = unwrapExpression(e.expression);
      if (ts.isPropertyAccessExpression(callee) && callee.name.text === 'as') {
        const inner = unwrapExpression(callee.expression);
        if (ts.isCallExpression(inner) && this.#isDynamicTableCall(inner)) {
          this.#tableArgument(inner.arguments[0]!, access, 'dynamic.table', env, ctes, depth);
          e.arguments.forEach((a) => this.#visit(a, env, ctes));
          return;
        }
        // A derived table: its own builder calls name its tables.
        this.#visit(e, env, ctes);
        return;
      }
      if (this.#isDynamicTableCall(e)) {
        this.#tableArgument(e.arguments[0]!, access, 'dynamic.table', env, ctes, depth);
        return;
      }
      this.#visit(e, env, ctes);
      this.#typedTable(e, access, method, ctes);
      return;
    }
    if (isFunctionWithBody(e)) {
      this.#visit(e, env, ctes);
      return;
    }
    if (ts.isIdentifier(e) && depth < 5) {
      const decl = findLocalDeclaration(e) ?? this.#moduleConst(e.text);
      if (decl && ts.isVariableDeclaration(decl) && decl.initializer && isConst(decl)) {
        const init = unwrapExpression(decl.initializer);
        if (
          ts.isStringLiteralLike(init) ||
          ts.isArrayLiteralExpression(init) ||
          ts.isConditionalExpression(init) ||
          ts.isIdentifier(init)
        ) {
          this.#tableArgument(init, access, method, env, ctes, depth + 1);
          return;
        }
        // A builder or derived table held in a constant: walked where it is declared.
        if (ts.isCallExpression(init) || isFunctionWithBody(init)) return;
      }
    }
    this.#visit(e, env, ctes);
    this.#typedTable(e, access, method, ctes);
  }

  #moduleConst(name: string): ts.VariableDeclaration | null {
    const node = this.unit.module.locals.get(name);
    return node && ts.isVariableDeclaration(node) ? node : null;
  }

  #isDynamicTableCall(call: ts.CallExpression): boolean {
    const callee = unwrapExpression(call.expression);
    return (
      ts.isPropertyAccessExpression(callee) &&
      callee.name.text === 'table' &&
      this.#isDynamic(callee.expression) &&
      call.arguments.length > 0
    );
  }

  /** Asks the type checker what table names an expression can hold. */
  #typedTable(
    e: ts.Expression,
    access: 'read' | 'write',
    method: string,
    ctes: ReadonlySet<string>,
  ): void {
    const names = this.#literalNames(e);
    if (names === 'object') return;
    if ('names' in names) {
      for (const n of names.names) this.#addBuilderTable(n, access, method, e, ctes);
      return;
    }
    this.#unresolved(
      'table-name',
      `cannot resolve the table in \`${method}(${e.getText(this.#sf)})\`: its type is \`${names.unresolved}\`, not a string literal or a union of them`,
      this.#loc(e),
    );
  }

  /** For `sql.table(x)` inside a template: the names x can hold, or null. */
  #namesOf(e: ts.Expression): string[] | null {
    const names = this.#literalNames(e);
    return names !== 'object' && 'names' in names ? names.names : null;
  }

  #literalNames(e: ts.Expression): LiteralNames {
    const checker = this.ctx.project.checker();
    const type = checker.getTypeAtLocation(e);
    const collect = (t: ts.Type, out: string[]): LiteralNames | null => {
      if (t.flags & ts.TypeFlags.TypeParameter) {
        const constraint = checker.getBaseConstraintOfType(t);
        return {
          unresolved: `${checker.typeToString(t)}${constraint ? ` extends ${checker.typeToString(constraint)}` : ''}`,
        };
      }
      if (t.isStringLiteral()) {
        out.push(t.value);
        return null;
      }
      if (t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Never)) return null;
      if (t.isUnion()) {
        for (const m of t.types) {
          const bad = collect(m, out);
          if (bad) return bad;
        }
        return null;
      }
      if (checker.isArrayType(t) || checker.isTupleType(t)) {
        for (const m of checker.getTypeArguments(t as ts.TypeReference)) {
          const bad = collect(m, out);
          if (bad) return bad;
        }
        return null;
      }
      if (t.flags & ts.TypeFlags.Object) return 'object';
      return { unresolved: checker.typeToString(t) };
    };
    const out: string[] = [];
    const bad = collect(type, out);
    if (bad === 'object') return out.length ? { names: out } : 'object';
    return bad ?? { names: out };
  }

  #rawSql(result: RawSqlResult, env: Env, ctes: ReadonlySet<string>): void {
    for (const t of result.tables) {
      this.facts.accesses.push({
        table: t.builderName
          ? normaliseBuilderName(t.name, this.ctx.naming)
          : normaliseSqlName(t.name),
        access: t.access,
        via: 'sql',
        location: locationOf(this.#sf, this.#file, t.start, t.end),
        ...(t.kind ? { kind: t.kind } : {}),
      });
    }
    for (const p of result.problems) {
      this.#unresolved('raw-sql', p.message, locationOf(this.#sf, this.#file, p.start, p.end));
    }
    for (const r of result.routines) {
      const location = locationOf(this.#sf, this.#file, r.start, r.end);
      const calls = r.kind === 'procedure' ? 'calls procedure' : 'calls';
      // A routine the schema defines runs what its body says, through what it calls.
      const access = this.ctx.routineAccess.get(r.name);
      if (access) {
        for (const [tables, kind] of [
          [access.reads, 'read'],
          [access.writes, 'write'],
        ] as const) {
          for (const table of tables)
            this.facts.accesses.push({
              table,
              access: kind,
              via: 'sql',
              location,
              ...(kind === 'write' ? { kind: 'unknown' as const } : {}),
            });
        }
        for (const gap of access.gaps) {
          this.#unresolved(
            'raw-sql',
            `raw SQL ${calls} \`${r.name}\`, which ${gap}; the tables it reads and writes are not all followed`,
            location,
          );
        }
        continue;
      }
      // A procedure is code of the app's; a function only when the schema defines it.
      if (r.kind === 'function' && !this.ctx.schemaRoutines.has(r.name)) continue;
      this.#unresolved(
        'raw-sql',
        `raw SQL ${calls} \`${r.name}\`${this.ctx.schemaRoutines.has(r.name) ? ', which the schema defines' : ''}; the tables it reads and writes are not followed`,
        location,
      );
    }
    for (const e of result.expressions) this.#visit(e, env, ctes);
  }

  #invalidation(
    call: ts.CallExpression,
    kind: InvalidationKind,
    targetIndex: number,
    keyed: boolean,
    env: Env,
  ): void {
    const target = call.arguments[targetIndex] && unwrapExpression(call.arguments[targetIndex]);
    const location = this.#loc(call);
    if (!target || !ts.isPropertyAccessExpression(target) || !isSelf(target.expression)) {
      this.#unresolved(
        'invalidation',
        `\`${kind}\` does not name its cache as \`this.<cachedMethod>\``,
        location,
      );
      return;
    }
    let keyArity: number | null = null;
    if (keyed) {
      const keys = call.arguments.slice(targetIndex + 1);
      if (keys.some((k) => ts.isSpreadElement(k))) {
        this.#unresolved(
          'invalidation',
          `\`${kind}(this.${target.name.text}, …)\` spreads its key; the key arity is unknown`,
          location,
        );
      } else keyArity = keys.length;
    }
    // A caches-stream invalidation takes the transaction: wherever it stands, it is deferred.
    const viaStream = kind.includes('CacheAndStream');
    const open = openControlled(env.flow);
    if (!viaStream && !env.inTxn && !open) {
      const unsure = openControlled(env.flow, 'unknown');
      const text = `\`${kind}(this.${target.name.text}, …)\``;
      if (unsure)
        this.#unresolved(
          'transaction',
          `${text} runs where the controlled transaction \`${unsure.name}\` may or may not have ended: store-lint cannot tell whether it runs before the commit`,
          location,
        );
      else if (env.around)
        this.#unresolved(
          'transaction',
          `${text} is in a function made while the controlled transaction \`${env.around}\` is open: store-lint cannot tell whether it runs before or after the commit`,
          location,
        );
    }
    this.facts.invalidations.push({
      kind,
      cache: target.name.text,
      keyArity,
      inTransaction: env.inTxn || open !== null,
      afterCommit:
        viaStream ||
        (!open && (env.afterCommit || env.flow.afterInteraction || hasCommitted(env.flow))),
      inNestedFunction: env.nested,
      location,
    });
  }

  /** A `this.method` used as a value (not called): a method reference. */
  #methodReference(access: ts.PropertyAccessExpression): void {
    if (ts.isCallExpression(access.parent) && access.parent.expression === access) return;
    this.#storeCall(access.name.text, access.name, access.expression, true, false);
  }

  /** `recv.method` (`nameNode` names the method): a call, or a reference when `reference`. */
  #storeCall(
    method: string,
    nameNode: ts.Node,
    receiver: ts.Expression,
    reference: boolean,
    inTransaction: boolean,
  ): void {
    const { index } = this.ctx;
    if (!index.isStoreMethodName(method)) return;
    const r = unwrapExpression(receiver);
    const location = this.#loc(nameNode);
    const viaSuper = r.kind === ts.SyntaxKind.SuperKeyword;
    // `const self = this; self.m()` is a call on the store itself, as `this.m()`.
    const onSelf = viaSuper || isSelf(r);
    const receiverText = onSelf ? (viaSuper ? 'super' : 'this') : r.getText(this.#sf);
    if (onSelf) {
      if (!this.unit.store) return;
      const target = index.resolveThis(this.unit.store, method, viaSuper);
      if (!target) return;
      this.facts.calls.push({
        method,
        receiver: receiverText,
        kind: viaSuper ? 'super' : 'this',
        store: target.store,
        units: target.units,
        composition: null,
        reference,
        inTransaction,
        location,
      });
      return;
    }
    const found = this.#receiverTarget(r);
    if (found.kind === 'store') {
      const unit = index.memberInChain(found.store, method);
      if (!unit) return;
      this.facts.calls.push({
        method,
        receiver: receiverText,
        kind: 'typed',
        store: unit.store,
        units: [unit],
        composition: null,
        reference,
        inTransaction,
        location,
      });
    } else if (found.kind === 'composition') {
      this.facts.calls.push({
        method,
        receiver: receiverText,
        kind: 'typed',
        store: null,
        units: [],
        composition: found.composition,
        reference,
        inTransaction,
        location,
      });
    }
  }

  #receiverTarget(r: ts.Expression): ReceiverTarget {
    const syntactic = syntacticReceiver(r, this.unit.store, this.ctx.index);
    if (syntactic.kind !== 'unknown') return syntactic;
    const checker = this.ctx.project.checker();
    return targetOfType(checker.getTypeAtLocation(r), checker, this.ctx.index);
  }

  /**
   * A const declared around this unit (at module level, or in the mixin
   * function around the class) whose initializer is a query: `sql` text or a
   * builder chain. It runs where it is used, so it is walked at each use.
   * Null when `id` names no such const.
   */
  #outerQuery(id: ts.Identifier, env: Env, ctes: ReadonlySet<string>): ChainState | null {
    if (this.unit.module.imports.has(id.text)) {
      this.#importedQuery(id);
      return null;
    }
    // Cheap first: most identifiers name no query const of an enclosing scope.
    if (!this.#enclosingScopes().some((scope) => queryConstNames(scope).has(id.text))) return null;
    const decl = findLocalDeclaration(id);
    if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer || !isConst(decl))
      return null;
    if (isWithin(decl, this.unit.fn)) return null;
    const init = unwrapExpression(decl.initializer);
    return isQuery(init) ? this.#walkInline(decl, init, env, ctes) : null;
  }

  /**
   * `this.f` where a field of the store's chain holds a query (`readonly base =
   * this.dbConn.selectFrom('t')`, or `sql` text): walked here, where it runs,
   * when the field is in this file; otherwise said, not skipped.
   */
  #fieldQuery(
    e: ts.PropertyAccessExpression,
    env: Env,
    ctes: ReadonlySet<string>,
  ): ChainState | null {
    const field = this.#fieldInitializer(e);
    if (!field || !isQuery(field.init)) return null;
    if (!this.#inThisFile(e, field, 'table-name', 'a query built', 'it')) return null;
    return this.#walkInline(field.field.node, field.init, env, ctes);
  }

  /** The field `this.f` names in the unit's store chain, and its initializer; null without one. */
  #fieldInitializer(
    e: ts.PropertyAccessExpression,
  ): { store: StoreDecl; field: FieldDecl; init: ts.Expression } | null {
    const store = this.unit.store;
    const found = store && this.ctx.index.fieldInChain(store, e.name.text);
    const init = found?.field.initializer && unwrapExpression(found.field.initializer);
    return found && init ? { ...found, init } : null;
  }

  /**
   * Whether the field is declared in this unit's file, where its initializer
   * can be walked; if not, that is said at `e` (as `kind`), so the rules hold
   * back.
   */
  #inThisFile(
    e: ts.PropertyAccessExpression,
    field: { store: StoreDecl; field: FieldDecl },
    kind: UnresolvedKind,
    holds: string,
    it: string,
  ): boolean {
    if (field.field.node.getSourceFile() === this.#sf) return true;
    this.#unresolved(
      kind,
      `\`this.${e.name.text}\` holds ${holds} in a field of \`${field.store.name}\` in another file, and store-lint does not follow ${it} there`,
      this.#loc(e),
    );
    return false;
  }

  /**
   * `this.f` called (`this.f(…)`, `this.f.x(…)`) or handed to a commit hook,
   * where the field `f` holds code in a value that is not itself a function:
   * an object of handlers, `once((row) => …)`, `{ a: this.dropA }`. What that
   * code does counts for the unit that runs it, walked where it is declared
   * (its functions as nested functions); a field only read, or handed
   * elsewhere, is not walked. In a field of another file it is said, so the
   * rules hold back.
   */
  #fieldCode(e: ts.PropertyAccessExpression, env: Env, ctes: ReadonlySet<string>): void {
    const field = this.#fieldInitializer(e);
    if (!field || isQuery(field.init) || !holdsCode(field.init, this.ctx.index)) return;
    if (!this.#inThisFile(e, field, 'invalidation', 'functions', 'them')) return;
    this.#walkInline(field.field.node, field.init, env, ctes);
  }

  /** Walks a query declared elsewhere where it runs; one that names itself is walked once. */
  #walkInline(
    decl: ts.Node,
    init: ts.Expression,
    env: Env,
    ctes: ReadonlySet<string>,
  ): ChainState | null {
    if (this.#walkingInline.has(decl)) return null;
    this.#walkingInline.add(decl);
    try {
      return this.#chain(init, env, ctes);
    } finally {
      this.#walkingInline.delete(decl);
    }
  }

  /** `x.m` where `m` is the name of some store's method (an invalidation target). */
  #namesStoreMethod(arg: ts.Expression | undefined): boolean {
    const a = arg && unwrapExpression(arg);
    return (
      a !== undefined &&
      ts.isPropertyAccessExpression(a) &&
      this.ctx.index.isStoreMethodName(a.name.text)
    );
  }

  /** The blocks and the file around this unit, innermost first. */
  #enclosingScopes(): readonly (ts.Block | ts.SourceFile)[] {
    if (!this.#scopes) {
      this.#scopes = [];
      for (let n: ts.Node | undefined = this.unit.fn.parent; n; n = n.parent)
        if (ts.isBlock(n) || ts.isSourceFile(n)) this.#scopes.push(n);
    }
    return this.#scopes;
  }

  /** A query const imported from another module is not followed: said, not skipped. */
  #importedQuery(id: ts.Identifier): void {
    const from = importedQueryModule(this.ctx.index, this.unit.module, id.text);
    if (from === null) return;
    this.#unresolved(
      'table-name',
      `\`${id.text}\` holds a query built in ${from}, and store-lint does not follow a query constant across modules`,
      this.#loc(id),
    );
  }

  /**
   * `Class.name(…)` calling a static method of a store class of this file, or
   * `ns.name(…)` calling a helper function through a namespace import.
   */
  #staticReference(receiver: ts.Expression, name: string): boolean {
    const r = unwrapExpression(receiver);
    if (!ts.isIdentifier(r)) return false;
    const { module } = this.unit;
    const unit =
      module.imports.get(r.text)?.imported === '*'
        ? this.ctx.index.functionUnit(module, `${r.text}.${name}`)
        : this.ctx.index.staticUnit(module, r.text, name);
    if (unit && unit !== this.unit) this.facts.helpers.add(unit);
    return unit !== null;
  }

  /** An identifier naming a helper function: top-level, or local to the mixin around the class. */
  #helperReference(id: ts.Identifier): boolean {
    const module = this.unit.module;
    const index = this.ctx.index;
    const unit =
      module.locals.has(id.text) || module.imports.has(id.text)
        ? index.functionUnit(module, id.text)
        : this.unit.store && index.mixinLocalUnit(this.unit.store, id.text);
    if (unit && unit !== this.unit) this.facts.helpers.add(unit);
    return Boolean(unit);
  }

  /**
   * A call store-lint does not follow that is handed the store's database
   * handle (`this.dbConn`, or a transaction): an imported function whose
   * module is not analysed (outside the tsconfig, a package), or a function
   * held in an imported or module-level object (`queries.purge(this.dbConn)`).
   * What it reads and writes is unknown, and said.
   */
  #unfollowedHelper(call: ts.CallExpression, receiver: ts.Expression | null): void {
    const { module } = this.unit;
    const { graph } = this.ctx.index;
    const { project } = this.ctx;
    const holder = unwrapExpression(receiver ?? call.expression);
    if (!ts.isIdentifier(holder) || call.arguments.length === 0) return;
    // Most calls are handed no database handle: that is the cheap test, first.
    const handle = call.arguments.find((a) => this.#isDatabaseHandle(a));
    if (!handle || findLocalDeclaration(holder) !== null) return;
    let why: string | null = null;
    if (receiver) {
      // `queries.purge(…)`: an object of functions, here or imported.
      const declared = graph.resolve(module, holder.text)?.node;
      const init = declared && ts.isVariableDeclaration(declared) && declared.initializer;
      if (init && ts.isObjectLiteralExpression(unwrapExpression(init)))
        why = 'a function held in an object';
    } else {
      // An imported function in a source the analysis does not take in (the
      // storesplit runtime, and packages under node_modules, are libraries).
      const binding = module.imports.get(holder.text);
      const target = binding && project.resolveImport(binding.specifier, module.file.abs);
      if (
        binding &&
        ((target && !isRuntimeSource(target) && !graph.module(target)) ||
          project.sourceOutsideProject(binding.specifier, module.file.abs) !== null)
      )
        why = 'a function in a file the tsconfig does not include';
    }
    if (why === null) return;
    this.#unresolved(
      'table-name',
      `\`${call.expression.getText(this.#sf)}(…)\` is handed \`${handle.getText(this.#sf)}\`, and store-lint does not follow it (${why}); what it reads and writes is not known`,
      this.#loc(call.expression),
    );
  }

  /** `this.dbConn` (or `self.dbConn`), or a parameter typed as a transaction. */
  #isDatabaseHandle(arg: ts.Expression): boolean {
    const e = unwrapExpression(arg);
    if (ts.isPropertyAccessExpression(e)) return e.name.text === 'dbConn' && isSelf(e.expression);
    if (!ts.isIdentifier(e)) return false;
    const decl = findLocalDeclaration(e);
    return decl !== null && ts.isParameter(decl) && isTxnType(decl.type);
  }
}

function isWithin(node: ts.Node, container: ts.Node): boolean {
  return (
    node.pos >= container.pos &&
    node.end <= container.end &&
    node.getSourceFile() === container.getSourceFile()
  );
}
