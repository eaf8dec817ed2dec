// The generated corpus (bench/gen-corpus.ts, which the store-lint benchmark
// runs at up to 2,000 mixins) at a small size: every generated fact is found,
// without the type checker, and the corpus — a correct codebase, every
// composition an app — lints clean.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCorpus, GROUP, ownedTables, readTables, TABLES } from '../../bench/gen-corpus.js';
import { analyzeWithDependencies, lastAnalysisStats } from '../../src/analysis/index.js';
import { lint } from '../../src/lint/engine.js';
import { configFor } from './fixture-config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'store-lint-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generated corpus', () => {
  it('is analysed completely and syntactically, and lints clean', async () => {
    const mixins = 48;
    const files = mixins / 2;
    const methods = 8;
    generateCorpus(dir, { mixins, methods });
    const config = configFor(dir);
    const { model, independentFiles } = await analyzeWithDependencies(config);
    const groups = Math.ceil(files / GROUP);
    expect(lastAnalysisStats()).toMatchObject({ files: files + 3 + groups, checkerCreated: false });
    // The seed scripts use the stores, but nothing imports them: the model does not depend on them.
    expect(independentFiles).toEqual(
      Array.from({ length: groups }, (_, g) => `src/scripts/seed${g}.ts`),
    );
    expect(model.unresolved).toEqual([]);
    expect(model.stores).toHaveLength(mixins);
    // One stream per table, each announcing its table.
    expect(model.streams).toHaveLength(TABLES);
    expect(model.compositions.map((c) => c.name)).toEqual([
      'MainDataStore0',
      'MainDataStore1',
      'ReaderDataStore0',
      'ReaderDataStore1',
    ]);
    // Every composition is an app.
    expect(model.apps.map((a) => [a.name, a.role, a.composition])).toEqual([
      ['main0', 'writer', 'MainDataStore0'],
      ['main1', 'writer', 'MainDataStore1'],
      ['reader0', 'worker', 'ReaderDataStore0'],
      ['reader1', 'worker', 'ReaderDataStore1'],
    ]);

    const tableName = (k: number) => `t${k}`;
    const worker = model.stores.find((s) => s.exportName === 'Store3WorkerStore')!;
    const cachedReads = worker.methods.filter((m) => m.cached);
    const handlers = worker.methods.filter((m) => m.handles);
    expect(cachedReads).toHaveLength(methods);
    expect(worker.methods).toHaveLength(methods + handlers.length);
    const read = new Set<string>();
    for (const m of cachedReads) {
      expect(m.reads.length).toBeGreaterThanOrEqual(1);
      expect(m.reads.length).toBeLessThanOrEqual(2);
      expect(m.writes).toEqual([]);
      expect(m.cached!.keyArity).toBe(1);
      for (const t of m.reads) read.add(t);
    }
    expect([...read].sort()).toEqual(readTables(3).map(tableName).sort());
    // One handler per table read, on its stream, invalidating every cache that reads it.
    expect(handlers.map((h) => h.handles!.stream).sort()).toEqual([...read].sort());
    for (const h of handlers) {
      const table = h.handles!.stream;
      expect(h.invalidations.map((i) => i.cache).sort()).toEqual(
        cachedReads
          .filter((m) => m.reads.includes(table))
          .map((m) => m.name)
          .sort(),
      );
      // Keyed by the row's id (one argument, as the caches), or all of the cache.
      for (const i of h.invalidations) {
        expect(['invalidate', 'invalidateAll']).toContain(i.kind);
        if (i.kind === 'invalidate') expect(i.keyArity).toBe(1);
      }
    }

    // The writer mixin writes its own tables, each on the table's stream.
    const writer = model.stores.find((s) => s.exportName === 'Store3Store')!;
    expect(writer.methods).toHaveLength(methods / 2);
    expect(writer.idGenerators.map((g) => g.stream).sort()).toEqual(
      ownedTables(3).map(tableName).sort(),
    );
    for (const m of writer.methods) {
      expect(m.writes).toHaveLength(1);
      expect(ownedTables(3).map(tableName)).toContain(m.writes[0]);
      expect(m.allocates.map((a) => a.stream)).toEqual(m.writes);
    }

    const reader = model.compositions.find((c) => c.name === 'ReaderDataStore0')!;
    expect(reader.mixins).toHaveLength(GROUP);
    expect(reader.methods.every((m) => m.writes.length === 0)).toBe(true);

    const report = lint(model, { config });
    expect(report.messages.map((m) => `${m.ruleId}: ${m.message}`)).toEqual([]);
    expect(report.suppressedInline).toBe(0);
  }, 60_000);
});
