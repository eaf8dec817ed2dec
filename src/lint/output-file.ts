// Files store-lint writes where the user said (cache, baseline, report):
// written through a temporary file and a rename, so a reader never sees half
// of one, and a path that cannot be written is a one-line user error, not a
// stack trace, with no temporary file left behind.
import { statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreLintUserError } from './errors.js';

/** A path store-lint was told to write to cannot be written. */
export class OutputPathError extends StoreLintUserError {
  override name = 'OutputPathError';
}

/**
 * File-system refusals a user causes: a file where a directory should be, a
 * directory that is a dangling symlink (ENOENT), no permission, a full disk.
 */
const USER_CODES = new Set([
  'EEXIST',
  'EISDIR',
  'ENOTDIR',
  'ENOENT',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOSPC',
]);

/** A refusal the user caused, as a one-line `OutputPathError`; any other error as it is. */
export function asUserError(error: unknown, what: string, path: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !USER_CODES.has(code)) return error;
  const reason =
    code === 'EISDIR'
      ? 'it is a directory'
      : code === 'EEXIST' || code === 'ENOTDIR'
        ? 'a file is in the way of its directory'
        : systemReason(error as Error);
  return new OutputPathError(`cannot write the ${what} to ${path}: ${reason}`);
}

/**
 * Node's message without its code and its `, syscall 'path'` tail
 * (`EACCES: permission denied, open '….tmp'` → `permission denied`): the path
 * may be a temporary file the user never named.
 */
export function systemReason(error: Error): string {
  return error.message.replace(/^\w+: /, '').replace(/, \w+(?: '.*')?$/, '');
}

/** Writes `text` to `path` (creating its directory) atomically; `what` names it in errors. */
export async function writeFileAtomically(path: string, text: string, what: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw asUserError(error, what, path);
  }
}

/** Creates directory `dir` for output; `what` names it in errors. */
export async function ensureOutputDirectory(dir: string, what: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw asUserError(error, what, dir);
  }
}

/** Refuses, before any work, an output directory that is an existing file. */
export function checkOutputDirectory(dir: string, what: string): void {
  let isFile = false;
  try {
    isFile = !statSync(dir).isDirectory();
  } catch {
    return; // missing: created when written
  }
  if (isFile) throw new OutputPathError(`cannot write the ${what} to ${dir}: it is a file`);
}
