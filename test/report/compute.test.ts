// computeCoverage on hand-built models: each route, each missing link, the
// counts in istanbul's convention, the stream, table and store sections.
import { describe, expect, it } from 'vitest';
import { allPairs } from '../../src/report/formatters/common.js';
import {
  checkCoverage,
  computeCoverage,
  defaultContext,
  jsonSummary,
  reportFormatters,
  parseThreshold,
  percent,
  type CoverageModel,
  type PairCoverage,
} from '../../src/report/index.js';
import { loc, model, receiptsApp, RECEIPTS_LINES as L } from '../lint/model-builder.js';
import { G, galleryModel } from './models.js';

function pair(c: CoverageModel, app: string, cache: string, writer?: string): PairCoverage {
  const found = [...allPairs(c)].filter(
    (p) =>
      p.app === app &&
      p.cache === cache &&
      (writer === undefined || `${p.pair.writer.store}.${p.pair.writer.method}` === writer),
  );
  expect(found, `${app} ${cache} ${writer ?? ''}`).toHaveLength(1);
  return found[0]!.pair;
}

describe('computeCoverage', () => {
  describe('routes', () => {
    const c = computeCoverage(receiptsApp().build());

    it('covers a worker cache through the stream handler, with the chain of facts', () => {
      const p = pair(c, 'reader', 'getReceiptsForRoom');
      expect(p.status).toBe('covered');
      expect(p.routes).toHaveLength(1);
      expect(p.routes[0]).toMatchObject({
        kind: 'stream',
        stream: 'receipts',
        handler: { store: 'ReceiptsWorkerStore', method: 'onReceipts' },
        invalidation: { kind: 'invalidate', method: 'onReceipts' },
      });
      expect(p.chain.map((f) => f.step)).toEqual([
        'read',
        'write',
        'allocate',
        'handler',
        'invalidate',
      ]);
      expect(p.chain.every((f) => f.ok)).toBe(true);
      expect(p.chain[0]).toMatchObject({
        text: '`getReceiptsForRoom` (ReceiptsWorkerStore) reads `receipts`',
        location: { file: 'src/stores/receipts.ts', line: L.getReceiptsForRoom + 1 },
      });
      expect(p.chain[3]!.text).toBe(
        '`@onReplication(ReceiptsStream)` handler `ReceiptsWorkerStore.onReceipts` runs in app `reader`',
      );
      expect(p.writer).toMatchObject({
        id: 'MainDataStore:ReceiptsStore.insertReceipt',
        composition: 'MainDataStore',
        apps: ['main'],
      });
      expect(p.id).toBe(
        'reader|getReceiptsForRoom|receipts|MainDataStore:ReceiptsStore.insertReceipt',
      );
    });

    it('covers a worker cache through the caches stream', () => {
      const p = pair(c, 'reader', 'getTagsForRoom');
      expect(p.routes.map((r) => r.kind)).toEqual(['caches-stream']);
      expect(p.chain.map((f) => f.step)).toEqual(['read', 'write', 'caches-stream', 'handler']);
    });

    it('covers the writer’s own caches: its handlers run on its own rows', () => {
      const p = pair(c, 'main', 'getReceiptsForRoom');
      expect(p.routes.map((r) => r.kind)).toEqual(['stream']);
      expect(p.chain[3]!.text).toContain('right after commit (the writer applies its own rows)');
      expect(pair(c, 'main', 'getTagsForRoom').routes.map((r) => r.kind)).toEqual([
        'caches-stream',
      ]);
    });

    it('covers a writer cache by an after-commit invalidation and by the cached read writing itself', () => {
      const g = computeCoverage(galleryModel());
      expect(pair(g, 'main', 'getPushRules').routes.map((r) => r.kind)).toEqual(['after-commit']);
      expect(
        pair(g, 'main', 'getOrCreateDevice', 'DevicesStore.deleteDevice').routes[0]!.kind,
      ).toBe('after-commit');
      const self = pair(g, 'main', 'getOrCreateDevice', 'DevicesStore.getOrCreateDevice');
      expect(self.routes.map((r) => r.kind)).toEqual(['self']);
    });

    it('is 100% on a clean app, per app and overall', () => {
      expect(c.totals.invalidations).toEqual({
        total: 4,
        covered: 4,
        skipped: 0,
        uncovered: 0,
        unknown: 0,
        pct: 100,
      });
      expect(c.apps.map((a) => [a.name, a.metrics.invalidations.pct])).toEqual([
        ['main', 100],
        ['reader', 100],
      ]);
    });
  });

  describe('missing links', () => {
    const g = computeCoverage(galleryModel());

    it('names a write no stream announces (unannounced-write on workers)', () => {
      const p = pair(g, 'reader', 'getPushRules');
      expect(p.status).toBe('uncovered');
      expect(p.missing).toMatchObject({
        kind: 'no-stream',
        finding: {
          ruleId: 'unannounced-write',
          location: { file: 'src/stores/push-rules.ts', line: G.setPushRule + 1 },
        },
        suppressed: null,
      });
      expect(p.missing!.text).toContain('no stream announces this write');
      expect(p.chain.at(-1)).toMatchObject({ step: 'missing', ok: false });
    });

    it('names an app with no handler for the stream', () => {
      const p = pair(g, 'pusher', 'getUnreadCount');
      expect(p.missing).toMatchObject({
        kind: 'no-handler',
        finding: {
          ruleId: 'cache-not-invalidated-on-worker',
          location: { line: G.getUnreadCount },
        },
        location: { file: 'src/streams.ts', line: 3 },
      });
      expect(p.missing!.text).toBe(
        'no `@onReplication(ReceiptsStream)` handler in app `pusher` (`PusherDataStore`) follows the stream, so nothing there invalidates `getUnreadCount`',
      );
    });

    it('names a handler that does not invalidate the cache', () => {
      const p = pair(g, 'reader', 'getProfile');
      expect(p.missing).toMatchObject({
        kind: 'handler-does-not-invalidate',
        location: { line: G.onProfiles },
        finding: { ruleId: 'cache-not-invalidated-on-worker', location: { line: G.getProfile } },
      });
    });

    it('names an invalidation whose key does not fit the cache', () => {
      const p = pair(g, 'reader', 'getLastReceipt');
      expect(p.missing).toMatchObject({
        kind: 'key-mismatch',
        finding: {
          ruleId: 'invalidation-key-mismatch',
          location: { line: G.onReceiptsLastInvalidation },
        },
      });
      expect(p.missing!.text).toContain('with 1 of 2 key arguments');
    });

    it('names a writer invalidation before commit', () => {
      const p = pair(g, 'main', 'getProfile');
      expect(p.missing).toMatchObject({
        kind: 'before-commit',
        finding: {
          ruleId: 'invalidation-before-commit',
          location: { line: G.setProfileInvalidation },
        },
      });
    });

    it('names a writer cache no stream or invalidation covers', () => {
      const p = pair(g, 'stats', 'getRoomStats');
      expect(p.missing).toMatchObject({
        kind: 'no-stream',
        finding: { ruleId: 'cache-not-invalidated-on-writer', location: { line: G.bumpStats + 1 } },
      });
    });

    it('leaves a pair unknown when a handler holds something unresolved', () => {
      const p = pair(g, 'reader', 'getPresence');
      expect(p.status).toBe('unknown');
      expect(p.missing).toMatchObject({
        kind: 'unresolved',
        finding: null,
        location: { file: 'src/stores/presence.ts', line: 191 },
      });
      expect(p.missing!.text).toContain('the invalidation target is not a method reference');
    });

    it('leaves every pair unknown when the composition names a mixin the model lacks', () => {
      const c = computeCoverage(
        receiptsApp({ readerMixins: ['ReceiptsWorkerStore', 'MissingStore'] }).build(),
      );
      const reader = c.apps.find((a) => a.name === 'reader')!;
      expect(reader.unknownMixins).toEqual(['MissingStore']);
      expect(reader.metrics.invalidations).toMatchObject({ total: 1, unknown: 1, pct: 0 });
    });

    it('keeps both caches of one name, each uncovered as a duplicate, neither lost', () => {
      const stream = { cache: 'getTags', kind: 'invalidateCacheAndStream' as const, keyArity: 1 };
      const c = computeCoverage(
        model()
          .schema('room_tags', 'directory')
          .mixin('TagsWorkerStore', (s) => s.cached('getTags', { line: 10, reads: ['room_tags'] }))
          .mixin('DirectoryWorkerStore', (s) =>
            s.cached('getTags', { line: 20, reads: ['directory'] }),
          )
          .mixin(
            'TagsStore',
            (s) =>
              s
                .method('addTag', { writes: ['room_tags'], invalidates: [stream] })
                .method('publish', { writes: ['directory'], invalidates: [stream] }),
            { composes: ['TagsWorkerStore'] },
          )
          .composition('Main', ['TagsStore'])
          .composition('Reader', ['TagsWorkerStore', 'DirectoryWorkerStore'])
          .app('main', 'writer', 'Main')
          .app('reader', 'worker', 'Reader')
          .build(),
      );
      const reader = c.apps.find((a) => a.name === 'reader')!;
      expect(reader.caches.map((k) => `${k.store}.${k.name}`)).toEqual([
        'DirectoryWorkerStore.getTags',
        'TagsWorkerStore.getTags',
      ]);
      for (const k of reader.caches) {
        const pairs = k.tables.flatMap((t) => t.writes);
        expect(pairs.map((p) => p.missing?.kind)).toEqual(['duplicate-cache']);
      }
      expect(reader.metrics.caches).toMatchObject({ total: 2, uncovered: 2 });
      const tags = c.tables.find((t) => t.name === 'room_tags')!;
      expect(tags.readers.map((r) => [`${r.store}.${r.method}`, r.apps])).toEqual([
        ['TagsWorkerStore.getTags', ['main', 'reader']],
      ]);
    });

    describe('a table the analyser could not name', () => {
      // `countRows` reads `sql.table(table)`; `purge` deletes from one; neither names it.
      const m = model()
        .schema('t')
        .stream('s', ['t'])
        .mixin(
          'W',
          (s) =>
            s
              .cached('getT', { line: 10, reads: ['t'] })
              .cached('countRows', { line: 20 })
              .handler('onS', 's', { line: 30, invalidates: ['getT'] }),
          { file: 'src/stores/w.ts' },
        )
        .mixin(
          'S',
          (s) =>
            s
              .method('announced', { line: 40, writes: ['t'], allocates: ['s'] })
              .method('purge', { line: 50 }),
          { composes: ['W'], file: 'src/stores/s.ts' },
        )
        .unresolved(
          'the table name in `sql.table(table)` cannot be resolved',
          loc('src/stores/w.ts', 21),
          {
            store: 'W',
            method: 'countRows',
          },
        )
        .unresolved(
          'the table name in `sql.table(table)` cannot be resolved',
          loc('src/stores/s.ts', 52),
          {
            store: 'S',
            method: 'purge',
          },
        )
        .composition('Main', ['S'])
        .composition('Reader', ['W'])
        .app('main', 'writer', 'Main')
        .app('reader', 'worker', 'Reader')
        .build();
      const c = computeCoverage(m);
      const reader = c.apps.find((a) => a.name === 'reader')!;
      const cacheOf = (name: string) => reader.caches.find((k) => k.name === name)!;

      it('leaves a cached read of one unknown for every write, not covered 0/0', () => {
        const k = cacheOf('countRows');
        expect(k.status).toBe('unknown');
        expect(k.invalidations).toMatchObject({ total: 2, covered: 0, unknown: 2 });
        expect(k.tables.map((t) => t.table)).toEqual(['?']);
        const announced = pair(c, 'reader', 'countRows', 'S.announced');
        expect(announced.missing).toMatchObject({
          kind: 'unresolved',
          finding: null,
          location: { file: 'src/stores/w.ts', line: 21 },
        });
        expect(announced.missing!.text).toContain('may read a table the analyser could not name');
      });

      it('leaves a write path that may write any table unknown for every cache it does not pair with', () => {
        const p = pair(c, 'reader', 'getT', 'S.purge');
        expect(p.status).toBe('unknown');
        expect(p.missing).toMatchObject({ location: { file: 'src/stores/s.ts', line: 52 } });
        expect(p.chain.map((f) => f.step)).toEqual(['read', 'write', 'unresolved']);
        expect(cacheOf('getT')).toMatchObject({
          status: 'partly',
          invalidations: { total: 2, covered: 1, unknown: 1, pct: 50 },
        });
        // The writer's own caches too; its numbers count against pct.
        const main = c.apps.find((a) => a.name === 'main')!;
        expect(main.metrics.invalidations).toMatchObject({ covered: 1, unknown: 3 });
        expect(c.totals.invalidations).toMatchObject({ total: 8, covered: 2, unknown: 6, pct: 25 });
      });
    });

    it('skips a pair whose finding is suppressed inline, and counts it as covered', () => {
      const p = pair(g, 'reader', 'getRoomStats');
      expect(p.status).toBe('uncovered');
      expect(p.skipped).toBe(true);
      expect(p.missing!.suppressed).toMatchObject({ reason: 'stats are approximate' });
      const reader = g.apps.find((a) => a.name === 'reader')!;
      expect(reader.metrics.invalidations).toEqual({
        total: 7,
        covered: 3,
        skipped: 1,
        uncovered: 3,
        unknown: 1,
        pct: 42.86,
      });
    });
  });

  describe('counts', () => {
    const g = computeCoverage(galleryModel());

    it('adds up per cache, per app and overall', () => {
      for (const a of g.apps) {
        for (const k of a.caches) {
          const c = k.invalidations;
          expect(c.total).toBe(c.covered + c.uncovered + c.unknown);
          expect(c.total).toBe(k.tables.reduce((n, t) => n + t.writes.length, 0));
        }
      }
      const sum = (key: 'total' | 'covered' | 'skipped') =>
        g.apps.reduce((n, a) => n + a.metrics.invalidations[key], 0);
      expect(g.totals.invalidations).toMatchObject({
        total: sum('total'),
        covered: sum('covered'),
        skipped: sum('skipped'),
      });
      expect(g.totals.invalidations).toEqual({
        total: 20,
        covered: 10,
        skipped: 2,
        uncovered: 8,
        unknown: 2,
        pct: 50,
      });
    });

    it('gives each cache a status', () => {
      const reader = g.apps.find((a) => a.name === 'reader')!;
      const status = Object.fromEntries(reader.caches.map((k) => [k.name, k.status]));
      expect(status).toEqual({
        getPresence: 'unknown',
        getProfile: 'uncovered',
        getPushRules: 'uncovered',
        getLastReceipt: 'uncovered',
        getReceiptsForRoom: 'covered',
        getRoomStats: 'covered',
        getTagsForRoom: 'covered',
      });
      expect(reader.metrics.caches).toMatchObject({
        total: 7,
        covered: 3,
        skipped: 1,
        uncovered: 3,
        unknown: 1,
      });
    });

    it('calls a cache with covered and uncovered writes partly covered', () => {
      const c = computeCoverage(
        model()
          .schema('t')
          .stream('s', ['t'])
          .mixin('W', (s) =>
            s.cached('getT', { reads: ['t'] }).handler('onS', 's', { invalidates: ['getT'] }),
          )
          .mixin(
            'S',
            (s) =>
              s
                .method('announced', { writes: ['t'], allocates: ['s'] })
                .method('silent', { writes: ['t'] }),
            { composes: ['W'] },
          )
          .composition('Main', ['S'])
          .composition('Reader', ['W'])
          .app('main', 'writer', 'Main')
          .app('reader', 'worker', 'Reader')
          .build(),
      );
      const k = c.apps.find((a) => a.name === 'reader')!.caches[0]!;
      expect(k.status).toBe('partly');
      expect(k.invalidations).toMatchObject({ total: 2, covered: 1, pct: 50 });
    });

    it('rounds like istanbul', () => {
      expect(percent(2, 3)).toBe(66.67);
      expect(percent(1, 3)).toBe(33.33);
      expect(percent(1, 8)).toBe(12.5);
      expect(percent(0, 0)).toBe(100);
      expect(percent(7, 7)).toBe(100);
    });
  });

  describe('streams, tables, stores', () => {
    const g = computeCoverage(galleryModel());

    it('lists each stream’s tables, writers, handlers per app, and who follows it', () => {
      const receipts = g.streams.find((s) => s.name === 'receipts')!;
      expect(receipts).toMatchObject({
        variable: 'ReceiptsStream',
        kind: 'database',
        tables: ['receipts'],
        announced: true,
        followedBy: ['reader'],
        writers: [
          expect.objectContaining({
            store: 'ReceiptsStore',
            method: 'insertReceipt',
            apps: ['main'],
          }),
        ],
      });
      expect(receipts.handlers.find((h) => h.app === 'reader')!.handlers).toEqual([
        expect.objectContaining({
          store: 'ReceiptsWorkerStore',
          method: 'onReceipts',
          invalidates: ['getLastReceipt', 'getReceiptsForRoom'],
          uncertain: false,
          runtime: false,
        }),
      ]);
      expect(receipts.handlers.find((h) => h.app === 'pusher')!.handlers).toEqual([]);
      expect(receipts.coveredPairs).toBe(2);
    });

    it('lists the streams no worker follows, and the caches stream with the runtime’s handler', () => {
      expect(g.unfollowedStreams).toEqual(['audit']);
      const caches = g.streams.find((s) => s.name === 'caches')!;
      expect(caches).toMatchObject({
        kind: 'caches',
        variable: 'CachesStream',
        followedBy: ['pusher', 'reader'],
      });
      expect(caches.writers.map((w) => `${w.store}.${w.method}`)).toEqual(['TagsStore.addTag']);
      const pusher = caches.handlers.find((h) => h.app === 'pusher')!.handlers;
      expect(pusher).toEqual([
        expect.objectContaining({ runtime: true, invalidates: ['getTagsForRoom'], location: null }),
      ]);
    });

    it('lists each table’s readers, writers and streams', () => {
      const receipts = g.tables.find((t) => t.name === 'receipts')!;
      expect(receipts.readers.map((r) => [`${r.store}.${r.method}`, r.cached, r.apps])).toEqual([
        ['ReceiptsCountWorkerStore.getUnreadCount', 'cached', ['pusher']],
        ['ReceiptsWorkerStore.getLastReceipt', 'cached', ['main', 'reader']],
        ['ReceiptsWorkerStore.getReceiptsForRoom', 'cached', ['main', 'reader']],
      ]);
      expect(receipts.writers.map((w) => [`${w.store}.${w.method}`, w.apps])).toEqual([
        ['ReceiptsStore.insertReceipt', ['main']],
      ]);
      expect(receipts).toMatchObject({ streams: ['receipts'], inSchema: true });
    });

    it('keeps two stores of one class name in two files apart', () => {
      const c = computeCoverage(
        model()
          .schema('room_tags', 'tag_counts')
          .stream('tags', ['room_tags', 'tag_counts'])
          .mixin(
            'TagsWorkerStore',
            (s) =>
              s
                .cached('getTags', { reads: ['room_tags'] })
                .handler('onTags', 'tags', { invalidates: ['getTags'] }),
            { file: 'src/stores/tags.ts' },
          )
          .mixin('OtherTagsWorkerStore', (s) => s.cached('countTags', { reads: ['tag_counts'] }), {
            name: 'TagsWorkerStore',
            file: 'src/stores/other/tags.ts',
          })
          .mixin(
            'TagsStore',
            (s) => s.method('addTag', { writes: ['room_tags', 'tag_counts'], allocates: ['tags'] }),
            { composes: ['TagsWorkerStore', 'OtherTagsWorkerStore'] },
          )
          .composition('Main', ['TagsStore'])
          .composition('Reader', ['TagsWorkerStore', 'OtherTagsWorkerStore'])
          .app('main', 'writer', 'Main')
          .app('reader', 'worker', 'Reader')
          .build(),
      );
      expect(
        c.stores.map((s) => [
          s.name,
          s.file,
          s.metrics.invalidations.covered,
          s.metrics.invalidations.total,
        ]),
      ).toEqual([
        ['TagsWorkerStore', 'src/stores/other/tags.ts', 0, 2],
        ['TagsWorkerStore', 'src/stores/tags.ts', 2, 2],
      ]);
      expect(Object.keys(jsonSummary(c))).toEqual([
        'total',
        'src/stores/other/tags.ts#TagsWorkerStore',
        'src/stores/tags.ts#TagsWorkerStore',
      ]);
      const text = reportFormatters.text(c, defaultContext());
      expect(text).toMatch(/\n {2}src\/stores\/other\/tags\.ts#TagsWorkerStore +\| +0 \|/);
      expect(text).toMatch(/\n {2}src\/stores\/tags\.ts#TagsWorkerStore +\| +100 \|/);
    });

    it('sums per store, over every app', () => {
      const receipts = g.stores.find((s) => s.name === 'ReceiptsWorkerStore')!;
      expect(receipts.file).toBe('src/stores/receipts.ts');
      expect(receipts.metrics.invalidations).toMatchObject({ total: 4, covered: 2 });
      expect(receipts.metrics.caches).toMatchObject({ total: 4, covered: 2 });
    });
  });

  it('is frozen, plain JSON', () => {
    const g = computeCoverage(galleryModel());
    expect(Object.isFrozen(g)).toBe(true);
    expect(Object.isFrozen(g.apps[0]!.caches[0]!.tables[0]!.writes[0]!.chain)).toBe(true);
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(computeCoverage(galleryModel()))).toBe(
      JSON.stringify(computeCoverage(galleryModel())),
    );
  });
});

describe('checkCoverage', () => {
  const g = computeCoverage(galleryModel());

  it('prints an istanbul-style ERROR line for every app below the threshold', () => {
    const check = checkCoverage(g, 60);
    expect(check.ok).toBe(false);
    expect(check.errors).toEqual([
      'ERROR: Coverage for cache invalidations (0%) does not meet threshold (60%) for app stats',
      'ERROR: Coverage for cache invalidations (42.86%) does not meet threshold (60%) for app reader',
      'ERROR: Coverage for cache invalidations (50%) does not meet threshold (60%) for app pusher',
    ]);
  });

  it('passes at or under every app’s coverage', () => {
    expect(checkCoverage(g, 0)).toEqual({ ok: true, errors: [] });
    expect(checkCoverage(computeCoverage(receiptsApp().build()), 100).ok).toBe(true);
  });

  it('parses percentages', () => {
    expect(parseThreshold('90')).toBe(90);
    expect(parseThreshold('87.5%')).toBe(87.5);
    expect(parseThreshold('101')).toBeNull();
    expect(parseThreshold('-1')).toBeNull();
    expect(parseThreshold('abc')).toBeNull();
  });
});
