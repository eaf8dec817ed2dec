// `store-lint --daemon`: a `--cache` run that the project's background
// store-lint answers, starting one when none runs.
//
// A new process pays for Node's start and, after any edit of a store, for
// parsing and analysing every file again; a watch that holds the project in
// memory answers in a fraction of that (watch-answers.ts). `--daemon` gets
// that without a terminal kept open for `--watch`: the first run starts
// `store-lint --watch --as-daemon` detached, with no terminal and its status
// lines in a log beside its socket, and waits for its answer; later runs are
// answered by it. It lints again on each change, as a watch does, so that
// the next question often finds the lint done or under way, and stops after
// `--daemon-idle` minutes without a question (watch-command.ts). Where none
// can run (Windows, CI, no private socket folder), or it cannot answer, the
// run lints by itself as `--cache` does.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreLintConfig } from '../analysis/config.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { answerSocketPath, type Asked, type WorkProgress } from './answer-socket.js';
import { UsageError } from './errors.js';
import { isCI } from './progress.js';
import { askRunningWatch, OTHER_BUILD } from './watch-answers.js';

export const DEFAULT_IDLE_MINUTES = 30;
/** A week: longer than any timer needs (they wait at most 24.8 days). */
const MAX_IDLE_MINUTES = 7 * 24 * 60;
/** How long a background store-lint just started may take to open its socket (Node's start, the config). */
const START_LIMIT_MS = 30_000;
/** How long one of another build, once asked, may take to stop and free its socket. */
const STOP_LIMIT_MS = 5_000;
const POLL_MS = 25;
/** A log past this size is started afresh; below it, each background store-lint appends to it. */
const LOG_LIMIT_BYTES = 1 << 20;

/** `--daemon-idle`: minutes, more than 0 and at most a week. */
export function idleMinutes(text: string): number {
  const minutes = Number(text);
  if (!/^\s*\d*\.?\d+\s*$/.test(text) || !(minutes > 0) || minutes > MAX_IDLE_MINUTES) {
    throw new UsageError(
      `--daemon-idle: expected a number of minutes above 0 and at most ${MAX_IDLE_MINUTES} (a week), got "${text}"`,
    );
  }
  return minutes;
}

/**
 * When the background store-lint stops: `ms` after its start or its last
 * answer, but never while a question waits for one (a first lint may take
 * longer than that).
 */
export class IdleStop {
  #timer: NodeJS.Timeout | null = null;
  #waiting = 0;

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {}

  /** Starts the clock again. */
  arm(): void {
    this.clear();
    this.#timer = setTimeout(() => (this.#waiting > 0 ? this.arm() : this.onIdle()), this.ms);
  }

  asked(): void {
    this.#waiting++;
  }

  answered(): void {
    this.#waiting--;
    this.arm();
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/** The log of the background store-lint that answers on `socket`. */
function daemonLog(socket: string): string {
  return socket.replace(/\.sock$/, '.log');
}

/** Polls `done` until it holds (true) or `limitMs` passes (false). */
async function until(done: () => boolean, limitMs: number): Promise<boolean> {
  const end = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > end) return false;
    await new Promise((wait) => setTimeout(wait, POLL_MS));
  }
  return true;
}

/**
 * Asks the store-lint running on `config`'s project (a `--watch`, or the
 * background one), starting the background one when none runs: the answer,
 * or why there is none; null when none was asked. `say` is told, whatever
 * the terminal, of a process started and of why none could be;
 * `onProgress`, of how far its lint is while the run waits.
 */
export async function askDaemon(
  config: StoreLintConfig,
  baselineFile: string | null,
  idle: number,
  env: Readonly<Record<string, string | undefined>>,
  say: (note: string) => void,
  onProgress?: (progress: WorkProgress) => void,
): Promise<Asked | null> {
  const socket = answerSocketPath(config.configPath);
  if (socket === null) {
    const why =
      process.platform === 'win32'
        ? 'there are no Unix sockets here'
        : 'no folder only this user can enter holds its socket';
    say(`--daemon: no background store-lint (${why}); linting here`);
    return null;
  }
  const asked = await askRunningWatch(config, baselineFile, onProgress);
  if (asked && ('report' in asked || asked.declined !== OTHER_BUILD)) return asked;
  // One of another build stops once it has said so: this run starts its own.
  if (asked && !(await until(() => !existsSync(socket), STOP_LIMIT_MS))) return asked;
  if (isCI(env)) {
    say('--daemon: no background store-lint in CI (CI is set); linting here');
    return null;
  }
  const log = daemonLog(socket);
  // Appended to: two runs that start one each at once (one of them stops at
  // once) must not cut each other's log short.
  let size = 0;
  try {
    size = statSync(log).size;
  } catch {
    // none yet
  }
  const out = openSync(log, size > LOG_LIMIT_BYTES ? 'w' : 'a', 0o600);
  let exited = false;
  try {
    const args = [join(PACKAGE_ROOT.dir, 'bin', 'store-lint'), '--watch', '--as-daemon'];
    args.push('--daemon-idle', String(idle), '-c', config.configPath);
    if (baselineFile !== null) args.push('--baseline', baselineFile);
    const child = spawn(process.execPath, args, {
      cwd: config.root,
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...env, NO_COLOR: '1' },
    });
    child.on('exit', () => (exited = true));
    child.on('error', () => (exited = true));
    child.unref();
    say(
      `--daemon: started a background store-lint for this project (pid ${child.pid}; ` +
        `it stops after ${idle} min without a question; log: ${log})`,
    );
    // Asked as soon as something listens there: a socket left by one that
    // died refuses, until the new one replaces it.
    const end = performance.now() + START_LIMIT_MS;
    for (;;) {
      const answer = existsSync(socket)
        ? await askRunningWatch(config, baselineFile, onProgress)
        : null;
      if (answer) return answer;
      if (exited || performance.now() > end) {
        say(`--daemon: the background store-lint did not answer (see its log); linting here`);
        return null;
      }
      await new Promise((wait) => setTimeout(wait, POLL_MS));
    }
  } finally {
    closeSync(out);
  }
}
