import { describe, expect, it } from 'vitest';
import { cacheNotInvalidatedOnWorker as rule } from '../../../src/lint/rules/cache-not-invalidated-on-worker.js';
import {
  invalidation,
  loc,
  model,
  patchMethod,
  receiptsApp,
  RECEIPTS_LINES as L,
  thisCall,
} from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

describe('cache-not-invalidated-on-worker', () => {
  it('accepts a worker whose handler invalidates the cache', () => {
    expect(check(rule, receiptsApp().build())).toEqual([]);
  });

  it('reports a cache whose stream handler does not invalidate it, with the chain of facts', () => {
    const [finding, ...rest] = check(rule, receiptsApp({ handlerInvalidates: [] }).build());
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      messageId: 'notInvalidated',
      line: L.getReceiptsForRoom,
      file: 'src/stores/receipts.ts',
    });
    expect(finding!.message).toBe(
      '`getReceiptsForRoom` (ReceiptsWorkerStore, app reader) reads `receipts`; `ReceiptsStore.insertReceipt` writes it on ' +
        'stream `receipts`; no `@onReplication(ReceiptsStream)` handler in `reader` invalidates `getReceiptsForRoom`',
    );
    expect(finding!.subject).toMatchObject({
      store: 'ReceiptsWorkerStore',
      method: 'getReceiptsForRoom',
      table: 'receipts',
      apps: ['reader'],
    });
  });

  it('reports a worker that has no handler for the stream at all', () => {
    expect(ids(rule, receiptsApp({ withHandler: false }).build())).toEqual([
      ['notInvalidated', L.getReceiptsForRoom],
    ]);
  });

  it('follows a handler into the helper methods it calls, across mixins', () => {
    const base = receiptsApp({
      handlerInvalidates: [],
      readerMixins: ['CacheHelpers', 'ReceiptsWorkerStore', 'TagsWorkerStore'],
    })
      .mixin('CacheHelpers', (s) =>
        s.method('dropRoomCaches', { invalidates: ['getReceiptsForRoom'] }),
      )
      .build();
    expect(check(rule, base)).toHaveLength(1);
    const m = patchMethod(base, 'ReceiptsWorkerStore', 'onReceipts', {
      calls: [thisCall('dropRoomCaches', 'src/stores/receipts.ts', 21)],
    });
    expect(check(rule, m)).toEqual([]);
  });

  it('counts invalidateAll and invalidatePrefix as invalidating', () => {
    for (const kind of ['invalidateAll', 'invalidatePrefix'] as const) {
      const m = patchMethod(
        receiptsApp({ handlerInvalidates: [] }).build(),
        'ReceiptsWorkerStore',
        'onReceipts',
        {
          invalidations: [invalidation(kind, 'getReceiptsForRoom', 21)],
        },
      );
      expect(check(rule, m)).toEqual([]);
    }
  });

  it('leaves a write announced on no stream to unannounced-write', () => {
    expect(
      check(rule, receiptsApp({ handlerInvalidates: [], insertAllocates: false }).build()),
    ).toEqual([]);
  });

  it('accepts a write that also invalidates the cache through the caches stream', () => {
    const m = model()
      .schema('receipts')
      .stream('receipts', ['receipts'])
      .mixin('W', (s) => s.cached('getR', { reads: ['receipts'] }).handler('onR', 'receipts'))
      .mixin(
        'S',
        (s) =>
          s.method('put', {
            writes: ['receipts'],
            allocates: ['receipts'],
            invalidates: [{ cache: 'getR', kind: 'invalidateCacheAndStream' }],
          }),
        { composes: ['W'] },
      )
      .composition('Main', ['S'])
      .composition('Reader', ['W'])
      .app('main', 'writer', 'Main')
      .app('reader', 'worker', 'Reader')
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('stays silent when the handler holds something unresolved', () => {
    const m = receiptsApp({ handlerInvalidates: [] })
      .unresolved(
        'invalidation target is not a method reference',
        loc('src/stores/receipts.ts', 21),
        {
          kind: 'invalidation',
          store: 'ReceiptsWorkerStore',
          method: 'onReceipts',
        },
      )
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('stays silent when a helper function the handler calls holds something unresolved', () => {
    const m = patchMethod(
      receiptsApp({ handlerInvalidates: [] }).build(),
      'ReceiptsWorkerStore',
      'onReceipts',
      { helpersUnresolved: true },
    );
    expect(check(rule, m)).toEqual([]);
  });

  it('stays silent when the write path holds something unresolved', () => {
    const m = receiptsApp({ handlerInvalidates: [] })
      .unresolved('dynamic table name', loc('src/stores/receipts.ts', 41), {
        store: 'ReceiptsStore',
        method: 'insertReceipt',
      })
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('stays silent when a method of the worker has a decorator the analyser could not resolve', () => {
    // It may be an `@onReplication` handler of any stream.
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

  it('stays silent for a worker composed over a mixin the model does not know', () => {
    const m = receiptsApp({
      handlerInvalidates: [],
      readerMixins: ['ReceiptsWorkerStore', 'TagsWorkerStore', 'LibraryStore'],
    }).build();
    expect(check(rule, m)).toEqual([]);
  });

  it('ignores tables no writer writes', () => {
    const m = model()
      .schema('countries')
      .mixin('W', (s) => s.cached('getCountry', { reads: ['countries'] }))
      .composition('Main', ['W'])
      .composition('Reader', ['W'])
      .app('main', 'writer', 'Main')
      .app('reader', 'worker', 'Reader')
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('reports once for two worker apps sharing a composition, naming both', () => {
    const m = receiptsApp({ handlerInvalidates: [] })
      .app('reader2', 'worker', 'ReaderDataStore')
      .build();
    const findings = check(rule, m);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toContain('(ReceiptsWorkerStore, apps reader, reader2)');
    expect(findings[0]!.message).toContain('handler in `reader`, `reader2` invalidates');
  });

  it('reports each stale cache once, naming every write path of its table', () => {
    const m = model()
      .schema('rooms')
      .stream('rooms', ['rooms'])
      .mixin('W', (s) =>
        s
          .cached('getRoom', { reads: ['rooms'] })
          .cached('getRoomName', { reads: ['rooms'] })
          .handler('onRooms', 'rooms', { invalidates: [] }),
      )
      .mixin(
        'S',
        (s) =>
          s
            .method('createRoom', { writes: ['rooms'], allocates: ['rooms'] })
            .method('renameRoom', { writes: ['rooms'], allocates: ['rooms'] }),
        { composes: ['W'] },
      )
      .composition('Main', ['S'])
      .composition('Reader', ['W'])
      .app('main', 'writer', 'Main')
      .app('reader', 'worker', 'Reader')
      .build();
    const findings = check(rule, m);
    expect(findings.map((f) => f.subject.method)).toEqual(['getRoom', 'getRoomName']);
    for (const f of findings) {
      expect(f.message).toContain(
        '`S.createRoom` writes it on stream `rooms` (and 1 more write path)',
      );
    }
  });

  it('counts a handler of any stream the write allocates on', () => {
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
        (s) =>
          s.method('persist', { writes: ['events', 'event_relations'], allocates: ['events'] }),
        { composes: ['W'] },
      )
      .composition('Main', ['S'])
      .composition('Reader', ['W'])
      .app('main', 'writer', 'Main')
      .app('reader', 'worker', 'Reader')
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('attributes a cachedList front’s reads to the cache it fills', () => {
    const m = model()
      .schema('users', 'profiles')
      .stream('profiles', ['profiles'])
      .mixin('W', (s) =>
        s
          .cached('getUser', { line: 10, reads: ['users'] })
          .cachedList('getUsers', 'getUser', { reads: ['profiles'] })
          .handler('onProfiles', 'profiles'),
      )
      .mixin(
        'S',
        (s) => s.method('setProfile', { writes: ['profiles'], allocates: ['profiles'] }),
        { composes: ['W'] },
      )
      .composition('Main', ['S'])
      .composition('Reader', ['W'])
      .app('main', 'writer', 'Main')
      .app('reader', 'worker', 'Reader')
      .build();
    expect(check(rule, m).map((f) => [f.messageId, f.line, f.subject.table])).toEqual([
      ['notInvalidated', 10, 'profiles'],
    ]);
  });
});
