// The report formats, by `--report-format` name (their names and files:
// names.ts, which a run without --report loads alone).
import type { ReportFormatter } from './common.js';
import { formatHtml } from './html.js';
import { formatJsonSummary } from './json-summary.js';
import { formatJson } from './json.js';
import { formatMarkdown } from './markdown.js';
import { formatTextSummary } from './text-summary.js';
import { formatText } from './text.js';
import type { ReportFormatName } from './names.js';

export { defaultContext, type ReportContext, type ReportFormatter } from './common.js';
export {
  DEFAULT_REPORT_FORMATS,
  isReportFormatName,
  REPORT_FILES,
  reportFormatNames,
  TERMINAL_FORMATS,
  type ReportFormatName,
} from './names.js';

export const reportFormatters = {
  text: formatText,
  'text-summary': formatTextSummary,
  'json-summary': formatJsonSummary,
  json: formatJson,
  md: formatMarkdown,
  html: formatHtml,
} as const satisfies Record<ReportFormatName, ReportFormatter>;
