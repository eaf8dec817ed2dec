import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreLintConfig } from '../../src/analysis/config.js';
import type { StoreModel } from '../../src/analysis/model.js';
import type { Analyzer } from '../../src/lint/analyzer.js';
import {
  analyzeWithCache,
  computeInputs,
  lintSettingsKey,
  stripJsonc,
} from '../../src/lint/cache.js';
import { lint } from '../../src/lint/engine.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { receiptsApp } from './model-builder.js';

const APP = fileURLToPath(new URL('../fixtures/rules/unannounced-write/passing/', import.meta.url));

/** An analyser that counts its runs and returns a fixed model. */
function fakeAnalyzer(): Analyzer & { runs: number } {
  const model: StoreModel = receiptsApp().build();
  return {
    runs: 0,
    analyzeProject(this: { runs: number }) {
      this.runs++;
      return Promise.resolve(model);
    },
    printModel: (m) => JSON.stringify(m),
  };
}

/** The loader the CLI passes: called only when the analyser must run. */
function load(analyzer: Analyzer): () => Promise<Analyzer> {
  return () => Promise.resolve(analyzer);
}

describe('--cache', () => {
  let dir: string;
  let config: StoreLintConfig;
  let location: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-lint-cache-'));
    await cp(APP, join(dir, 'app'), { recursive: true });
    config = await loadConfig({ cwd: join(dir, 'app') });
    location = join(dir, 'cache', 'store-lint.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('does not load the analyser on a hit', async () => {
    const analyzer = fakeAnalyzer();
    let loads = 0;
    const counting = () => {
      loads++;
      return Promise.resolve(analyzer);
    };
    await analyzeWithCache(config, counting, location);
    expect(loads).toBe(1);
    expect((await analyzeWithCache(config, counting, location)).hit).toBe(true);
    expect(loads).toBe(1);
  });

  it('analyses once, then reuses the model while nothing changes', async () => {
    const analyzer = fakeAnalyzer();
    const first = await analyzeWithCache(config, load(analyzer), location);
    const second = await analyzeWithCache(config, load(analyzer), location);
    expect([first.hit, second.hit, analyzer.runs]).toEqual([false, true, 1]);
    const model = await second.model();
    expect(model).toEqual(await first.model());
    expect(Object.isFrozen(model.stores[0])).toBe(true);
  });

  it('keeps the lint report per setting, so a hit needs neither the model nor the rules', async () => {
    const analyzer = fakeAnalyzer();
    const first = await analyzeWithCache(config, load(analyzer), location);
    const report = lint(await first.model(), { config });
    const settings = await lintSettingsKey(config, null);
    await first.saveReport(settings, report);

    // The model file is gone: a hit with a stored report never notices.
    await rm(location.replace(/\.json$/, '.model.json'));
    const hit = await analyzeWithCache(config, load(analyzer), location);
    expect(hit.hit).toBe(true);
    const stored = hit.report(settings);
    expect(stored).toEqual(report);
    expect(stored!.rules.map((r) => r.rule)).toEqual(report.rules.map((r) => r.rule));
    // Other severities are another setting, with no report yet.
    const strict = { ...config, rules: { 'analysis-unresolved': 'error' as const } };
    expect(await lintSettingsKey(strict, null)).not.toBe(settings);
    expect(hit.report(await lintSettingsKey(strict, null))).toBeNull();
    // Asked for, the missing model is analysed again rather than trusted.
    expect(analyzer.runs).toBe(1);
    expect(await hit.model()).toEqual(await first.model());
    expect(analyzer.runs).toBe(2);
  });

  it('keys reports by the baseline too', async () => {
    const baseline = {
      file: join(dir, 'store-lint-baseline.json'),
      entries: [{ rule: 'worker-writes', store: 'S', method: 'm', table: 't', line: 3 }],
    };
    const none = await lintSettingsKey(config, null);
    const one = await lintSettingsKey(config, baseline);
    const moved = await lintSettingsKey(config, {
      ...baseline,
      entries: [{ ...baseline.entries[0]!, line: 4 }],
    });
    expect(new Set([none, one, moved]).size).toBe(3);
  });

  it('re-analyses when a source file, a schema file or a new source file appears, naming what changed', async () => {
    const analyzer = fakeAnalyzer();
    await analyzeWithCache(config, load(analyzer), location);
    const tags = join(dir, 'app', 'src', 'stores', 'tags.ts');
    await writeFile(tags, `${await readFile(tags, 'utf8')}\n// edited\n`);
    const edited = await analyzeWithCache(config, load(analyzer), location);
    expect(edited).toMatchObject({ hit: false, changed: ['src/stores/tags.ts'] });

    await writeFile(join(dir, 'app', 'schema', '002_more.sql'), 'CREATE TABLE extra (id int);\n');
    expect((await analyzeWithCache(config, load(analyzer), location)).changed).toEqual([
      'schema/002_more.sql',
    ]);

    await writeFile(join(dir, 'app', 'src', 'new.ts'), 'export const x = 1;\n');
    expect((await analyzeWithCache(config, load(analyzer), location)).changed).toEqual([
      'src/new.ts',
    ]);
    expect(analyzer.runs).toBe(4);
  });

  it('re-analyses when the config or tsconfig changes, but not for rule severities', async () => {
    const analyzer = fakeAnalyzer();
    await analyzeWithCache(config, load(analyzer), location);
    expect(
      (
        await analyzeWithCache(
          { ...config, rules: { 'worker-writes': 'off' } },
          load(analyzer),
          location,
        )
      ).hit,
    ).toBe(true);
    expect(
      (await analyzeWithCache({ ...config, naming: 'camelCase' }, load(analyzer), location)).hit,
    ).toBe(false);
    await writeFile(
      join(dir, 'app', 'tsconfig.json'),
      '{ "compilerOptions": { "strict": true }, "include": ["src"] }',
    );
    expect(
      (await analyzeWithCache({ ...config, naming: 'camelCase' }, load(analyzer), location))
        .changed,
    ).toEqual(['tsconfig.json']);
  });

  it('follows relative tsconfig `extends`, and tolerates comments and trailing commas', async () => {
    await writeFile(
      join(dir, 'app', 'tsconfig.base.json'),
      '{ "compilerOptions": { "strict": true } }\n',
    );
    await writeFile(
      join(dir, 'app', 'tsconfig.json'),
      '{\n  // base options\n  "extends": "./tsconfig.base.json",\n  "include": ["src",],\n}\n',
    );
    const before = await computeInputs(config);
    expect(Object.keys(before.files)).toContain('tsconfig.base.json');
    expect(Object.keys(before.files)).toContain('src/stores/tags.ts');
    await writeFile(
      join(dir, 'app', 'tsconfig.base.json'),
      '{ "compilerOptions": { "strict": false } }\n',
    );
    expect((await computeInputs(config)).key).not.toBe(before.key);
  });

  it('takes `include` from the most derived tsconfig that sets it, relative to that file', async () => {
    const app = join(dir, 'app');
    await mkdir(join(app, 'other'));
    await writeFile(join(app, 'other', 'x.ts'), 'export const x = 1;\n');
    await writeFile(join(app, 'tsconfig.base.json'), '{ "include": ["other"] }\n');
    await writeFile(
      join(app, 'tsconfig.json'),
      '{ "extends": "./tsconfig.base.json", "include": ["src"] }\n',
    );
    const own = Object.keys((await computeInputs(config)).files);
    expect(own).toContain('src/stores/tags.ts');
    expect(own).not.toContain('other/x.ts');
    await writeFile(join(app, 'tsconfig.json'), '{ "extends": "./tsconfig.base.json" }\n');
    const inherited = Object.keys((await computeInputs(config)).files);
    expect(inherited).toContain('other/x.ts');
    expect(inherited).not.toContain('src/stores/tags.ts');
  });

  it('keys on a file the model depends on outside the tsconfig globs', async () => {
    const base = receiptsApp().build();
    // An app module outside `include`: the model names it, so its edits count.
    const model: StoreModel = {
      ...base,
      apps: base.apps.map((a, i) =>
        i === 0 ? { ...a, modules: [...a.modules, 'lib/outside.ts'] } : a,
      ),
    };
    let runs = 0;
    const analyzer: Analyzer = {
      analyzeProject: () => {
        runs++;
        return Promise.resolve(model);
      },
      printModel: (m) => JSON.stringify(m),
    };
    await mkdir(join(dir, 'app', 'lib'));
    const outside = join(dir, 'app', 'lib', 'outside.ts');
    await writeFile(outside, 'export const a = 1;\n');
    await analyzeWithCache(config, load(analyzer), location);
    expect((await analyzeWithCache(config, load(analyzer), location)).hit).toBe(true);
    await writeFile(outside, 'export const a = 2;\n');
    expect(await analyzeWithCache(config, load(analyzer), location)).toMatchObject({
      hit: false,
      changed: ['lib/outside.ts'],
    });
    expect(runs).toBe(2);
  });

  it('ignores a corrupt or foreign cache file', async () => {
    const analyzer = fakeAnalyzer();
    await analyzeWithCache(config, load(analyzer), location);
    await writeFile(location, '{"format": 99}');
    expect((await analyzeWithCache(config, load(analyzer), location)).hit).toBe(false);
    await writeFile(location, 'not json');
    expect((await analyzeWithCache(config, load(analyzer), location)).hit).toBe(false);
    expect((await analyzeWithCache(config, load(analyzer), location)).hit).toBe(true);
  });
});

describe('stripJsonc', () => {
  it('drops comments and trailing commas but not comment-like text in strings', () => {
    const text = '{\n  // a\n  "a": "http://x/*y*/", /* b */\n  "c": [1, 2,],\n}';
    expect(JSON.parse(stripJsonc(text))).toEqual({ a: 'http://x/*y*/', c: [1, 2] });
  });
});
