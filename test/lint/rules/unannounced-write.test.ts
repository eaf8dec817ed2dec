import { describe, expect, it } from 'vitest';
import { unannouncedWrite as rule } from '../../../src/lint/rules/unannounced-write.js';
import { loc, model, receiptsApp, RECEIPTS_LINES as L } from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

describe('unannounced-write', () => {
  it('accepts writes announced on a covering stream or through the caches stream', () => {
    expect(check(rule, receiptsApp().build())).toEqual([]);
  });

  it('reports a write that allocates no token, at the write', () => {
    const [f, ...rest] = check(rule, receiptsApp({ insertAllocates: false }).build());
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ messageId: 'unannounced', line: L.insertReceipt + 1 });
    expect(f!.message).toBe(
      '`ReceiptsStore.insertReceipt` (app main) writes `receipts` on no stream that announces it (stream `receipts` would, ' +
        'but it allocates no token there) and records no caches-stream invalidation of `getReceiptsForRoom` (ReceiptsWorkerStore), ' +
        'which app reader caches; the workers never hear of this write',
    );
  });

  it('reports a write whose caches-stream invalidation was removed', () => {
    expect(ids(rule, receiptsApp({ addTagInvalidation: null }).build())).toEqual([
      ['unannounced', L.addTag + 1],
    ]);
  });

  it('reports a write invalidated only locally on the writer (Synapse #13863)', () => {
    const m = receiptsApp({
      addTagInvalidation: {
        cache: 'getTagsForRoom',
        kind: 'invalidate',
        keyArity: 2,
        afterCommit: true,
      },
    }).build();
    const [f] = check(rule, m);
    expect(f).toMatchObject({ line: L.addTag + 1 });
    expect(f!.message).toContain('(no stream lists it)');
  });

  it('ignores tables no worker cache reads', () => {
    const m = model()
      .schema('audit_log')
      .mixin('S', (s) => s.method('log', { writes: ['audit_log'] }))
      .composition('Main', ['S'])
      .composition('Reader', [])
      .app('main', 'writer', 'Main')
      .app('reader', 'worker', 'Reader')
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('holds back when the allocated stream’s tables are unknown or the path is unresolved', () => {
    const unknownStream = receiptsApp({ insertAllocates: false }).build();
    const patched = {
      ...unknownStream,
      stores: unknownStream.stores.map((s) => ({
        ...s,
        methods: s.methods.map((me) =>
          me.name === 'insertReceipt'
            ? { ...me, allocates: [{ stream: 'mystery', field: 'x', location: loc(s.file, 41) }] }
            : me,
        ),
      })),
    };
    expect(check(rule, patched)).toEqual([]);
    const unresolved = receiptsApp({ insertAllocates: false })
      .unresolved('call through an untyped value', loc('src/stores/receipts.ts', 42), {
        store: 'ReceiptsStore',
        method: 'insertReceipt',
      })
      .build();
    expect(check(rule, unresolved)).toEqual([]);
  });

  it('accepts a write on another stream whose worker handler invalidates the cache', () => {
    const m = model()
      .schema('events', 'event_relations')
      .stream('events', ['events'])
      .mixin('W', (s) =>
        s
          .cached('getRelations', { reads: ['event_relations'] })
          .handler('onEvents', 'events', { invalidates: ['getRelations'] }),
      )
      .mixin(
        'S',
        (s) => s.method('relate', { writes: ['event_relations'], allocates: ['events'] }),
        { composes: ['W'] },
      )
      .composition('Main', ['S'])
      .composition('Reader', ['W'])
      .app('main', 'writer', 'Main')
      .app('reader', 'worker', 'Reader')
      .build();
    expect(check(rule, m)).toEqual([]);
  });
});
