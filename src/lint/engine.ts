// The lint engine: runs the enabled rules over a model, applies severities,
// inline suppressions and the baseline, then runs `unused-disable` on what
// went unused, and returns a results model. Formatters turn that model into
// text; nothing here prints.
import { relative } from 'node:path';
import type { Severity, StoreLintConfig } from '../analysis/config.js';
import type { SourceLocation, StoreModel, Suppression } from '../analysis/model.js';
import { baselineKeyOf, keyString, type Baseline } from './baseline.js';
import {
  emptyContext,
  type FindingSubject,
  type Rule,
  type RuleContext,
  type RuleDescriptor,
  type StaleBaselineEntry,
} from './rule.js';
import { rules as allRules, UNUSED_DISABLE } from './rules/index.js';

export interface LintMessage {
  readonly ruleId: string;
  readonly messageId: string;
  /** 1 = warning, 2 = error (ESLint's numbers). */
  readonly severity: 1 | 2;
  readonly message: string;
  readonly location: SourceLocation;
  readonly subject: FindingSubject;
}

/** Why a finding is hidden, as ESLint records it: an inline comment, or the baseline file. */
export interface AppliedSuppression {
  readonly kind: 'directive' | 'file';
  /** The comment's `-- reason` ('' without one; always '' for the baseline). */
  readonly justification: string;
}

/** A finding hidden by a suppression (ESLint's `SuppressedLintMessage`). */
export interface SuppressedMessage extends LintMessage {
  readonly suppressions: readonly AppliedSuppression[];
}

export interface LintReport {
  /** Absolute project root; message locations are relative to it. */
  readonly root: string;
  /** Sorted by file, line, column, rule. */
  readonly messages: readonly LintMessage[];
  readonly errorCount: number;
  readonly warningCount: number;
  /** Findings hidden by `store-lint-disable-next-line`. */
  readonly suppressedInline: number;
  /** Findings hidden by the baseline. */
  readonly suppressedByBaseline: number;
  /** The findings hidden inline or by the baseline, sorted like `messages`. */
  readonly suppressed: readonly SuppressedMessage[];
  /** The rules that ran, with their effective severity (for SARIF's rule table). */
  readonly rules: readonly { readonly rule: RuleDescriptor; readonly severity: 'warn' | 'error' }[];
  /** Every finding before the baseline was applied (what `--update-baseline` writes). */
  readonly unbaselined: readonly LintMessage[];
}

export interface LintOptions {
  readonly config?: StoreLintConfig | null;
  /** The rule set (default: every rule). */
  readonly rules?: readonly Rule[];
  readonly baseline?: Baseline | null;
}

/** Replaces `{{name}}` with `data.name`; a missing value is a bug in the rule. */
export function interpolate(
  template: string,
  data: Readonly<Record<string, string | number>>,
  ruleId = '?',
): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => {
    const value = data[name];
    if (value === undefined)
      throw new Error(`store-lint rule ${ruleId}: message placeholder {{${name}}} has no value`);
    return String(value);
  });
}

function severityOf(rule: Rule, config: StoreLintConfig | null | undefined): Severity {
  return config?.rules[rule.id] ?? rule.meta.defaultSeverity;
}

