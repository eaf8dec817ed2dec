// Reads and writes of every unit closed over calls, and each composition's
// methods closed over what they reach in it. A long-running process
// (`store-lint --watch`) hands in the last run's closure when the last run's
// unit facts held (`KeptFacts`): units are then the same, in the same order,
// so ids match, and only units whose facts were walked again ("changed")
// and what reaches them are closed again. Everything else is the last run's
// (the same Set objects), and so is a composition whose methods reach no
// changed unit.
import { closeOver } from './closure.js';
import type { Unit } from './code-index.js';
import { compositionMethods, type CompositionLayout } from './compositions.js';
import type { CallFact, UnitFacts } from './method-facts.js';
import type { CompositionMethod, DatabaseWrite } from './model.js';
import { throughViews, writesThrough, type KindedWrite, type Schema } from './schema.js';
import type { CompositionDecl } from './stores.js';
import { reportTriggerGaps } from './triggers.js';
import { RecordingSink, type UnresolvedAdd, type UnresolvedSink } from './unresolved.js';

/** What one run's closure leaves for the next; arrays by unit id. */
export interface ClosureMemo {
  readonly readsDirect: readonly ReadonlySet<string>[];
  readonly writesDirect: readonly ReadonlySet<string>[];
  /** What the unit's writes reported unresolved through the triggers they fire (replayed when kept). */
  readonly triggerGaps: readonly (readonly UnresolvedAdd[])[];
  /** What the database writes when the unit's statements write: a write of `writesDirect` no statement names. */
  readonly databaseWrites: readonly (readonly DatabaseWrite[])[];
  readonly edges: readonly (readonly number[])[];
  readonly reads: readonly ReadonlySet<string>[];
  readonly writes: readonly ReadonlySet<string>[];
  /** Whether a helper the unit reaches through helpers leaves something unresolved (filled as asked). */
  readonly helpersUnresolved: readonly (boolean | undefined)[];
  /** By composition key: the units its methods reach, and its methods. */
  readonly compositions: ReadonlyMap<number, KeptComposition>;
}

interface KeptComposition {
  readonly reached: readonly number[];
  readonly methods: readonly CompositionMethod[];
}

export interface ClosureInput {
  readonly units: readonly Unit[];
  readonly facts: ReadonlyMap<Unit, UnitFacts>;
  readonly schema: Pick<Schema, 'viewReads' | 'triggers' | 'referencedBy'>;
  readonly unresolved: UnresolvedSink;
  readonly compositions: readonly CompositionDecl[];
  readonly layouts: ReadonlyMap<CompositionDecl, CompositionLayout>;
  /** Where a call goes (a composition's call: its effective method). */
  readonly callTargets: (call: CallFact) => readonly Unit[];
  /** The last run's closure, when its units are this run's (same ids), with what tells them apart. */
  readonly last: {
    readonly memo: ClosureMemo;
    /** Whether `u`'s facts were walked again in this run (else they are the last run's). */
    readonly changed: (u: Unit) => boolean;
    readonly compositionKey: (c: CompositionDecl) => number;
  } | null;
}

export interface CallClosure {
  readonly readsDirect: readonly ReadonlySet<string>[];
  readonly writesDirect: readonly ReadonlySet<string>[];
  readonly databaseWrites: readonly (readonly DatabaseWrite[])[];
  readonly reads: readonly ReadonlySet<string>[];
  readonly writes: readonly ReadonlySet<string>[];
  readonly compositionMethods: ReadonlyMap<CompositionDecl, readonly CompositionMethod[]>;
  /** Whether a helper `u` reaches, through helpers, holds an unresolved fact. */
  helpersUnresolved(u: Unit): boolean;
  /** For the next run; `compositionKey` names compositions across runs. */
  memo(compositionKey: (c: CompositionDecl) => number): ClosureMemo;
}

