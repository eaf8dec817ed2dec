// The report formats' names, the file each one is written to under
// `--report <dir>` (istanbul's names where it has one), and the defaults:
// what the CLI needs before it knows whether a report is asked for.

export const reportFormatNames = [
  'text',
  'text-summary',
  'json-summary',
  'json',
  'md',
  'html',
] as const;

export type ReportFormatName = (typeof reportFormatNames)[number];

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
  return (reportFormatNames as readonly string[]).includes(name);
}
