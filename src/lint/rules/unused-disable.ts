// A suppression that suppresses nothing: an inline
// `// store-lint-disable-next-line <rule> -- reason` whose next line has no
// such finding, one naming a rule that does not exist, a comment that looks
// like a directive but is none (`// store-lint-disable-line`), or a baseline
// entry that matches no finding any more (one naming a rule that does not
// exist is told so, with a suggestion, as the comment is: it is a typo, not
// debt that was fixed). Stale suppressions would silently hide the next real
// finding at that place, so they are reported (as warnings by default, like
// ESLint's unused disable directives). The engine runs this rule last, after
// it has applied every suppression.
import { defineRule, type Finding } from '../rule.js';
import { didYouMean } from '../suggest.js';

export const unusedDisable = defineRule({
  id: 'unused-disable',
  meta: {
    description:
      'An inline `store-lint-disable-next-line` that suppresses nothing or names no rule, or a baseline entry that matches no finding or names no rule.',
    defaultSeverity: 'warn',
    messages: {
      unused:
        '`store-lint-disable-next-line{{rule}}` suppresses nothing on line {{line}}; remove it',
      unknownRule: '`store-lint-disable-next-line {{rule}}` names no store-lint rule{{suggestion}}',
      unknownDirective:
        '`{{directive}}` is no store-lint directive and suppresses nothing; the one there is: `// store-lint-disable-next-line <rule> -- reason` on the line before the finding',
      staleBaselineEntry:
        'baseline entry ({{rule}}, {{store}}, {{method}}, {{table}}) matches no finding any more; run with `--update-baseline` to drop it',
      unknownBaselineRule:
        'baseline entry ({{rule}}, {{store}}, {{method}}, {{table}}) names no store-lint rule{{suggestion}}',
    },
    docs: 'docs/rules/unused-disable.md',
  },
  check(model, context) {
    const findings: Finding<
      'unused' | 'unknownRule' | 'unknownDirective' | 'staleBaselineEntry' | 'unknownBaselineRule'
    >[] = [];
    const known = [...context.knownRuleIds];
    for (const s of model.suppressions) {
      if (context.usedSuppressions.has(s)) continue;
      if (s.directive !== undefined) {
        findings.push({
          messageId: 'unknownDirective' as const,
          data: { directive: s.directive },
          location: s.location,
          subject: { method: s.directive },
        });
        continue;
      }
      if (s.ruleId !== '*' && !context.knownRuleIds.has(s.ruleId)) {
        findings.push({
          messageId: 'unknownRule' as const,
          data: { rule: s.ruleId, suggestion: didYouMean(s.ruleId, known) },
          location: s.location,
          subject: { method: s.ruleId },
        });
        continue;
      }
      // A rule switched off cannot use its suppressions; they are not stale.
      if (context.disabledRuleIds.has(s.ruleId)) continue;
      findings.push({
        messageId: 'unused' as const,
        data: { rule: s.ruleId === '*' ? '' : ` ${s.ruleId}`, line: s.appliesToLine },
        location: s.location,
        subject: { method: s.ruleId },
      });
    }
    for (const entry of context.staleBaselineEntries) {
      const unknown = !context.knownRuleIds.has(entry.rule);
      findings.push({
        messageId: unknown ? ('unknownBaselineRule' as const) : ('staleBaselineEntry' as const),
        data: {
          rule: entry.rule,
          store: entry.store || '-',
          method: entry.method || '-',
          table: entry.table || '-',
          suggestion: unknown ? didYouMean(entry.rule, known) : '',
        },
        location: entry.location,
        subject: { store: entry.store, method: entry.method, table: entry.table },
      });
    }
    return findings;
  },
});