export function closeCalls(input: ClosureInput): CallClosure {
  const { units, facts, schema, unresolved, callTargets, last } = input;
  const fresh = (u: Unit): boolean => last === null || last.changed(u);
  const tablesOf = (u: Unit, access: 'read' | 'write') => {
    const out = new Set<string>();
    for (const a of facts.get(u)?.accesses ?? []) if (a.access === access) out.add(a.table);
    return out;
  };
  const writesOf = (u: Unit): KindedWrite[] => {
    const out: KindedWrite[] = [];
    for (const a of facts.get(u)?.accesses ?? [])
      if (a.access === 'write') out.push({ table: a.table, kind: a.kind ?? 'unknown' });
    return out;
  };

  // A view stands for the tables it reads, for reads and writes alike. A
  // write also writes what the triggers it fires write, and what the foreign
  // keys referencing a table it may delete from write; a trigger whose
  // tables are not all known leaves the writing unit unresolved.
  const readsDirect: ReadonlySet<string>[] = [];
  const writesDirect: ReadonlySet<string>[] = [];
  const triggerGaps: (readonly UnresolvedAdd[])[] = [];
  const databaseWrites: (readonly DatabaseWrite[])[] = [];
  const edges: (readonly number[])[] = [];
  const changed: number[] = [];
  for (const u of units) {
    if (!fresh(u)) {
      const memo = last!.memo;
      readsDirect[u.id] = memo.readsDirect[u.id]!;
      writesDirect[u.id] = memo.writesDirect[u.id]!;
      triggerGaps[u.id] = memo.triggerGaps[u.id]!;
      databaseWrites[u.id] = memo.databaseWrites[u.id]!;
      for (const add of triggerGaps[u.id]!) unresolved.add(...add);
      edges[u.id] = memo.edges[u.id]!;
      continue;
    }
    changed.push(u.id);
    readsDirect[u.id] = throughViews(tablesOf(u, 'read'), schema.viewReads);
    const { tables, fired, byDatabase } = writesThrough(writesOf(u), schema);
    databaseWrites[u.id] = byDatabase;
    const recording = new RecordingSink(unresolved);
    reportTriggerGaps(fired, recording, {
      store: u.store?.exportName ?? null,
      method: u.store ? u.name : null,
    });
    writesDirect[u.id] = tables;
    triggerGaps[u.id] = recording.added;
    const f = facts.get(u);
    const out: number[] = [];
    for (const call of f?.calls ?? []) for (const t of callTargets(call)) out.push(t.id);
    for (const h of f?.helpers ?? []) out.push(h.id);
    edges[u.id] = out;
  }

  const affected = last === null ? null : reaching(changed, edges);
  const reads = closeAffected(readsDirect, edges, affected, last?.memo.reads);
  const writes = closeAffected(writesDirect, edges, affected, last?.memo.writes);

  const kept = new Map<CompositionDecl, KeptComposition>();
  const methods = new Map<CompositionDecl, readonly CompositionMethod[]>();
  const changedIds = new Set(changed);
  for (const c of input.compositions) {
    const was = last?.memo.compositions.get(last.compositionKey(c));
    if (was && !was.reached.some((id) => changedIds.has(id))) {
      kept.set(c, was);
      methods.set(c, was.methods);
      continue;
    }
    const found = compositionMethods(input.layouts.get(c)!, {
      facts,
      readsDirect,
      writesDirect,
      callTargets,
    });
    kept.set(c, { reached: found.reached.map((u) => u.id), methods: found.methods });
    methods.set(c, found.methods);
  }

  const helpersUnresolved: (boolean | undefined)[] = [];
  const gapUnits = (u: Unit) => triggerGaps[u.id]!.length > 0;
  return {
    readsDirect,
    writesDirect,
    databaseWrites,
    reads,
    writes,
    compositionMethods: methods,
    helpersUnresolved(u) {
      const known =
        helpersUnresolved[u.id] ??
        (affected?.has(u.id) === false ? last!.memo.helpersUnresolved[u.id] : undefined);
      if (known !== undefined) return (helpersUnresolved[u.id] = known);
      const seen = new Set<Unit>([u]);
      const queue = [...(facts.get(u)?.helpers ?? [])];
      let found = false;
      while (queue.length && !found) {
        const h = queue.pop()!;
        if (seen.has(h)) continue;
        seen.add(h);
        const f = facts.get(h);
        if (!f) continue;
        if (f.unresolved > 0 || gapUnits(h)) found = true;
        else queue.push(...f.helpers);
      }
      return (helpersUnresolved[u.id] = found);
    },
    memo: (compositionKey) => ({
      readsDirect,
      writesDirect,
      triggerGaps,
      databaseWrites,
      edges,
      reads,
      writes,
      helpersUnresolved,
      compositions: new Map([...kept].map(([c, k]) => [compositionKey(c), k])),
    }),
  };
}

/** The nodes from which one of `targets` is reachable (the targets included). */
function reaching(targets: readonly number[], edges: readonly (readonly number[])[]): Set<number> {
  // Reverse adjacency in two flat arrays: the edges into node v are
  // sources[start[v]] … sources[start[v + 1] - 1].
  const n = edges.length;
  const start = new Int32Array(n + 1);
  for (const out of edges) for (const w of out) start[w + 1]!++;
  for (let v = 0; v < n; v++) start[v + 1]! += start[v]!;
  const fill = start.slice(0, n);
  const sources = new Int32Array(start[n]!);
  edges.forEach((out, v) => {
    for (const w of out) sources[fill[w]!++] = v;
  });
  const found = new Set<number>(targets);
  const queue = [...targets];
  while (queue.length > 0) {
    const w = queue.pop()!;
    for (let i = start[w]!; i < start[w + 1]!; i++) {
      const v = sources[i]!;
      if (!found.has(v)) {
        found.add(v);
        queue.push(v);
      }
    }
  }
  return found;
}

/**
 * Each node's set closed over its edges, where only `affected` nodes (those
 * reaching a changed one) are closed again: any other node's closed set is
 * the last run's, and it enters an affected node's closure as it is.
 */
function closeAffected(
  direct: readonly ReadonlySet<string>[],
  edges: readonly (readonly number[])[],
  affected: ReadonlySet<number> | null,
  lastClosed: readonly ReadonlySet<string>[] | undefined,
): ReadonlySet<string>[] {
  if (affected === null || lastClosed === undefined) return closeOver(direct, edges);
  const out: ReadonlySet<string>[] = [...lastClosed];
  const nodes = [...affected];
  const local = new Map(nodes.map((v, i) => [v, i]));
  const subDirect = nodes.map((v) => {
    const set = new Set(direct[v]);
    for (const w of edges[v]!) if (!local.has(w)) for (const t of lastClosed[w]!) set.add(t);
    return set;
  });
  const subEdges = nodes.map((v) =>
    edges[v]!.flatMap((w) => {
      const i = local.get(w);
      return i === undefined ? [] : [i];
    }),
  );
  closeOver(subDirect, subEdges).forEach((set, i) => (out[nodes[i]!] = set));
  return out;
}
