import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreLintConfig } from '../../src/analysis/config.js';
import type { StoreModel } from '../../src/analysis/model.js';
import { loadAnalyzer, type Analyzer } from '../../src/lint/analyzer.js';
import {
  analyzeWithCache,
  computeInputs,
  lintSettingsKey,
  stripJsonc,
} from '../../src/lint/cache.js';
import { lint } from '../../src/lint/engine.js';
import { storeReport } from '../../src/lint/stored-report.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { receiptsApp } from './model-builder.js';
import { ParsedFiles } from '../../src/analysis/project.js';
import { KeptFacts } from '../../src/analysis/kept-facts.js';

const APP = fileURLToPath(new URL('../fixtures/rules/unannounced-write/passing/', import.meta.url));

/** An analyser that counts its runs and returns a fixed model. */
function fakeAnalyzer(): Analyzer & { runs: number } {
  const model: StoreModel = receiptsApp().build();
  return {
    runs: 0,
    analyzeProject: () => Promise.resolve(model),
    analyzeWithDependencies(this: { runs: number }) {
      this.runs++;
      return Promise.resolve({ model, independentFiles: [], missingImports: [], checkerFiles: [] });
    },
    findRoot: (_config, files) =>
      Promise.resolve({ file: files[0]!, reason: 'the fake analyser reads every file' }),
    printModel: (m) => JSON.stringify(m),
    ParsedFiles,
    KeptFacts,
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
    // The report as the rules made it, less their code: a hit loads no rule.
    expect(hit.report(settings)).toEqual(storeReport(report));
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

  it('follows `extends` into a workspace package, and reads `${configDir}` in `include`', async () => {
    const app = join(dir, 'app');
    const shared = join(dir, 'packages', 'tsconfig');
    await mkdir(shared, { recursive: true });
    await writeFile(join(shared, 'package.json'), '{ "name": "@acme/tsconfig" }\n');
    await writeFile(
      join(shared, 'base.json'),
      '{ "compilerOptions": { "strict": true }, "include": ["${configDir}/src"] }\n',
    );
    await mkdir(join(app, 'node_modules', '@acme'), { recursive: true });
    await symlink(shared, join(app, 'node_modules', '@acme', 'tsconfig'), 'dir');
    await writeFile(join(app, 'tsconfig.json'), '{ "extends": "@acme/tsconfig/base.json" }\n');
    const before = await computeInputs(config);
    // The base's real path, outside the project; and the app's sources through `${configDir}`.
    expect(Object.keys(before.files)).toContain('../packages/tsconfig/base.json');
    expect(Object.keys(before.files)).toContain('src/stores/tags.ts');
    await writeFile(join(shared, 'base.json'), '{ "include": ["${configDir}/src"] }\n');
    expect((await computeInputs(config)).key).not.toBe(before.key);
    // A bare package name: its tsconfig.json, not its `main`.
    await writeFile(
      join(shared, 'package.json'),
      '{ "name": "@acme/tsconfig", "main": "index.js" }\n',
    );
    await writeFile(join(shared, 'index.js'), 'module.exports = {};\n');
    await writeFile(join(shared, 'tsconfig.json'), '{ "include": ["${configDir}/src"] }\n');
    await writeFile(join(app, 'tsconfig.json'), '{ "extends": "@acme/tsconfig" }\n');
    const bare = Object.keys((await computeInputs(config)).files);
    expect(bare).toContain('../packages/tsconfig/tsconfig.json');
    expect(bare).not.toContain('../packages/tsconfig/index.js');
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
      ParsedFiles,
      KeptFacts,
      analyzeProject: () => Promise.resolve(model),
      analyzeWithDependencies: () => {
        runs++;
        return Promise.resolve({
          model,
          independentFiles: [],
          missingImports: [],
          checkerFiles: [],
        });
      },
      findRoot: (_config, files) =>
        Promise.resolve({ file: files[0]!, reason: 'the fake analyser reads every file' }),
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

  it('stores nothing when an input is edited while the analyser runs (X → Y → X stays correct)', async () => {
    const store = join(dir, 'app', 'src', 'stores', 'tags.ts');
    const original = await readFile(store, 'utf8');
    const edited = `${original}\n// saved while the analyser ran\n`;
    const analyzer = await loadAnalyzer();
    // The analysis reads the edited file, though the run hashed the original.
    const editing: Analyzer = {
      ...analyzer,
      async analyzeWithDependencies(c, o) {
        await writeFile(store, edited);
        return analyzer.analyzeWithDependencies(c, o);
      },
    };
    const first = await analyzeWithCache(config, load(editing), location);
    expect(first.hit).toBe(false);
    // Nothing was stored under the original's key (nor the edit's): both miss.
    await writeFile(store, original);
    expect((await analyzeWithCache(config, load(analyzer), location)).hit).toBe(false);
    expect((await analyzeWithCache(config, load(analyzer), location)).hit).toBe(true);
    await writeFile(store, edited);
    expect((await analyzeWithCache(config, load(analyzer), location)).hit).toBe(false);
  });

  it('keys on a declaration file only the type checker read', async () => {
    const app = join(dir, 'app');
    await mkdir(join(app, 'typings'));
    const typings = join(app, 'typings', 'app.d.ts');
    // Outside the tsconfig's globs; what it says decides the receiver's type.
    await writeFile(
      typings,
      'export type AppStore = { insertReceipt(roomId: string, userId: string, eventId: string): Promise<number> };\n',
    );
    await writeFile(
      join(app, 'src', 'apps', 'reader.ts'),
      "import type { AppStore } from '../../typings/app.js';\nexport const mark = (store: AppStore) => store.insertReceipt('r', 'u', 'e');\n",
    );
    const analyzer = await loadAnalyzer();
    const calls = async () => {
      const model = await (await analyzeWithCache(config, load(analyzer), location)).model();
      return model.apps.find((a) => a.name === 'reader')!.calls.map((c) => c.receiverType);
    };
    expect(await calls()).toEqual([]);
    await writeFile(
      typings,
      "import type { ReaderDataStore } from '../src/stores/reader.js';\nexport type AppStore = ReaderDataStore;\n",
    );
    expect(await calls()).toEqual(['ReaderDataStore']);
  });

  it('misses when a file appears where an import looked first (an earlier `paths` candidate)', async () => {
    const app = join(dir, 'app');
    const tsconfig = JSON.parse(await readFile(join(app, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: Record<string, unknown>;
    };
    tsconfig.compilerOptions.paths = { '@lib/*': ['./lib-override/*', './lib/*'] };
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
    await mkdir(join(app, 'lib'));
    await writeFile(join(app, 'lib', 'view.ts'), 'export const view = 1;\n');
    await writeFile(
      join(app, 'src', 'apps', 'reader.ts'),
      "import { view } from '@lib/view.js';\nexport { view };\n",
    );
    const config = await loadConfig({ cwd: app });
    const analyzer = await loadAnalyzer();
    const modules = async () => {
      const run = await analyzeWithCache(config, load(analyzer), location);
      return {
        hit: run.hit,
        modules: (await run.model()).apps.find((a) => a.name === 'reader')!.modules,
      };
    };
    expect(await modules()).toEqual({ hit: false, modules: ['lib/view.ts', 'src/apps/reader.ts'] });
    expect((await modules()).hit).toBe(true);
    await mkdir(join(app, 'lib-override'));
    await writeFile(join(app, 'lib-override', 'view.ts'), 'export const view = 2;\n');
    expect(await modules()).toEqual({
      hit: false,
      modules: ['lib-override/view.ts', 'src/apps/reader.ts'],
    });
  });

  it('forgets a file the model named once it is deleted and the new model does not name it', async () => {
    const base = receiptsApp().build();
    const naming = (extra: readonly string[]): StoreModel => ({
      ...base,
      apps: base.apps.map((a, i) => (i === 0 ? { ...a, modules: [...a.modules, ...extra] } : a)),
    });
    let model = naming(['lib/gone.ts']);
    const analyzer: Analyzer = {
      ...fakeAnalyzer(),
      analyzeWithDependencies: () =>
        Promise.resolve({ model, independentFiles: [], missingImports: [], checkerFiles: [] }),
    };
    await mkdir(join(dir, 'app', 'lib'));
    await writeFile(join(dir, 'app', 'lib', 'gone.ts'), 'export {};\n');
    await analyzeWithCache(config, load(analyzer), location);
    const listed = async () =>
      Object.keys((JSON.parse(await readFile(location, 'utf8')) as { files: object }).files);
    expect(await listed()).toContain('lib/gone.ts');
    await rm(join(dir, 'app', 'lib', 'gone.ts'));
    model = naming([]);
    expect((await analyzeWithCache(config, load(analyzer), location)).hit).toBe(false);
    expect(await listed()).not.toContain('lib/gone.ts');
    expect((await analyzeWithCache(config, load(analyzer), location)).hit).toBe(true);
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

/** The real analyser, counting its full analyses. */
async function countingAnalyzer(): Promise<Analyzer & { runs: number }> {
  const real = await loadAnalyzer();
  const counting = {
    ...real,
    runs: 0,
    analyzeWithDependencies(config: StoreLintConfig) {
      counting.runs++;
      return real.analyzeWithDependencies(config);
    },
  };
  return counting;
}

describe('--cache after changes to files the model does not depend on', () => {
  let dir: string;
  let app: string;
  let location: string;
  const config = () => loadConfig({ cwd: app });
  const write = (rel: string, text: string) => writeFile(join(app, rel), text);
  /** Runs with the cache, and checks the model it gives against a run without. */
  const run = async (analyzer: Analyzer) => {
    const c = await config();
    const result = await analyzeWithCache(c, load(analyzer), location);
    expect(await result.model()).toEqual(await analyzer.analyzeProject(c));
    return result;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-lint-cache-deps-'));
    app = join(dir, 'app');
    await cp(APP, app, { recursive: true });
    location = join(dir, 'cache', 'store-lint.json');
    // A script that uses the stores but that no store, stream or app module imports.
    await mkdir(join(app, 'src', 'scripts'));
    await write(
      'src/scripts/report.ts',
      [
        "import type { ReaderDataStore } from '../stores/reader.js';",
        "import { formatTags } from './format.js';",
        'export async function report(store: ReaderDataStore) {',
        "  return formatTags(await store.getTagsForRoom('u', 'r'));",
        '}',
        '',
      ].join('\n'),
    );
    await write(
      'src/scripts/format.ts',
      "export const formatTags = (tags: string[]) => tags.join(', ');\n",
    );
  }, 30_000);
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reuses the model and its reports when only such files changed', async () => {
    const analyzer = await countingAnalyzer();
    const first = await run(analyzer);
    const settings = await lintSettingsKey(await config(), null);
    const report = lint(await first.model(), { config: await config() });
    await first.saveReport(settings, report);

    // Classes that are not compositions: over nothing, and over a class that is none.
    await write('src/scripts/report.ts', 'export class ReportError extends Error {}\n');
    await write(
      'src/scripts/format.ts',
      "import { ReportError } from './report.js';\nexport class Formatter { format() { return 1; } }\nexport class FormatError extends ReportError {}\n",
    );
    const after = await run(analyzer);
    expect(after).toMatchObject({
      hit: true,
      changed: ['src/scripts/format.ts', 'src/scripts/report.ts'],
    });
    expect(after.report(settings)).toEqual(storeReport(report));
    expect(analyzer.runs).toBe(1);
    // The index moved on: the same state is now a plain hit.
    expect(await run(analyzer)).toMatchObject({ hit: true, changed: [] });
    expect(analyzer.runs).toBe(1);
  });

  it.each([
    [
      'a stream',
      "import { defineStream } from 'storesplit';\nexport const S = defineStream({ name: 's', tables: ['room_tags'], getUpdates: async () => ({ rows: [], limited: false }) });\n",
    ],
    [
      'a mixin',
      "export function ReportStore(Base: any) { abstract class ReportStore extends Base { async count() { return this.dbConn.selectFrom('room_tags').selectAll().execute(); } } return ReportStore; }\n",
    ],
    [
      'a composition over a composition',
      "import { ReaderDataStore } from '../stores/reader.js';\nexport class ScriptStore extends ReaderDataStore {}\n",
    ],
    [
      'a composition over a composition imported under another name',
      "import { ReaderDataStore as Base } from '../stores/reader.js';\nexport class ScriptStore extends Base {}\n",
    ],
    [
      'a composition over a composition named but not imported',
      'export class ScriptStore extends ReaderDataStore {}\n',
    ],
    [
      'a suppression comment',
      '// store-lint-disable-next-line worker-writes -- old script\nexport const x = 1;\n',
    ],
    ['a syntax error', 'export const = ;\n'],
  ])('analyses again when such a file now declares %s', async (_what, text) => {
    const analyzer = await countingAnalyzer();
    await run(analyzer);
    await write('src/scripts/report.ts', text);
    if (text.includes('export const = ;')) {
      await expect(analyzeWithCache(await config(), load(analyzer), location)).rejects.toThrow(
        /does not parse/,
      );
    } else {
      expect(await run(analyzer)).toMatchObject({ hit: false });
    }
    expect(analyzer.runs).toBe(2);
  });

  it('analyses again when a file a store imports changes, directly or through a barrel', async () => {
    const analyzer = await countingAnalyzer();
    await run(analyzer);
    await write('src/db.ts', `${await readFile(join(app, 'src', 'db.ts'), 'utf8')}\n// edited\n`);
    expect(await run(analyzer)).toMatchObject({ hit: false, changed: ['src/db.ts'] });

    // tags.ts now reaches format.ts through a barrel that re-exports it.
    await write('src/scripts/index.ts', "export * from './format.js';\n");
    const tags = join(app, 'src', 'stores', 'tags.ts');
    await writeFile(
      tags,
      `import { formatTags } from '../scripts/index.js';\n${await readFile(tags, 'utf8')}\nexport const f = formatTags;\n`,
    );
    expect(await run(analyzer)).toMatchObject({ hit: false });
    await write(
      'src/scripts/format.ts',
      "export const formatTags = (tags: string[]) => tags.join('; ');\n",
    );
    expect(await run(analyzer)).toMatchObject({ hit: false, changed: ['src/scripts/format.ts'] });
    expect(analyzer.runs).toBe(4);
  });

  it('analyses again when a file an app module imports changes', async () => {
    const analyzer = await countingAnalyzer();
    const entry = join(app, 'src', 'apps', 'reader.ts');
    await writeFile(
      entry,
      `import { formatTags } from '../scripts/format.js';\n${await readFile(entry, 'utf8')}\nexport const f = formatTags;\n`,
    );
    await run(analyzer);
    await write('src/scripts/format.ts', 'export const formatTags = (t: string[]) => t.length;\n');
    expect(await run(analyzer)).toMatchObject({ hit: false, changed: ['src/scripts/format.ts'] });
    // report.ts is still outside the model's dependencies.
    await write('src/scripts/report.ts', 'export const nothing = 0;\n');
    expect(await run(analyzer)).toMatchObject({ hit: true, changed: ['src/scripts/report.ts'] });
    expect(analyzer.runs).toBe(2);
  });

  it('counts a file that declares a composition over a composition', async () => {
    const analyzer = await countingAnalyzer();
    const text =
      "import { ReaderDataStore } from '../stores/reader.js';\nexport class ScriptStore extends ReaderDataStore {}\n";
    await write('src/scripts/report.ts', text);
    await run(analyzer);
    // Edited, then removed: the model had the composition, so both count.
    await write('src/scripts/report.ts', `${text}// edited\n`);
    expect(await run(analyzer)).toMatchObject({ hit: false, changed: ['src/scripts/report.ts'] });
    await write('src/scripts/report.ts', 'export const nothing = 0;\n');
    expect(await run(analyzer)).toMatchObject({ hit: false, changed: ['src/scripts/report.ts'] });
    expect(analyzer.runs).toBe(3);
  });

  it('analyses again when such a file is edited while it is being checked', async () => {
    const analyzer = await countingAnalyzer();
    await run(analyzer);
    await write('src/scripts/report.ts', 'export const nothing = 0;\n');
    const racing: Analyzer = {
      ...analyzer,
      analyzeWithDependencies: (c) => analyzer.analyzeWithDependencies(c),
      async findRoot(c, files, known) {
        const found = await analyzer.findRoot(c, files, known);
        await write('src/scripts/report.ts', 'export const nothing = 1;\n');
        return found;
      },
    };
    const raced = await analyzeWithCache(await config(), load(racing), location);
    expect(raced).toMatchObject({ hit: false, changed: ['src/scripts/report.ts'] });
    expect(analyzer.runs).toBe(2);
  });

  it('analyses again when such a file is added or removed', async () => {
    const analyzer = await countingAnalyzer();
    await run(analyzer);
    await write('src/scripts/more.ts', 'export const more = 1;\n');
    expect(await run(analyzer)).toMatchObject({ hit: false, changed: ['src/scripts/more.ts'] });
    await rm(join(app, 'src', 'scripts', 'more.ts'));
    expect(await run(analyzer)).toMatchObject({ hit: false, changed: ['src/scripts/more.ts'] });
    expect(analyzer.runs).toBe(3);
  });
});

describe('--cache on examples/chat', { timeout: 120_000 }, () => {
  const CHAT = fileURLToPath(new URL('../../examples/chat/', import.meta.url));
  const ROOT_TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reuses the model after edits to the demo harness, not after edits to a store or an app module', async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-lint-cache-chat-'));
    // The chat app's tsconfig extends the repository's: keep the layout.
    await cp(ROOT_TSCONFIG, join(dir, 'tsconfig.json'));
    const chat = join(dir, 'examples', 'chat');
    await cp(CHAT, chat, { recursive: true, filter: (src) => !src.includes('node_modules') });
    const config = await loadConfig({ cwd: chat });
    const location = join(dir, 'cache', 'store-lint.json');
    const analyzer = await countingAnalyzer();
    const append = async (rel: string, text: string) =>
      writeFile(join(chat, rel), `${await readFile(join(chat, rel), 'utf8')}\n${text}\n`);
    const run = async () => {
      const result = await analyzeWithCache(config, load(analyzer), location);
      expect(await result.model()).toEqual(await analyzer.analyzeProject(config));
      return result;
    };

    await run();
    await append('main.ts', 'export class DemoError extends Error {}');
    await append(
      'src/workload.ts',
      'export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));',
    );
    expect(await run()).toMatchObject({ hit: true, changed: ['main.ts', 'src/workload.ts'] });
    expect(analyzer.runs).toBe(1);

    await append('src/stores/tags.ts', '// edited');
    expect(await run()).toMatchObject({ hit: false, changed: ['src/stores/tags.ts'] });
    await append('src/roles/reader.ts', '// edited');
    expect(await run()).toMatchObject({ hit: false, changed: ['src/roles/reader.ts'] });
    expect(analyzer.runs).toBe(3);
  });
});

describe('stripJsonc', () => {
  it('drops comments and trailing commas but not comment-like text in strings', () => {
    const text = '{\n  // a\n  "a": "http://x/*y*/", /* b */\n  "c": [1, 2,],\n}';
    expect(JSON.parse(stripJsonc(text))).toEqual({ a: 'http://x/*y*/', c: [1, 2] });
  });
});
