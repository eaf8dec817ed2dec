// store-lint beside the type checkers, on generated codebases (gen-corpus.ts:
// store mixins of ~100 lines with real Kysely types) at several sizes, so that
// growth is visible. Everything runs as a separate child process, as a user
// or CI runs it:
//   - store-lint as published: the package laid out by
//     scripts/layout-package.ts, run with plain Node (no tsx), `--format json`;
//     (a) cold, no cache; (b) `--cache` with no cache file (cold, and writes
//     it); (c) `--cache` again, nothing changed (a hit); (d) `--cache` after
//     a one-file change: one handler in one store file loses the line that
//     invalidates one of its caches, and then the file is restored — each is
//     a one-file change, so both are measured; (d') `--cache` after a change
//     to a seed script the model does not depend on (one more call), and
//     after restoring it: the model must be reused, not rebuilt;
//   - the floor under (d): Node's start-up alone, and a process that loads
//     TypeScript's parser (plainly, and from V8's code cache) and parses the
//     changed file (parse-one-file.cjs); a hit plus that parse, less one
//     Node start-up, is the least any incremental `--cache` run could cost;
//   - (e) TypeScript 7 (native) `tsc --noEmit -p`;
//   - (f) the same with the TypeScript that ts-morph bundles (tsmorph-tsc.mjs);
//   - (g) `store-lint --watch`: one process, the one-file change of (d) and
//     its restoration, timed from writing the file to the watcher's status
//     line (its settling time included), and the process's peak memory;
//   - (h) with that watch running, the one-file change of (d) and its
//     restoration each followed at once by `store-lint --cache` (as a
//     pre-commit hook runs it), which the watch answers: timed from writing
//     the file to the run's exit;
//   - (i) the same with `store-lint --daemon` and no watch running: the
//     first run starts the background store-lint and waits for its first
//     lint (timed too), the later ones are answered by it.
// The corpus imports the runtime as `storesplit` (the laid-out package,
// linked into its node_modules), so the type checkers read the runtime's
// declarations as they would in an application, not its sources. Both type
// checks must pass: timing a check that fails would be meaningless.
// The corpus is a correct codebase (see gen-corpus.ts): every composition
// is an app (a writer and a worker per group of GROUP files), so the rules
// see all of it, and store-lint must find nothing in it at any size — any
// finding fails the benchmark, since it is either a bug in the generator or
// a false alarm of store-lint. The one-file change is a real bug: without
// that invalidation line, the cache stays stale on the writer and the
// workers after writes of its table, and store-lint must report exactly
// `cache-not-invalidated-on-worker` and `cache-not-invalidated-on-writer`
// for it, then nothing once the file is restored.
//
// Wall time is the minimum of R runs (R = 3 up to 500 mixins; at 2,000 the
// type checkers take 20 to 90 s a run, so they run once and store-lint
// twice, which keeps the whole benchmark at about 5 minutes on a 2-core
// machine); peak memory is the maximum over the runs.
//
// Sizes, in mixins (two per file): 50, 500 and 2,000 by default;
//   STORE_LINT_BENCH_SIZES=50,200 npm run bench -- store-lint
//
// BENCH lines: one per size (`store-lint`: subject = store-lint cold,
// baseline = tsc 7, plus every raw figure and the other ratios), then one on
// growth (`store-lint-growth`). Ratios are subject / baseline: below 1 is
// faster or smaller. Needs GNU time at /usr/bin/time for peak memory.
import { spawn } from 'node:child_process';
import { existsSync, rmdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { layoutPackage } from '../scripts/layout-package.js';
import { generateCorpus, GROUP } from './gen-corpus.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
// The package as published, inside the repository's node_modules (its
// dependencies resolve from there), and the V8 code cache of the floor.
const WORK = join(REPO, 'node_modules', '.cache');
const PKG = join(WORK, 'store-lint-bench-pkg');
// The corpora: in the repository, so that `kysely` resolves from its
// node_modules as it does for real code, but not inside node_modules, where
// TypeScript takes every import between the corpus's own files for a
// library's (an application's files are not; store-lint keeps its import
// resolutions across --watch re-lints only for the files of a project).
const CORPORA = join(REPO, '.bench-corpus');
const STORE_LINT = join(PKG, 'bin', 'store-lint');
const TSC7 = join(REPO, 'node_modules', 'typescript7', 'bin', 'tsc');
const TSMORPH_TSC = join(REPO, 'bench', 'tsmorph-tsc.mjs');
const PARSE_ONE_FILE = join(REPO, 'bench', 'parse-one-file.cjs');
const GNU_TIME = '/usr/bin/time';
const DEFAULT_SIZES = [50, 500, 2000];
const CACHE_FILE = join('.storesplit-cache', 'store-lint.json');
const MODEL_FILE = join('.storesplit-cache', 'store-lint.model.json');

interface Run {
  readonly wallMs: number;
  readonly peakMB: number;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Best wall time and highest peak memory of a step's runs. */
interface Summary {
  readonly ms: number;
  readonly peakMB: number;
}

const round = (x: number, digits = 0): number => Math.round(x * 10 ** digits) / 10 ** digits;

function progress(text: string): void {
  process.stderr.write(`[store-lint bench] ${text}\n`);
}

function corpusDir(mixins: number): string {
  return join(CORPORA, `store-lint-bench-${mixins}`);
}

function sizesFromEnv(): number[] {
  const raw = process.env.STORE_LINT_BENCH_SIZES;
  if (!raw) return DEFAULT_SIZES;
  const sizes = raw.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 2 || n % 2 !== 0)) {
    throw new Error(`STORE_LINT_BENCH_SIZES: even mixin counts >= 2 expected, got "${raw}"`);
  }
  return [...new Set(sizes)].sort((a, b) => a - b);
}

