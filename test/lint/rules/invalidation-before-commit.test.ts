import { describe, expect, it } from 'vitest';
import { invalidationBeforeCommit as rule } from '../../../src/lint/rules/invalidation-before-commit.js';
import { model } from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

const store = (inv: object) =>
  model()
    .mixin('S', (s) =>
      s.cached('getX').method('setX', {
        line: 20,
        writes: ['x'],
        invalidates: [{ cache: 'getX', line: 23, ...inv }],
      }),
    )
    .build();

describe('invalidation-before-commit', () => {
  it('reports an invalidation inside the transaction body', () => {
    expect(ids(rule, store({ inTransaction: true, afterCommit: false }))).toEqual([
      ['beforeCommit', 23],
    ]);
    expect(check(rule, store({ inTransaction: true }))[0]!.message).toContain(
      '`S.setX` calls `invalidate(this.getX, …)` inside the transaction body',
    );
  });

  it('reports every local kind', () => {
    for (const kind of ['invalidatePrefix', 'invalidateAll'] as const) {
      expect(ids(rule, store({ kind, inTransaction: true }))).toEqual([['beforeCommit', 23]]);
    }
  });

  it('accepts txn.callAfter, after the interaction, and the caches-stream forms', () => {
    expect(check(rule, store({ inTransaction: true, afterCommit: true }))).toEqual([]);
    expect(check(rule, store({ inTransaction: false, afterCommit: true }))).toEqual([]);
    expect(check(rule, store({ inTransaction: false, afterCommit: false }))).toEqual([]);
    for (const kind of [
      'invalidateCacheAndStream',
      'invalidateCacheAndStreamBulk',
      'invalidateAllCacheAndStream',
    ] as const) {
      expect(check(rule, store({ kind, inTransaction: true, afterCommit: false }))).toEqual([]);
    }
  });
});
