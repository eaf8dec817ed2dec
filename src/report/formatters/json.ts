// `json`: the whole coverage model (`coverage.json`), for tools that want
// the chain of facts behind each pair. Its shape is `CoverageModel`
// (src/report/model.ts), versioned by `version`.
import type { CoverageModel } from '../model.js';
import type { ReportContext } from './common.js';

export function formatJson(coverage: CoverageModel, _context?: ReportContext): string {
  return `${JSON.stringify(coverage, null, 2)}\n`;
}
