// The CLI's side of the report: `--report <dir>`, `--report-format <names>`
// (comma-separated or repeated) and `--check-coverage <pct>`, parsed and
// validated here and run after linting. src/lint/cli.ts only declares the
// options and calls these two functions.
import { basename, relative, resolve, sep } from 'node:path';
import type { StoreModel } from '../analysis/model.js';
import { UsageError } from '../lint/errors.js';
import { checkCoverage, parseThreshold } from './check.js';
import type { ReportContext } from './formatters/common.js';
import {
  DEFAULT_REPORT_FORMATS,
  isReportFormatName,
  reportFormatNames,
  TERMINAL_FORMATS,
  type ReportFormatName,
} from './formatters/names.js';

export interface ReportCliOptions {
  readonly report?: string;
  /** Every `--report-format` value as given (each may list several, comma-separated). */
  readonly reportFormat?: readonly string[];
  readonly checkCoverage?: string;
}

export interface ReportRequest {
  /** Absolute directory to write files to, or null (terminal formats and the check only). */
  readonly dir: string | null;
  readonly formats: readonly ReportFormatName[];
  readonly threshold: number | null;
}

/** commander's collector for a repeatable, comma-separated option. */
export function collectFormats(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

/** The report the options ask for, or null when they ask for none; a bad value is a `UsageError`. */
export function parseReportOptions(options: ReportCliOptions, cwd: string): ReportRequest | null {
  const given = (options.reportFormat ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (options.report === undefined && given.length === 0 && options.checkCoverage === undefined) {
    return null;
  }
  // `--report=` (or an unset variable in `--report "$DIR"`) would write into the current directory.
  if (options.report !== undefined && options.report.trim() === '') {
    throw new UsageError('--report: expected a directory, got an empty value');
  }
  for (const name of given) {
    if (!isReportFormatName(name)) {
      throw new UsageError(
        `--report-format: unknown format "${name}" (expected ${reportFormatNames.join(', ')})`,
      );
    }
  }
  const formats = (
    given.length ? given : options.report !== undefined ? DEFAULT_REPORT_FORMATS : []
  ) as ReportFormatName[];
  const needsDir = formats.filter((f) => !TERMINAL_FORMATS.has(f));
  if (options.report === undefined && needsDir.length) {
    throw new UsageError(
      `--report-format ${needsDir.join(',')} writes files: give the directory with --report <dir>`,
    );
  }
  let threshold: number | null = null;
  if (options.checkCoverage !== undefined) {
    threshold = parseThreshold(options.checkCoverage);
    if (threshold === null) {
      throw new UsageError(
        `--check-coverage: expected a percentage from 0 to 100, got "${options.checkCoverage}"`,
      );
    }
  }
  return {
    dir: options.report === undefined ? null : resolve(cwd, options.report),
    formats: [...new Set(formats)],
    threshold,
  };
}

export interface ReportIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly cwd: string;
}

export interface RunReportOptions {
  readonly toolVersion: string;
  /** The lint output on stdout is machine-read (`json`, `sarif`): terminal formats go to stderr. */
  readonly machineOutput: boolean;
  /** Whether each stream may carry colour (the CLI's NO_COLOR / FORCE_COLOR / TTY decision). */
  readonly color: { readonly stdout: boolean; readonly stderr: boolean };
}

/** Computes the coverage, writes and prints what was asked; returns 1 when the check fails, else 0. */
export async function runReport(
  model: StoreModel,
  request: ReportRequest,
  io: ReportIo,
  options: RunReportOptions,
): Promise<number> {
  // Loaded here: a run without --report (most runs) need not load them.
  const [{ computeCoverage }, { writeReport }, { reportFormatters }] = await Promise.all([
    import('./compute.js'),
    import('./write.js'),
    import('./formatters/index.js'),
  ]);
  const coverage = computeCoverage(model);
  // From the report directory back to the project; '' when they are one directory.
  const up = request.dir ? relative(request.dir, model.root).split(sep).join('/') : null;
  const context: ReportContext = {
    color: false,
    toolVersion: options.toolVersion,
    project: basename(model.root),
    sourceBase: up === null ? null : up && `${up}/`,
  };
  if (request.dir) {
    const written = await writeReport(coverage, request.dir, request.formats, context);
    io.stderr.write(
      `store-lint: coverage report (${written.map((w) => w.format).join(', ')}) written to ${relative(io.cwd, request.dir) || '.'}\n`,
    );
  }
  const terminal = options.machineOutput ? io.stderr : io.stdout;
  const color = options.machineOutput ? options.color.stderr : options.color.stdout;
  for (const format of request.formats) {
    if (!TERMINAL_FORMATS.has(format)) continue;
    terminal.write(reportFormatters[format](coverage, { ...context, color }));
  }
  if (request.threshold === null) return 0;
  const check = checkCoverage(coverage, request.threshold);
  for (const line of check.errors) io.stderr.write(`${line}\n`);
  return check.ok ? 0 : 1;
}
