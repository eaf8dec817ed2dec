import { describe, expect, it } from 'vitest';
import { duplicateCacheName as rule } from '../../../src/lint/rules/duplicate-cache-name.js';
import { model } from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

describe('duplicate-cache-name', () => {
  it('reports two mixins with a cached method of one name in one composition', () => {
    const m = model()
      .mixin('UsersWorkerStore', (s) => s.cached('getUser', { line: 5 }), {
        file: 'src/stores/users.ts',
      })
      .mixin('ProfilesWorkerStore', (s) => s.cached('getUser', { line: 8 }), {
        file: 'src/stores/profiles.ts',
      })
      .composition('Reader', ['UsersWorkerStore', 'ProfilesWorkerStore'])
      .build();
    expect(check(rule, m).map((f) => [f.messageId, f.file, f.line])).toEqual([
      ['duplicate', 'src/stores/profiles.ts', 8],
    ]);
    expect(check(rule, m)[0]!.message).toBe(
      '`@cached()` method `getUser` in `ProfilesWorkerStore` has the same name as the one in `UsersWorkerStore`; both are composed into `Reader`, and a cache name must be unique within a composition',
    );
  });

  it('reports a cached method overridden by another cached method', () => {
    const m = model()
      .mixin('W', (s) => s.cached('getUser', { line: 5 }))
      .mixin('S', (s) => s.cached('getUser', { line: 30 }), {
        composes: ['W'],
        file: 'src/stores/W.ts',
      })
      .composition('Main', ['S'])
      .build();
    expect(ids(rule, m)).toEqual([['duplicate', 30]]);
  });

  it('reports a mixin that the composition applies twice, once per cache, at the composition', () => {
    // Common and Tags each apply TagsWorker.
    const m = model()
      .mixin('TagsWorkerStore', (s) => s.cached('getTags', { line: 5 }).method('other'))
      .mixin('CommonWorkerStore', (s) => s, { composes: ['TagsWorkerStore'] })
      .mixin('TagsStore', (s) => s.method('addTag'), { composes: ['TagsWorkerStore'] })
      .composition('Main', ['CommonWorkerStore', 'TagsStore'])
      .build();
    const line = m.compositions[0]!.location.line;
    expect(ids(rule, m)).toEqual([['appliedTwice', line]]);
    expect(check(rule, m)[0]!.message).toBe(
      '`TagsWorkerStore` is applied 2 times in `Main` (composed by `CommonWorkerStore` and `TagsStore`), so its `@cached()` method `getTags` is defined 2 times; a cache name must be unique within a composition',
    );
  });

  it('accepts one name in different compositions, and an undecorated override', () => {
    const m = model()
      .mixin('A', (s) => s.cached('getUser'))
      .mixin('B', (s) => s.cached('getUser'))
      .mixin('C', (s) => s.method('getUser'), { composes: ['A'] })
      .composition('One', ['A'])
      .composition('Two', ['B'])
      .composition('Three', ['C'])
      .build();
    expect(check(rule, m)).toEqual([]);
  });
});
