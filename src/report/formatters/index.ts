// The report formats, by `--report-format` name, and the file each one is
// written to under `--report <dir>` (istanbul's names where it has one).
import type { ReportFormatter } from './common.js';
import { formatHtml } from './html.js';
import { formatJsonSummary } from './json-summary.js';
import { formatJson } from './json.js';
import { formatMarkdown } from './markdown.js';
import { formatTextSummary } from './text-summary.js';
import { formatText } from './text.js';

export { defaultContext, type ReportContext, type ReportFormatter } from './common.js';

export const reportFormatters = {
  text: formatText,
  'text-summary': formatTextSummary,
  'json-summary': formatJsonSummary,
  json: formatJson,
  md: formatMarkdown,
  html: formatHtml,
} as const satisfies Record<string, ReportFormatter>;

export type ReportFormatName = keyof typeof reportFormatters;

export const reportFormatNames = Object.keys(reportFormatters) as ReportFormatName[];

export const REPORT_FILES: Readonly<Record<ReportFormatName, string>> = {
  text: 'coverage.txt',
  'text-summary': 'coverage-summary.txt',
  'json-summary': 'coverage-summary.json',
  json: 'coverage.json',
  md: 'coverage.md',
  html: 'index.html',
};

/** Formats meant for the terminal as well as a file. */
export const TERMINAL_FORMATS: ReadonlySet<ReportFormatName> = new Set(['text', 'text-summary']);

/** What `--report <dir>` writes when `--report-format` is not given (DESIGN.md: Markdown, JSON, HTML). */
export const DEFAULT_REPORT_FORMATS: readonly ReportFormatName[] = [
  'text-summary',
  'json-summary',
  'json',
  'md',
  'html',
];

export function isReportFormatName(name: string): name is ReportFormatName {
  return Object.hasOwn(reportFormatters, name);
}
