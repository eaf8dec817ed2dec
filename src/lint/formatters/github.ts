// GitHub Actions workflow commands: one `::error …::` / `::warning …::` line
// per finding, which the runner turns into annotations on the diff. GitHub
// shows at most 10 errors and 10 warnings per step (extras are dropped
// silently), so a summary line says when some will not appear; upload the
// SARIF output for the full list.
import type { LintReport } from '../engine.js';
import { displayPath, githubBase } from './paths.js';
import type { FormatContext } from './types.js';

/** Escaping of a command's message (actions/toolkit `escapeData`). */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escaping of a command's property value (actions/toolkit `escapeProperty`). */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

const ANNOTATIONS_SHOWN_PER_KIND = 10;

export function formatGithub(report: LintReport, context: FormatContext): string {
  // A step with `working-directory:` runs below the repository root.
  const base = githubBase(context);
  const lines = report.messages.map((m) => {
    const props = [
      `file=${escapeProperty(displayPath(report.root, m.location.file, base))}`,
      `line=${m.location.line}`,
      `endLine=${m.location.endLine}`,
      `col=${m.location.column}`,
      `endColumn=${m.location.endColumn}`,
      `title=${escapeProperty(`store-lint/${m.ruleId}`)}`,
    ].join(',');
    return `::${m.severity === 2 ? 'error' : 'warning'} ${props}::${escapeData(m.message)}`;
  });
  if (
    report.errorCount > ANNOTATIONS_SHOWN_PER_KIND ||
    report.warningCount > ANNOTATIONS_SHOWN_PER_KIND
  ) {
    lines.push(
      `store-lint: ${report.errorCount} errors, ${report.warningCount} warnings; GitHub shows at most ` +
        `${ANNOTATIONS_SHOWN_PER_KIND} of each per step — upload --format sarif for the full list`,
    );
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
