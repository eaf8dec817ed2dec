// What the CLI's commands share: the process's streams and terminal, and
// how a run reports to a person (a user's mistake in one line, durations,
// the findings in the chosen format).
import { relative } from 'node:path';
import type { StoreLintConfig } from '../analysis/config.js';
import type { LintReport } from './engine.js';
import { StoreLintConfigError } from './errors.js';
import { loadFormatter, type FormatName } from './formatters/names.js';
import { displayPath } from './formatters/paths.js';
import { TOOL_VERSION } from './version.js';

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly columns?: number;
  /** Calls `handler` when the user interrupts the process (Ctrl-C, SIGTERM); returns a function that stops listening. */
  onInterrupt?(handler: () => void): () => void;
}

export interface CliOptions {
  readonly config?: string;
  readonly format: FormatName;
  readonly maxWarnings: string;
  readonly printModel?: boolean;
  readonly baseline?: string;
  readonly updateBaseline?: boolean;
  readonly cache?: boolean;
  readonly cacheLocation?: string;
  readonly report?: string;
  readonly reportFormat?: string[];
  readonly checkCoverage?: string;
  readonly watch?: boolean;
  /** `--daemon`: a `--cache` run answered by the project's background store-lint, started if none runs. */
  readonly daemon?: boolean;
  /** `--daemon-idle`: minutes without a question after which the background store-lint stops. */
  readonly daemonIdle: string;
  /** Internal (`--as-daemon`): this process is that background store-lint, a `--watch` with no terminal. */
  readonly asDaemon?: boolean;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    columns: process.stderr.columns,
    onInterrupt(handler) {
      process.once('SIGINT', handler);
      process.once('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}

/** Colour on a terminal, never with NO_COLOR (https://no-color.org), always with FORCE_COLOR. */
export function useColor(env: CliIo['env'], isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY && env.TERM !== 'dumb';
}

/**
 * One line for a user's mistake: the config file (if any) and the reason.
 * The analyser names files relative to the project; they are shown relative
 * to the working directory, as findings are, and its errors about an `apps`
 * key follow the config file like the config loader's own.
 */
export function oneLine(error: Error, cwd: string, config: StoreLintConfig | null): string {
  let text = error.message;
  const configFile = (path: string) => relative(cwd, path) || path;
  if (error instanceof StoreLintConfigError && error.configPath) {
    const at = error.position ? `:${error.position.line}:${error.position.column}` : '';
    text = `${configFile(error.configPath)}${at}: ${text}`;
  } else if (config && error.name === 'AnalysisInputError') {
    const file = (error as Error & { file?: unknown }).file;
    if (text.startsWith('apps.')) {
      text = `${configFile(config.configPath)}: ${text}`;
    } else if (typeof file === 'string' && text.startsWith(file)) {
      text = `${displayPath(config.root, file, cwd)}${text.slice(file.length)}`;
    }
  }
  return `store-lint: ${text.replace(/\s*\n\s*/g, ' ')}\n`;
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The findings in `format`, on stdout. */
export async function printReport(
  report: LintReport,
  format: FormatName,
  io: CliIo,
): Promise<void> {
  const formatted = (await loadFormatter(format))(report, {
    cwd: io.cwd,
    color: useColor(io.env, io.stdoutIsTTY),
    toolVersion: TOOL_VERSION,
    githubWorkspace: io.env.GITHUB_WORKSPACE || undefined,
  });
  if (formatted) io.stdout.write(formatted.endsWith('\n') ? formatted : `${formatted}\n`);
}
