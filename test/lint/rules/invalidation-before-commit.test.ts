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

  describe('through a method called in the transaction', () => {
    /** S1.forget invalidates at once unless `quiet`; S2 overrides it and calls it from `run`. */
    const layered = (opts: {
      baseInvalidates: boolean;
      receiver: 'this' | 'super';
      nested?: boolean;
    }) =>
      model()
        .mixin('S1', (s) =>
          s.cached('getX').method('forget', {
            line: 10,
            invalidates: opts.baseInvalidates
              ? [{ cache: 'getX', line: 11, inNestedFunction: opts.nested ?? false }]
              : [],
          }),
        )
        .mixin(
          'S2',
          (s) =>
            s
              .method('forget', {
                line: 30,
                invalidates: opts.baseInvalidates ? [] : [{ cache: 'getX', line: 31 }],
              })
              .method('run', {
                line: 40,
                calls: [
                  {
                    method: 'forget',
                    receiver: opts.receiver,
                    store: opts.receiver === 'super' ? 'S1' : undefined,
                    line: 43,
                    inTransaction: true,
                  },
                ],
              }),
          { composes: ['S1'] },
        )
        .composition('Main', ['S2'])
        .build();

    it('reports the call of a method that invalidates at once, naming it', () => {
      expect(ids(rule, layered({ baseInvalidates: false, receiver: 'this' }))).toEqual([
        ['viaCall', 43],
      ]);
      expect(ids(rule, layered({ baseInvalidates: true, receiver: 'super' }))).toEqual([
        ['viaCall', 43],
      ]);
    });

    it('judges super.m() by the method it runs, not by the override', () => {
      expect(check(rule, layered({ baseInvalidates: false, receiver: 'super' }))).toEqual([]);
    });

    it('ignores an invalidation in a function the callee only creates or hands on', () => {
      expect(
        check(rule, layered({ baseInvalidates: true, receiver: 'super', nested: true })),
      ).toEqual([]);
    });
  });
});
