// What is at a place where an import looked and found nothing: the names in
// its folder starting like it. A file appearing (or going) there may change
// what the import resolves to, for `--cache` (cache.ts) and for a
// long-running process's kept facts (kept-facts.ts) alike.
import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';

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
