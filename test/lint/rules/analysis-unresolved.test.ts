import { describe, expect, it } from 'vitest';
import { lint } from '../../../src/lint/engine.js';
import { analysisUnresolved as rule } from '../../../src/lint/rules/analysis-unresolved.js';
import { loc, model } from '../model-builder.js';
import { check } from '../rule-tester.js';

describe('analysis-unresolved', () => {
  it('reports each unresolved fact where it is, naming the method, as a warning', () => {
    const m = model()
      .mixin('S', (s) => s.method('load', { line: 10 }))
      .unresolved('table name is not a string literal', loc('src/stores/S.ts', 12), {
        store: 'S',
        method: 'load',
      })
      .unresolved(
        'composition applies `Lib`, which is not a store mixin',
        loc('src/stores/main.ts', 4),
        { kind: 'mixin' },
      )
      .build();
    expect(check(rule, m).map((f) => [f.file, f.line, f.message])).toEqual([
      [
        'src/stores/S.ts',
        12,
        'table name is not a string literal (in `S.load`); store-lint cannot check what depends on it',
      ],
      [
        'src/stores/main.ts',
        4,
        'composition applies `Lib`, which is not a store mixin; store-lint cannot check what depends on it',
      ],
    ]);
    expect(lint(m, { rules: [rule] }).messages.every((x) => x.severity === 1)).toBe(true);
  });

  it('reports nothing for a fully resolved model', () => {
    expect(check(rule, model().mixin('S').build())).toEqual([]);
  });
});
