// The one error type the analyser throws for problems the user caused (no
// tsconfig, a source or schema file that does not parse, a config entry that
// names a missing file or class). The CLI renders it as one line, exit 2;
// anything else escaping analysis is a bug and keeps its stack trace. A
// file-system refusal in such a line is worded by `systemReason`.

export class AnalysisInputError extends Error {
  override name = 'AnalysisInputError';

  constructor(
    message: string,
    /** The file the problem is in (relative to the project root), when there is one. */
    readonly file: string | null = null,
  ) {
    super(message);
  }
}

/**
 * Node's message without its code and its `, syscall 'path'` tail
 * (`EACCES: permission denied, open '….tmp'` → `permission denied`): the path
 * may be a temporary file the user never named.
 */
export function systemReason(error: Error): string {
  return error.message.replace(/^\w+: /, '').replace(/, \w+(?: '.*')?$/, '');
}
