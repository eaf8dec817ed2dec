// `store-lint [dir]`: load the config, analyse the project (or reuse the
// cached model), run the rules, print the results in the chosen format, and
// exit 0 (clean), 1 (errors, or warnings past --max-warnings) or 2 (the run
// failed: a user mistake gets one line, a bug its stack trace). Never a count.
import { existsSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { StoreLintConfig } from '../analysis/config.js';
import type { StoreModel } from '../analysis/model.js';
import { collectFormats, parseReportOptions, runReport } from '../report/cli.js';
import { DEFAULT_REPORT_FORMATS, reportFormatNames } from '../report/formatters/names.js';
import { loadAnalyzer } from './analyzer.js';
import { codeCacheBeside, typeScriptCodeCache } from './typescript-code-cache.js';
import {
  baselineEntriesFor,
  entriesOfRulesOff,
  readBaseline,
  writeBaseline,
  type Baseline,
} from './baseline.js';
import {
  analyzeWithCache,
  checkCacheLocation,
  DEFAULT_CACHE_LOCATION,
  lintSettingsKey,
  type CachedAnalysis,
} from './cache.js';
import { loadConfig } from './config-loader.js';
import type { LintReport } from './engine.js';
import { isUserError, UsageError } from './errors.js';
import { formatNames } from './formatters/names.js';
import { ruleIds } from './rules/ids.js';
import { systemReason } from '../analysis/errors.js';
import { checkOutputDirectory, checkOutputFile } from './output-file.js';
import { createProgress, isCI, showsProgress } from './progress.js';
import { TOOL_VERSION } from './version.js';
import {
  oneLine,
  printReport,
  processIo,
  seconds,
  useColor,
  type CliIo,
  type CliOptions,
} from './cli-io.js';
import { askRunningWatch } from './watch-answers.js';
import { askDaemon, DEFAULT_IDLE_MINUTES, idleMinutes } from './daemon.js';
import type { Asked, WorkProgress } from './answer-socket.js';

export { processIo, useColor, type CliIo } from './cli-io.js';

export const DEFAULT_BASELINE = 'store-lint-baseline.json';

function program(io: CliIo): Command {
  return new Command('store-lint')
    .description(
      'Check a codebase written against the storesplit runtime: every cached read on a worker is ' +
        'invalidated when the tables it reads are written, workers never write, every store method a ' +
        'worker calls is composed into it, and more (rules: docs/rules/).',
    )
    .argument(
      '[dir]',
      'project directory (default: the working directory); the config is looked up from here upwards',
    )
    .option(
      '-c, --config <file>',
      "use this config file instead of looking one up; the project is the file's folder",
    )
    .addOption(
      new Option('-f, --format <name>', 'output format').choices(formatNames).default('stylish'),
    )
    .option('--max-warnings <n>', 'exit 1 when there are more than n warnings (-1: no limit)', '-1')
    .option('--print-model', 'print the extracted store model as JSON and exit')
    .option(
      '--baseline <file>',
      'hide the known findings listed in this file; report its stale entries',
    )
    .option(
      '--update-baseline',
      `write every current finding to the baseline file (--baseline, default ${DEFAULT_BASELINE} in the project; ` +
        'a symlink is written through); entries of rules that are off are kept',
    )
    .option(
      '--cache',
      'reuse the stored model when no file it depends on, the config or the tool changed ' +
        '(a cache that cannot be written is a warning, not a failure); ' +
        'a --watch running on the project answers instead, for the files as they are now',
    )
    .option(
      '--cache-location <path>',
      `cache file, or a directory for it (an existing one, or a path ending in /), relative to the project (default ${DEFAULT_CACHE_LOCATION})`,
    )
    .option('--report <dir>', 'write the stream coverage report to this directory (docs/report.md)')
    .option(
      '--report-format <names>',
      `coverage report formats, comma-separated or repeated: ${reportFormatNames.join(', ')} ` +
        `(default with --report: ${DEFAULT_REPORT_FORMATS.join(', ')})`,
      collectFormats,
    )
    .option(
      '--check-coverage <pct>',
      'exit 1 when an app covers less than pct% of its cache invalidations',
    )
    .option(
      '--daemon',
      'as --cache, answered by a store-lint that keeps the project in memory in the background: ' +
        'a --watch running on the project, or one this run starts when none runs ' +
        '(not in CI, nor on Windows; docs/rules/README.md#daemon)',
    )
    .option(
      '--daemon-idle <minutes>',
      'minutes without a question after which the background store-lint stops',
      String(DEFAULT_IDLE_MINUTES),
    )
    .addOption(new Option('--as-daemon', 'internal: be the background store-lint').hideHelp())
    .option(
      '-w, --watch',
      'lint, then lint again each time an input changes, until interrupted (Ctrl-C); ' +
        'unchanged files are not parsed again (stylish or github format); ' +
        'answers the --cache runs of the project meanwhile',
    )
    .version(TOOL_VERSION, '-v, --version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText(
      'after',
      '\nExit status: 0 no errors, 1 errors found (or too many warnings), 2 the run failed.\n' +
        'Suppress one finding: // store-lint-disable-next-line <rule-id> -- reason',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      // Commander's own errors, as one line like ours (a suggestion joins it).
      writeErr: (s) =>
        io.stderr.write(
          s.startsWith('error: ')
            ? `store-lint: ${s
                .slice('error: '.length)
                .trim()
                .replace(/\s*\n\s*\(?/g, ' (')
                .replace(/Did you mean/, 'did you mean')}\n`
            : s,
        ),
    });
}