const MARK = '@@store-lint-bench peak-kb ';

/**
 * Runs `node <args>` under GNU time. Wall time is our own clock (ms, where
 * GNU time's %e has 10 ms steps); peak memory is GNU time's %M: the maximum
 * resident set of the largest single process in the tree, not a sum — which
 * for `typescript7/bin/tsc` is the native compiler that the Node wrapper
 * starts, and for the others the one Node process.
 */
function timed(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(GNU_TIME, ['-f', `${MARK}%M`, process.execPath, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', CI: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const lines = Buffer.concat(err).toString().split('\n');
      const mark = lines.findLastIndex((l) => l.startsWith(MARK));
      if (mark < 0) {
        reject(new Error(`no peak memory from ${GNU_TIME} for node ${args.join(' ')}`));
        return;
      }
      const peakKB = Number(lines[mark]!.slice(MARK.length));
      // GNU time's own note on a non-zero exit is not the command's output.
      const stderr = lines
        .slice(0, mark)
        .filter((l) => !l.startsWith('Command exited with non-zero status'))
        .join('\n');
      resolve({
        wallMs,
        peakMB: peakKB / 1024,
        code: code ?? -1,
        stdout: Buffer.concat(out).toString(),
        stderr,
      });
    });
  });
}

function summarise(runs: readonly Run[]): Summary {
  return {
    ms: round(Math.min(...runs.map((r) => r.wallMs))),
    peakMB: round(Math.max(...runs.map((r) => r.peakMB))),
  };
}

function failure(what: string, run: Run): Error {
  const output = `${run.stderr}\n${run.stdout}`.trim().split('\n').slice(0, 20).join('\n');
  return new Error(`${what} exited with status ${run.code}:\n${output}`);
}

