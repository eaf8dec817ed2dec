// Test support: checks that the coverage report and store-lint never
// disagree about a model.
// - Every uncovered pair (not skipped) is a finding lint shows: the rule and
//   place the pair names, about that cache (or that write) and table.
// - Every finding of the cache rules (`cache-not-invalidated-on-worker`,
//   `cache-not-invalidated-on-writer`, `unannounced-write`) is some
//   uncovered pair's finding.
// - A skipped pair's finding is one that an inline comment suppresses.
// - An unknown pair names its cause, which `analysis-unresolved` reports.
// - `stream-without-handler` reports exactly the announced streams no
//   worker app follows.
import { expect } from 'vitest';
import type { SourceLocation, StoreModel } from '../../src/analysis/model.js';
import { lint, type LintMessage } from '../../src/lint/engine.js';
import { allPairs } from '../../src/report/formatters/common.js';
import { computeCoverage, type CoverageModel, type PairCoverage } from '../../src/report/index.js';

export const CACHE_RULES = new Set([
  'cache-not-invalidated-on-worker',
  'cache-not-invalidated-on-writer',
  'unannounced-write',
]);

const sameLine = (a: SourceLocation, b: SourceLocation) => a.file === b.file && a.line === b.line;

interface Gap {
  readonly app: string;
  readonly cache: string;
  readonly table: string;
  readonly pair: PairCoverage;
}

/** Whether `m` is the finding that reports `gap` (same rule, place and subject). */
function reports(m: LintMessage, gap: Gap): boolean {
  const f = gap.pair.missing?.finding;
  if (!f || m.ruleId !== f.ruleId || !sameLine(m.location, f.location)) return false;
  const s = m.subject;
  switch (m.ruleId) {
    case 'cache-not-invalidated-on-worker':
      return s.cache === gap.cache && s.table === gap.table && (s.apps ?? []).includes(gap.app);
    case 'cache-not-invalidated-on-writer':
      return (
        s.store === gap.pair.writer.store &&
        s.method === gap.pair.writer.method &&
        s.table === gap.table &&
        (s.apps ?? []).includes(gap.app)
      );
    case 'unannounced-write':
      return (
        s.store === gap.pair.writer.store &&
        s.method === gap.pair.writer.method &&
        s.table === gap.table
      );
    default:
      // invalidation-key-mismatch, invalidation-before-commit: the invalidation of this cache.
      return s.cache === gap.cache;
  }
}

export interface Agreement {
  readonly coverage: CoverageModel;
  readonly messages: readonly LintMessage[];
  readonly gaps: number;
}

export function expectAgreement(model: StoreModel, label = 'model'): Agreement {
  const coverage = computeCoverage(model);
  const report = lint(model);
  const unsuppressed = lint({ ...model, suppressions: [] });
  const pairs = [...allPairs(coverage)];
  const gaps = pairs.filter((p) => p.pair.status === 'uncovered' && !p.pair.skipped);

  for (const gap of gaps) {
    const found = report.messages.some((m) => reports(m, gap));
    expect(
      found,
      `${label}: uncovered pair ${gap.pair.id} has no ${gap.pair.missing?.finding?.ruleId} finding`,
    ).toBe(true);
  }
  for (const m of report.messages.filter((x) => CACHE_RULES.has(x.ruleId))) {
    const found = gaps.some((gap) => reports(m, gap));
    expect(
      found,
      `${label}: ${m.ruleId} at ${m.location.file}:${m.location.line} is no uncovered pair (${m.message})`,
    ).toBe(true);
  }
  for (const skipped of pairs.filter((p) => p.pair.skipped)) {
    expect(
      report.messages.some((m) => reports(m, skipped)),
      `${label}: skipped ${skipped.pair.id} is shown by lint`,
    ).toBe(false);
    expect(
      unsuppressed.messages.some((m) => reports(m, skipped)),
      `${label}: skipped ${skipped.pair.id} is no finding`,
    ).toBe(true);
  }
  // Unknown pairs name their cause and no finding: lint is silent about them
  // (any cache-rule finding on the same cache and table is another pair's, as
  // the loop above proves), and `analysis-unresolved` reports what is unresolved.
  for (const u of pairs.filter((p) => p.pair.status === 'unknown')) {
    expect(u.pair.missing?.kind, `${label}: ${u.pair.id}`).toBe('unresolved');
    expect(u.pair.missing?.finding, `${label}: ${u.pair.id}`).toBeNull();
    const at = u.pair.missing?.location;
    if (at && model.unresolved.some((x) => sameLine(x.location, at))) {
      expect(
        unsuppressed.messages.some(
          (m) => m.ruleId === 'analysis-unresolved' && sameLine(m.location, at),
        ),
        `${label}: ${u.pair.id}: no analysis-unresolved finding at its cause`,
      ).toBe(true);
    }
  }

  const hasWorkers = model.apps.some((a) => a.role === 'worker');
  if (hasWorkers && coverage.apps.every((a) => a.unknownMixins.length === 0)) {
    const unfollowed = coverage.streams
      .filter((s) => s.announced && coverage.unfollowedStreams.includes(s.name))
      .map((s) => s.name)
      .sort();
    const reported = report.messages
      .filter((m) => m.ruleId === 'stream-without-handler')
      .map((m) => m.subject.stream ?? '')
      .sort();
    expect(reported, `${label}: stream-without-handler vs unfollowed streams`).toEqual(unfollowed);
  }
  return { coverage, messages: report.messages, gaps: gaps.length };
}
