// `--cache`: reuse the extracted model when none of its inputs changed.
//
// store-lint's rules are cross-file (a worker's cache against a writer's
// stream against a handler in a third file), so a per-file cache in ESLint's
// style would give wrong answers in both directions. The model is a
// deterministic function of: the analyser's code (its sources' hash and the
// package version), the config (without `rules`, which only set severities),
// the tsconfig and every tsconfig it extends, every source file in the
// tsconfig's file set, every other file the last model referenced (a module
// imported from outside the include globs), the schema and `stores` glob
// matches, and the package manifest and lockfile (a dependency change). The
// cache key hashes all of them, by content; an equal key means an equal
// model, so rules run on the stored model and give exactly the answers a cold
// run gives.
//
// A change to files the model does not depend on keeps it too. The analyser
// reports them (`independentFiles`: files outside the import closure of
// everything that declares a stream, a store or a composition, of the app
// modules and of the files the model reports on); a changed file among them
// that still declares nothing (`findRoot`, which parses that file alone)
// cannot change the model. Any other change re-analyses everything; finer
// reuse needs per-file facts from the analyser (see the docs).
//
// The lint report is kept beside the model, one per lint setting (rule
// severities, baseline, the rules' own sources): a hit with a stored report
// reads neither the model nor runs a rule. The model lives in a file of its
// own, read only when something needs it (a new setting, --report,
// --print-model).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { StoreLintConfig } from '../analysis/config.js';
// freeze.ts imports nothing: a hit still loads neither ts-morph nor TypeScript.
import { deepFreeze } from '../analysis/freeze.js';
import { MODEL_VERSION, type SourceLocation, type StoreModel } from '../analysis/model.js';
import { stampOf, unchangedSince, type FileStamp } from '../analysis/file-stamps.js';
import { changedPlaces, missingPlaces, type MissingPlaces } from '../analysis/lookalikes.js';
import { ANALYZER_DIR, type Analyzer, type AnalyzeOptions } from './analyzer.js';
import type { Baseline } from './baseline.js';
import type { LintReport } from './engine.js';
import { OutputPathError, writeFileAtomically } from './output-file.js';
import { loadReport, storeReport, type StoredReport } from './stored-report.js';
import { TOOL_VERSION } from './version.js';

export const CACHE_FORMAT = 4;

/** tinyglobby, loaded when first needed: a run a --watch answers never lists files. */
async function globber(): Promise<typeof import('tinyglobby').glob> {
  return (await import('tinyglobby')).glob;
}
export const DEFAULT_CACHE_LOCATION = '.storesplit-cache/store-lint.json';
/** Lint reports kept per model, most recent first: a few settings (CI, a local run) alternate. */
const MAX_REPORTS = 4;

interface CacheFile {
  readonly format: typeof CACHE_FORMAT;
  readonly key: string;
  /** The key the model file carries: older than `key` after a change the model does not depend on. */
  readonly modelKey: string;
  /** The part of the key that is not file content: the tool and the config. */
  readonly settings: string;
  /** Content hash of every input file, by path relative to the project root. */
  readonly files: Readonly<Record<string, string>>;
  /** Input files the model does not depend on while they declare nothing. */
  readonly independent: readonly string[];
  /** The model's composition names: a class over one of them declares a composition. */
  readonly compositions: readonly string[];
  /**
   * Relative imports that resolved to no file (what they name, from the
   * root), with the names starting like it in its directory then: a file
   * appearing there, outside the hashed inputs, would change the analysis.
   */
  readonly missingImports: MissingPlaces;
  /** How long the analysis that produced the model took, in ms. */
  readonly analysisMs: number;
  /** Lint settings key → the report for this model, most recent first. */
  readonly reports: readonly (readonly [string, StoredReport])[];
}

/** The model file beside the index: the model and the key it was stored under. */
interface ModelFile {
  readonly key: string;
  readonly model: StoreModel;
}

export interface CacheInputs {
  readonly key: string;
  /** The tool and the config, hashed: the key without the files. */
  readonly settings: string;
  readonly files: Readonly<Record<string, string>>;
}

export interface CacheOptions extends AnalyzeOptions {
  /**
   * A cache file could not be written (an unwritable or read-only cache
   * folder). The cache only saves time, so the run can go on without it;
   * without this callback the error is thrown.
   */
  onWriteError?(error: OutputPathError): void;
}

