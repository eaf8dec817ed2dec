// What is at a place where an import looked and found nothing: the names in
// its folder starting like it. A file appearing (or going) there may change
// what the import resolves to, for `--cache` (cache.ts) and for a
// long-running process's kept facts (kept-facts.ts) alike.
import { readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** A module path less its source extension: `src/x.js` and `src/x.ts` name the same module `src/x`. */
export function moduleStem(file: string): string {
  return file.replace(/\.[mc]?[jt]sx?$/, '');
}

/** The entries of `missing`'s folder named like it (`x`, `x.ts`, `x.d.ts`, …), sorted. */
export function lookalikes(missing: string): string[] {
  const stem = moduleStem(basename(missing));
  try {
    return readdirSync(dirname(missing))
      .filter((e) => e === stem || e.startsWith(`${stem}.`))
      .sort();
  } catch {
    return [];
  }
}

/** Imports that resolved to nothing (relative to the root), each with its `lookalikes` then. */
export type MissingPlaces = readonly (readonly [string, readonly string[]])[];

/** What is at each place `missingImports` (relative to `root`) looked and found nothing, now. */
export function missingPlaces(
  root: string,
  missingImports: readonly string[],
): [string, string[]][] {
  return missingImports.map((m) => [m, lookalikes(resolve(root, m))]);
}

/** The entries that appeared or went at those places since `before` was taken, absolute. */
export function changedPlaces(root: string, before: MissingPlaces): string[] {
  const changed: string[] = [];
  for (const [m, then] of before) {
    const abs = resolve(root, m);
    const now = lookalikes(abs);
    if (now.join('\0') === then.join('\0')) continue;
    for (const name of new Set([...then, ...now])) changed.push(join(dirname(abs), name));
  }
  return changed;
}