function parseMaxWarnings(value: string): number {
  if (!/^-?\d+$/.test(value) || Number(value) < -1) {
    throw new UsageError(`--max-warnings: expected a whole number of at least -1, got "${value}"`);
  }
  return Number(value);
}

/** Runs the CLI; returns the exit status. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const command = program(io);
  try {
    command.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end the run successfully; a bad option is a user mistake.
      return error.exitCode === 0 ? 0 : 2;
    }
    throw error;
  }
  const given = command.opts<CliOptions>();
  // --daemon is --cache, asked of a background store-lint first.
  const options: CliOptions = given.daemon ? { ...given, cache: true } : given;
  const dir = command.processedArgs[0] as string | undefined;
  const loaded: { config: StoreLintConfig | null } = { config: null };
  try {
    const fromCli = (name: string) => command.getOptionValueSource(name) === 'cli';
    if (options.asDaemon && !options.watch) throw new UsageError('--as-daemon goes with --watch');
    if (fromCli('daemonIdle') && !options.daemon && !options.asDaemon) {
      throw new UsageError('--daemon-idle goes with --daemon');
    }
    idleMinutes(options.daemonIdle);
    if (options.watch) {
      const { checkWatchOptions, watchLint } = await import('./watch-command.js');
      checkWatchOptions(options, fromCli);
      return await watchLint(dir, options, io, loaded);
    }
    return await lintProject(dir, options, io, loaded);
  } catch (error) {
    if (isUserError(error)) {
      io.stderr.write(oneLine(error, io.cwd, loaded.config));
      return 2;
    }
    io.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 2;
  }
}

/** The model of this run, and the cache entry it came from (with --cache). */
interface Analysed {
  /** Read from the cache on a hit only when first asked for. */
  model(): Promise<StoreModel>;
  readonly cached: CachedAnalysis | null;
}

async function analyse(config: StoreLintConfig, options: CliOptions, io: CliIo): Promise<Analysed> {
  // The timing lines are plain text: a dumb terminal gets them, not the rewritten progress line.
  const tty = io.stderrIsTTY && !isCI(io.env);
  const progress = createProgress(
    io.stderr,
    showsProgress(io.env, io.stderrIsTTY),
    io.columns || 80,
  );
  const onProgress = (done: number, total: number, file: string) =>
    progress.update(done, total, file);
  try {
    if (!options.cache) {
      const analyzer = await loadAnalyzer();
      const model = await analyzer.analyzeProject(config, { onProgress, independentFiles: false });
      return { model: () => Promise.resolve(model), cached: null };
    }
    const location = cacheFile(config.root, options.cacheLocation);
    checkOutputFile(location, '--cache file');
    await checkCacheLocation(location);
    const typeScript = typeScriptCodeCache(codeCacheBeside(location));
    const load = () => {
      typeScript.preload();
      return loadAnalyzer();
    };
    // The cache only saves time: a run that cannot store it still reports, with one warning.
    let warned = false;
    const onWriteError = (error: Error) => {
      if (warned) return;
      warned = true;
      progress.done();
      io.stderr.write(`store-lint: warning: ${error.message}; the results are not cached\n`);
    };
    const result = await analyzeWithCache(config, load, location, { onProgress, onWriteError });
    await typeScript.save();
    progress.done();
    if (tty) {
      const n = result.changed.length;
      const names = `${result.changed.slice(0, 3).join(', ')}${n > 3 ? ', …' : ''}`;
      io.stderr.write(
        result.hit
          ? `store-lint: model reused from the cache in ${seconds(result.checkMs)} (analysis took ${seconds(result.analysisMs)}` +
              (n
                ? `; the model does not depend on the changed input${n > 1 ? 's' : ''} ${names}`
                : '') +
              ')\n'
          : `store-lint: analysed in ${seconds(result.analysisMs)}` +
              (n ? ` (${n} input${n > 1 ? 's' : ''} changed: ${names})` : '') +
              '\n',
      );
    }
    return { model: () => result.model(), cached: result };
  } finally {
    progress.done();
  }
}

