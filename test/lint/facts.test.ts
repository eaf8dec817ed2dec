// The shared facts' resolution of a composition, pinned where the speed work
// on facts.ts had to keep behaviour exactly: which definition wins and in
// what order `methods` and `definitions` list them (including what the
// analyser names but the chain lacks), what a reach visits, and the frozen
// model the analyser hands over.
import { describe, expect, it } from 'vitest';
import type { CompositionMethod, StoreModel } from '../../src/analysis/model.js';
import { deepFreeze } from '../../src/analysis/freeze.js';
import { factsOf, resolveMethod, type Resolved } from '../../src/lint/facts.js';
import { model } from './model-builder.js';

const where = (r: Resolved | undefined) => r && `${r.store.exportName}.${r.method.name}`;

/** `m` with composition `name`'s methods as the analyser lists them replaced by `methods`. */
function withMethods(
  m: StoreModel,
  name: string,
  methods: readonly CompositionMethod[],
): StoreModel {
  return deepFreeze({
    ...m,
    compositions: m.compositions.map((c) => (c.name === name ? { ...c, methods } : c)),
  });
}

describe('composition facts', () => {
  const base = model()
    .mixin('A', (s) => s.method('get', { reads: ['a'] }).method('only', { reads: ['o'] }))
    .mixin('B', (s) => s.method('get', { reads: ['b'] }).method('put', { writes: ['b'] }), {
      composes: ['A'],
    })
    .mixin('Z', (s) => s.method('far', { reads: ['z'] }))
    .composition('C', ['B'])
    .build();

  it("lists methods in the analyser's order and every definition innermost first", () => {
    const c = factsOf(base).composition('C')!;
    expect([...c.methods.keys()]).toEqual(['get', 'only', 'put']);
    expect([...c.definitions.keys()]).toEqual(['get', 'only', 'put']);
    expect(c.definitions.get('get')!.map(where)).toEqual(['A.get', 'B.get']);
    // The winner is the definition itself, carrying the composition's reads.
    expect(c.methods.get('get')).toBe(c.definitions.get('get')![1]);
    expect(c.methods.get('get')!.reads).toEqual(['b']);
    expect(c.definitions.get('get')![0]!.reads).toEqual(['a']);
  });

  it('puts a winner outside the chain after its definitions, and leaves out one the model lacks', () => {
    const m = withMethods(base, 'C', [
      { name: 'get', store: 'Z', reads: ['z'], writes: [] },
      { name: 'far', store: 'Z', reads: ['z'], writes: [] },
      { name: 'gone', store: 'Nowhere', reads: [], writes: [] },
      { name: 'put', store: 'B', reads: [], writes: ['b'] },
    ]);
    const c = factsOf(m).composition('C')!;
    expect([...c.methods.keys()]).toEqual(['far', 'put']);
    expect([...c.definitions.keys()]).toEqual(['get', 'only', 'put', 'far']);
    expect(c.definitions.get('get')!.map(where)).toEqual(['A.get', 'B.get']);
    expect(where(c.methods.get('far'))).toBe('Z.far');
    expect(c.methods.get('far')).toBe(c.definitions.get('far')![0]);
  });

  it("takes the last of two entries of one name, in the first one's place", () => {
    const m = withMethods(base, 'C', [
      { name: 'get', store: 'B', reads: ['first'], writes: [] },
      { name: 'put', store: 'B', reads: [], writes: ['b'] },
      { name: 'get', store: 'A', reads: ['last'], writes: [] },
    ]);
    const c = factsOf(m).composition('C')!;
    expect([...c.methods.keys()]).toEqual(['get', 'put']);
    expect(where(c.methods.get('get'))).toBe('A.get');
    expect(c.methods.get('get')!.reads).toEqual(['last']);
    expect(c.definitions.get('get')!.map((d) => d.reads)).toEqual([['last'], ['b']]);
  });

  it('resolves a method from a store in each composition holding it', () => {
    const m = model()
      .mixin('A', (s) => s.method('get'))
      .mixin('B', (s) => s.method('get'))
      .composition('One', ['A'])
      .composition('Two', ['A', 'B'])
      .build();
    const facts = factsOf(m);
    const a = m.stores.find((s) => s.exportName === 'A')!;
    expect(resolveMethod(facts, a, 'get').map(where)).toEqual(['A.get', 'B.get']);
    expect(resolveMethod(facts, a, 'missing')).toEqual([]);
  });
});

describe('reach', () => {
  const m = model()
    .stream('s', ['t'])
    .mixin('W', (s) =>
      s
        .cached('getT', { reads: ['t'] })
        .cached('getU', { reads: ['u'] })
        .method('save', { writes: ['t'], calls: ['note', 'tell', 'save'], allocates: ['s'] })
        .method('note', { invalidates: ['getT'], calls: ['tell'] })
        .method('tell', {
          invalidates: [{ cache: 'getU', kind: 'invalidateCacheAndStream' }],
          calls: ['note'],
        })
        .method('lone'),
    )
    .composition('C', ['W'])
    .build();

  it('visits each method once, depth first from the last call, and collects what they do', () => {
    const c = factsOf(m).composition('C')!;
    const reach = c.reach(c.methods.get('save')!);
    expect(reach.members.map(where)).toEqual(['W.save', 'W.tell', 'W.note']);
    expect([...reach.streams]).toEqual(['s']);
    expect([...reach.local]).toEqual(['getU', 'getT']);
    expect([...reach.cachesStream]).toEqual(['getU']);
    expect(reach.uncertain).toBe(false);
    expect(c.reach(c.methods.get('save')!)).toBe(reach);
  });

  it('reaches only itself from a method that calls none', () => {
    const c = factsOf(m).composition('C')!;
    const reach = c.reach(c.methods.get('lone')!);
    expect(reach.members.map(where)).toEqual(['W.lone']);
    expect([reach.streams.size, reach.local.size, reach.cachesStream.size]).toEqual([0, 0, 0]);
  });

  it('finds write paths and entry points when asked for', () => {
    const c = factsOf(m).composition('C')!;
    expect(c.entryPoints.map(where)).toEqual(['W.getT', 'W.getU', 'W.lone', 'W.save']);
    expect(c.writePaths.map((p) => [where(p.root), [...p.writes], p.members.length])).toEqual([
      ['W.save', ['t'], 3],
    ]);
  });
});

describe('the frozen model', () => {
  it('is what the facts read: the analyser deep-freezes it, and so does the builder', () => {
    const m = model().mixin('A').composition('C', ['A']).build();
    expect(Object.isFrozen(m.stores)).toBe(true);
    expect(Object.isFrozen(m.stores[0]!.methods)).toBe(true);
  });
});