interface Finding {
  readonly ruleId: string | null;
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

interface LintRun extends Run {
  readonly findings: readonly Finding[];
}

/** store-lint, JSON output; exit 1 (errors found) is the caller's to judge, anything else fails the bench. */
/**
 * `store-lint --format json` on the corpus: cold, with `--cache`, or with
 * `--daemon` (outside CI, its socket folder in `daemonTmp`).
 */
async function storeLint(
  dir: string,
  cache: boolean,
  daemonTmp: string | null = null,
): Promise<LintRun> {
  const mode = daemonTmp !== null ? ['--daemon'] : cache ? ['--cache'] : [];
  const args = [STORE_LINT, dir, '--format', 'json', ...mode];
  const env = daemonTmp === null ? {} : { CI: '', TMPDIR: daemonTmp };
  const run = await timed(args, dir, env);
  if (run.code !== 0 && run.code !== 1) throw failure(`store-lint ${args.slice(1).join(' ')}`, run);
  const results = JSON.parse(run.stdout) as {
    filePath: string;
    messages: { ruleId: string | null; line: number; message: string }[];
  }[];
  const findings = results.flatMap((r) =>
    r.messages.map((m) => ({
      ruleId: m.ruleId,
      file: relative(dir, r.filePath),
      line: m.line,
      message: m.message,
    })),
  );
  return { ...run, findings };
}

/** A helper process of the benchmark; it must succeed. */
async function checked(name: string, args: readonly string[], dir: string): Promise<Run> {
  const run = await timed(args, dir);
  if (run.code !== 0) throw failure(name, run);
  return run;
}

/** A type check of the corpus; it must pass. */
function typeCheck(name: string, args: readonly string[], dir: string): Promise<Run> {
  return checked(`${name} on the generated corpus`, args, dir);
}

async function countLines(dir: string): Promise<number> {
  let lines = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const text = await readFile(join(entry.parentPath, entry.name), 'utf8');
    lines += text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  }
  return lines;
}

/**
 * The one-file change: the file's first invalidation line goes. gen-corpus
 * puts the handler of the mixin's first own table first, and its first line
 * invalidates a cache keyed by the row, so the cache reads a table that the
 * file's writer mixin writes: stale on the writer and on the workers.
 */
function dropOneInvalidation(source: string): string {
  const line = /^ *this\.invalidate\(this\.\w+, row\.id\);\n/m;
  if (!line.test(source)) {
    throw new Error(
      'gen-corpus output changed: no `this.invalidate(this.getX, row.id);` to delete',
    );
  }
  return source.replace(line, '');
}

/** What the one-file change must make store-lint report: these rules, nothing else. */
const EXPECTED_AFTER_CHANGE = [
  'cache-not-invalidated-on-worker',
  'cache-not-invalidated-on-writer',
];

function describeFindings(findings: readonly Finding[]): string {
  const shown = findings
    .slice(0, 10)
    .map((f) => `  ${f.file}:${f.line} ${f.ruleId ?? '(no rule)'}: ${f.message}`);
  if (findings.length > shown.length) shown.push(`  … and ${findings.length - shown.length} more`);
  return shown.join('\n');
}

/** The corpus is correct: store-lint must find nothing in it, in every run of a step. */
function clean(step: string, runs: readonly LintRun[]): void {
  const dirty = runs.find((r) => r.findings.length > 0);
  if (dirty) {
    throw new Error(
      `store-lint ${step}: ${dirty.findings.length} findings on the generated corpus, which is ` +
        `correct and must lint clean (a bug in gen-corpus.ts or a false alarm of store-lint):\n` +
        describeFindings(dirty.findings),
    );
  }
}

/** What `--watch` cost: start to first lint, then each one-file change from the write to its status line. */
interface Watched {
  readonly startMs: number;
  /** Best time from writing the file to the watcher's status line (settling included). */
  readonly changeMs: number;
  /** Best time the watcher itself reports for the re-lint (from noticing the change). */
  readonly relintMs: number;
  /** The process's peak resident memory (VmHWM), MB. */
  readonly peakMB: number;
  /**
   * Best time of a `--cache` run asked right after the same one-file change,
   * answered by the watch: from writing the file to the run's exit.
   */
  readonly answeredMs: number;
}

