import { describe, expect, it } from 'vitest';
import { streamWithoutHandler as rule } from '../../../src/lint/rules/stream-without-handler.js';
import { loc, model, receiptsApp } from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

describe('stream-without-handler', () => {
  it('accepts streams some worker follows, and ignores the caches stream', () => {
    const m = receiptsApp().build();
    expect(check(rule, m)).toEqual([]);
    const withCaches = model()
      .mixin('S', (s) => s.idGen('cachesIdGen', 'caches'))
      .composition('Main', ['S'])
      .composition('Reader', [])
      .app('main', 'writer', 'Main')
      .app('reader', 'worker', 'Reader')
      .build();
    expect(check(rule, withCaches)).toEqual([]);
  });

  it('reports an announced stream no worker follows, at its definition', () => {
    const m = receiptsApp({ withHandler: false }).build();
    expect(ids(rule, m)).toEqual([['noHandler', 3]]);
    expect(check(rule, m)[0]!.message).toBe(
      'stream `receipts` is announced by `ReceiptsStore` (app main), but no worker composition has an `@onReplication(ReceiptsStream)` handler (workers: `ReaderDataStore`)',
    );
  });

  it('reports memory streams too', () => {
    const m = model()
      .stream('typing', [], { kind: 'memory', line: 4 })
      .mixin('S', (s) => s.idGen('typingSource', 'typing', 9, 'memoryStream'))
      .composition('Main', ['S'])
      .composition('Reader', [])
      .app('main', 'writer', 'Main')
      .app('reader', 'worker', 'Reader')
      .build();
    expect(ids(rule, m)).toEqual([['noHandler', 4]]);
  });

  it('says nothing when a worker method has a decorator the analyser could not resolve', () => {
    const m = receiptsApp({
      withHandler: false,
      readerMixins: ['ReceiptsWorkerStore', 'TagsWorkerStore', 'Decorated'],
    })
      .mixin('Decorated', (s) => s.method('onMaybe', { line: 5 }), {
        file: 'src/stores/decorated.ts',
      })
      .unresolved('@pick on onMaybe: `pick` holds `a ? b : c`', loc('src/stores/decorated.ts', 4), {
        kind: 'decorator',
        store: 'Decorated',
        method: 'onMaybe',
      })
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('says nothing without worker apps', () => {
    const m = model()
      .mixin('S', (s) => s.idGen('xIdGen', 'x'))
      .composition('Main', ['S'])
      .app('main', 'writer', 'Main')
      .build();
    expect(check(rule, m)).toEqual([]);
  });
});
