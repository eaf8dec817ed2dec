// A lint report as JSON: what `--cache` keeps beside a model, and what a
// running `--watch` sends to a `--cache` run that asks it. Its rules are
// described by their id and metadata (plain data), so that reading one loads
// no rule: a run that a watch answers, or a cache hit, needs none.
import type { LintMessage, LintReport } from './engine.js';

/** A lint report as stored: the same data, with nothing but JSON in it. */
export type StoredReport = LintReport;

export function storeReport(report: LintReport): StoredReport {
  return {
    ...report,
    rules: report.rules.map(({ rule, severity }) => ({
      rule: { id: rule.id, meta: rule.meta },
      severity,
    })),
  };
}

/** The stored report; null when `stored` is something else (hand-edited, damaged, an older format). */
export function loadReport(stored: unknown): LintReport | null {
  return isStoredReport(stored) ? stored : null;
}

function isStoredReport(value: unknown): value is StoredReport {
  const r = value as Partial<Record<keyof StoredReport, unknown>> | null;
  const isMessage = (m: unknown): boolean => {
    const x = m as Partial<Record<keyof LintMessage, unknown>> | null;
    const at = x?.location as Partial<Record<string, unknown>> | undefined;
    return (
      typeof x?.ruleId === 'string' &&
      typeof x.messageId === 'string' &&
      (x.severity === 1 || x.severity === 2) &&
      typeof x.message === 'string' &&
      typeof x.subject === 'object' &&
      x.subject !== null &&
      typeof at?.file === 'string' &&
      typeof at.line === 'number' &&
      typeof at.column === 'number'
    );
  };
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.root === 'string' &&
    Array.isArray(r.messages) &&
    r.messages.every(isMessage) &&
    Array.isArray(r.unbaselined) &&
    r.unbaselined.every(isMessage) &&
    Array.isArray(r.suppressed) &&
    r.suppressed.every(
      (m: { suppressions?: unknown } | null) => isMessage(m) && Array.isArray(m?.suppressions),
    ) &&
    Array.isArray(r.rules) &&
    r.rules.every(
      (
        x: { rule?: { id?: unknown; meta?: { description?: unknown } }; severity?: unknown } | null,
      ) =>
        typeof x?.rule?.id === 'string' &&
        typeof x.rule.meta?.description === 'string' &&
        (x.severity === 'warn' || x.severity === 'error'),
    ) &&
    ['errorCount', 'warningCount', 'suppressedInline', 'suppressedByBaseline'].every(
      (k) => typeof r[k as keyof StoredReport] === 'number',
    )
  );
}
