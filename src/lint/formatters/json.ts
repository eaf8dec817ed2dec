// ESLint's `json` result format: one entry per file with messages, so tools
// that read ESLint output (CI annotators, dashboards) read ours too.
import type { AppliedSuppression, LintMessage, LintReport } from '../engine.js';
import { absolutePath } from './paths.js';
import type { FormatContext } from './types.js';

export interface JsonMessage {
  readonly ruleId: string;
  readonly messageId: string;
  readonly severity: 1 | 2;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/** ESLint's `SuppressedLintMessage`: a message and what hid it. */
export interface JsonSuppressedMessage extends JsonMessage {
  readonly suppressions: readonly AppliedSuppression[];
}

export interface JsonResult {
  readonly filePath: string;
  readonly messages: readonly JsonMessage[];
  readonly suppressedMessages: readonly JsonSuppressedMessage[];
  readonly errorCount: number;
  readonly fatalErrorCount: number;
  readonly warningCount: number;
  readonly fixableErrorCount: number;
  readonly fixableWarningCount: number;
  readonly usedDeprecatedRules: readonly never[];
}

function jsonMessage(m: LintMessage): JsonMessage {
  return {
    ruleId: m.ruleId,
    messageId: m.messageId,
    severity: m.severity,
    message: m.message,
    line: m.location.line,
    column: m.location.column,
    endLine: m.location.endLine,
    endColumn: m.location.endColumn,
  };
}

export function jsonResults(report: LintReport): JsonResult[] {
  // Keyed by the project-relative file, in the report's (sorted) file order;
  // a file whose findings are all suppressed is listed too, as ESLint does.
  const byFile = new Map<
    string,
    { messages: JsonMessage[]; suppressed: JsonSuppressedMessage[] }
  >();
  const entry = (file: string) => {
    let e = byFile.get(file);
    if (!e) byFile.set(file, (e = { messages: [], suppressed: [] }));
    return e;
  };
  for (const m of report.messages) entry(m.location.file).messages.push(jsonMessage(m));
  for (const m of report.suppressed) {
    entry(m.location.file).suppressed.push({ ...jsonMessage(m), suppressions: m.suppressions });
  }
  return [...byFile]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([file, { messages, suppressed }]) => ({
      filePath: absolutePath(report.root, file),
      messages,
      suppressedMessages: suppressed,
      errorCount: messages.filter((m) => m.severity === 2).length,
      fatalErrorCount: 0,
      warningCount: messages.filter((m) => m.severity === 1).length,
      fixableErrorCount: 0,
      fixableWarningCount: 0,
      usedDeprecatedRules: [],
    }));
}

export function formatJson(report: LintReport, _context?: FormatContext): string {
  return JSON.stringify(jsonResults(report));
}