/** `--cache-location`: a file, or a directory (existing, or written with a trailing slash) to put one in. */
function cacheFile(root: string, location: string | undefined): string {
  if (location === undefined) return resolve(root, DEFAULT_CACHE_LOCATION);
  const path = resolve(root, location);
  const isDirectory = /[\\/]$/.test(location) || (existsSync(path) && statSync(path).isDirectory());
  return isDirectory ? join(path, basename(DEFAULT_CACHE_LOCATION)) : path;
}

async function lintProject(
  dir: string | undefined,
  options: CliOptions,
  io: CliIo,
  /** Set once the config is loaded (the CLI words later errors with it). */
  loaded: { config: StoreLintConfig | null },
): Promise<number> {
  const maxWarnings = parseMaxWarnings(options.maxWarnings);
  if (options.updateBaseline && options.printModel) {
    throw new UsageError('--update-baseline and --print-model do not go together');
  }
  const reportRequest = parseReportOptions(options, io.cwd);
  // Before the analysis: a report path that is a file would fail only at the end.
  if (reportRequest?.dir) checkOutputDirectory(reportRequest.dir, 'coverage report');
  if (reportRequest && options.printModel) {
    throw new UsageError(
      '--print-model does not go with --report, --report-format or --check-coverage',
    );
  }
  const config = await loadConfig({
    cwd: io.cwd,
    ...(dir === undefined ? {} : { dir }),
    ...(options.config === undefined ? {} : { configPath: options.config }),
  });
  loaded.config = config;
  const baselineFile = options.baseline
    ? resolve(io.cwd, options.baseline)
    : options.updateBaseline
      ? resolve(config.root, DEFAULT_BASELINE)
      : null;
  // Before the analysis (and before the old baseline is read): a FIFO or a device is no baseline to write.
  if (options.updateBaseline && baselineFile) checkOutputFile(baselineFile, 'baseline');
  if (options.cache && !options.printModel && !options.updateBaseline && !reportRequest) {
    const served = await reportOfWatch(config, baselineFile, options, io);
    if (served) {
      await printReport(served, options.format, io);
      return exitStatus(served, maxWarnings, io);
    }
  }
  const analysed = await analyse(config, options, io);

  if (options.printModel) {
    const { printModel } = await loadAnalyzer();
    const text = printModel(await analysed.model());
    io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return 0;
  }

  let baseline: Baseline | null = null;
  if (options.updateBaseline && baselineFile) {
    const { lint } = await import('./engine.js');
    const current = lint(await analysed.model(), { config });
    // Rules switched off find nothing: keep their entries, or turning one back on fails on accepted debt.
    const off = new Set(ruleIds.filter((id) => !current.rules.some((r) => r.rule.id === id)));
    const kept = await entriesOfRulesOff(baselineFile, off);
    const entries = baselineEntriesFor(current.unbaselined, kept);
    await writeBaseline(baselineFile, entries);
    io.stderr.write(
      `store-lint: wrote ${entries.length} baseline entr${entries.length === 1 ? 'y' : 'ies'} to ${relative(io.cwd, baselineFile) || baselineFile}` +
        (kept.length ? ` (${kept.length} kept for rules that are off)` : '') +
        '\n',
    );
  }
  if (baselineFile) baseline = await readBaseline(baselineFile);

  // With --cache, the report stored for this model and these lint settings.
  const { cached } = analysed;
  const settings = cached ? await lintSettingsKey(config, baseline) : '';
  let report = cached?.report(settings) ?? null;
  if (!report) {
    const { lint } = await import('./engine.js');
    report = lint(await analysed.model(), { config, baseline });
    await cached?.saveReport(settings, report);
  }
  await printReport(report, options.format, io);

  // The coverage report is written whatever lint found; its check can fail the run on its own.
  const coverageStatus = reportRequest
    ? await runReport(await analysed.model(), reportRequest, io, {
        toolVersion: TOOL_VERSION,
        machineOutput: options.format === 'json' || options.format === 'sarif',
        color: {
          stdout: useColor(io.env, io.stdoutIsTTY),
          stderr: useColor(io.env, io.stderrIsTTY),
        },
      })
    : 0;

  return exitStatus(report, maxWarnings, io) || coverageStatus;
}

