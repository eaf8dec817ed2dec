// The facts of each unit (store method or helper function) kept between
// analyses of one process (`store-lint --watch`), so that after an edit only
// the units of the edited files are walked again.
//
// A unit's walk reads its own file and, from other files, only what their
// declarations say (see docs/design/incremental-analysis.md): names,
// exports, members, field initializers, stream definitions — and, from
// other units' bodies, only whether they open or defer transactions
// (`TransactionOpeners`). So the last run's facts of a unit in an unchanged
// file still hold when every edited file kept its shape (its text with the
// units' bodies left out), discovery found the same units, stores and
// compositions, the transaction openers are the same, and neither run
// needed the type checker (whose answers may depend on any body). Anything
// else walks every unit again. A kept fact that points into an edited file
// (a location that may have moved) is walked again too.
//
// Facts are kept with their units, stores and compositions named by keys
// (file, kind, position among its file's declarations of that kind), and
// resolved against the new run's objects when reused.
//
// What the run built from the facts is kept with them for the next run:
// the closure over calls (`call-closure.ts`) and the stores' model entries
// (`kept-stores.ts`).
import type { CodeIndex, Unit } from './code-index.js';
import type { CallFact, UnitFacts } from './method-facts.js';
import type { ClosureMemo } from './call-closure.js';
import type { KeptStore } from './kept-stores.js';
import type { SourceLocation } from './model.js';
import type { ProjectFile } from './project.js';
import type { CompositionDecl, StoreDecl } from './stores.js';
import type { TransactionOpeners } from './transactions.js';
import type { UnresolvedAdd, UnresolvedSink } from './unresolved.js';

interface KeptCall extends Omit<CallFact, 'store' | 'units' | 'composition'> {
  readonly store: string | null;
  readonly units: readonly string[];
  readonly composition: string | null;
}

interface KeptUnit {
  /** The facts that name no unit, store or composition (a new field of UnitFacts must be added here). */
  readonly facts: Omit<UnitFacts, 'calls' | 'helpers'>;
  readonly calls: readonly KeptCall[];
  readonly helpers: readonly string[];
  /** What the walk reported unresolved, in order (replayed into the run's sink). */
  readonly unresolved: readonly UnresolvedAdd[];
  /** Files any location above is in. */
  readonly files: ReadonlySet<string>;
}

/** What a run found before walking units: enough to decide whether the last run's facts still hold. */
export interface RunDeclarations {
  readonly files: readonly ProjectFile[];
  readonly index: CodeIndex;
  readonly stores: readonly StoreDecl[];
  readonly compositions: readonly CompositionDecl[];
  readonly openers: TransactionOpeners;
  /** Everything else a walk reads that is not in a source file (naming, schema routines, `stores` globs). */
  readonly settings: string;
}

interface LastRun {
  readonly settings: string;
  readonly trees: ReadonlyMap<string, ProjectFile['sf']>;
  readonly shapes: ReadonlyMap<string, string>;
  readonly declarations: string;
  readonly openers: string;
  readonly units: ReadonlyMap<string, KeptUnit>;
  readonly stores: ReadonlyMap<string, KeptStore>;
  readonly closure: ClosureMemo | null;
  readonly checkerCreated: boolean;
}

/** Numbers things of one file in the order given: `src/a.ts#u3`. */
function keysByFile<T>(
  items: readonly T[],
  fileOf: (t: T) => string,
  kind: string,
): Map<T, string> {
  const seen = new Map<string, number>();
  const keys = new Map<T, string>();
  for (const item of items) {
    const file = fileOf(item);
    const n = seen.get(file) ?? 0;
    seen.set(file, n + 1);
    keys.set(item, `${file}#${kind}${n}`);
  }
  return keys;
}

/** The file's text with the bodies of its units left out: what other files' walks may read of it. */
function shapeOf(file: ProjectFile, units: readonly Unit[]): string {
  const bodies = units
    .map((u) => u.fn.body)
    .filter((b): b is NonNullable<typeof b> => b !== undefined)
    .map((b) => [b.getStart(file.sf), b.getEnd()] as const)
    .sort((a, b) => a[0] - b[0]);
  let shape = '';
  let at = 0;
  for (const [start, end] of bodies) {
    if (start < at) continue; // inside a body already left out
    shape += `${file.sf.text.slice(at, start)}{}`;
    at = end;
  }
  return shape + file.sf.text.slice(at);
}