export interface CachedAnalysis {
  /** The model: on a hit, read from the cache only when first asked for. */
  model(): Promise<StoreModel>;
  /** The report stored with this model for these lint settings (`lintSettingsKey`), if any. */
  report(settings: string): LintReport | null;
  /** Keeps `report` with this model for these lint settings. */
  saveReport(settings: string, report: LintReport): Promise<void>;
  /** The stored model was reused: no input changed, or only files it does not depend on. */
  readonly hit: boolean;
  /** Input files added, removed or changed since the stored entry. */
  readonly changed: readonly string[];
  /** Time to compute the key (and, on a hit, to load the model), ms. */
  readonly checkMs: number;
  /** Analysis time of this run (miss) or of the run that stored the model (hit), ms. */
  readonly analysisMs: number;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A file's content hash, or `missing`. Synchronous on purpose: for a
 * thousand small sources, `readFileSync` in a loop takes a quarter of the
 * time of concurrent `fs/promises` reads (open, stat, read and close each
 * queued on the thread pool), which decided a cache hit's time.
 */
function hashFile(path: string): string {
  try {
    return sha256(readFileSync(path));
  } catch {
    return 'missing';
  }
}

/**
 * Content hashes kept by a long-running process (`store-lint --watch`): a
 * file not written since it was hashed (its stamp, `file-stamps.ts`) is not
 * read again.
 */
export class FileHashes {
  readonly #known = new Map<string, { readonly stamp: FileStamp; readonly hash: string }>();
  /** Files read to be hashed (for tests). */
  reads = 0;

