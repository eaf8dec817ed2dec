// A lint report as JSON: what `--cache` keeps beside a model, and what a
// running `--watch` sends to a `--cache` run that asks it. Rules are stored
// by id and found again in this build, which must have them all.
import type { LintMessage, LintReport } from './engine.js';
import { rules as allRules } from './rules/index.js';

/** A lint report as stored: rules by id. */
export interface StoredReport extends Omit<LintReport, 'rules'> {
  readonly rules: readonly { readonly id: string; readonly severity: 'warn' | 'error' }[];
}

export function storeReport(report: LintReport): StoredReport {
  return { ...report, rules: report.rules.map((r) => ({ id: r.rule.id, severity: r.severity })) };
}

/**
 * The stored report with its rules again; null when `stored` is something
 * else (hand-edited, damaged) or names a rule this build lacks.
 */
export function loadReport(stored: unknown): LintReport | null {
  if (!isStoredReport(stored)) return null;
  const byId = new Map(allRules.map((r) => [r.id, r]));
  const rules: LintReport['rules'][number][] = [];
  for (const r of stored.rules) {
    const rule = byId.get(r.id);
    if (!rule) return null;
    rules.push({ rule, severity: r.severity });
  }
  return { ...stored, rules };
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
      (x: { id?: unknown; severity?: unknown } | null) =>
        typeof x?.id === 'string' && (x.severity === 'warn' || x.severity === 'error'),
    ) &&
    ['errorCount', 'warningCount', 'suppressedInline', 'suppressedByBaseline'].every(
      (k) => typeof r[k as keyof StoredReport] === 'number',
    )
  );
}
