// Counting pairs and caches the way istanbul counts statements: skipped
// (suppressed) items count as covered, and `pct` is rounded to two decimals
// with istanbul's formula, so a dashboard reading our json-summary shows the
// number our own text shows.
import type { CacheStatus, Counts, PairCoverage } from './model.js';

/** istanbul-lib-coverage's `percent`: two decimals, half up; 100 when there is nothing to cover. */
export function percent(covered: number, total: number): number {
  if (total <= 0) return 100;
  return Math.floor(((1000 * 100 * covered) / total + 5) / 10) / 100;
}

export function counts(parts: Omit<Counts, 'pct' | 'total'>): Counts {
  const total = parts.covered + parts.uncovered + parts.unknown;
  return { ...parts, total, pct: percent(parts.covered, total) };
}

export const EMPTY_COUNTS: Counts = Object.freeze(
  counts({ covered: 0, skipped: 0, uncovered: 0, unknown: 0 }),
);

export function countPairs(pairs: Iterable<PairCoverage>): Counts {
  let covered = 0;
  let skipped = 0;
  let uncovered = 0;
  let unknown = 0;
  for (const p of pairs) {
    if (p.status === 'covered') covered++;
    else if (p.skipped) {
      covered++;
      skipped++;
    } else if (p.status === 'uncovered') uncovered++;
    else unknown++;
  }
  return counts({ covered, skipped, uncovered, unknown });
}

export function addCounts(list: Iterable<Counts>): Counts {
  let covered = 0;
  let skipped = 0;
  let uncovered = 0;
  let unknown = 0;
  for (const c of list) {
    covered += c.covered;
    skipped += c.skipped;
    uncovered += c.uncovered;
    unknown += c.unknown;
  }
  return counts({ covered, skipped, uncovered, unknown });
}

/** A cache's status from its pairs' counts. */
export function cacheStatus(c: Counts): CacheStatus {
  if (c.covered === c.total) return 'covered';
  if (c.covered === 0) return c.uncovered > 0 ? 'uncovered' : 'unknown';
  return 'partly';
}

/** The `caches` metric over caches' pair counts: a cache counts as covered when all its pairs do. */
export function countCaches(list: Iterable<Counts>): Counts {
  let covered = 0;
  let skipped = 0;
  let uncovered = 0;
  let unknown = 0;
  for (const c of list) {
    if (c.covered === c.total) {
      covered++;
      if (c.skipped > 0) skipped++;
    } else if (c.uncovered > 0) uncovered++;
    else unknown++;
  }
  return counts({ covered, skipped, uncovered, unknown });
}

/** `91.66%`: istanbul prints the number as it is, without padding zeros. */
export function pctText(pct: number): string {
  return `${pct}%`;
}
