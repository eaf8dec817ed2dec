import { describe, expect, it } from 'vitest';
import type { InvalidationKind } from '../../../src/analysis/model.js';
import { invalidationKeyMismatch as rule } from '../../../src/lint/rules/invalidation-key-mismatch.js';
import { loc, model } from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

const tags = (kind: InvalidationKind, keyArity: number | null) =>
  model()
    .mixin('TagsWorkerStore', (s) => s.cached('getTags', { line: 5, keyArity: 2 }))
    .mixin(
      'TagsStore',
      (s) =>
        s.method('addTag', {
          line: 20,
          invalidates: [{ cache: 'getTags', kind, keyArity, line: 24 }],
        }),
      {
        composes: ['TagsWorkerStore'],
      },
    )
    .composition('Main', ['TagsStore'])
    .build();

describe('invalidation-key-mismatch', () => {
  it('accepts full keys and prefixes that fit', () => {
    expect(check(rule, tags('invalidate', 2))).toEqual([]);
    expect(check(rule, tags('invalidateCacheAndStream', 2))).toEqual([]);
    expect(check(rule, tags('invalidatePrefix', 1))).toEqual([]);
    expect(check(rule, tags('invalidatePrefix', 2))).toEqual([]);
    expect(check(rule, tags('invalidateAll', null))).toEqual([]);
    expect(check(rule, tags('invalidateCacheAndStreamBulk', null))).toEqual([]);
  });

  it('reports a key of the wrong length', () => {
    expect(ids(rule, tags('invalidate', 1))).toEqual([['arity', 24]]);
    expect(ids(rule, tags('invalidateCacheAndStream', 3))).toEqual([['arity', 24]]);
    expect(check(rule, tags('invalidate', 1))[0]!.message).toBe(
      '`invalidate(this.getTags, …)` passes 1 key argument; `getTags` (TagsWorkerStore) is keyed by 2 arguments',
    );
  });

  it('reports a prefix that is empty or too long', () => {
    expect(ids(rule, tags('invalidatePrefix', 0))).toEqual([['prefixArity', 24]]);
    expect(ids(rule, tags('invalidatePrefix', 3))).toEqual([['prefixArity', 24]]);
  });

  it('reports a target that is not cached, and names an undecorated override', () => {
    const plain = model()
      .mixin('S', (s) =>
        s.method('getTags', { line: 5 }).method('addTag', {
          line: 20,
          invalidates: [{ cache: 'getTags', keyArity: 1, line: 24 }],
        }),
      )
      .build();
    expect(ids(rule, plain)).toEqual([['notCached', 24]]);
    const overridden = model()
      .mixin('W', (s) =>
        s
          .cached('getTags', { line: 5 })
          .method('drop', { line: 20, invalidates: [{ cache: 'getTags', line: 24 }] }),
      )
      .mixin('S', (s) => s.method('getTags', { line: 40 }), { composes: ['W'] })
      .composition('Main', ['S'])
      .build();
    const [f] = check(rule, overridden);
    expect(f).toMatchObject({ messageId: 'notCached', line: 24 });
    expect(f!.message).toContain('an undecorated override hides the cached one');
  });

  it('says nothing about a target whose decorator it could not resolve: it may be cached', () => {
    const m = model()
      .mixin('S', (s) =>
        s.method('getTags', { line: 5 }).method('addTag', {
          line: 20,
          invalidates: [{ cache: 'getTags', keyArity: 1, line: 24 }],
        }),
      )
      .unresolved(
        '@pick on getTags: `pick` holds `fast ? cached : slow`',
        loc('src/stores/S.ts', 4),
        {
          kind: 'decorator',
          store: 'S',
          method: 'getTags',
        },
      )
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('reports invalidating a cachedList front instead of its cache', () => {
    const m = model()
      .mixin('S', (s) =>
        s
          .cached('getUser')
          .cachedList('getUsers', 'getUser')
          .method('drop', { line: 20, invalidates: [{ cache: 'getUsers', line: 22 }] }),
      )
      .build();
    expect(ids(rule, m)).toEqual([['cachedListTarget', 22]]);
  });

  it('ignores targets it cannot find and unknown key lengths', () => {
    const m = model()
      .mixin('S', (s) =>
        s
          .method('drop', { invalidates: [{ cache: 'elsewhere' }] })
          .cached('getTags', { keyArity: 2 })
          .method('d2', { invalidates: [{ cache: 'getTags', keyArity: null }] }),
      )
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('says nothing about the key of a cache whose numArgs it could not read', () => {
    const m = model()
      .mixin('S', (s) =>
        s
          .cached('getTags', { keyArity: 2 })
          .method('drop', { invalidates: [{ cache: 'getTags', keyArity: 1 }] }),
      )
      .unresolved('`numArgs` is not a number literal', loc('src/stores/S.ts', 5), {
        kind: 'cache-options',
        store: 'S',
        method: 'getTags',
      })
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('resolves the target as the composition does, reporting once', () => {
    const m = tags('invalidate', 1);
    const twice = {
      ...m,
      compositions: [...m.compositions, { ...m.compositions[0]!, name: 'Main2' }],
    };
    expect(ids(rule, twice)).toEqual([['arity', 24]]);
  });
});