const WATCH_STATUS = /^store-lint: (\d+) errors?, \d+ warnings? \(linted in ([\d.]+) (ms|s)/;

/**
 * `store-lint --watch` on the corpus: the same one-file change as (d), and
 * its restoration, `runs` times each. The error count must be what the
 * `--cache` run found, then 0.
 */
async function watchOneFileChange(edit: OneFileChange): Promise<Watched> {
  const { dir, target, original, changed, runs, expectedErrors } = edit;
  const started = performance.now();
  const child = spawn(process.execPath, [STORE_LINT, '--watch', dir], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', CI: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let wake: (() => void) | null = null;
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
    wake?.();
  });
  child.on('exit', () => wake?.());
  const statusLine = async (n: number): Promise<{ at: number; errors: number; ms: number }> => {
    for (;;) {
      const lines = stderr.split('\n').filter((l) => WATCH_STATUS.test(l));
      if (lines.length >= n) {
        const [, errors, value, unit] = WATCH_STATUS.exec(lines[n - 1]!)!;
        const ms = Number(value) * (unit === 's' ? 1000 : 1);
        return { at: performance.now(), errors: Number(errors), ms };
      }
      if (child.exitCode !== null) throw new Error(`store-lint --watch exited:\n${stderr}`);
      await new Promise<void>((done) => (wake = done));
      wake = null;
    }
  };
  try {
    const first = await statusLine(1);
    if (first.errors !== 0)
      throw new Error(`store-lint --watch found errors on the corpus:\n${stderr}`);
    const change: number[] = [];
    const relint: number[] = [];
    let seen = 1;
    for (let r = 0; r < runs; r++) {
      for (const [text, errors] of [
        [changed, expectedErrors],
        [original, 0],
      ] as const) {
        const written = performance.now();
        await writeFile(target, text);
        const status = await statusLine(++seen);
        if (errors !== undefined && status.errors !== errors) {
          throw new Error(
            `store-lint --watch: ${status.errors} errors after the one-file change, expected ${errors}:\n${stderr}`,
          );
        }
        change.push(status.at - written);
        relint.push(status.ms);
      }
    }
    // (h) `--cache` runs of the project, as a pre-commit hook makes them, right
    // after the same change: the watch answers them.
    const answered = await lintRightAfterEdits(edit, '--cache with a --watch running', () =>
      storeLint(dir, true),
    );
    const hwm = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'));
    return {
      startMs: round(first.at - started),
      changeMs: round(Math.min(...change)),
      relintMs: round(Math.min(...relint)),
      peakMB: hwm ? round(Number(hwm[1]) / 1024) : Number.NaN,
      answeredMs: answered,
    };
  } finally {
    await writeFile(target, original);
    const exited = new Promise<number | null>((done) => {
      if (child.exitCode !== null) done(child.exitCode);
      else child.on('exit', (code) => done(code));
    });
    child.kill('SIGINT');
    const code = await exited;
    if (code !== 0) throw new Error(`store-lint --watch exited with ${code} on Ctrl-C:\n${stderr}`);
  }
}

/** The one-file change of (d) on a corpus, and what the benchmark expects of it. */
interface OneFileChange {
  readonly dir: string;
  readonly target: string;
  readonly original: string;
  readonly changed: string;
  readonly runs: number;
  readonly expectedErrors: number | undefined;
}

/**
 * The one-file change and its restoration, `runs` times each, each followed
 * at once by `lintNow()` (a run that a running store-lint must answer): its
 * findings must be the change's, then none, and the cache file must stay as
 * it was, or the run analysed by itself. The best time from writing the file
 * to the run's exit.
 */
async function lintRightAfterEdits(
  edit: OneFileChange,
  what: string,
  lintNow: () => Promise<LintRun>,
): Promise<number> {
  const cacheFile = join(edit.dir, CACHE_FILE);
  const before = (await stat(cacheFile, { bigint: true })).mtimeNs;
  const times: number[] = [];
  for (let r = 0; r < edit.runs; r++) {
    for (const [text, errors] of [
      [edit.changed, edit.expectedErrors],
      [edit.original, 0],
    ] as const) {
      const written = performance.now();
      await writeFile(edit.target, text);
      const run = await lintNow();
      times.push(performance.now() - written);
      if ((await stat(cacheFile, { bigint: true })).mtimeNs !== before) {
        throw new Error(`store-lint ${what} analysed by itself`);
      }
      if (errors === 0) clean(`${what} (file restored)`, [run]);
      else expectedFindings(run, errors);
    }
  }
  return round(Math.min(...times));
}

interface Daemon {
  /** The first `--daemon` run: it starts the background store-lint and waits for its first lint. */
  readonly startMs: number;
  /** Best time of a `--daemon` run right after the one-file change: from writing the file to the run's exit. */
  readonly answeredMs: number;
}