/** The facts of one run's units: reused from the last run where they hold, recorded for the next. */
export class FactsRun {
  readonly #unitKeys: Map<Unit, string>;
  readonly #storeKeys: Map<StoreDecl, string>;
  readonly #compositionKeys: Map<CompositionDecl, string>;
  readonly #units = new Map<string, Unit>();
  readonly #stores = new Map<string, StoreDecl>();
  readonly #compositions = new Map<string, CompositionDecl>();
  readonly #recorded = new Map<string, KeptUnit>();
  readonly #reusedUnits = new Set<Unit>();
  readonly #keptStores = new Map<string, KeptStore>();
  #closure: ClosureMemo | null = null;
  /** Files whose tree is not the last run's; null when nothing of the last run may be reused. */
  readonly #edited: ReadonlySet<string> | null;
  readonly #last: LastRun | null;
  readonly #shapes = new Map<string, string>();
  readonly #declarations: string;
  readonly #openers: string;
  /** Units whose facts this run reused (for `lastAnalysisStats`). */
  reused = 0;
  /** Stores whose model entry this run reused (for `lastAnalysisStats`). */
  storesReused = 0;

  constructor(
    readonly run: RunDeclarations,
    last: LastRun | null,
  ) {
    const { index, stores, compositions, openers, files } = run;
    this.#unitKeys = keysByFile(index.units, (u) => u.module.file.rel, 'u');
    this.#storeKeys = keysByFile(stores, (s) => s.module.file.rel, 's');
    this.#compositionKeys = keysByFile(compositions, (c) => c.module.file.rel, 'c');
    for (const [u, k] of this.#unitKeys) this.#units.set(k, u);
    for (const [s, k] of this.#storeKeys) this.#stores.set(k, s);
    for (const [c, k] of this.#compositionKeys) this.#compositions.set(k, c);
    this.#declarations = JSON.stringify([
      files.map((f) => f.rel),
      index.units.map((u) => [
        this.#unitKeys.get(u),
        u.name,
        u.store ? this.#storeKeys.get(u.store) : null,
      ]),
      stores.map((s) => [this.#storeKeys.get(s), s.name, s.exportName, s.kind]),
      compositions.map((c) => [this.#compositionKeys.get(c), c.name]),
    ]);
    const byIndex = (m: ReadonlyMap<Unit, unknown>) =>
      [...m]
        .map(([u, v]) => [this.#unitKeys.get(u) ?? '?', v instanceof Map ? [...v] : v] as const)
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.#openers = JSON.stringify([byIndex(openers.wrappers), byIndex(openers.deferrers)]);

    const unitsOf = new Map<string, Unit[]>();
    for (const u of index.units) {
      const list = unitsOf.get(u.module.file.rel);
      if (list) list.push(u);
      else unitsOf.set(u.module.file.rel, [u]);
    }
    const edited = new Set<string>();
    for (const f of files) {
      if (last?.trees.get(f.rel) === f.sf) continue;
      edited.add(f.rel);
      this.#shapes.set(f.rel, shapeOf(f, unitsOf.get(f.rel) ?? []));
    }
    const holds =
      last !== null &&
      !last.checkerCreated &&
      last.settings === run.settings &&
      last.declarations === this.#declarations &&
      last.openers === this.#openers &&
      [...edited].every((rel) => last.shapes.get(rel) === this.#shapes.get(rel));
    this.#last = holds ? last : null;
    this.#edited = holds ? edited : null;
    // Shapes of unchanged files are the last run's (computed when they last changed).
    for (const f of files) {
      if (this.#shapes.has(f.rel)) continue;
      const known = last?.shapes.get(f.rel);
      this.#shapes.set(f.rel, known ?? shapeOf(f, unitsOf.get(f.rel) ?? []));
    }
  }

  /** The last run's facts of `u`, if they hold in this run; their unresolved facts are replayed into `sink`. */
  reuse(u: Unit, sink: UnresolvedSink): UnitFacts | null {
    if (this.#last === null || this.#edited === null) return null;
    if (this.#edited.has(u.module.file.rel)) return null;
    const key = this.#unitKeys.get(u);
    const kept = key === undefined ? undefined : this.#last.units.get(key);
    if (kept === undefined) return null;
    for (const file of kept.files) if (this.#edited.has(file)) return null;
    const units = (keys: readonly string[]): Unit[] | null => {
      const out: Unit[] = [];
      for (const k of keys) {
        const found = this.#units.get(k);
        if (!found) return null;
        out.push(found);
      }
      return out;
    };
    const calls: CallFact[] = [];
    for (const c of kept.calls) {
      const callUnits = units(c.units);
      const store = c.store === null ? null : (this.#stores.get(c.store) ?? undefined);
      const composition =
        c.composition === null ? null : (this.#compositions.get(c.composition) ?? undefined);
      if (callUnits === null || store === undefined || composition === undefined) return null;
      calls.push({ ...c, store, units: callUnits, composition });
    }
    const helpers = units(kept.helpers);
    if (helpers === null) return null;
    for (const add of kept.unresolved) sink.add(...add);
    this.#recorded.set(key!, kept);
    this.#reusedUnits.add(u);
    this.reused++;
    return { ...kept.facts, calls, helpers: new Set(helpers) };
  }

  /** Keeps the facts a walk of `u` found, and what it reported unresolved, for the next run. */
  record(u: Unit, facts: UnitFacts, unresolved: readonly UnresolvedAdd[]): void {
    const key = this.#unitKeys.get(u);
    if (key === undefined) return;
    const keysOf = (list: Iterable<Unit>): string[] | null => {
      const out: string[] = [];
      for (const x of list) {
        const k = this.#unitKeys.get(x);
        if (k === undefined) return null;
        out.push(k);
      }
      return out;
    };
    const files = new Set<string>();
    const at = (l: SourceLocation) => files.add(l.file);
    const calls: KeptCall[] = [];
    for (const c of facts.calls) {
      const callUnits = keysOf(c.units);
      const store = c.store === null ? null : this.#storeKeys.get(c.store);
      const composition = c.composition === null ? null : this.#compositionKeys.get(c.composition);
      if (callUnits === null || store === undefined || composition === undefined) return;
      calls.push({ ...c, store, units: callUnits, composition });
      at(c.location);
    }
    const helpers = keysOf(facts.helpers);
    if (helpers === null) return;
    for (const a of facts.accesses) at(a.location);
    for (const i of facts.invalidations) at(i.location);
    for (const a of facts.allocations) at(a.location);
    for (const [, , location] of unresolved) at(location);
    const plain = {
      accesses: facts.accesses,
      invalidations: facts.invalidations,
      allocations: facts.allocations,
      unresolved: facts.unresolved,
    };
    this.#recorded.set(key, { facts: plain, calls, helpers, unresolved, files });
  }

  /** Whether `u`'s facts in this run are the last run's. */
  wasReused(u: Unit): boolean {
    return this.#reusedUnits.has(u);
  }

  /** Whether `file` (relative to the root) is not as the last run parsed it. */
  edited(file: string): boolean {
    return this.#edited === null || this.#edited.has(file);
  }

  /** What the last run kept of `s`, if its file is unchanged and the last run's facts hold. */
  lastStore(s: StoreDecl): KeptStore | null {
    if (this.#last === null || this.edited(s.module.file.rel)) return null;
    const key = this.#storeKeys.get(s);
    return (key !== undefined && this.#last.stores.get(key)) || null;
  }

  /** Keeps what this run built for `s` for the next run; `reused`: the entry is the last run's. */
  keepStore(s: StoreDecl, kept: KeptStore, reused: boolean): void {
    const key = this.#storeKeys.get(s);
    if (key !== undefined) this.#keptStores.set(key, kept);
    if (reused) this.storesReused++;
  }

  /** The key that names `c` across runs. */
  compositionKey(c: CompositionDecl): string {
    return this.#compositionKeys.get(c)!;
  }

  /**
   * The last run's closure over calls, if the last run's facts hold: its
   * units are then this run's, in the same order (the same ids).
   */
  lastClosure(): ClosureMemo | null {
    return this.#last === null ? null : this.#last.closure;
  }

  recordClosure(memo: ClosureMemo): void {
    this.#closure = memo;
  }

  /** What the next run compares itself with. */
  finish(checkerCreated: boolean): LastRun {
    return {
      settings: this.run.settings,
      trees: new Map(this.run.files.map((f) => [f.rel, f.sf])),
      shapes: this.#shapes,
      declarations: this.#declarations,
      openers: this.#openers,
      units: this.#recorded,
      stores: this.#keptStores,
      closure: this.#closure,
      checkerCreated,
    };
  }
}

/**
 * Unit facts kept by a long-running process between analyses. Each analysis
 * starts a `FactsRun` and hands its result back when done.
 */
export class KeptFacts {
  #last: LastRun | null = null;

  start(run: RunDeclarations): FactsRun {
    return new FactsRun(run, this.#last);
  }

  /** A run that fails before this keeps the last finished one as what the next compares with. */
  done(run: FactsRun, checkerCreated: boolean): void {
    this.#last = run.finish(checkerCreated);
  }
}
