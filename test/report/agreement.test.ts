// The report and store-lint never disagree: on every rule fixture project
// (analysed by the real analyser), on examples/chat, on hand-built models,
// and on random models (fast-check), every uncovered pair is a finding and
// every finding of the cache rules an uncovered pair (see agreement.ts).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InvalidationKind, StoreModel } from '../../src/analysis/model.js';
import { loadAnalyzer } from '../../src/lint/analyzer.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { model, receiptsApp } from '../lint/model-builder.js';
import { expectAgreement } from './agreement.js';
import { galleryModel } from './models.js';

const RULE_FIXTURES = fileURLToPath(new URL('../fixtures/rules/', import.meta.url));
const CHAT = fileURLToPath(new URL('../../examples/chat/', import.meta.url));

function fixtureProjects(): string[] {
  const dirs: string[] = [];
  for (const rule of readdirSync(RULE_FIXTURES).sort()) {
    for (const variant of ['failing', 'passing', '.']) {
      const dir = join(RULE_FIXTURES, rule, variant);
      if (existsSync(join(dir, 'store-lint.config.json'))) dirs.push(dir);
    }
  }
  return dirs;
}

async function analyse(dir: string): Promise<StoreModel> {
  const { analyzeProject } = await loadAnalyzer();
  return analyzeProject(await loadConfig({ cwd: dir }));
}

describe('report and lint agree', () => {
  describe('on the rule fixtures', { timeout: 120_000 }, () => {
    const dirs = fixtureProjects();
    it('finds the fixture projects', () => expect(dirs.length).toBeGreaterThan(20));
    for (const dir of dirs) {
      const label = dir.slice(RULE_FIXTURES.length).replace(/\/\.?$/, '');
      it(label, async () => {
        expectAgreement(await analyse(dir), label);
      });
    }
  });

  it.skipIf(!existsSync(join(CHAT, 'store-lint.config.json')))(
    'on examples/chat',
    { timeout: 180_000 },
    async () => {
      const { coverage } = expectAgreement(await analyse(CHAT), 'examples/chat');
      expect(coverage.totals.invalidations.total).toBeGreaterThan(0);
    },
  );

  it('on the hand-built models', () => {
    const gallery = expectAgreement(galleryModel(), 'gallery');
    expect(gallery.gaps).toBe(8);
    expectAgreement(receiptsApp().build(), 'receipts app');
    expectAgreement(receiptsApp({ handlerInvalidates: [] }).build(), 'no invalidation');
    expectAgreement(receiptsApp({ withHandler: false }).build(), 'no handler');
    expectAgreement(receiptsApp({ insertAllocates: false }).build(), 'unannounced');
    expectAgreement(receiptsApp({ addTagInvalidation: null }).build(), 'no tag invalidation');
    expectAgreement(
      receiptsApp({
        addTagInvalidation: {
          cache: 'getTagsForRoom',
          kind: 'invalidateCacheAndStream',
          keyArity: 1,
        },
      }).build(),
      'short caches-stream key',
    );
    expectAgreement(
      receiptsApp({ readerMixins: ['ReceiptsWorkerStore', 'MissingStore'] }).build(),
      'unknown mixin',
    );
  });

  it('on random models', () => {
    fc.assert(
      fc.property(randomModel(), (m) => {
        expectAgreement(m, 'random model');
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------- random models

const TABLES = ['t0', 't1', 't2'] as const;
const KINDS: readonly InvalidationKind[] = [
  'invalidate',
  'invalidatePrefix',
  'invalidateAll',
  'invalidateCacheAndStream',
];

const invalidationArb = fc.record({
  cache: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom(...KINDS),
  keyArity: fc.integer({ min: 0, max: 3 }),
  inTransaction: fc.boolean(),
  afterCommit: fc.boolean(),
});

type InvalidationDraft = typeof invalidationArb extends fc.Arbitrary<infer T> ? T : never;

const mixinArb = fc.record({
  reads: fc.subarray([...TABLES], { minLength: 1 }),
  keyArity: fc.integer({ min: 1, max: 2 }),
  handler: fc.option(
    fc.record({
      stream: fc.integer({ min: 0, max: 2 }),
      invalidates: fc.array(invalidationArb, { maxLength: 2 }),
      unresolved: fc.boolean(),
    }),
  ),
  write: fc.record({
    writes: fc.subarray([...TABLES], { minLength: 1 }),
    allocates: fc.subarray([0, 1, 2]),
    invalidates: fc.array(invalidationArb, { maxLength: 2 }),
    unresolved: fc.boolean(),
    selfWrite: fc.boolean(),
  }),
  inReader: fc.boolean(),
});

/** Three worker mixins with their writer mixins, three streams (one with unknown tables), one writer and one worker app. */
function randomModel(): fc.Arbitrary<StoreModel> {
  return fc
    .record({
      streamTables: fc.tuple(
        fc.subarray([...TABLES], { minLength: 1 }),
        fc.subarray([...TABLES]),
        fc.subarray([...TABLES]),
      ),
      mixins: fc.tuple(mixinArb, mixinArb, mixinArb),
    })
    .map(({ streamTables, mixins }) => {
      const b = model().schema(...TABLES);
      streamTables.forEach((tables, i) => b.stream(`s${i}`, tables));
      const cache = (i: number) => `c${i}`;
      const inv = (x: InvalidationDraft) => ({
        cache: cache(x.cache),
        kind: x.kind,
        keyArity: x.kind === 'invalidateAll' ? null : x.keyArity,
        inTransaction: x.kind === 'invalidateCacheAndStream' ? true : x.inTransaction,
        afterCommit: x.kind === 'invalidateCacheAndStream' ? true : x.afterCommit,
      });
      mixins.forEach((m, i) => {
        b.mixin(`W${i}`, (s) => {
          s.cached(cache(i), { reads: m.reads, keyArity: m.keyArity });
          if (m.handler) {
            s.handler(`on${i}`, `s${m.handler.stream}`, {
              invalidates: m.handler.invalidates.map(inv),
            });
          }
        });
        b.mixin(
          `S${i}`,
          (s) =>
            s.method(`write${i}`, {
              writes: m.write.writes,
              allocates: m.write.allocates.map((n) => `s${n}`),
              invalidates: m.write.invalidates.map(inv),
            }),
          { composes: [`W${i}`] },
        );
        if (m.handler?.unresolved) {
          b.unresolved(
            'unresolved in handler',
            { file: `src/stores/W${i}.ts`, line: 1, column: 1, endLine: 1, endColumn: 2 },
            { kind: 'invalidation', store: `W${i}`, method: `on${i}` },
          );
        }
        if (m.write.unresolved) {
          b.unresolved(
            'unresolved in write',
            { file: `src/stores/S${i}.ts`, line: 1, column: 1, endLine: 1, endColumn: 2 },
            { store: `S${i}`, method: `write${i}` },
          );
        }
      });
      // One cached read that also writes (get-or-create), on the writer.
      if (mixins[0].write.selfWrite) {
        b.mixin('G', (s) => s.cached('getOrCreate', { reads: ['t0'], writes: ['t0'] }));
      }
      const reader = mixins.map((m, i) => (m.inReader ? `W${i}` : null)).filter((x) => x !== null);
      b.composition('Main', [
        ...mixins.map((_, i) => `S${i}`),
        ...(mixins[0].write.selfWrite ? ['G'] : []),
      ]);
      b.composition('Reader', reader.length ? reader : ['W0']);
      b.app('main', 'writer', 'Main').app('reader', 'worker', 'Reader');
      return b.build();
    });
}
