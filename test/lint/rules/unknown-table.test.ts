import { describe, expect, it } from 'vitest';
import { unknownTable as rule } from '../../../src/lint/rules/unknown-table.js';
import { model, receiptsApp } from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

describe('unknown-table', () => {
  it('accepts tables the schema defines, and the runtime’s own tables', () => {
    expect(check(rule, receiptsApp().build())).toEqual([]);
    const m = model()
      .schema('users')
      .mixin('S', (s) => s.method('pos', { reads: ['storesplit_stream_positions'] }))
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('reports a misspelt table with a suggestion', () => {
    const m = model()
      .schema('receipts')
      .mixin('S', (s) => s.method('getR', { line: 10, reads: ['reciepts'] }))
      .build();
    expect(ids(rule, m)).toEqual([['unknownTable', 11]]);
    expect(check(rule, m)[0]!.message).toBe(
      '`S.getR` reads `reciepts`, which no schema file defines (did you mean `receipts`?)',
    );
  });

  it('reports a stream listing an unknown table', () => {
    const m = model().schema('receipts').stream('receipts', ['receipt'], { line: 3 }).build();
    expect(ids(rule, m)).toEqual([['unknownStreamTable', 3]]);
  });

  it('reports an empty schema once instead of every table', () => {
    const m = model()
      .mixin('S', (s) => s.method('getR', { reads: ['a', 'b'] }))
      .build();
    const [f, ...rest] = check(rule, m);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ messageId: 'noSchema', file: 'store-lint.config.json', line: 1 });
  });
});