  hash(path: string): string {
    const stamp = stampOf(path);
    const known = this.#known.get(path);
    if (known && unchangedSince(known.stamp, stamp)) return known.hash;
    this.reads++;
    const hash = hashFile(path);
    if (stamp && hash !== 'missing') this.#known.set(path, { stamp, hash });
    else this.#known.delete(path);
    return hash;
  }
}

/** JSON with sorted keys, so equal configs hash equally. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : 1,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) for (const f of await listFiles(path)) out.push(f);
    else out.push(path);
  }
  return out;
}

/** This folder: the engine, the rules and the facts they share. */
const RULES_DIR = new URL('./', import.meta.url);

/** A source folder's files, sorted, with the folder's path. */
async function sourceFiles(folder: URL): Promise<{ dir: string; files: string[] }> {
  const dir = fileURLToPath(folder);
  return { dir, files: existsSync(dir) ? (await listFiles(dir)).sort() : [] };
}

async function sourcesFingerprint(folder: URL): Promise<string> {
  const { dir, files } = await sourceFiles(folder);
  const hash = createHash('sha256').update(`${TOOL_VERSION}\0${MODEL_VERSION}\0`);
  for (const f of files) hash.update(`${relative(dir, f)}\0`).update(readFileSync(f));
  return hash.digest('hex');
}

let toolHash: Promise<string> | undefined;
let rulesHash: Promise<string> | undefined;

/** The analyser's identity: its sources (not just the version, which does not change between commits). */
export function toolFingerprint(): Promise<string> {
  toolHash ??= sourcesFingerprint(ANALYZER_DIR);
  return toolHash;
}

/** The rules' identity: this folder's sources (the engine, the rules, the facts they share). */
function rulesFingerprint(): Promise<string> {
  rulesHash ??= sourcesFingerprint(RULES_DIR);
  return rulesHash;
}

/**
 * The running build, cheaply: the path, size, modification time and inode of
 * every source file of the analyser and of the rules. A `--watch` and the
 * `--cache` run that asks it compare these (watch-answers.ts): they are one
 * build unless a file was rewritten since the watch started. A stored cache
 * outlives installations and needs `toolFingerprint`, by content.
 */
export async function buildStamp(): Promise<string> {
  const hash = createHash('sha256').update(`${TOOL_VERSION}\0${MODEL_VERSION}\0`);
  for (const folder of [ANALYZER_DIR, RULES_DIR]) {
    for (const f of (await sourceFiles(folder)).files) {
      const s = statSync(f);
      hash.update(`${f}\0${s.size}\0${s.mtimeMs}\0${s.ino}\0`);
    }
  }
  return hash.digest('hex');
}

/** The lint options a report depends on besides the model and the build: severities and the baseline. */
export function lintOptionsKey(config: StoreLintConfig, baseline: Baseline | null): string {
  return sha256(stableJson({ rules: config.rules, baseline }));
}

/**
 * What a lint report depends on besides the model: the rule severities, the
 * baseline's entries (with their lines, which stale-entry warnings name) and
 * the rules' sources.
 */
export async function lintSettingsKey(
  config: StoreLintConfig,
  baseline: Baseline | null,
): Promise<string> {
  return sha256(stableJson({ rules: config.rules, baseline, lint: await rulesFingerprint() }));
}

/** JSON with comments and trailing commas (tsconfig's dialect) as plain JSON text. */
export function stripJsonc(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (ch === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else out += ch;
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}

const SOURCE_EXTENSIONS = ['ts', 'tsx', 'mts', 'cts', 'js', 'jsx', 'mjs', 'cjs'];

/**
 * A superset of the files a tsconfig makes the program read, without loading
 * TypeScript (a cache hit should not pay for it): the tsconfig and each
 * relative `extends`, and the effective `files` and `include` — the most
 * derived config that sets one wins, paths relative to that config, and
 * `include` defaults to `**\/*` only when no config sets either. `exclude` is
 * ignored: hashing more files than needed only costs a spurious miss, never a
 * wrong hit. Packages named by `extends` are covered by the lockfile.
 */
async function tsconfigInputs(config: StoreLintConfig): Promise<string[]> {
  interface Raw {
    extends?: string | string[];
    include?: string[];
    files?: string[];
  }
  const chain: { file: string; data: Raw }[] = [];
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    let data: Raw = {};
    try {
      data = JSON.parse(stripJsonc(await readFile(file, 'utf8'))) as Raw;
    } catch {
      // Unreadable or invalid: its hash is still part of the key.
    }
    chain.push({ file, data });
    const parents = typeof data.extends === 'string' ? [data.extends] : (data.extends ?? []);
    for (const parent of parents) {
      const target = extendedTsconfig(file, parent);
      if (target) await visit(target);
    }
  };
  const root = resolve(config.root, config.tsconfig);
  await visit(root);

  // `${configDir}` (TypeScript 5.5) stands for the directory of the tsconfig being compiled.
  const configDir = dirname(root);
  const located = (dir: string, path: string): { cwd: string; path: string } =>
    path.startsWith(CONFIG_DIR)
      ? { cwd: configDir, path: path.slice(CONFIG_DIR.length).replace(/^[\\/]/, '') }
      : { cwd: dir, path };
  const out = chain.map((c) => c.file);
  const withFiles = chain.find((c) => c.data.files !== undefined);
  const withInclude = chain.find((c) => c.data.include !== undefined);
  for (const f of withFiles?.data.files ?? []) {
    const at = located(dirname(withFiles!.file), f);
    out.push(resolve(at.cwd, at.path));
  }
  const include = withInclude
    ? { dir: dirname(withInclude.file), patterns: withInclude.data.include! }
    : withFiles
      ? { dir: configDir, patterns: [] }
      : { dir: configDir, patterns: ['**/*'] };
  const byDir = new Map<string, string[]>();
  for (const p of include.patterns) {
    const at = located(include.dir, p);
    const pattern = at.path === '' ? '**/*' : at.path;
    const files = /\.[cm]?[jt]sx?$|\*$/.test(pattern)
      ? pattern
      : `${pattern.replace(/\/$/, '')}/**/*`;
    byDir.set(at.cwd, [...(byDir.get(at.cwd) ?? []), files]);
  }
  for (const [cwd, patterns] of byDir) {
    const matched = await (
      await globber()
    )(patterns, {
      cwd,
      absolute: true,
      onlyFiles: true,
      ignore: ['**/node_modules/**', '**/.git/**'],
    });
    for (const m of matched) if (SOURCE_EXTENSIONS.some((e) => m.endsWith(`.${e}`))) out.push(m);
  }
  return out;
}

const CONFIG_DIR = '${configDir}';

/**
 * The file a tsconfig's `extends` names: a path relative to it, or a package
 * (a workspace package or one in node_modules, resolved as Node resolves it,
 * symlinks followed): `@acme/tsconfig/base.json`, `@tsconfig/node20`. Hashed
 * like any input, so an edit to a shared base in a workspace, which no
 * lockfile records, is a miss. Null when it cannot be found.
 */
function extendedTsconfig(from: string, spec: string): string | null {
  if (spec.startsWith('.') || isAbsolute(spec)) {
    const target = resolve(dirname(from), spec);
    return target.endsWith('.json') ? target : `${target}.json`;
  }
  const require = createRequire(from);
  // As TypeScript tries them: the file named, else a package's own tsconfig.json
  // (not its `main`, which `require.resolve` of a bare name would give).
  const candidates = spec.endsWith('.json')
    ? [spec]
    : [`${spec}/tsconfig.json`, `${spec}.json`, spec];
  for (const candidate of candidates) {
    try {
      return require.resolve(candidate);
    } catch {
      // next form
    }
  }
  return null;
}

function nearestUp(dir: string, names: readonly string[]): string[] {
  for (let current = dir; ;) {
    const found = names.map((n) => join(current, n)).filter((p) => existsSync(p));
    if (found.length) return found;
    const parent = dirname(current);
    if (parent === current) return [];
    current = parent;
  }
}

/** A path (absolute, or relative to `root`) as the input map names it: relative to `root`, forward slashes. */
function toPosixRelative(root: string, path: string): string {
  return relative(root, resolve(root, path)).split('\\').join('/');
}

/** Files the model mentions, so that a module outside the tsconfig globs still counts. */
export function modelFiles(model: StoreModel): string[] {
  const files = new Set<string>();
  const add = (l: SourceLocation) => files.add(l.file);
  for (const s of model.stores) {
    files.add(s.file);
    for (const m of s.methods) add(m.location);
  }
  for (const c of model.compositions) files.add(c.file);
  for (const s of model.streams) add(s.location);
  for (const a of model.apps) for (const m of a.modules) files.add(m);
  return [...files];
}

export async function computeInputs(
  config: StoreLintConfig,
  extra: readonly string[] = [],
  hashes?: FileHashes,
): Promise<CacheInputs> {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(config.root, p));
  const paths = new Set<string>([config.configPath]);
  for (const p of await tsconfigInputs(config)) paths.add(abs(p));
  const globbed = await (
    await globber()
  )([...config.schema, ...config.stores], {
    cwd: config.root,
    absolute: true,
    onlyFiles: true,
  });
  for (const p of globbed) paths.add(abs(p));
  for (const app of Object.values(config.apps)) for (const e of app.entry) paths.add(abs(e));
  for (const p of nearestUp(config.root, ['package.json'])) paths.add(p);
  for (const p of nearestUp(config.root, ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock']))
    paths.add(p);
  for (const p of extra) paths.add(abs(p));

  const files: Record<string, string> = {};
  const hash = hashes ? (p: string) => hashes.hash(p) : hashFile;
  for (const p of [...paths].sort()) files[toPosixRelative(config.root, p)] = hash(p);
  // Severities do not change the model.
  const modelConfig: Omit<StoreLintConfig, 'rules'> & { rules?: unknown } = { ...config };
  delete modelConfig.rules;
  const settings = sha256(
    stableJson({ format: CACHE_FORMAT, tool: await toolFingerprint(), config: modelConfig }),
  );
  const key = sha256(stableJson({ settings, files }));
  return { key, settings, files };
}

async function readCacheFile(location: string): Promise<CacheFile | null> {
  try {
    const data = JSON.parse(await readFile(location, 'utf8')) as Partial<CacheFile>;
    if (
      data.format !== CACHE_FORMAT ||
      typeof data.key !== 'string' ||
      typeof data.modelKey !== 'string' ||
      typeof data.settings !== 'string' ||
      !data.files ||
      !Array.isArray(data.independent) ||
      !Array.isArray(data.compositions) ||
      !Array.isArray(data.missingImports) ||
      !Array.isArray(data.reports)
    )
      return null;
    return data as CacheFile;
  } catch {
    return null;
  }
}

/** The model's file: the index's name with `.model.json`. */
/** How the files store-lint writes at a `--cache` location start (JSON.stringify keeps key order). */
const OWN_FILE_START: readonly (readonly [(location: string) => string, RegExp])[] = [
  [(location) => location, /^\{"format":\d+,"key":"/],
  [modelLocation, /^\{"key":"/],
];

/**
 * Refuses a `--cache` location where a file that store-lint did not write
 * would be replaced: `--cache-location tsconfig.json` must not cost the
 * tsconfig. An empty file, or a cache of any format, may be replaced. Reads
 * only the start of each file (a model file is megabytes).
 */
export async function checkCacheLocation(location: string): Promise<void> {
  for (const [pathOf, start] of OWN_FILE_START) {
    const path = pathOf(location);
    let head: string;
    try {
      const file = await open(path, 'r');
      try {
        const { buffer, bytesRead } = await file.read(Buffer.alloc(64), 0, 64, 0);
        head = buffer.subarray(0, bytesRead).toString('utf8');
      } finally {
        await file.close();
      }
    } catch {
      continue; // missing, or not readable: writing it will say why, if it must
    }
    if (head.trim() === '' || start.test(head)) continue;
    throw new OutputPathError(
      `cannot write the --cache file to ${path}: it holds something else (not a store-lint cache), ` +
        'which would be lost; remove it or choose another --cache-location',
    );
  }
}

function modelLocation(location: string): string {
  return `${location.replace(/\.json$/, '')}.model.json`;
}

async function readModelFile(location: string, key: string): Promise<StoreModel | null> {
  try {
    const data = JSON.parse(await readFile(modelLocation(location), 'utf8')) as Partial<ModelFile>;
    return data.key === key && data.model ? data.model : null;
  } catch {
    return null;
  }
}

/**
 * Writes atomically (a temporary file renamed over the old one), so a reader
 * never sees half. A path that cannot be written goes to `onWriteError` when
 * given: the run keeps its results, the next run analyses again.
 */
async function writeJson(path: string, value: unknown, options: CacheOptions): Promise<void> {
  try {
    await writeFileAtomically(path, JSON.stringify(value), '--cache file');
  } catch (error) {
    if (!(error instanceof OutputPathError) || !options.onWriteError) throw error;
    options.onWriteError(error);
  }
}

/** `index` with `report` as the newest for `settings`, keeping at most MAX_REPORTS. */
function withReport(index: CacheFile, settings: string, report: LintReport): CacheFile {
  const others = index.reports.filter(([k]) => k !== settings);
  const reports = [[settings, storeReport(report)] as const, ...others].slice(0, MAX_REPORTS);
  return { ...index, reports };
}

/** Input files added, removed or edited between two hashings. */
export function changedFiles(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n] !== after[n]).sort();
}

/**
 * The changed files, when every one is a file the stored model does not
 * depend on and still declares nothing; else null (the model must be rebuilt).
 */
async function independentChange(
  config: StoreLintConfig,
  stored: CacheFile,
  inputs: CacheInputs,
  loadAnalyzer: () => Promise<Analyzer>,
): Promise<string[] | null> {
  if (stored.settings !== inputs.settings) return null;
  const changed = changedFiles(stored.files, inputs.files);
  const independent = new Set(stored.independent);
  // Added or removed files fall outside too: a new file can change how an import resolves
  // (an added file is not on the stored list; a removed one hashes as missing).
  const candidates = changed.every((f) => independent.has(f) && inputs.files[f] !== 'missing');
  if (!candidates || changed.length === 0) return null;
  const analyzer = await loadAnalyzer();
  const root = await analyzer.findRoot(config, changed, { compositions: stored.compositions });
  if (root) return null;
  // The files were read again to be parsed: a file edited since it was hashed
  // would leave the new key naming content that was never checked.
  return changed.every((f) => hashFile(resolve(config.root, f)) === inputs.files[f])
    ? changed
    : null;
}

/**
 * Analyses the project, or reuses the model stored at `location` when every
 * input is unchanged or only files it does not depend on changed. The
 * analyser is loaded only when a file changed: loading it (ts-morph and
 * TypeScript) costs more than a hit.
 */
/** Whether any of `before`'s files hashes differently in `after` (one it no longer lists is missing). */
function changedInputs(before: CacheInputs, after: CacheInputs): boolean {
  return Object.entries(before.files).some(
    ([file, hash]) => (after.files[file] ?? 'missing') !== hash,
  );
}

/** Whether an input changed since `inputs` was hashed (an edit while the analyser ran). */
async function editedSince(
  config: StoreLintConfig,
  inputs: CacheInputs,
  extra: readonly string[],
): Promise<boolean> {
  return changedInputs(inputs, await computeInputs(config, extra));
}

export async function analyzeWithCache(
  config: StoreLintConfig,
  loadAnalyzer: () => Promise<Analyzer>,
  location: string,
  options: CacheOptions = {},
): Promise<CachedAnalysis> {
  const started = performance.now();
  const stored = await readCacheFile(location);
  const extra = stored ? Object.keys(stored.files) : [];
  const inputs = await computeInputs(config, extra);
  const analyse = async (): Promise<{
    model: StoreModel;
    independent: readonly string[];
    missingImports: readonly string[];
    checkerFiles: readonly string[];
    ms: number;
  }> => {
    const analysisStarted = performance.now();
    const result = await (await loadAnalyzer()).analyzeWithDependencies(config, options);
    return {
      model: result.model,
      independent: result.independentFiles,
      missingImports: result.missingImports,
      checkerFiles: result.checkerFiles,
      ms: performance.now() - analysisStarted,
    };
  };

  // A file where an import resolved to nothing is outside the hashed inputs.
  const appeared = stored !== null && changedPlaces(config.root, stored.missingImports).length > 0;
  const unchanged = stored !== null && !appeared && stored.key === inputs.key;
  const changedIndependently =
    stored && !unchanged && !appeared
      ? await independentChange(config, stored, inputs, loadAnalyzer)
      : null;
  if (stored && (unchanged || changedIndependently)) {
    const checkMs = performance.now() - started;
    let index: CacheFile = stored;
    if (changedIndependently) {
      // The same model under the new inputs: the index moves on, the model file stays.
      index = { ...stored, key: inputs.key, files: inputs.files };
      await writeJson(location, index, options);
    }
    let model: Promise<StoreModel> | null = null;
    return {
      hit: true,
      changed: changedIndependently ?? [],
      checkMs,
      analysisMs: stored.analysisMs,
      model() {
        // A missing or mismatched model file (deleted, or written by another
        // run in between) is analysed again rather than trusted.
        model ??= readModelFile(location, stored.modelKey).then(async (found) => {
          if (found) return deepFreeze(found);
          const fresh = (await analyse()).model;
          // Stored only if what was analysed is still what the index names.
          if (!(await editedSince(config, inputs, extra)))
            await writeJson(
              modelLocation(location),
              { key: stored.modelKey, model: fresh },
              options,
            );
          return fresh;
        });
        return model;
      },
      report(settings) {
        const found = index.reports.find(([k]) => k === settings);
        return found ? loadReport(found[1]) : null;
      },
      async saveReport(settings, report) {
        index = withReport(index, settings, report);
        await writeJson(location, index, options);
      },
    };
  }

  const checkMs = performance.now() - started;
  const { model, independent, missingImports, checkerFiles, ms: analysisMs } = await analyse();
  // Hashed again after the analysis, with the files the model turned out to
  // depend on. An input that changed meanwhile (an editor's save, a checkout
  // during a pre-commit run) may or may not be what was analysed: nothing is
  // stored, so no later run can take this model for either version.
  const uncovered = [...modelFiles(model), ...checkerFiles].filter(
    (f) => !(toPosixRelative(config.root, f) in inputs.files),
  );
  // A file the last index listed that is gone now is listed no more, unless
  // this model still names it: the index does not grow with every deletion.
  const stillThere = extra.filter((f) => inputs.files[f] !== 'missing');
  const final = await computeInputs(config, [...stillThere, ...uncovered]);
  const miss = (saveReport: CachedAnalysis['saveReport']): CachedAnalysis => ({
    hit: false,
    changed: stored ? changedFiles(stored.files, inputs.files) : [],
    checkMs,
    analysisMs,
    model: () => Promise.resolve(model),
    report: () => null,
    saveReport,
  });
  if (changedInputs(inputs, final)) return miss(() => Promise.resolve());
  // The model first: an index is never written before the model it names.
  await writeJson(modelLocation(location), { key: final.key, model } satisfies ModelFile, options);
  let index: CacheFile = {
    format: CACHE_FORMAT,
    key: final.key,
    modelKey: final.key,
    settings: final.settings,
    files: final.files,
    independent: independent.filter((f) => f in final.files),
    compositions: [...new Set(model.compositions.map((c) => c.name))].sort(),
    missingImports: missingPlaces(config.root, missingImports),
    analysisMs,
    reports: [],
  };
  await writeJson(location, index, options);
  return miss(async (settings, report) => {
    index = withReport(index, settings, report);
    await writeJson(location, index, options);
  });
}
