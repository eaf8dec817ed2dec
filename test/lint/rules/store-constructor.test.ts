import { describe, expect, it } from 'vitest';
import { storeConstructor as rule } from '../../../src/lint/rules/store-constructor.js';
import { model } from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

describe('store-constructor', () => {
  it('accepts stores without constructors and plain stores passing (dbConn, hs) to super', () => {
    const m = model()
      .mixin('A')
      .plainClass('Repo', (s) => s.ctor(['dbConn', 'hs'], true))
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('reports a mixin constructor', () => {
    const m = model()
      .mixin('A', (s) => s.ctor(['...args'], true, 12))
      .build();
    expect(ids(rule, m)).toEqual([['mixinConstructor', 12]]);
    expect(check(rule, m)[0]!.message).toContain('mixin `A` declares a constructor');
  });

  it('reports a plain store with another constructor shape', () => {
    const m = model()
      .plainClass('Repo', (s) => s.ctor(['db'], false, 7))
      .plainClass('Repo2', (s) => s.ctor(['dbConn', 'hs', 'clock'], false, 9), {
        file: 'src/stores/Repo2.ts',
      })
      .plainClass('Repo3', (s) => s.ctor(['dbConn', 'hs'], false, 11), {
        file: 'src/stores/Repo3.ts',
      })
      .build();
    expect(check(rule, m).map((f) => [f.messageId, f.line, f.file])).toEqual([
      ['plainConstructor', 7, 'src/stores/Repo.ts'],
      ['plainConstructor', 9, 'src/stores/Repo2.ts'],
      ['plainConstructor', 11, 'src/stores/Repo3.ts'],
    ]);
    expect(check(rule, m)[0]!.message).toBe(
      'store `Repo` has `constructor(db)`; a store’s constructor takes `(dbConn, hs)` and passes them unchanged to `super`',
    );
  });
});
