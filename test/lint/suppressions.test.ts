// Inline suppressions end to end: comments read by the real analyser from a
// fixture project, applied by the engine. Block comments decorated JSDoc-style
// (a `*` at the start of each further line) name only the rules they name.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findSuppressions } from '../../src/analysis/suppressions.js';
import { ts } from '../../src/analysis/typescript.cjs';
import { loadAnalyzer } from '../../src/lint/analyzer.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { lint } from '../../src/lint/engine.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/outputs/block-suppression/', import.meta.url));

describe('inline suppressions', () => {
  it('ignores the `*` decoration of block comment lines, and never reads a named `*` as every rule', async () => {
    const config = await loadConfig({ cwd: FIXTURE });
    const model = await (await loadAnalyzer()).analyzeProject(config);
    expect(
      model.suppressions.map((s) => [s.ruleId, s.reason, s.location.line, s.appliesToLine]),
    ).toEqual([
      ['unknown-table', 'the reader owns this table', 9, 11],
      ['"*"', null, 19, 20],
    ]);
    const report = lint(model, { config });
    expect(report.messages.map((m) => [m.ruleId, m.messageId, m.location.line])).toEqual([
      // The comment names `unknown-table` only: the write stays reported.
      ['unused-disable', 'unused', 9],
      ['worker-writes', 'write', 11],
      ['unused-disable', 'unknownRule', 19],
      ['worker-writes', 'write', 20],
    ]);
    expect(report.suppressedInline).toBe(0);
  });

  it('reads JSDoc-style openings: `/** marker` and a first line holding only `*`', () => {
    const text = [
      'const a = 1;',
      '/** store-lint-disable-next-line worker-writes */',
      'const b = 2;',
      '/*',
      ' * store-lint-disable-next-line unknown-table -- generated',
      ' */',
      'const c = 3;',
      '',
    ].join('\n');
    const sf = ts.createSourceFile('/p/src/a.ts', text, ts.ScriptTarget.Latest, true);
    const found = findSuppressions({ abs: '/p/src/a.ts', rel: 'src/a.ts', sf });
    expect(found.map((x) => [x.ruleId, x.reason, x.appliesToLine])).toEqual([
      ['worker-writes', null, 3],
      ['unknown-table', 'generated', 7],
    ]);
  });
});
