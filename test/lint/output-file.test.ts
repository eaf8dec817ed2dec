// Output paths that cannot be written: one line naming the path the user
// gave, never the temporary file written beside it.
import { describe, expect, it } from 'vitest';
import { asUserError, OutputPathError } from '../../src/lint/output-file.js';

/** An error as Node's fs/promises throws it. */
function fsError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

describe('asUserError', () => {
  it('gives the reason without the syscall and the temporary file it named', () => {
    const denied = asUserError(
      fsError('EACCES', "permission denied, open '/p/.cache/lint.json.123.tmp'"),
      '--cache file',
      '/p/.cache/lint.json',
    );
    expect(denied).toBeInstanceOf(OutputPathError);
    expect((denied as Error).message).toBe(
      'cannot write the --cache file to /p/.cache/lint.json: permission denied',
    );
    const renamed = asUserError(
      fsError('EPERM', "operation not permitted, rename '/p/b.json.1.tmp' -> '/p/b.json'"),
      'baseline',
      '/p/b.json',
    );
    expect((renamed as Error).message).toBe(
      'cannot write the baseline to /p/b.json: operation not permitted',
    );
    const full = asUserError(fsError('ENOSPC', 'no space left on device, write'), 'baseline', 'b');
    expect((full as Error).message).toBe('cannot write the baseline to b: no space left on device');
  });
});
