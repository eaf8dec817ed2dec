import { describe, expect, it } from 'vitest';
import { cacheKeyArguments as rule } from '../../../src/lint/rules/cache-key-arguments.js';
import { model } from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

const withCache = (keyArity: number, unkeyedParameters: readonly string[], kind?: 'cachedList') =>
  model()
    .mixin('ProfilesWorkerStore', (s) =>
      s.cached('getUser', {
        line: 7,
        cached: { keyArity, unkeyedParameters, ...(kind ? { kind } : {}) },
      }),
    )
    .composition('Reader', ['ProfilesWorkerStore'])
    .build();

describe('cache-key-arguments', () => {
  it('accepts a key that holds every parameter, or the ones numArgs names', () => {
    expect(check(rule, withCache(2, []))).toEqual([]);
  });

  it('reports parameters the default key leaves out', () => {
    expect(ids(rule, withCache(1, ['includeDeleted']))).toEqual([['leftOut', 7]]);
    expect(check(rule, withCache(1, ['includeDeleted']))[0]!.message).toBe(
      '`@cached()` method `getUser` (ProfilesWorkerStore) keys on its first 1 argument (`fn.length`, no `numArgs`); `includeDeleted` is not in the key, so calls that differ only there share one entry: write `numArgs` to say which arguments the key holds',
    );
    expect(check(rule, withCache(0, ['...ids', 'x']))[0]!.message).toContain(
      'keys on its first 0 arguments (`fn.length`, no `numArgs`); `...ids`, `x` are not in the key',
    );
  });
});
