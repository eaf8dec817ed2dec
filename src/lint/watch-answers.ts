// A `store-lint --watch` answers the `store-lint --cache` runs of its project.
//
// The watch holds the project parsed and analysed. A `--cache` run (a
// pre-commit hook, an editor's task, a second terminal) that finds one
// running asks it for its report instead of analysing the project again in
// a new process. With none running, or one that cannot answer for the same
// settings (another build of store-lint, its last run failed), the run lints
// by itself as before. The answer is never older than the question: the
// watch looks at its inputs after it is asked, and answers with a run of
// them as they are then (`WatchHandle.current`), so what it answers is what
// the asking run would have found. The socket: answer-socket.ts.
import { existsSync } from 'node:fs';
import type { StoreLintConfig } from '../analysis/config.js';
import { changedPlaces, type MissingPlaces } from '../analysis/lookalikes.js';
import type { StoreModel } from '../analysis/model.js';
import {
  ANSWER_PROTOCOL,
  answerSocketPath,
  askWatch,
  serveAnswers,
  type Answer,
  type AnswerObserver,
  type AnswerRequest,
  type Asked,
  type WorkProgress,
} from './answer-socket.js';
import { readBaseline } from './baseline.js';
import { buildStamp, lintOptionsKey } from './cache.js';
import type { LintReport } from './engine.js';
import type { WatchedRun, WatchHandle } from './watch.js';

/** What a watch's run that linted keeps to answer with. */
export interface LintedRun {
  readonly config: StoreLintConfig;
  readonly model: StoreModel;
  readonly report: LintReport;
  /** `lintOptionsKey` of the report: the severities and baseline it was linted with. */
  readonly settings: string;
  /**
   * Each import that resolved to nothing (relative to the root), with what
   * was where it looked after the run: a file appearing there is no input,
   * and may not have been seen yet.
   */
  readonly missing: MissingPlaces;
}

export interface AnsweringRun extends WatchedRun {
  /** Null when the run failed. */
  readonly linted: LintedRun | null;
}

/** Why a watch does not answer a run of another build of store-lint (a background one then stops). */
export const OTHER_BUILD = 'it is another build of store-lint';

/** Tries to bring the watch up to date this many times while files keep appearing where imports looked. */
const MAX_LOOKS = 3;

/**
 * The watch's answer to `request`: a report of the inputs as they are now,
 * for the request's settings. `build`: the watch's `buildStamp`, taken when
 * it started.
 */
export async function answerFrom(
  handle: WatchHandle<AnsweringRun>,
  request: AnswerRequest,
  build: string,
): Promise<Answer> {
  if (request.tool !== build) {
    return { declined: OTHER_BUILD };
  }
  let touched: string[] = [];
  for (let look = 0; look < MAX_LOOKS; look++) {
    const linted = (await handle.current(touched))?.linted;
    if (!linted) return { declined: 'its last lint failed' };
    if (linted.config.configPath !== request.configPath) {
      return { declined: `it lints with ${linted.config.configPath}` };
    }
    touched = changedPlaces(linted.config.root, linted.missing);
    if (touched.length > 0) continue;
    if (request.lintSettings === linted.settings) return { report: linted.report };
    // Another baseline, or the same one edited since (it is no input).
    const baseline = request.baseline === null ? null : await readBaseline(request.baseline);
    if (lintOptionsKey(linted.config, baseline) !== request.lintSettings) {
      return { declined: 'the config or the baseline changed while it was asked' };
    }
    const { lint } = await import('./engine.js');
    return { report: lint(linted.model, { config: linted.config, baseline }) };
  }
  return { declined: 'files keep appearing where imports look' };
}

/**
 * Starts answering for `configPath`'s project. Null when this watch cannot:
 * `why` says so (another watch answers, no private socket folder); on
 * systems without Unix sockets, silently. `observer` is told of each
 * question and its answer.
 */
export async function startAnswering(
  configPath: string,
  handle: WatchHandle<AnsweringRun>,
  build: string,
  why: (reason: string) => void,
  observer?: AnswerObserver,
): Promise<{ close(): Promise<void> } | null> {
  if (process.platform === 'win32') return null;
  const path = answerSocketPath(configPath);
  if (path === null) {
    why('no folder only this user can enter for its socket');
    return null;
  }
  try {
    return await serveAnswers(path, (request) => answerFrom(handle, request, build), observer);
  } catch (error) {
    why(error instanceof Error ? error.message : String(error));
    return null;
  }
}

/**
 * Asks the watch running on `config`'s project, if any, for the report this
 * run would make. The baseline is read only once a watch is found.
 */
export async function askRunningWatch(
  config: StoreLintConfig,
  baselineFile: string | null,
  onProgress?: (progress: WorkProgress) => void,
): Promise<Asked | null> {
  const path = answerSocketPath(config.configPath);
  if (path === null || !existsSync(path)) return null;
  const baseline = baselineFile === null ? null : await readBaseline(baselineFile);
  return askWatch(
    path,
    {
      protocol: ANSWER_PROTOCOL,
      configPath: config.configPath,
      tool: await buildStamp(),
      lintSettings: lintOptionsKey(config, baseline),
      baseline: baselineFile,
    },
    onProgress,
  );
}
