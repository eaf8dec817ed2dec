// The index the fact walker resolves names against: stores by name and by
// declaration, the mixin chain of each store, and the "units" whose bodies
// are walked (store methods and top-level helper functions).
import { ts } from './typescript.cjs';
import type { ModuleGraph, ModuleInfo } from './module-index.js';
import {
  isStatic,
  memberName,
  type CompositionDecl,
  type FieldDecl,
  type MemberDecl,
  type StoreDecl,
} from './stores.js';
import { unwrapExpression } from './streams.js';

/** A function body the analyser collects facts for: a store method or a top-level function. */
export interface Unit {
  readonly id: number;
  readonly store: StoreDecl | null;
  readonly name: string;
  readonly module: ModuleInfo;
  readonly fn: ts.FunctionLikeDeclaration;
  readonly nameNode: ts.Node;
  readonly member: MemberDecl | null;
}

export interface ThisTarget {
  /** The store whose method it is when the calling store alone decides it; null when only the composition can. */
  readonly store: StoreDecl | null;
  readonly units: readonly Unit[];
}

export class CodeIndex {
  readonly units: Unit[] = [];
  readonly #byExport = new Map<string, StoreDecl[]>();
  readonly #byClassName = new Map<string, StoreDecl[]>();
  readonly #byExtent = new Map<ts.Node, StoreDecl>();
  readonly #compositionsByName = new Map<string, CompositionDecl[]>();
  readonly #memberUnits = new Map<MemberDecl, Unit>();
  readonly #functionUnits = new Map<ts.Node, Unit>();
  readonly #mixinLocals = new Map<StoreDecl, Map<string, Unit>>();
  /** `file\0Class\0method` → the unit of a static method of a store class. */
  readonly #statics = new Map<string, Unit>();
  readonly #implementers = new Map<string, Unit[]>();
  readonly #composes = new Map<StoreDecl, StoreDecl[]>();
  readonly #chains = new Map<StoreDecl, StoreDecl[]>();

  constructor(
    readonly graph: ModuleGraph,
    readonly stores: readonly StoreDecl[],
    readonly compositions: readonly CompositionDecl[],
  ) {
    for (const s of stores) {
      push(this.#byExport, s.exportName, s);
      push(this.#byClassName, s.name, s);
      if (s.name !== s.exportName) push(this.#byClassName, s.exportName, s);
      this.#byExtent.set(s.extent, s);
      for (const m of s.members) {
        const unit = this.#addUnit({
          store: s,
          name: m.name,
          module: s.module,
          fn: m.fn,
          nameNode: m.nameNode,
          member: m,
        });
        this.#memberUnits.set(m, unit);
        push(this.#implementers, m.name, unit);
      }
    }
    for (const c of compositions) push(this.#compositionsByName, c.name, c);
  }

  /** Appends a unit, numbered in the order units are found. */
  #addUnit(unit: Omit<Unit, 'id'>): Unit {
    const added: Unit = { id: this.units.length, ...unit };
    this.units.push(added);
    return added;
  }

  /** Top-level functions of a module become units (mixin functions are stores, not helpers). */
  addModuleFunctions(module: ModuleInfo): void {
    for (const [name, node] of module.locals) {
      if (this.#byExtent.has(node)) continue;
      let fn: ts.FunctionLikeDeclaration | null = null;
      let nameNode: ts.Node | null = null;
      if (ts.isFunctionDeclaration(node) && node.body && node.name) {
        fn = node;
        nameNode = node.name;
      } else if (ts.isVariableDeclaration(node) && node.initializer) {
        const init = unwrapExpression(node.initializer);
        if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) {
          fn = init;
          nameNode = node.name;
        }
      }
      if (!fn || !nameNode) continue;
      const unit = this.#addUnit({ store: null, name, module, fn, nameNode, member: null });
      this.#functionUnits.set(node, unit);
    }
  }

  /**
   * Functions declared in a mixin function's body, beside its class, become
   * units: the class's methods call them like top-level helpers.
   */
  addMixinLocalFunctions(): void {
    for (const store of this.stores) {
      const body = functionBody(store.extent);
      if (!body) continue;
      const locals = new Map<string, Unit>();
      for (const stmt of body.statements) {
        const found: Array<[ts.Identifier, ts.FunctionLikeDeclaration]> = [];
        if (ts.isFunctionDeclaration(stmt) && stmt.name && stmt.body) found.push([stmt.name, stmt]);
        if (ts.isVariableStatement(stmt)) {
          for (const d of stmt.declarationList.declarations) {
            const init = d.initializer && unwrapExpression(d.initializer);
            if (
              ts.isIdentifier(d.name) &&
              init &&
              (ts.isArrowFunction(init) || ts.isFunctionExpression(init))
            )
              found.push([d.name, init]);
          }
        }
        for (const [nameNode, fn] of found) {
          const unit = this.#addUnit({
            store: null,
            name: nameNode.text,
            module: store.module,
            fn,
            nameNode,
            member: null,
          });
          locals.set(nameNode.text, unit);
        }
      }
      if (locals.size) this.#mixinLocals.set(store, locals);
    }
  }

