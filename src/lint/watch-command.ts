// `store-lint --watch`: lint, then lint again whenever an input changes,
// answering the project's `--cache` runs meanwhile (watch-answers.ts); the
// loop itself is watch.ts. Started by `--daemon` (daemon.ts) with the
// internal `--as-daemon`, it runs in the background instead: it answers from
// the start, prints nothing but its status lines (to its log), and stops
// after `--daemon-idle` minutes without a question, when a run of another
// build of store-lint asks (that run starts its own), or when it cannot
// answer at all.
import { relative, resolve } from 'node:path';
import type { StoreLintConfig } from '../analysis/config.js';
import { systemReason } from '../analysis/errors.js';
import { loadAnalyzer } from './analyzer.js';
import { readBaseline } from './baseline.js';
import { buildStamp, computeInputs, FileHashes, lintOptionsKey, modelFiles } from './cache.js';
import { oneLine, plural, printReport, seconds, type CliIo, type CliOptions } from './cli-io.js';
import { loadConfig } from './config-loader.js';
import { lint } from './engine.js';
import { isUserError, UsageError } from './errors.js';
import { createProgress, showsProgress } from './progress.js';
import { watchProject, type InputHashes, type WatchHandle } from './watch.js';
import { startAnswering, type AnsweringRun } from './watch-answers.js';
import type { WorkProgress } from './answer-socket.js';
import { IdleStop, idleMinutes } from './daemon.js';
import { missingPlaces } from '../analysis/lookalikes.js';

/** `--watch` prints findings for a person, again and again: options for one machine-read run do not go with it. */
export function checkWatchOptions(options: CliOptions, given: (name: string) => boolean): void {
  if (options.format !== 'stylish' && options.format !== 'github') {
    throw new UsageError(`--watch prints stylish or github output, not ${options.format}`);
  }
  const oneOff: [keyof CliOptions, string][] = [
    ['printModel', '--print-model'],
    ['updateBaseline', '--update-baseline'],
    ['cache', '--cache'],
    ['cacheLocation', '--cache-location'],
    ['report', '--report'],
    ['reportFormat', '--report-format'],
    ['checkCoverage', '--check-coverage'],
    ['maxWarnings', '--max-warnings'],
    ['daemon', '--daemon'],
  ];
  const clashing = oneOff.filter(([key]) => given(key)).map(([, flag]) => flag);
  if (clashing.length > 0) {
    throw new UsageError(
      `--watch does not go with ${clashing.join(', ')}: those are for a single run ` +
        '(--watch keeps the analysis in memory and has no exit status until it is stopped)',
    );
  }
}

