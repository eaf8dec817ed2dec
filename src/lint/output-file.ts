// Files store-lint writes where the user said (cache, baseline, report):
// written through a temporary file and a rename, so a reader never sees half
// of one, and a path that cannot be written is a one-line user error, not a
// stack trace, with no temporary file left behind. A symlink is written
// through (the rename lands beside its target, as `fs.writeFile`, ESLint and
// editors keep a shared file shared), and a path that is not a regular file
// (a device, a FIFO, a directory) is refused: a rename would replace it.
import { statSync, type Stats } from 'node:fs';
import { lstat, mkdir, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { systemReason } from '../analysis/errors.js';
import { StoreLintUserError } from './errors.js';

/** A path store-lint was told to write to cannot be written. */
export class OutputPathError extends StoreLintUserError {
  override name = 'OutputPathError';
}

/**
 * File-system refusals a user causes: a file where a directory should be, a
 * directory that is a dangling symlink (ENOENT), no permission, a full disk,
 * symlinks in a loop.
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
  'ELOOP',
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
 * Writes `text` to `path` (creating its directory) atomically; `what` names it
 * in errors. Through a symlink, the file written is the link's target.
 */
export async function writeFileAtomically(path: string, text: string, what: string): Promise<void> {
  let temp: string | undefined;
  try {
    const target = await regularFileTarget(path, what);
    temp = `${target}.${process.pid}.tmp`;
    await makeDirectory(dirname(target));
    await writeFile(temp, text);
    await rename(temp, target);
  } catch (error) {
    if (temp) await rm(temp, { force: true }).catch(() => undefined);
    throw asUserError(error, what, path);
  }
}

/** How deep a chain of dangling symlinks is followed (Linux's own limit). */
const MAX_LINKS = 40;

/**
 * The file a write to `path` must replace: `path` itself when it is missing
 * or a regular file, the real path behind a symlink (or, for a dangling one,
 * the missing file its chain ends at, which the write creates, as
 * `fs.writeFile` would). Anything that is not a regular file is refused.
 */
async function regularFileTarget(path: string, what: string): Promise<string> {
  let target = path;
  for (let links = 0; ; links++) {
    let entry: Stats;
    try {
      entry = await lstat(target);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return target;
      throw error;
    }
    if (!entry.isSymbolicLink()) {
      if (entry.isFile()) return target;
      throw new OutputPathError(`cannot write the ${what} to ${path}: ${notAFile(entry)}`);
    }
    try {
      target = await realpath(target);
      const real = await stat(target);
      if (real.isFile()) return target;
      throw new OutputPathError(`cannot write the ${what} to ${path}: ${notAFile(real)}`);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT' || links >= MAX_LINKS) throw error;
      // Dangling: follow one link by hand, to the file it names.
      target = resolve(dirname(target), await readlink(target));
    }
  }
}

/** Why a path that exists cannot be replaced by a file. */
function notAFile(entry: Stats): string {
  if (entry.isDirectory()) return 'it is a directory';
  if (entry.isFIFO()) return 'it is a FIFO, not a regular file';
  if (entry.isSocket()) return 'it is a socket, not a regular file';
  if (entry.isCharacterDevice() || entry.isBlockDevice())
    return 'it is a device, not a regular file';
  return 'it is not a regular file';
}

/** Creates directory `dir` for output; `what` names it in errors. */
export async function ensureOutputDirectory(dir: string, what: string): Promise<void> {
  try {
    await makeDirectory(dir);
  } catch (error) {
    throw asUserError(error, what, dir);
  }
}

/**
 * `mkdir -p` that fails where Node's recursive mkdir spins forever: a folder
 * that exists but cannot hold the one asked for (under /proc, creating the
 * child says ENOENT and the parent EEXIST, and Node 20 retries both without
 * end). Creates the missing folders from the nearest existing one down; a
 * refusal is the caller's to report.
 */
async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = resolve(dir); ;) {
    try {
      const entry = await stat(at);
      // A file in the way: mkdir says so (EEXIST here, ENOTDIR for a folder under it).
      if (at === resolve(dir) && !entry.isDirectory()) await mkdir(at);
      break;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    }
    missing.push(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const folder of missing.reverse()) {
    try {
      await mkdir(folder);
    } catch (error) {
      // Made meanwhile by someone else: what was asked for.
      if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    }
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

/**
 * Refuses, before any work, an output file that exists and is not a regular
 * file: a FIFO or a device would also be read first (the old baseline, the
 * cache index), and that read never ends.
 */
export function checkOutputFile(path: string, what: string): void {
  let entry: Stats;
  try {
    entry = statSync(path);
  } catch {
    return; // missing, or a dangling symlink: created when written; anything else fails then
  }
  if (!entry.isFile())
    throw new OutputPathError(`cannot write the ${what} to ${path}: ${notAFile(entry)}`);
}
