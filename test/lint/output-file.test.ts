// Output paths that cannot be written: one line naming the path the user
// gave, never the temporary file written beside it. Symlinks are written
// through; a path that is not a regular file is never replaced.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  asUserError,
  ensureOutputDirectory,
  OutputPathError,
  writeFileAtomically,
} from '../../src/lint/output-file.js';

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

describe('writeFileAtomically', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-lint-output-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Node's own recursive mkdir retries forever there (a folder that exists
  // but cannot hold another): without the fix this test times out.
  it.skipIf(!existsSync('/proc/self'))(
    'refuses in one line a path under a folder that cannot hold folders (/proc)',
    { timeout: 10_000 },
    async () => {
      const path = '/proc/store-lint-test/baseline.json';
      await expect(writeFileAtomically(path, '{}', 'baseline')).rejects.toThrow(
        /^cannot write the baseline to \/proc\/store-lint-test\/baseline\.json: /,
      );
      await expect(ensureOutputDirectory('/proc/store-lint-test/report', 'report')).rejects.toThrow(
        OutputPathError,
      );
    },
  );

  it('creates missing folders, and refuses a file in the way of one', async () => {
    await writeFileAtomically(join(dir, 'a', 'b', 'c.json'), '{}', 'baseline');
    expect(await readFile(join(dir, 'a', 'b', 'c.json'), 'utf8')).toBe('{}');
    await expect(
      writeFileAtomically(join(dir, 'a', 'b', 'c.json', 'd.json'), '{}', 'baseline'),
    ).rejects.toThrow(/a file is in the way of its directory/);
    await expect(ensureOutputDirectory(join(dir, 'a', 'b', 'c.json'), 'report')).rejects.toThrow(
      /a file is in the way of its directory/,
    );
  });

  it('writes through a symlink, so a shared baseline stays shared', async () => {
    await mkdir(join(dir, 'shared'));
    await mkdir(join(dir, 'project'));
    const target = join(dir, 'shared', 'team.json');
    const link = join(dir, 'project', 'store-lint-baseline.json');
    await writeFile(target, 'old');
    await symlink(target, link);
    await writeFileAtomically(link, 'new', 'baseline');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('new');
    // The temporary file was renamed beside the target, across no file system.
    expect(await readdir(join(dir, 'shared'))).toEqual(['team.json']);
    expect(await readdir(join(dir, 'project'))).toEqual(['store-lint-baseline.json']);
  });

  it('creates the file a dangling symlink names, keeping the link', async () => {
    const link = join(dir, 'b.json');
    await symlink('elsewhere/real.json', link);
    await writeFileAtomically(link, 'new', 'baseline');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(join(dir, 'elsewhere', 'real.json'), 'utf8')).toBe('new');
  });

  it('refuses in one line a path that is not a regular file, and leaves it as it was', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const error = await writeFileAtomically(fifo, 'x', 'baseline').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputPathError);
    expect((error as Error).message).toBe(
      `cannot write the baseline to ${fifo}: it is a FIFO, not a regular file`,
    );
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    // Behind a symlink too, named as the user gave it.
    const link = join(dir, 'link');
    await symlink(fifo, link);
    await expect(writeFileAtomically(link, 'x', '--cache file')).rejects.toThrow(
      `cannot write the --cache file to ${link}: it is a FIFO, not a regular file`,
    );
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    // No temporary file beside either (a device goes the same way; none is made here).
    expect((await readdir(dir)).sort()).toEqual(['link', 'pipe']);
  });
});