/** `--watch`: lints until interrupted; 0 when stopped, 2 when it cannot watch at all. */
export async function watchLint(
  dir: string | undefined,
  options: CliOptions,
  io: CliIo,
  loaded: { config: StoreLintConfig | null },
): Promise<number> {
  const analyzer = await loadAnalyzer();
  const parsed = new analyzer.ParsedFiles();
  const kept = new analyzer.KeptFacts();
  const progress = createProgress(
    io.stderr,
    showsProgress(io.env, io.stderrIsTTY),
    io.columns || 80,
  );
  const background = options.asDaemon === true;
  const idle = idleMinutes(options.daemonIdle);
  const watching = background
    ? `answering --cache runs; stops after ${plural(idle, 'minute')} without a question`
    : 'watching for changes (Ctrl-C stops)';
  let stopListening = () => {};
  let stop = () => {};
  const stopped = new Promise<void>((done) => {
    stopListening = io.onInterrupt?.(done) ?? (() => {});
    stop = done;
  });
  const idleStop = new IdleStop(idle * 60_000, () => {
    io.stderr.write(`store-lint: no question for ${plural(idle, 'minute')}; stopping\n`);
    stop();
  });
  // The model's files found by the last run: hashed with the inputs before the next one.
  let modelInputs: string[] = [];
  const hashes = new FileHashes();
  // `--cache` runs of the project are answered once a run has found its config.
  let handle = null as WatchHandle<AnsweringRun> | null;
  // This build, as it is now: a --cache run of another build gets no answer.
  const build = buildStamp();
  let answering = null as Promise<{ close(): Promise<void> } | null> | null;
  // How far the analysis under way is, for the progress line of a run that asks.
  let working: WorkProgress | null = null;
  const run = async (changed: readonly string[], hashed?: InputHashes): Promise<AnsweringRun> => {
    const started = performance.now();
    const fallbackRoot = resolve(io.cwd, dir ?? '.');
    // In the background, nothing is linted unless this process answers: one
    // started beside another (two runs at once) stops before linting.
    if (background && !(await answering)) {
      return { root: fallbackRoot, inputs: null, missingImports: [], status: '', linted: null };
    }
    let config: StoreLintConfig | null = null;
    try {
      config = await loadConfig({
        cwd: io.cwd,
        ...(dir === undefined ? {} : { dir }),
        ...(options.config === undefined ? {} : { configPath: options.config }),
      });
      loaded.config = config;
      // Hashed before the analysis (by the loop, when it just compared them):
      // an input edited while it runs differs from these afterwards, and is
      // linted again at once.
      const before = hashed ?? (await computeInputs(config, modelInputs, hashes)).files;
      const result = await analyzer.analyzeWithDependencies(config, {
        parsed,
        kept,
        independentFiles: false,
        onProgress: (done, total, file) => {
          working = { done, total, file };
          progress.update(done, total, file);
        },
      });
      working = null;
      progress.done();
      modelInputs = [...modelFiles(result.model), ...result.checkerFiles];
      const after = await computeInputs(config, modelInputs, hashes);
      const inputs = Object.fromEntries(
        Object.entries(after.files).map(([f, hash]) => [f, before[f] ?? hash]),
      );
      const baseline = options.baseline
        ? await readBaseline(resolve(io.cwd, options.baseline))
        : null;
      const report = lint(result.model, { config, baseline });
      const linted = {
        config,
        model: result.model,
        report,
        settings: lintOptionsKey(config, baseline),
        missing: missingPlaces(config.root, result.missingImports),
      };
      if (handle && !answering && !background) {
        answering = startAnswering(
          config.configPath,
          handle,
          await build,
          (why) =>
            io.stderr.write(
              `store-lint: note: --cache runs of this project are not answered here: ${why}\n`,
            ),
          { progress: () => working },
        );
      }
      if (!background) await printReport(report, options.format, io);
      const names = `${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', …' : ''}`;
      const status =
        `store-lint: ${plural(report.errorCount, 'error')}, ${plural(report.warningCount, 'warning')}` +
        ` (linted in ${seconds(performance.now() - started)}${changed.length ? ` after a change to ${names}` : ''}); ${watching}\n`;
      return {
        root: config.root,
        inputs,
        missingImports: result.missingImports,
        status,
        linted,
      };
    } catch (error) {
      working = null;
      progress.done();
      // The user fixes the file or the config and saves: the next run picks it up.
      io.stderr.write(
        isUserError(error)
          ? oneLine(error, io.cwd, config)
          : `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      return {
        root: config?.root ?? fallbackRoot,
        inputs: null,
        missingImports: [],
        status: `store-lint: ${watching}\n`,
        linted: null,
      };
    }
  };
  // In the background, questions are answered from the start: the run that
  // started this process asks at once, and waits for the first lint.
  const answerInBackground = async (h: WatchHandle<AnsweringRun>) => {
    io.stderr.write(
      `store-lint: background store-lint (pid ${process.pid}) started ${new Date().toISOString()}\n`,
    );
    idleStop.arm();
    const [config, stamp] = await Promise.all([
      loadConfig({
        cwd: io.cwd,
        ...(dir === undefined ? {} : { dir }),
        ...(options.config === undefined ? {} : { configPath: options.config }),
      }).catch((error: unknown) => {
        io.stderr.write(
          error instanceof Error ? oneLine(error, io.cwd, null) : `${String(error)}\n`,
        );
        return null;
      }),
      build,
    ]);
    const served =
      config &&
      (await startAnswering(
        config.configPath,
        h,
        stamp,
        (why) => io.stderr.write(`store-lint: cannot answer --cache runs: ${why}; stopping\n`),
        {
          asked: () => idleStop.asked(),
          progress: () => working,
          answered: (request, answer) => {
            idleStop.answered();
            if ('declined' in answer && request.tool !== stamp) {
              io.stderr.write('store-lint: another build of store-lint asked; stopping\n');
              stop();
            }
          },
        },
      ));
    if (!served) stop();
    return served;
  };
  try {
    await watchProject<AnsweringRun>(
      {
        run,
        inputsNow: async () => {
          const config = loaded.config;
          return config ? (await computeInputs(config, modelInputs, hashes)).files : {};
        },
        stopped,
        say: (status) => io.stderr.write(status),
        onWatchError: (folder, error) =>
          io.stderr.write(
            `store-lint: warning: cannot watch ${relative(io.cwd, folder) || folder}: ${systemReason(error)}; changes there are not seen\n`,
          ),
      },
      (h) => {
        handle = h;
        if (background) answering = answerInBackground(h);
      },
    );
  } finally {
    stopListening();
    idleStop.clear();
    await (await answering)?.close();
  }
  return 0;
}