/** 1 for errors or too many warnings (said on stderr), else 0. */
function exitStatus(report: LintReport, maxWarnings: number, io: CliIo): 0 | 1 {
  if (report.errorCount > 0) return 1;
  if (maxWarnings >= 0 && report.warningCount > maxWarnings) {
    io.stderr.write(`store-lint found too many warnings (maximum: ${maxWarnings}).\n`);
    return 1;
  }
  return 0;
}

/**
 * With `--cache`, the report of a `store-lint --watch` running on the
 * project, when it answers for this run's settings; with `--daemon`, of the
 * background one too, started if none runs. Null to lint here.
 */
async function reportOfWatch(
  config: StoreLintConfig,
  baselineFile: string | null,
  options: CliOptions,
  io: CliIo,
): Promise<LintReport | null> {
  const started = performance.now();
  // While the watch lints for this run, its progress is this run's.
  const progress = createProgress(
    io.stderr,
    showsProgress(io.env, io.stderrIsTTY),
    io.columns || 80,
  );
  const onProgress = (p: WorkProgress) => progress.update(p.done, p.total, p.file);
  let asked: Asked | null;
  try {
    if (options.daemon) {
      const idle = idleMinutes(options.daemonIdle);
      const say = (note: string) => {
        progress.done();
        io.stderr.write(`store-lint: ${note}\n`);
      };
      asked = await askDaemon(config, baselineFile, idle, io.env, say, onProgress);
    } else {
      asked = await askRunningWatch(config, baselineFile, onProgress);
    }
  } finally {
    progress.done();
  }
  if (!asked) return null;
  const tty = io.stderrIsTTY && !isCI(io.env);
  const who = `the store-lint running on this project (pid ${asked.pid})`;
  if ('report' in asked) {
    if (tty) {
      io.stderr.write(
        `store-lint: answered by ${who} in ${seconds(performance.now() - started)}\n`,
      );
    }
    return asked.report;
  }
  if (tty || options.daemon) {
    io.stderr.write(`store-lint: ${who} did not answer: ${asked.declined}; linting here\n`);
  }
  return null;
}

/**
 * Watches the stream the results go to. Without a listener, a write that
 * fails (a full disk, `> /dev/full`) is an unhandled 'error' event: a stack
 * trace and exit 1, which CI reads as findings. `failure()` waits until what
 * was written is flushed and gives the first error, if any.
 */
function watchOutput(stream: NodeJS.WritableStream & { readonly destroyed: boolean }): {
  failure(): Promise<NodeJS.ErrnoException | null>;
} {
  let failed: NodeJS.ErrnoException | null = null;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    failed ??= error;
  });
  return {
    async failure() {
      if (!stream.destroyed) await new Promise<void>((done) => stream.write('', () => done()));
      // The 'error' event of a failed write may follow its callback.
      await new Promise<void>((done) => setImmediate(done));
      return failed;
    },
  };
}

/** The executable's entry point (`bin/store-lint`). */
export async function main(argv: readonly string[]): Promise<number> {
  const stdout = watchOutput(process.stdout);
  const status = await runCli(argv, processIo());
  const failed = await stdout.failure();
  // A reader that stops early (`| head`) closes the pipe: it had what it wanted.
  if (!failed || failed.code === 'EPIPE') return status;
  process.stderr.write(`store-lint: cannot write the results to stdout: ${systemReason(failed)}\n`);
  return 2;
}
