import { describe, expect, it } from 'vitest';
import { workerWrites as rule } from '../../../src/lint/rules/worker-writes.js';
import { model, receiptsApp, RECEIPTS_LINES as L } from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

describe('worker-writes', () => {
  it('accepts a worker with reads only', () => {
    expect(check(rule, receiptsApp().build())).toEqual([]);
  });

  it('reports a write in a worker mixin, at the write', () => {
    const [f, ...rest] = check(rule, receiptsApp({ extraWorkerWrite: true }).build());
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ messageId: 'write', line: 31 });
    expect(f!.message).toBe(
      '`ReceiptsWorkerStore.markSeen` is composed into worker `ReaderDataStore` (app reader) and writes `receipts`; ' +
        'workers never write (reader may write only `reader_positions`)',
    );
  });

  it("reports the worker app's own writes through a store's handle, but not the tables it may write", () => {
    const m = receiptsApp({
      readerOwnWrites: [
        { table: 'room_tags', line: 12 },
        { table: 'reader_positions', line: 14 },
      ],
    }).build();
    expect(ids(rule, m)).toEqual([['appWrite', 12]]);
    expect(check(rule, m)[0]!.message).toBe(
      'code of worker app reader writes `room_tags` itself, through a store’s database handle rather than a store method; ' +
        'workers never write (reader may write only `reader_positions`)',
    );
  });

  it('reports a writer mixin composed into a worker: its writes and its allocations', () => {
    const m = receiptsApp({ readerMixins: ['ReceiptsStore', 'TagsWorkerStore'] }).build();
    expect(ids(rule, m)).toEqual([
      ['write', L.insertReceipt + 1],
      ['allocates', L.insertReceipt + 1],
    ]);
  });

  it('accepts writes of tables the app config allows', () => {
    const m = model()
      .schema('reader_positions')
      .mixin('Positions', (s) => s.method('savePosition', { writes: ['reader_positions'] }))
      .composition('Reader', ['Positions'])
      .app('reader', 'worker', 'Reader', { writes: ['reader_positions'] })
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('reports a caches-stream invalidation on a worker', () => {
    const m = model()
      .mixin('W', (s) =>
        s.cached('getX').method('dropX', {
          line: 20,
          invalidates: [{ cache: 'getX', kind: 'invalidateCacheAndStream', line: 22 }],
        }),
      )
      .composition('Reader', ['W'])
      .app('reader', 'worker', 'Reader')
      .build();
    expect(ids(rule, m)).toEqual([['cachesStream', 22]]);
  });

  it('reports a write through a query fragment at the method, and a write through a method once', () => {
    const base = model()
      .schema('t')
      .mixin('W', (s) =>
        s
          .method('viaHelper', { line: 10, calls: ['writeT'] })
          .method('writeT', { line: 20, writes: ['t'] }),
      )
      .composition('Reader', ['W'])
      .app('reader', 'worker', 'Reader')
      .build();
    expect(ids(rule, base)).toEqual([['write', 21]]);
    const fragment = model()
      .mixin('W', (s) => s.method('viaFragment', { line: 10 }))
      .composition('Reader', ['W'])
      .app('reader', 'worker', 'Reader')
      .build();
    const withFragmentWrite = {
      ...fragment,
      compositions: fragment.compositions.map((c) => ({
        ...c,
        methods: c.methods.map((me) => ({ ...me, writes: ['t'] })),
      })),
    };
    expect(ids(rule, withFragmentWrite)).toEqual([['indirectWrite', 10]]);
  });

  it('reports once for two worker apps sharing a composition', () => {
    const m = receiptsApp({ extraWorkerWrite: true })
      .app('reader2', 'worker', 'ReaderDataStore')
      .build();
    const findings = check(rule, m);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.subject.apps).toEqual(['reader', 'reader2']);
  });

  it('ignores writer apps', () => {
    expect(
      check(rule, receiptsApp().build()).filter((f) => f.subject.apps?.includes('main')),
    ).toEqual([]);
  });
});
