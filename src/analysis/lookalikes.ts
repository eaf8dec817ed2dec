// What is at a place where an import looked and found nothing: the names in
// its folder starting like it. A file appearing (or going) there may change
// what the import resolves to, for `--cache` (cache.ts) and for a
// long-running process's kept facts (kept-facts.ts) alike.
import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';

/** The entries of `missing`'s folder named like it (`x`, `x.ts`, `x.d.ts`, …), sorted. */
export function lookalikes(missing: string): string[] {
  const stem = basename(missing).replace(/\.[mc]?[jt]sx?$/, '');
  try {
    return readdirSync(dirname(missing))
      .filter((e) => e === stem || e.startsWith(`${stem}.`))
      .sort();
  } catch {
    return [];
  }
}
