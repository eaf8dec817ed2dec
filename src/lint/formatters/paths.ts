// Path helpers shared by the formatters: model locations are relative to the
// project root; output wants absolute paths (json) or paths relative to the
// working directory (stylish, sarif, github), always with forward slashes.
import { isAbsolute, relative, resolve } from 'node:path';

export function absolutePath(root: string, file: string): string {
  return isAbsolute(file) ? file : resolve(root, file);
}

export function displayPath(root: string, file: string, cwd: string): string {
  const rel = relative(cwd, absolutePath(root, file));
  return rel.split('\\').join('/');
}
