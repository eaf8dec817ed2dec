// What a store-lint rule is: an id, metadata (description, default severity,
// messages keyed by message id with `{{placeholders}}`, a doc page) and a pure
// check over the extracted model that returns findings. The engine turns
// findings into messages; rules never format output or read files.
import type { StoreLintConfig } from '../analysis/config.js';
import type { SourceLocation, StoreModel, Suppression } from '../analysis/model.js';

/** What a finding is about: the identity the baseline and SARIF fingerprints key on. */
export interface FindingSubject {
  /** Apps the finding concerns (a composition shared by several apps lists them all). */
  readonly apps?: readonly string[];
  readonly composition?: string;
  /** The store (mixin or class name) holding `method`. */
  readonly store?: string;
  readonly method?: string;
  readonly table?: string;
  readonly cache?: string;
  readonly stream?: string;
}

export interface Finding<M extends string = string> {
  readonly messageId: M;
  /** Values for the message's `{{placeholders}}`. */
  readonly data: Readonly<Record<string, string | number>>;
  readonly location: SourceLocation;
  readonly subject: FindingSubject;
}

export interface RuleMeta<M extends string = string> {
  readonly description: string;
  readonly defaultSeverity: 'warn' | 'error';
  readonly messages: Readonly<Record<M, string>>;
  /** The doc page, relative to the repository root. */
  readonly docs: string;
}

/** A baseline entry that matched no finding (reported by `unused-disable`). */
export interface StaleBaselineEntry {
  readonly rule: string;
  readonly store: string;
  readonly method: string;
  readonly table: string;
  readonly location: SourceLocation;
}

export interface RuleContext {
  readonly config: StoreLintConfig | null;
  /** Inline suppressions that suppressed at least one finding (set by the engine before `unused-disable` runs). */
  readonly usedSuppressions: ReadonlySet<Suppression>;
  /** Baseline entries that matched nothing (set by the engine before `unused-disable` runs). */
  readonly staleBaselineEntries: readonly StaleBaselineEntry[];
  /** Every rule id the engine knows, to tell an unknown rule in a suppression from an unused one. */
  readonly knownRuleIds: ReadonlySet<string>;
  /** Rule ids that are switched off by the config (their suppressions are not "unused"). */
  readonly disabledRuleIds: ReadonlySet<string>;
}

export interface Rule<M extends string = string> {
  readonly id: string;
  readonly meta: RuleMeta<M>;
  check(model: StoreModel, context: RuleContext): readonly Finding<M>[];
}

/** What a report says of a rule it ran: no code, so that a stored report needs none. */
export type RuleDescriptor = Pick<Rule, 'id' | 'meta'>;

/** Identity helper that keeps a rule's message ids typed. */
export function defineRule<M extends string>(rule: Rule<M>): Rule<M> {
  return rule;
}

/** An empty context, for running a rule outside the engine (tests, reports). */
export function emptyContext(overrides: Partial<RuleContext> = {}): RuleContext {
  return {
    config: null,
    usedSuppressions: new Set(),
    staleBaselineEntries: [],
    knownRuleIds: new Set(),
    disabledRuleIds: new Set(),
    ...overrides,
  };
}