  /**
   * Static methods of store classes become units, called like helpers
   * (`TagsStore.dropRoom(this, id)` from the same file): their queries and
   * invalidations count for whoever calls them.
   */
  addStaticMethods(): void {
    for (const store of this.stores) {
      for (const m of store.classNode?.members ?? []) {
        if (!isStatic(m) || !m.name) continue;
        const name = memberName(m.name);
        let fn: ts.FunctionLikeDeclaration | null = null;
        if (ts.isMethodDeclaration(m) && m.body) fn = m;
        else if (ts.isPropertyDeclaration(m) && m.initializer) {
          const init = unwrapExpression(m.initializer);
          if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) fn = init;
        }
        if (!fn || name === null) continue;
        const unit = this.#addUnit({
          store: null,
          name: `${store.name}.${name}`,
          module: store.module,
          fn,
          nameNode: m.name,
          member: null,
        });
        this.#statics.set(`${store.module.file.abs}\0${store.name}\0${name}`, unit);
      }
    }
  }

  /** The static method `Class.name` of a store class declared in `module`, as a unit. */
  staticUnit(module: ModuleInfo, className: string, name: string): Unit | null {
    return this.#statics.get(`${module.file.abs}\0${className}\0${name}`) ?? null;
  }

  /** A function declared beside the class in `store`'s mixin function, as a unit. */
  mixinLocalUnit(store: StoreDecl, name: string): Unit | null {
    return this.#mixinLocals.get(store)?.get(name) ?? null;
  }

  memberUnit(member: MemberDecl): Unit {
    return this.#memberUnits.get(member)!;
  }

  /** The store a name used in `from` refers to (through imports), else the only store so named. */
  storeNamed(from: ModuleInfo, name: string): StoreDecl | null {
    const resolved = this.graph.resolve(from, name);
    if (resolved) {
      const store = this.#byExtent.get(resolved.node);
      if (store) return store;
      if (ts.isClassDeclaration(resolved.node)) {
        const byClass = this.#byClassName.get(name)?.find((s) => s.classNode === resolved.node);
        if (byClass) return byClass;
      }
    }
    const candidates = this.#byExport.get(name) ?? [];
    return candidates.length === 1 ? candidates[0]! : null;
  }

  compositionNamed(from: ModuleInfo | null, name: string): CompositionDecl | null {
    const candidates = this.#compositionsByName.get(name) ?? [];
    if (from) {
      const resolved = this.graph.resolve(from, name);
      const hit = resolved && candidates.find((c) => c.classNode === resolved.node);
      if (hit) return hit;
    }
    return candidates.length === 1 ? candidates[0]! : null;
  }

  /** The stores a store composes (mixins it applies, or a plain class's store superclass). */
  composes(store: StoreDecl): StoreDecl[] {
    let list = this.#composes.get(store);
    if (!list) {
      list = store.composesRefs
        .map((r) => this.storeNamed(store.module, r.name))
        .filter((s): s is StoreDecl => s !== null && s !== store);
      this.#composes.set(store, list);
    }
    return list;
  }

  /** The store and everything it composes, nearest first (where `this.x` is looked up). */
  chain(store: StoreDecl): StoreDecl[] {
    let chain = this.#chains.get(store);
    if (chain) return chain;
    chain = [];
    const seen = new Set<StoreDecl>();
    const add = (s: StoreDecl): void => {
      if (seen.has(s)) return;
      seen.add(s);
      chain.push(s);
      for (const c of [...this.composes(s)].reverse()) add(c);
    };
    add(store);
    this.#chains.set(store, chain);
    return chain;
  }

  memberInChain(store: StoreDecl, name: string, skipSelf = false): Unit | null {
    for (const s of this.chain(store)) {
      if (skipSelf && s === store) continue;
      const m = s.members.find((x) => x.name === name);
      if (m) return this.memberUnit(m);
    }
    return null;
  }

  fieldInChain(store: StoreDecl, name: string): { store: StoreDecl; field: FieldDecl } | null {
    for (const s of this.chain(store)) {
      const field = s.fields.get(name);
      if (field) return { store: s, field };
    }
    return null;
  }

  /** Every store method so named. */
  implementers(name: string): readonly Unit[] {
    return this.#implementers.get(name) ?? [];
  }

  isStoreMethodName(name: string): boolean {
    return this.#implementers.has(name);
  }

  /** `this.name` (or `super.name`) from a store: its own chain first, else any store's method so named. */
  resolveThis(store: StoreDecl, name: string, viaSuper: boolean): ThisTarget | null {
    const own = this.memberInChain(store, name, viaSuper);
    if (own) return { store: own.store, units: [own] };
    const others = this.implementers(name);
    return others.length > 0 ? { store: null, units: others } : null;
  }

  /** A top-level function an identifier in `from` names, as a unit. */
  functionUnit(from: ModuleInfo, name: string): Unit | null {
    const resolved = this.graph.resolve(from, name);
    return resolved ? (this.#functionUnits.get(resolved.node) ?? null) : null;
  }

  /** A type name → the store (`exportName`) or composition it names, if any. */
  targetOfTypeName(
    name: string,
  ):
    | { kind: 'store'; store: StoreDecl }
    | { kind: 'composition'; composition: CompositionDecl }
    | null {
    const comps = this.#compositionsByName.get(name);
    if (comps?.length) return { kind: 'composition', composition: comps[0]! };
    const stores = this.#byClassName.get(name);
    if (stores?.length) return { kind: 'store', store: stores[0]! };
    return null;
  }

  /** The composition or store a declaration is (a class imported under another name). */
  targetOfDeclaration(
    node: ts.Node,
  ):
    | { kind: 'store'; store: StoreDecl }
    | { kind: 'composition'; composition: CompositionDecl }
    | null {
    const composition = this.compositions.find((c) => c.classNode === node);
    if (composition) return { kind: 'composition', composition };
    const store = this.#byExtent.get(node);
    return store ? { kind: 'store', store } : null;
  }

  /** True when `node` is a mixin function or store class (its code is store code). */
  isStoreExtent(node: ts.Node): boolean {
    return this.#byExtent.has(node);
  }

  isCompositionNode(node: ts.Node): boolean {
    return this.compositions.some((c) => c.classNode === node);
  }
}

/** The block body of a mixin function (declared, or a const arrow or function expression). */
function functionBody(extent: ts.Node): ts.Block | null {
  let fn: ts.Node = extent;
  if (ts.isVariableDeclaration(fn) && fn.initializer) fn = unwrapExpression(fn.initializer);
  if (
    (ts.isFunctionDeclaration(fn) || ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) &&
    fn.body &&
    ts.isBlock(fn.body)
  )
    return fn.body;
  return null;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
