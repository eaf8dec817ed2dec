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
// compositions, and the transaction openers are the same. Anything else
// walks every unit again. A kept fact that points into an edited file (a
// location that may have moved) is walked again too, and so is a unit whose
// walk asked the type checker (whose answers may depend on any body).
//
// Facts are kept with their units, stores and compositions named by
// position (a unit's id, a store's place in the run's list): they are
// reused only when the new run found the same declarations in the same
// order, and are then resolved against the new run's objects.
//
// What the run built from the facts is kept with them for the next run:
// the closure over calls (`call-closure.ts`) and the stores' model entries
// (`kept-stores.ts`).
import type { CodeIndex, Unit } from './code-index.js';
import type { CallFact, UnitFacts } from './method-facts.js';
import type { ClosureMemo } from './call-closure.js';
import type { KeptStore } from './kept-stores.js';
import { lookalikes } from './lookalikes.js';
import type { SourceLocation } from './model.js';
import type { ProjectFile } from './project.js';
import type { CompositionDecl, StoreDecl } from './stores.js';
import type { TransactionOpeners } from './transactions.js';
import type { UnresolvedAdd, UnresolvedSink } from './unresolved.js';

/**
 * A call as kept: units by id, stores and compositions by their position in
 * the run's lists. Kept facts are reused only when the next run found the
 * same units, stores and compositions in the same order, so these name the
 * same things there.
 */
interface KeptCall extends Omit<CallFact, 'store' | 'units' | 'composition'> {
  readonly store: number | null;
  readonly units: readonly number[];
  readonly composition: number | null;
}

interface KeptUnit {
  /** The facts that name no unit, store or composition (a new field of UnitFacts must be added here). */
  readonly facts: Omit<UnitFacts, 'calls' | 'helpers'>;
  readonly calls: readonly KeptCall[];
  readonly helpers: readonly number[];
  /** What the walk reported unresolved, in order (replayed into the run's sink). */
  readonly unresolved: readonly UnresolvedAdd[];
  /** Files any location above is in. */
  readonly files: ReadonlySet<string>;
  /** Whether the walk asked the type checker, whose answers may depend on any file: never reused. */
  readonly usedChecker: boolean;
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
  /** By unit id. */
  readonly units: readonly (KeptUnit | undefined)[];
  /** By position in the run's stores. */
  readonly stores: readonly (KeptStore | undefined)[];
  readonly closure: ClosureMemo | null;
  /**
   * Where the run's imports looked and found nothing (absolute), with what
   * was there then (`lookalikes`): a file appearing there may change what an
   * import resolves to, in any file.
   */
  readonly missing: readonly (readonly [string, string])[];
}

