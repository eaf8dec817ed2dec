// Inline suppressions end to end: comments read by the real analyser from a
// project (the worker-writes failing fixture with block comments added),
// applied by the engine. Block comments decorated JSDoc-style (a `*` at the
// start of each further line) name only the rules they name.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSuppressions } from '../../src/analysis/suppressions.js';
import { ts } from '../../src/analysis/typescript.cjs';
import { loadAnalyzer } from '../../src/lint/analyzer.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { lint } from '../../src/lint/engine.js';

const WORKER_WRITES = fileURLToPath(
  new URL('../fixtures/rules/worker-writes/failing/', import.meta.url),
);
let project: string;

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'store-lint-block-suppression-'));
  await cp(WORKER_WRITES, project, { recursive: true });
  const file = join(project, 'src/stores/positions.ts');
  const lines = (await readFile(file, 'utf8')).split('\n');
  // Above the insert (now line 11) and the update (now line 20) of the reader's store.
  lines.splice(
    8,
    0,
    '        /* store-lint-disable-next-line unknown-table',
    '         * -- the reader owns this table */',
  );
  lines.splice(18, 0, '        /* store-lint-disable-next-line * */');
  await writeFile(file, lines.join('\n'));
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

describe('inline suppressions', () => {
  it('ignores the `*` decoration of block comment lines, and never reads a named `*` as every rule', async () => {
    const config = await loadConfig({ cwd: project });
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
