// Path helpers shared by the formatters: model locations are relative to the
// project root; output wants absolute paths (json) or paths relative to the
// working directory (stylish), or to the repository root on a GitHub Actions
// runner (github, sarif), always with forward slashes.
import { isAbsolute, relative, resolve } from 'node:path';
import type { FormatContext } from './types.js';

export function absolutePath(root: string, file: string): string {
  return isAbsolute(file) ? file : resolve(root, file);
}

export function displayPath(root: string, file: string, cwd: string): string {
  const rel = relative(cwd, absolutePath(root, file));
  return rel.split('\\').join('/');
}

/**
 * The directory GitHub resolves a file's path against: `GITHUB_WORKSPACE`
 * (the repository root on an Actions runner; a step with
 * `working-directory:` runs below it) when set, else the working directory.
 */
export function githubBase(context: FormatContext): string {
  return context.githubWorkspace ? resolve(context.cwd, context.githubWorkspace) : context.cwd;
}

/** Whether `file` (absolute) is inside directory `dir` (absolute). */
export function isInside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
