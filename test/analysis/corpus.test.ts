// The generated corpus (bench/gen-corpus.ts, which the store-lint benchmark
// runs at up to 2,000 mixins) at a small size: every generated fact is found,
// without the type checker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../../bench/gen-corpus.js';
import { analyzeProject, lastAnalysisStats } from '../../src/analysis/index.js';
import { configFor } from './fixture-config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'store-lint-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generated corpus', () => {
  it('is analysed completely and syntactically', async () => {
    const mixins = 48;
    const files = mixins / 2;
    const methods = 8;
    generateCorpus(dir, { mixins, methods });
    const model = await analyzeProject(configFor(dir));
    expect(lastAnalysisStats()).toMatchObject({ files: files + 3, checkerCreated: false });
    expect(model.unresolved).toEqual([]);
    expect(model.stores).toHaveLength(mixins);
    expect(model.streams).toHaveLength(files);
    expect(model.compositions.map((c) => c.name)).toEqual([
      'MainDataStore0',
      'MainDataStore1',
      'ReaderDataStore0',
      'ReaderDataStore1',
    ]);
    const worker = model.stores.find((s) => s.exportName === 'Store3WorkerStore')!;
    expect(worker.methods).toHaveLength(methods + 1);
    for (const m of worker.methods.filter((x) => x.cached)) {
      expect(m.reads.length).toBeGreaterThanOrEqual(1);
      expect(m.writes).toEqual([]);
    }
    expect(worker.methods.find((m) => m.handles)?.invalidations).toHaveLength(1);
    const writer = model.stores.find((s) => s.exportName === 'Store3Store')!;
    for (const m of writer.methods) {
      expect(m.allocates.map((a) => a.stream)).toEqual(['s3']);
      expect(m.writes).toHaveLength(2);
    }
    const reader = model.compositions.find((c) => c.name === 'ReaderDataStore0')!;
    expect(reader.mixins).toHaveLength(20);
    expect(reader.methods.every((m) => m.writes.length === 0)).toBe(true);
  }, 60_000);
});
