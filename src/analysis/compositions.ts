// Compositions as the runtime builds them: the layers of the prototype chain
// innermost first (a composition over another starts with that one's layers;
// each mixin's own composed mixins come before it; the composition's own
// class body last), the methods the runtime sees (a later layer's method
// overrides an earlier one's), and reads and writes closed over calls where
// `this.x` from any of its layers means the composition's own `x`.
import { closeOver } from './closure.js';
import type { CodeIndex, Unit } from './code-index.js';
import { byName, sortedUnique } from './freeze.js';
import { nodeLocation } from './location.js';
import type { CallFact, UnitFacts } from './method-facts.js';
import type { CompositionMethod } from './model.js';
import type { ModuleInfo } from './module-index.js';
import type { CompositionDecl, StoreDecl } from './stores.js';
import type { UnresolvedSink } from './unresolved.js';

export interface CompositionLayout {
  /** Stores whose members the composition has, innermost first (duplicates kept). */
  readonly layers: readonly StoreDecl[];
  /** The mixins applied, innermost first, by `exportName` (unknown ones by the name used). */
  readonly mixins: readonly string[];
  /** Method name → the unit the runtime calls. */
  readonly effective: ReadonlyMap<string, Unit>;
}

const MAX_DEPTH = 50;

/**
 * Why a mixin `name` imported into `module` is unknown, when the reason is
 * the usual one in a workspace: its import lands on sources the tsconfig
 * leaves out. Empty otherwise.
 */
function outsideProject(index: CodeIndex, module: ModuleInfo, name: string): string {
  const imported = module.imports.get(name);
  if (!imported) return '';
  const rel = index.graph.project.sourceOutsideProject(imported.specifier, module.file.abs);
  if (!rel) return '';
  return ` (\`${imported.specifier}\` resolves to ${rel}, which the tsconfig does not include: include it)`;
}

export function layoutCompositions(
  compositions: readonly CompositionDecl[],
  index: CodeIndex,
  ownStores: ReadonlyMap<CompositionDecl, StoreDecl>,
  unresolved: UnresolvedSink,
): Map<CompositionDecl, CompositionLayout> {
  const layouts = new Map<CompositionDecl, CompositionLayout>();

  const expand = (s: StoreDecl, layers: StoreDecl[], mixins: string[], depth: number): void => {
    if (depth > MAX_DEPTH) return;
    for (const c of index.composes(s)) expand(c, layers, mixins, depth + 1);
    if (s.kind === 'mixin') {
      for (const r of s.composesRefs) {
        if (index.storeNamed(s.module, r.name)) continue;
        unresolved.add(
          'mixin',
          `${s.exportName} applies \`${r.name}\`, which is not a store mixin the analyser knows${outsideProject(index, s.module, r.name)}`,
          nodeLocation(r.node, s.module.file.rel, s.module.file.sf),
          { store: s.exportName },
        );
      }
    }
    layers.push(s);
    mixins.push(s.exportName);
  };

  const layout = (c: CompositionDecl, depth: number): CompositionLayout => {
    const known = layouts.get(c);
    if (known) return known;
    const layers: StoreDecl[] = [];
    const mixins: string[] = [];
    const base = c.baseComposition && index.compositionNamed(c.module, c.baseComposition.name);
    if (base && base !== c && depth < MAX_DEPTH) {
      const inner = layout(base, depth + 1);
      layers.push(...inner.layers);
      mixins.push(...inner.mixins);
    }
    for (const ref of c.mixinRefs) {
      const s = index.storeNamed(c.module, ref.name);
      if (s && s.kind === 'mixin') {
        expand(s, layers, mixins, 0);
        continue;
      }
      mixins.push(ref.name);
      unresolved.add(
        'mixin',
        `composition ${c.name} applies \`${ref.name}\`, which is not a store mixin the analyser knows${outsideProject(index, c.module, ref.name)}`,
        nodeLocation(ref.node, c.module.file.rel, c.module.file.sf),
      );
    }
    const own = ownStores.get(c);
    if (own) layers.push(own);
    const effective = new Map<string, Unit>();
    for (const s of layers) for (const m of s.members) effective.set(m.name, index.memberUnit(m));
    const result = { layers, mixins, effective };
    layouts.set(c, result);
    return result;
  };

  for (const c of compositions) layout(c, 0);
  return layouts;
}

export interface ClosureInputs {
  readonly facts: ReadonlyMap<Unit, UnitFacts>;
  /** By unit id. */
  readonly readsDirect: readonly ReadonlySet<string>[];
  readonly writesDirect: readonly ReadonlySet<string>[];
  /** Where a call goes when the composition does not decide it. */
  readonly callTargets: (call: CallFact) => readonly Unit[];
}

/**
 * The composition's methods with reads and writes closed over the part of
 * the call graph they reach, and the units they reach (their methods included).
 */
export function compositionMethods(
  layout: CompositionLayout,
  inputs: ClosureInputs,
): { methods: CompositionMethod[]; reached: readonly Unit[] } {
  const { facts, readsDirect, writesDirect, callTargets } = inputs;
  const inComposition = new Set(layout.layers);
  const local = new Map<Unit, number>();
  const order: Unit[] = [];
  const edges: number[][] = [];
  const visit = (u: Unit): number => {
    const known = local.get(u);
    if (known !== undefined) return known;
    const id = order.length;
    local.set(u, id);
    order.push(u);
    edges.push([]);
    const out: number[] = [];
    const f = facts.get(u);
    for (const call of f?.calls ?? []) {
      const pinned =
        call.kind === 'this' && u.store && inComposition.has(u.store)
          ? layout.effective.get(call.method)
          : undefined;
      for (const t of pinned ? [pinned] : callTargets(call)) out.push(visit(t));
    }
    for (const h of f?.helpers ?? []) out.push(visit(h));
    edges[id] = out;
    return id;
  };
  for (const u of layout.effective.values()) visit(u);
  const reads = closeOver(
    order.map((u) => readsDirect[u.id]!),
    edges,
  );
  const writes = closeOver(
    order.map((u) => writesDirect[u.id]!),
    edges,
  );
  const methods = [...layout.effective.entries()]
    .map(([name, u]) => ({
      name,
      store: u.store!.exportName,
      reads: sortedUnique(reads[local.get(u)!]!),
      writes: sortedUnique(writes[local.get(u)!]!),
    }))
    .sort(byName);
  return { methods, reached: order };
}