function compareLocations(a: LintMessage, b: LintMessage): number {
  return (
    (a.location.file < b.location.file ? -1 : a.location.file > b.location.file ? 1 : 0) ||
    a.location.line - b.location.line ||
    a.location.column - b.location.column ||
    (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

function run(
  rule: Rule,
  model: StoreModel,
  context: RuleContext,
  severity: 'warn' | 'error',
): LintMessage[] {
  const template: Readonly<Record<string, string>> = rule.meta.messages;
  return rule.check(model, context).map((f) => {
    const text = template[f.messageId];
    if (text === undefined)
      throw new Error(`store-lint rule ${rule.id}: unknown messageId ${f.messageId}`);
    return {
      ruleId: rule.id,
      messageId: f.messageId,
      severity: severity === 'error' ? 2 : 1,
      message: interpolate(text, f.data, rule.id),
      location: f.location,
      subject: f.subject,
    };
  });
}

export function lint(model: StoreModel, options: LintOptions = {}): LintReport {
  const config = options.config ?? null;
  const ruleSet = options.rules ?? allRules;
  const knownRuleIds = new Set(allRules.map((r) => r.id));
  for (const r of ruleSet) knownRuleIds.add(r.id);
  const enabled = ruleSet
    .map((rule) => ({ rule, severity: severityOf(rule, config) }))
    .filter((r): r is { rule: Rule; severity: 'warn' | 'error' } => r.severity !== 'off');
  const disabledRuleIds = new Set(
    [...knownRuleIds].filter((id) => !enabled.some((e) => e.rule.id === id)),
  );

  const baseContext = emptyContext({ config, knownRuleIds, disabledRuleIds });
  let messages: LintMessage[] = [];
  for (const { rule, severity } of enabled) {
    if (rule.id === UNUSED_DISABLE) continue;
    // A loop, not push(...): a rule can report more findings than a call takes arguments.
    for (const m of run(rule, model, baseContext, severity)) messages.push(m);
  }

  // Inline suppressions: same file, same rule, the line the comment names.
  const usedSuppressions = new Set<Suppression>();
  const byLine = new Map<string, Suppression[]>();
  for (const s of model.suppressions) {
    const key = `${s.location.file}\0${s.appliesToLine}\0${s.ruleId}`;
    byLine.set(key, [...(byLine.get(key) ?? []), s]);
  }
  const before = messages.length;
  const suppressed: SuppressedMessage[] = [];
  messages = messages.filter((m) => {
    const hits = [
      ...(byLine.get(`${m.location.file}\0${m.location.line}\0${m.ruleId}`) ?? []),
      // A comment naming no rule suppresses every rule on its line.
      ...(byLine.get(`${m.location.file}\0${m.location.line}\0*`) ?? []),
    ];
    if (hits.length === 0) return true;
    for (const s of hits) usedSuppressions.add(s);
    suppressed.push({
      ...m,
      suppressions: hits.map((s) => ({ kind: 'directive', justification: s.reason ?? '' })),
    });
    return false;
  });
  const suppressedInline = before - messages.length;
  const unbaselined = [...messages].sort(compareLocations);

  // The baseline: identity keys, never lines.
  const staleBaselineEntries: StaleBaselineEntry[] = [];
  let suppressedByBaseline = 0;
  if (options.baseline) {
    const baseline = options.baseline;
    const wanted = new Map(baseline.entries.map((e) => [keyString(e), e]));
    const used = new Set<string>();
    messages = messages.filter((m) => {
      const key = keyString(baselineKeyOf(m.ruleId, m.subject));
      if (!wanted.has(key)) return true;
      used.add(key);
      suppressedByBaseline++;
      // ESLint's kind for its suppressions file, the counterpart of a baseline.
      suppressed.push({ ...m, suppressions: [{ kind: 'file', justification: '' }] });
      return false;
    });
    const file = relative(model.root, baseline.file).split('\\').join('/');
    for (const entry of baseline.entries) {
      if (used.has(keyString(entry))) continue;
      // An entry for a rule switched off may match again once it is back on.
      if (disabledRuleIds.has(entry.rule) && knownRuleIds.has(entry.rule)) continue;
      staleBaselineEntries.push({
        rule: entry.rule,
        store: entry.store,
        method: entry.method,
        table: entry.table,
        location: { file, line: entry.line, column: 1, endLine: entry.line, endColumn: 1 },
      });
    }
  }

  const unusedRule = enabled.find((e) => e.rule.id === UNUSED_DISABLE);
  if (unusedRule) {
    const context = { ...baseContext, usedSuppressions, staleBaselineEntries };
    for (const m of run(unusedRule.rule, model, context, unusedRule.severity)) messages.push(m);
  }

  messages.sort(compareLocations);
  suppressed.sort(compareLocations);
  return {
    root: model.root,
    messages,
    errorCount: messages.filter((m) => m.severity === 2).length,
    warningCount: messages.filter((m) => m.severity === 1).length,
    suppressedInline,
    suppressedByBaseline,
    suppressed,
    rules: enabled,
    unbaselined,
  };
}