const DAEMON_STARTED = /--daemon: started a background store-lint for this project \(pid (\d+);/;

/**
 * (i) `store-lint --daemon` on the corpus with no watch running: the first
 * run starts the background store-lint, then the one-file change of (d) and
 * its restoration are each followed at once by a `--daemon` run. The cache
 * file must stay as it was: an answered run analyses nothing.
 */
async function daemonOneFileChange(edit: OneFileChange): Promise<Daemon> {
  const { dir, target, original } = edit;
  // Its own socket folder: no watch or daemon of the machine's user answers.
  const daemonTmp = await mkdtemp(join(tmpdir(), 'store-lint-bench-'));
  let pid: number | null = null;
  try {
    const first = await storeLint(dir, true, daemonTmp);
    const started = DAEMON_STARTED.exec(first.stderr)?.[1];
    if (started === undefined) {
      throw new Error(`store-lint --daemon started no background store-lint:\n${first.stderr}`);
    }
    pid = Number(started);
    clean('--daemon (starting the background store-lint)', [first]);
    const answeredMs = await lintRightAfterEdits(edit, '--daemon', async () => {
      const run = await storeLint(dir, true, daemonTmp);
      if (DAEMON_STARTED.test(run.stderr)) {
        throw new Error(
          `store-lint --daemon started another background store-lint:\n${run.stderr}`,
        );
      }
      return run;
    });
    return { startMs: round(first.wallMs), answeredMs };
  } finally {
    await writeFile(target, original);
    if (pid !== null) await stopProcess(pid);
    await rm(daemonTmp, { recursive: true, force: true });
  }
}

/** SIGTERM to `pid`, and waits until it is gone. */
async function stopProcess(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (alive()) process.kill(pid, 'SIGTERM');
  while (alive()) await new Promise((wait) => setTimeout(wait, 20));
}

/** After the one-file change: exactly the expected rules, as many times as the first run found. */
function expectedFindings(run: LintRun, count: number | undefined): void {
  const rules = [...new Set(run.findings.map((f) => f.ruleId ?? '(no rule)'))].sort();
  const ok =
    rules.join() === EXPECTED_AFTER_CHANGE.join() &&
    (count === undefined || run.findings.length === count);
  if (!ok) {
    throw new Error(
      `store-lint --cache after deleting an invalidation: expected ${EXPECTED_AFTER_CHANGE.join(' and ')}` +
        `${count === undefined ? '' : ` (${count} findings, as the first run)`}, got ` +
        `${run.findings.length} findings:\n${describeFindings(run.findings)}`,
    );
  }
}

interface SizeResult {
  readonly mixins: number;
  readonly lines: number;
  readonly coldMs: number;
  readonly tsc7Ms: number;
}

async function benchSize(mixins: number, runs: number, tscRuns: number): Promise<SizeResult> {
  const dir = corpusDir(mixins);
  const files = mixins / 2;
  const step = (text: string) => progress(`${mixins} mixins: ${text}`);
  await rm(dir, { recursive: true, force: true });
  step('generating the corpus');
  generateCorpus(dir, { mixins, runtime: 'storesplit' });
  await mkdir(join(dir, 'node_modules'));
  await symlink(PKG, join(dir, 'node_modules', 'storesplit'), 'dir');
  const lines = await countLines(join(dir, 'src'));
  try {
    // Cold runs and type checks alternate, so that a burst of load from
    // elsewhere on the machine does not land on one side of a ratio only.
    const cold: LintRun[] = [];
    const tsc7: Run[] = [];
    const tsmorph: Run[] = [];
    for (let r = 0; r < runs; r++) {
      step(`store-lint cold ${r + 1}/${runs}`);
      cold.push(await storeLint(dir, false));
      if (r >= tscRuns) continue;
      step(`tsc 7 --noEmit ${r + 1}/${tscRuns}`);
      tsc7.push(await typeCheck('TypeScript 7 tsc', [TSC7, '--noEmit', '-p', dir], dir));
      step(`ts-morph's TypeScript --noEmit ${r + 1}/${tscRuns}`);
      tsmorph.push(await typeCheck('bench/tsmorph-tsc.mjs', [TSMORPH_TSC, dir], dir));
    }
    clean('cold', cold);

    const cacheFile = join(dir, CACHE_FILE);
    const write: LintRun[] = [];
    for (let r = 0; r < runs; r++) {
      step(`store-lint --cache, no cache file ${r + 1}/${runs}`);
      await rm(cacheFile, { force: true });
      write.push(await storeLint(dir, true));
      if (!existsSync(cacheFile)) throw new Error(`store-lint --cache wrote no ${cacheFile}`);
    }
    clean('--cache (cold)', write);

    // A hit must leave the cache file alone; if it rewrites it, the "hit" re-analysed.
    const stored = (await stat(cacheFile, { bigint: true })).mtimeNs;
    const hit: LintRun[] = [];
    for (let r = 0; r < runs; r++) {
      step(`store-lint --cache, nothing changed ${r + 1}/${runs}`);
      hit.push(await storeLint(dir, true));
    }
    clean('--cache (hit)', hit);
    const hitReusedCache = (await stat(cacheFile, { bigint: true })).mtimeNs === stored;

    // A file in the middle of the first group (every file is in an app).
    const target = join(dir, 'src', 'stores', `store${Math.floor(Math.min(files, GROUP) / 2)}.ts`);

    // The floor under any `--cache` run after a one-file change: what a hit
    // does (start Node, hash the inputs, read the stored result) plus
    // loading TypeScript's parser and parsing the changed file, at best from
    // V8's code cache. Node's own start-up is counted once.
    const floor = { node: [] as Run[], parse: [] as Run[], parseCodeCache: [] as Run[] };
    const codeCache = join(WORK, `store-lint-bench-${mixins}.v8-code-cache`);
    await rm(codeCache, { force: true });
    await checked(
      'parse-one-file.cjs (writing the code cache)',
      [PARSE_ONE_FILE, target, codeCache],
      dir,
    );
    for (let r = 0; r < runs; r++) {
      step(`floor: Node start-up, parsing one file ${r + 1}/${runs}`);
      floor.node.push(await checked('node -e 0', ['-e', '0'], dir));
      floor.parse.push(await checked('parse-one-file.cjs', [PARSE_ONE_FILE, target], dir));
      floor.parseCodeCache.push(
        await checked('parse-one-file.cjs (code cache)', [PARSE_ONE_FILE, target, codeCache], dir),
      );
    }
    await rm(codeCache, { force: true });
    const original = await readFile(target, 'utf8');
    const changed = dropOneInvalidation(original);
    const oneFile: LintRun[] = [];
    let changedFindings: number | undefined;
    const changedByRule: Record<string, number> = {};
    try {
      for (let r = 0; r < runs; r++) {
        step(`store-lint --cache after a one-file change ${r + 1}/${runs}`);
        await writeFile(target, changed);
        const before = (await stat(cacheFile, { bigint: true })).mtimeNs;
        const edited = await storeLint(dir, true);
        // An unchanged cache file after an input changed would be a stale answer.
        if ((await stat(cacheFile, { bigint: true })).mtimeNs === before) {
          throw new Error(`store-lint --cache did not re-analyse after ${target} changed`);
        }
        expectedFindings(edited, changedFindings);
        if (changedFindings === undefined) {
          changedFindings = edited.findings.length;
          for (const { ruleId } of edited.findings) {
            const rule = ruleId ?? '(no rule)';
            changedByRule[rule] = (changedByRule[rule] ?? 0) + 1;
          }
        }
        step(`store-lint --cache after restoring the file ${r + 1}/${runs}`);
        await writeFile(target, original);
        const restored = await storeLint(dir, true);
        clean('--cache (file restored)', [restored]);
        oneFile.push(edited, restored);
      }
    } finally {
      await writeFile(target, original);
    }

    // A seed script: the model does not depend on it, so the stored model
    // (whose file must stay untouched) serves, with the index moved on.
    const script = join(dir, 'src', 'scripts', 'seed0.ts');
    const scriptOriginal = await readFile(script, 'utf8');
    const scriptChanged = scriptOriginal.replace(
      '  return written;',
      '  written += await store.set0x0(rows, `seed ${rows}`);\n  return written;',
    );
    if (scriptChanged === scriptOriginal) throw new Error('gen-corpus output changed: no seed0.ts');
    const modelFile = join(dir, MODEL_FILE);
    const modelStored = (await stat(modelFile, { bigint: true })).mtimeNs;
    const scriptChange: LintRun[] = [];
    try {
      for (let r = 0; r < runs; r++) {
        for (const [what, text] of [
          ['a seed script change', scriptChanged],
          ['restoring the seed script', scriptOriginal],
        ] as const) {
          step(`store-lint --cache after ${what} ${r + 1}/${runs}`);
          await writeFile(script, text);
          const run = await storeLint(dir, true);
          clean(`--cache (${what})`, [run]);
          if ((await stat(modelFile, { bigint: true })).mtimeNs !== modelStored) {
            throw new Error(`store-lint --cache rebuilt the model after ${what}`);
          }
          scriptChange.push(run);
        }
      }
    } finally {
      await writeFile(script, scriptOriginal);
    }

    step('store-lint --watch, the same one-file change');
    const edit = { dir, target, original, changed, runs, expectedErrors: changedFindings };
    const watched = await watchOneFileChange(edit);

    step('store-lint --daemon, the same one-file change');
    const daemon = await daemonOneFileChange(edit);

    const s = {
      cold: summarise(cold),
      write: summarise(write),
      hit: summarise(hit),
      oneFile: summarise(oneFile),
      scriptChange: summarise(scriptChange),
      tsc7: summarise(tsc7),
      tsmorph: summarise(tsmorph),
      node: summarise(floor.node),
      parse: summarise(floor.parse),
      parseCodeCache: summarise(floor.parseCodeCache),
    };
    const floorMs = s.hit.ms + s.parseCodeCache.ms - s.node.ms;
    const line = {
      bench: 'store-lint',
      subject: 'store-lint cold',
      baseline: 'tsc 7 --noEmit',
      ratio: round(s.cold.ms / s.tsc7.ms, 2),
      mixins,
      files: files + 3 + Math.ceil(files / GROUP),
      lines,
      runs,
      tsc_runs: tscRuns,
      store_lint_cold_ms: s.cold.ms,
      store_lint_cold_peak_mb: s.cold.peakMB,
      store_lint_cache_write_ms: s.write.ms,
      store_lint_cache_write_peak_mb: s.write.peakMB,
      store_lint_cache_hit_ms: s.hit.ms,
      store_lint_cache_hit_peak_mb: s.hit.peakMB,
      store_lint_one_file_change_ms: s.oneFile.ms,
      store_lint_one_file_change_peak_mb: s.oneFile.peakMB,
      store_lint_independent_change_ms: s.scriptChange.ms,
      store_lint_independent_change_peak_mb: s.scriptChange.peakMB,
      tsc7_ms: s.tsc7.ms,
      tsc7_peak_mb: s.tsc7.peakMB,
      tsmorph_tsc_ms: s.tsmorph.ms,
      tsmorph_tsc_peak_mb: s.tsmorph.peakMB,
      ratio_cold_vs_tsmorph_tsc: round(s.cold.ms / s.tsmorph.ms, 2),
      ratio_peak_mb_vs_tsc7: round(s.cold.peakMB / s.tsc7.peakMB, 2),
      ratio_peak_mb_vs_tsmorph_tsc: round(s.cold.peakMB / s.tsmorph.peakMB, 2),
      ratio_one_file_change_vs_cold: round(s.oneFile.ms / s.cold.ms, 2),
      ratio_cache_hit_vs_cold: round(s.hit.ms / s.cold.ms, 2),
      ratio_independent_change_vs_cold: round(s.scriptChange.ms / s.cold.ms, 2),
      store_lint_watch_start_ms: watched.startMs,
      store_lint_watch_one_file_change_ms: watched.changeMs,
      store_lint_watch_relint_ms: watched.relintMs,
      store_lint_watch_peak_mb: watched.peakMB,
      ratio_watch_one_file_change_vs_cold: round(watched.changeMs / s.cold.ms, 2),
      store_lint_cache_answered_by_watch_ms: watched.answeredMs,
      ratio_cache_answered_by_watch_vs_cold: round(watched.answeredMs / s.cold.ms, 2),
      store_lint_daemon_start_ms: daemon.startMs,
      store_lint_daemon_one_file_change_ms: daemon.answeredMs,
      ratio_daemon_one_file_change_vs_cold: round(daemon.answeredMs / s.cold.ms, 2),
      node_start_ms: s.node.ms,
      parse_one_file_ms: s.parse.ms,
      parse_one_file_code_cache_ms: s.parseCodeCache.ms,
      one_file_change_floor_ms: round(floorMs),
      ratio_one_file_change_floor_vs_cold: round(floorMs / s.cold.ms, 2),
      ratio_parse_one_file_code_cache_vs_cold: round(s.parseCodeCache.ms / s.cold.ms, 2),
      cache_hit_reused_cache_file: hitReusedCache,
      findings: cold[0]!.findings.length,
      findings_after_change: changedFindings ?? null,
      findings_after_change_by_rule: changedByRule,
      findings_after_restore: 0,
      exit_code: cold[0]!.code,
    };
    console.log(`BENCH ${JSON.stringify(line)}`);
    return { mixins, lines, coldMs: s.cold.ms, tsc7Ms: s.tsc7.ms };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Cost per 1,000 lines at each size, and that cost at the largest size over
 * the smallest (1.0 = linear). A fixed start-up cost (loading Node and the
 * compiler) makes the small sizes look dear, so the marginal cost between
 * consecutive sizes is given too: last step over first, 1.0 = linear.
 */
function reportGrowth(results: readonly SizeResult[]): void {
  const perKLine = (ms: (r: SizeResult) => number) =>
    results.map((r) => round((ms(r) / r.lines) * 1000, 2));
  const marginal = (ms: (r: SizeResult) => number) =>
    results
      .slice(1)
      .map((r, i) => round(((ms(r) - ms(results[i]!)) / (r.lines - results[i]!.lines)) * 1000, 2));
  const lastOverFirst = (xs: readonly number[]) =>
    xs.length >= 2 && xs[0]! > 0 ? round(xs.at(-1)! / xs[0]!, 2) : null;
  const lint = perKLine((r) => r.coldMs);
  const tsc7 = perKLine((r) => r.tsc7Ms);
  const lintMarginal = marginal((r) => r.coldMs);
  const tsc7Marginal = marginal((r) => r.tsc7Ms);
  const line = {
    bench: 'store-lint-growth',
    mixins: results.map((r) => r.mixins),
    lines: results.map((r) => r.lines),
    store_lint_ms_per_kline: lint,
    tsc7_ms_per_kline: tsc7,
    store_lint_per_line_largest_vs_smallest: lastOverFirst(lint),
    tsc7_per_line_largest_vs_smallest: lastOverFirst(tsc7),
    store_lint_marginal_ms_per_kline: lintMarginal,
    tsc7_marginal_ms_per_kline: tsc7Marginal,
    store_lint_marginal_last_vs_first: lastOverFirst(lintMarginal),
    tsc7_marginal_last_vs_first: lastOverFirst(tsc7Marginal),
  };
  console.log(`BENCH ${JSON.stringify(line)}`);
}

function cleanUpSync(sizes: readonly number[]): void {
  for (const dir of [PKG, ...sizes.map(corpusDir)]) rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(CORPORA); // when nothing else is left in it
  } catch {
    // not empty, or gone
  }
}

export async function benchStoreLint(): Promise<void> {
  const sizes = sizesFromEnv();
  if (!existsSync(GNU_TIME)) {
    throw new Error(`store-lint bench: needs GNU time at ${GNU_TIME} for peak memory`);
  }
  // Ctrl-C skips `finally`; the corpora are large, so remove them anyway.
  const onInterrupt = () => {
    cleanUpSync(sizes);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    cleanUpSync(sizes);
    progress('laying out the package (TypeScript 7 build of src/)');
    await layoutPackage(PKG);
    const results: SizeResult[] = [];
    for (const mixins of sizes) {
      const small = mixins <= 500;
      results.push(await benchSize(mixins, small ? 3 : 2, small ? 3 : 1));
    }
    reportGrowth(results);
  } finally {
    process.off('SIGINT', onInterrupt);
    cleanUpSync(sizes);
  }
}
