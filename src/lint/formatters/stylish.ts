// ESLint's default output: a header per file, then aligned
// `line:col  severity  message  rule` rows, then a summary line.
import { Chalk } from 'chalk';
import type { LintMessage, LintReport } from '../engine.js';
import { displayPath } from './paths.js';
import type { FormatContext } from './types.js';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatStylish(report: LintReport, context: FormatContext): string {
  const c = new Chalk({ level: context.color ? 1 : 0 });
  const byFile = new Map<string, LintMessage[]>();
  for (const m of report.messages) {
    const file = displayPath(report.root, m.location.file, context.cwd);
    byFile.set(file, [...(byFile.get(file) ?? []), m]);
  }
  let out = '';
  for (const [file, messages] of byFile) {
    const rows = messages.map((m) => ({
      position: `${m.location.line}:${m.location.column}`,
      severity: m.severity === 2 ? 'error' : 'warning',
      message: m.message.replace(/\s*\n\s*/g, ' '),
      ruleId: m.ruleId,
    }));
    const width = (key: 'position' | 'severity') =>
      rows.reduce((w, r) => Math.max(w, r[key].length), 0);
    const positionWidth = width('position');
    const severityWidth = width('severity');
    out += `\n${c.underline(file)}\n`;
    for (const r of rows) {
      const severity = r.severity.padEnd(severityWidth);
      out +=
        `  ${c.dim(r.position.padEnd(positionWidth))}  ` +
        `${r.severity === 'error' ? c.red(severity) : c.yellow(severity)}  ` +
        `${r.message}  ${c.dim(r.ruleId)}\n`;
    }
  }
  const total = report.errorCount + report.warningCount;
  if (total > 0) {
    const summary =
      `\u2716 ${plural(total, 'problem')} ` +
      `(${plural(report.errorCount, 'error')}, ${plural(report.warningCount, 'warning')})`;
    out += `\n${report.errorCount ? c.red.bold(summary) : c.yellow.bold(summary)}\n`;
  }
  if (report.suppressedByBaseline > 0) {
    out += `${total ? '' : '\n'}${c.dim(`${plural(report.suppressedByBaseline, 'known finding')} suppressed by the baseline`)}\n`;
  }
  return out;
}
