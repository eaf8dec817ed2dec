// The coverage report's public surface: the engine, the model, the formats.
export { computeCoverage } from './compute.js';
export { checkCoverage, parseThreshold, type CoverageCheck } from './check.js';
export {
  DEFAULT_REPORT_FORMATS,
  defaultContext,
  isReportFormatName,
  REPORT_FILES,
  reportFormatNames,
  reportFormatters,
  TERMINAL_FORMATS,
  type ReportContext,
  type ReportFormatName,
  type ReportFormatter,
} from './formatters/index.js';
export { jsonSummary, type JsonSummary } from './formatters/json-summary.js';
export { percent } from './metrics.js';
export * from './model.js';
export { writeReport, type WrittenFile } from './write.js';
export { parseReportOptions, runReport, type ReportRequest } from './cli.js';
