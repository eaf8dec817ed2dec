// Test support: runs one rule (through the engine, so messages are rendered
// and placeholders checked) and returns what tests assert on.
import type { StoreLintConfig } from '../../src/analysis/config.js';
import type { StoreModel } from '../../src/analysis/model.js';
import { lint, type LintMessage } from '../../src/lint/engine.js';
import type { Rule } from '../../src/lint/rule.js';

export interface Reported {
  readonly messageId: string;
  readonly line: number;
  readonly file: string;
  readonly message: string;
  readonly subject: LintMessage['subject'];
}

export function check(
  rule: Rule,
  m: StoreModel,
  config: StoreLintConfig | null = null,
): Reported[] {
  return lint(m, { rules: [rule], config }).messages.map((x) => ({
    messageId: x.messageId,
    line: x.location.line,
    file: x.location.file,
    message: x.message,
    subject: x.subject,
  }));
}

/** `[messageId, line]` pairs, for compact assertions. */
export function ids(rule: Rule, m: StoreModel): [string, number][] {
  return check(rule, m).map((r) => [r.messageId, r.line]);
}
