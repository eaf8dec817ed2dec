// `--check-coverage <pct>`: every app must reach the threshold, or the run
// fails with one istanbul-style line per app that does not (c8 prints
// `ERROR: Coverage for lines (75%) does not meet global threshold (90%)`).
import { pctText } from './metrics.js';
import type { CoverageModel } from './model.js';

export interface CoverageCheck {
  readonly ok: boolean;
  /** One `ERROR: …` line per app below the threshold, in app order. */
  readonly errors: readonly string[];
}

export function checkCoverage(coverage: CoverageModel, threshold: number): CoverageCheck {
  const errors = coverage.apps
    .filter((a) => a.metrics.invalidations.pct < threshold)
    .map(
      (a) =>
        `ERROR: Coverage for cache invalidations (${pctText(a.metrics.invalidations.pct)}) does not meet threshold (${pctText(threshold)}) for app ${a.name}`,
    );
  return { ok: errors.length === 0, errors };
}

/** Parses `--check-coverage`'s value: a percentage from 0 to 100. */
export function parseThreshold(value: string): number | null {
  if (!/^\d+(\.\d+)?%?$/.test(value.trim())) return null;
  const n = Number(value.trim().replace(/%$/, ''));
  return n >= 0 && n <= 100 ? n : null;
}
