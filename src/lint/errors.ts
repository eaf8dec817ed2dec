// Errors a user can cause: the CLI renders them as one line and exits 2.
// Anything else is a bug in store-lint and keeps its stack trace.

/** Base of every user-caused store-lint error. */
export class StoreLintUserError extends Error {
  override name = 'StoreLintUserError';
}

/**
 * The config file is missing, unreadable or invalid; `key` is the offending
 * key path, `position` where in the file (a `.ts` config that does not parse).
 */
export class StoreLintConfigError extends StoreLintUserError {
  override name = 'StoreLintConfigError';
  constructor(
    message: string,
    readonly configPath: string | null = null,
    readonly key: string | null = null,
    readonly position: { readonly line: number; readonly column: number } | null = null,
  ) {
    super(message);
  }
}

/** The baseline file is missing or not a store-lint baseline. */
export class BaselineError extends StoreLintUserError {
  override name = 'BaselineError';
}

/** A command-line mistake (bad option value). */
export class UsageError extends StoreLintUserError {
  override name = 'UsageError';
}

/**
 * True for errors the user caused: ours, and the analyser's
 * `AnalysisInputError` (a file that does not parse, a missing tsconfig),
 * recognised by name so that this module does not load the analyser.
 */
export function isUserError(error: unknown): error is Error {
  return (
    error instanceof StoreLintUserError ||
    (error instanceof Error && error.name === 'AnalysisInputError')
  );
}
