// What every formatter is: a pure function from the results model to text.
import type { LintReport } from '../engine.js';

export interface FormatContext {
  /** Paths are shown relative to this directory (the repository root in CI). */
  readonly cwd: string;
  /** Colour output (stylish only); the CLI decides from the TTY, NO_COLOR and FORCE_COLOR. */
  readonly color: boolean;
  readonly toolVersion: string;
  /**
   * `GITHUB_WORKSPACE` (the repository root on an Actions runner), when set:
   * GitHub matches an annotation's `file`, and code scanning a SARIF URI,
   * against repository paths, so the `github` and `sarif` formats name files
   * relative to it instead of `cwd` (`sarif` only when it holds every file).
   */
  readonly githubWorkspace?: string | undefined;
}

export type Formatter = (report: LintReport, context: FormatContext) => string;