/** Positions of a list's items. */
function positions<T>(items: readonly T[]): Map<T, number> {
  return new Map(items.map((item, i) => [item, i]));
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

/** The run's files, units, stores and compositions, in order: the facts hold across runs where this is equal. */
function declarationsOf(run: RunDeclarations, storeAt: ReadonlyMap<StoreDecl, number>): string {
  const lines: string[] = [];
  for (const f of run.files) lines.push(`f\t${f.rel}`);
  for (const u of run.index.units) {
    lines.push(`u\t${u.module.file.rel}\t${u.name}\t${u.store ? storeAt.get(u.store) : ''}`);
  }
  for (const s of run.stores) {
    lines.push(`s\t${s.module.file.rel}\t${s.name}\t${s.exportName}\t${s.kind}`);
  }
  for (const c of run.compositions) lines.push(`c\t${c.module.file.rel}\t${c.name}`);
  return lines.join('\n');
}

/** The facts of one run's units: reused from the last run where they hold, recorded for the next. */
export class FactsRun {
  readonly #storeAt: ReadonlyMap<StoreDecl, number>;
  readonly #compositionAt: ReadonlyMap<CompositionDecl, number>;
  readonly #recorded: (KeptUnit | undefined)[] = [];
  readonly #reusedUnits = new Set<Unit>();
  readonly #keptStores: (KeptStore | undefined)[] = [];
  #closure: ClosureMemo | null = null;
  /** Files whose tree is not the last run's; null when nothing of the last run may be reused. */
  readonly #edited: ReadonlySet<string> | null;
  readonly #last: LastRun | null;
  readonly #shapes = new Map<string, string>();
  readonly #declarations: string;
  readonly #openers: string;
  /** Units whose facts this run reused (for `lastAnalysisStats`). */
  get reused(): number {
    return this.#reusedUnits.size;
  }
  /** Stores whose model entry this run reused (for `lastAnalysisStats`). */
  storesReused = 0;

  constructor(
    readonly run: RunDeclarations,
    last: LastRun | null,
  ) {
    const { index, stores, compositions, openers, files } = run;
    this.#storeAt = positions(stores);
    this.#compositionAt = positions(compositions);
    this.#declarations = declarationsOf(run, this.#storeAt);
    const byId = (m: ReadonlyMap<Unit, unknown>) =>
      [...m]
        .map(([u, v]) => [u.id, v instanceof Map ? [...v] : v] as const)
        .sort((a, b) => a[0] - b[0]);
    this.#openers = JSON.stringify([byId(openers.wrappers), byId(openers.deferrers)]);

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
      last.missing.every(([place, was]) => lookalikes(place).join('\0') === was) &&
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
    const kept = this.#last.units[u.id];
    if (kept === undefined || kept.usedChecker) return null;
    for (const file of kept.files) if (this.#edited.has(file)) return null;
    const { units } = this.run.index;
    const { stores, compositions } = this.run;
    const calls: CallFact[] = kept.calls.map((c) => ({
      method: c.method,
      receiver: c.receiver,
      kind: c.kind,
      store: c.store === null ? null : stores[c.store]!,
      units: c.units.map((id) => units[id]!),
      composition: c.composition === null ? null : compositions[c.composition]!,
      reference: c.reference,
      inTransaction: c.inTransaction,
      location: c.location,
    }));
    for (const add of kept.unresolved) sink.add(...add);
    this.#recorded[u.id] = kept;
    this.#reusedUnits.add(u);
    return {
      accesses: kept.facts.accesses,
      invalidations: kept.facts.invalidations,
      allocations: kept.facts.allocations,
      unresolved: kept.facts.unresolved,
      calls,
      helpers: new Set(kept.helpers.map((id) => units[id]!)),
    };
  }

  /**
   * Keeps the facts a walk of `u` found, and what it reported unresolved, for
   * the next run; `usedChecker`: the walk asked the type checker.
   */
  record(
    u: Unit,
    facts: UnitFacts,
    unresolved: readonly UnresolvedAdd[],
    usedChecker: boolean,
  ): void {
    const files = new Set<string>();
    const at = (l: SourceLocation) => files.add(l.file);
    const calls: KeptCall[] = [];
    for (const c of facts.calls) {
      const store = c.store === null ? null : this.#storeAt.get(c.store);
      const composition = c.composition === null ? null : this.#compositionAt.get(c.composition);
      // A store or composition outside the run's lists cannot be named in the next run.
      if (store === undefined || composition === undefined) return;
      calls.push({
        method: c.method,
        receiver: c.receiver,
        kind: c.kind,
        store,
        units: c.units.map((x) => x.id),
        composition,
        reference: c.reference,
        inTransaction: c.inTransaction,
        location: c.location,
      });
      at(c.location);
    }
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
    const helpers = [...facts.helpers].map((h) => h.id);
    this.#recorded[u.id] = { facts: plain, calls, helpers, unresolved, files, usedChecker };
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
    const at = this.#storeAt.get(s);
    return (at !== undefined && this.#last.stores[at]) || null;
  }

  /** Keeps what this run built for `s` for the next run; `reused`: the entry is the last run's. */
  keepStore(s: StoreDecl, kept: KeptStore, reused: boolean): void {
    const at = this.#storeAt.get(s);
    if (at !== undefined) this.#keptStores[at] = kept;
    if (reused) this.storesReused++;
  }

  /** What names `c` across runs (its position among the run's compositions). */
  compositionKey(c: CompositionDecl): number {
    return this.#compositionAt.get(c)!;
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

  /** What the next run compares itself with; `missing`: where imports found nothing (absolute). */
  finish(missing: readonly string[]): LastRun {
    return {
      settings: this.run.settings,
      trees: new Map(this.run.files.map((f) => [f.rel, f.sf])),
      shapes: this.#shapes,
      declarations: this.#declarations,
      openers: this.#openers,
      units: this.#recorded,
      stores: this.#keptStores,
      closure: this.#closure,
      missing: missing.map((place) => [place, lookalikes(place).join('\0')] as const),
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
  done(run: FactsRun, missing: readonly string[]): void {
    this.#last = run.finish(missing);
  }
}
