// `json-summary`: `coverage-summary.json` in istanbul's shape, so the badges
// and dashboards that read istanbul's file read ours: a `total` entry and one
// entry per store that defines cached reads (keyed by the store's class
// name, or `file#Name` when two stores share it), each holding `{ total, covered, skipped, pct }` under a metric key.
// Metrics (docs/report.md): `invalidations`, the cache × write pairs whose
// write is followed by an invalidation of the cache on the cache's app; and
// `caches`, the cached reads (per app) all of whose pairs are.
import type { Counts, CoverageModel, Metrics } from '../model.js';
import { storeNamer, type ReportContext } from './common.js';

export interface IstanbulCounts {
  readonly total: number;
  readonly covered: number;
  readonly skipped: number;
  readonly pct: number;
}

export type JsonSummary = Record<string, Record<keyof Metrics, IstanbulCounts>>;

function istanbul(c: Counts): IstanbulCounts {
  return { total: c.total, covered: c.covered, skipped: c.skipped, pct: c.pct };
}

function entry(m: Metrics): Record<keyof Metrics, IstanbulCounts> {
  return { invalidations: istanbul(m.invalidations), caches: istanbul(m.caches) };
}

export function jsonSummary(coverage: CoverageModel): JsonSummary {
  const out: JsonSummary = { total: entry(coverage.totals) };
  const name = storeNamer(coverage);
  for (const store of coverage.stores) out[name(store.name, store.file)] = entry(store.metrics);
  return out;
}

export function formatJsonSummary(coverage: CoverageModel, _context?: ReportContext): string {
  return `${JSON.stringify(jsonSummary(coverage), null, 2)}\n`;
}
