// ESLint's `json` result format: one entry per file with messages, so tools
// that read ESLint output (CI annotators, dashboards) read ours too.
import type { LintMessage, LintReport } from '../engine.js';
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

export interface JsonResult {
  readonly filePath: string;
  readonly messages: readonly JsonMessage[];
  readonly suppressedMessages: readonly never[];
  readonly errorCount: number;
  readonly fatalErrorCount: number;
  readonly warningCount: number;
  readonly fixableErrorCount: number;
  readonly fixableWarningCount: number;
  readonly usedDeprecatedRules: readonly never[];
}

export function jsonResults(report: LintReport): JsonResult[] {
  const byFile = new Map<string, LintMessage[]>();
  for (const m of report.messages) {
    const file = absolutePath(report.root, m.location.file);
    byFile.set(file, [...(byFile.get(file) ?? []), m]);
  }
  return [...byFile].map(([filePath, messages]) => ({
    filePath,
    messages: messages.map((m) => ({
      ruleId: m.ruleId,
      messageId: m.messageId,
      severity: m.severity,
      message: m.message,
      line: m.location.line,
      column: m.location.column,
      endLine: m.location.endLine,
      endColumn: m.location.endColumn,
    })),
    suppressedMessages: [],
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
