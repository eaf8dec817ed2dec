import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { StoreLintConfig } from '../../src/analysis/config.js';
import { parseBaseline, serializeBaseline } from '../../src/lint/baseline.js';
import { interpolate, lint } from '../../src/lint/engine.js';
import { defineRule } from '../../src/lint/rule.js';
import { rules } from '../../src/lint/rules/index.js';
import { receiptsApp, RECEIPTS_LINES as L, ROOT } from './model-builder.js';

function config(ruleSeverities: StoreLintConfig['rules'] = {}): StoreLintConfig {
  return {
    root: ROOT,
    configPath: `${ROOT}/store-lint.config.json`,
    schema: ['schema/*.sql'],
    apps: {},
    stores: [],
    naming: 'snake_case',
    rules: ruleSeverities,
    tsconfig: 'tsconfig.json',
  };
}

const broken = () => receiptsApp({ handlerInvalidates: [] });
const summary = (r: ReturnType<typeof lint>) =>
  r.messages.map((m) => [m.ruleId, m.location.line, m.severity]);

describe('engine', () => {
  it('finds nothing in the clean receipts app, with every rule on', () => {
    const report = lint(receiptsApp().build());
    expect(report.messages).toEqual([]);
    expect(report.rules.map((r) => r.rule.id)).toEqual(rules.map((r) => r.id));
  });

  it('runs every rule, sorts by file and line, and counts by severity', () => {
    const report = lint(broken().build());
    expect(summary(report)).toEqual([
      ['cache-not-invalidated-on-worker', L.getReceiptsForRoom, 2],
      ['cache-not-invalidated-on-writer', L.insertReceipt + 1, 2],
    ]);
    expect(report.errorCount).toBe(2);
    expect(report.warningCount).toBe(0);
  });

  it('applies config severities and switches rules off', () => {
    const report = lint(broken().build(), {
      config: config({
        'cache-not-invalidated-on-worker': 'warn',
        'cache-not-invalidated-on-writer': 'off',
      }),
    });
    expect(summary(report)).toEqual([['cache-not-invalidated-on-worker', L.getReceiptsForRoom, 1]]);
    expect(report.rules.some((r) => r.rule.id === 'cache-not-invalidated-on-writer')).toBe(false);
  });

  it('suppresses a finding named by a disable comment on the line before, and counts it', () => {
    const m = broken()
      .suppress('cache-not-invalidated-on-worker', 'src/stores/receipts.ts', L.getReceiptsForRoom)
      .build();
    const report = lint(m);
    expect(summary(report)).toEqual([['cache-not-invalidated-on-writer', L.insertReceipt + 1, 2]]);
    expect(report.suppressedInline).toBe(1);
  });

  it('suppresses every rule with a comment naming none', () => {
    const m = broken().suppress('*', 'src/stores/receipts.ts', L.getReceiptsForRoom).build();
    expect(summary(lint(m))).toEqual([['cache-not-invalidated-on-writer', L.insertReceipt + 1, 2]]);
  });

  it('reports unused and unknown disables (unused-disable), and not those of rules switched off', () => {
    const m = receiptsApp()
      .suppress('worker-writes', 'src/stores/receipts.ts', 15)
      .suppress('worker-write', 'src/stores/receipts.ts', 25)
      .suppress('unknown-table', 'src/stores/receipts.ts', 45)
      .build();
    const report = lint(m, { config: config({ 'unknown-table': 'off' }) });
    expect(
      report.messages.map((x) => [x.ruleId, x.messageId, x.location.line, x.severity]),
    ).toEqual([
      ['unused-disable', 'unused', 14, 1],
      ['unused-disable', 'unknownRule', 24, 1],
    ]);
    expect(report.messages[1]!.message).toContain('did you mean `worker-writes`?');
  });

  it('hides baselined findings by identity and reports stale entries where they are in the file', () => {
    const text = serializeBaseline([
      {
        rule: 'cache-not-invalidated-on-worker',
        store: 'ReceiptsWorkerStore',
        method: 'getReceiptsForRoom',
        table: 'receipts',
      },
      { rule: 'worker-writes', store: 'Gone', method: 'gone', table: 't' },
    ]);
    const baseline = parseBaseline(text, `${ROOT}/store-lint-baseline.json`);
    const report = lint(broken().build(), { baseline });
    expect(
      report.messages.map((x) => [x.ruleId, x.messageId, x.location.file, x.location.line]),
    ).toEqual(
      [
        [
          'cache-not-invalidated-on-writer',
          'noHandler',
          'src/stores/receipts.ts',
          L.insertReceipt + 1,
        ],
        ['unused-disable', 'staleBaselineEntry', 'store-lint-baseline.json', 5],
      ].sort((a, b) => (String(a[2]) < String(b[2]) ? -1 : 1)),
    );
    expect(report.suppressedByBaseline).toBe(1);
    expect(report.unbaselined).toHaveLength(2);
  });

  it('says that a baseline entry names no rule, with a suggestion, as for a comment', () => {
    const baseline = parseBaseline(
      serializeBaseline([
        { rule: 'worker-write', store: 'X', method: 'y', table: 't' },
        { rule: 'no-such-thing', store: 'X', method: 'y', table: 't' },
      ]),
      `${ROOT}/b.json`,
    );
    expect(
      lint(receiptsApp().build(), { baseline }).messages.map((m) => [
        m.ruleId,
        m.messageId,
        m.location.line,
        m.message,
      ]),
    ).toEqual([
      [
        'unused-disable',
        'unknownBaselineRule',
        4,
        'baseline entry (no-such-thing, X, y, t) names no store-lint rule',
      ],
      [
        'unused-disable',
        'unknownBaselineRule',
        5,
        'baseline entry (worker-write, X, y, t) names no store-lint rule (did you mean `worker-writes`?)',
      ],
    ]);
  });

  it('keeps baseline entries of a rule switched off', () => {
    const baseline = parseBaseline(
      serializeBaseline([{ rule: 'worker-writes', store: 'X', method: 'y', table: 't' }]),
      `${ROOT}/b.json`,
    );
    expect(
      lint(receiptsApp().build(), { baseline, config: config({ 'worker-writes': 'off' }) })
        .messages,
    ).toEqual([]);
  });

  it('treats a rule that returns an unknown messageId or misses a placeholder as a bug', () => {
    const bad = defineRule({
      id: 'bad',
      meta: {
        description: 'd',
        defaultSeverity: 'error',
        messages: { m: 'needs {{x}}' },
        docs: 'docs/rules/bad.md',
      },
      check: (m) => [{ messageId: 'm', data: {}, location: m.stores[0]!.location, subject: {} }],
    });
    expect(() => lint(receiptsApp().build(), { rules: [bad] })).toThrow(/placeholder \{\{x\}\}/);
  });

  it('takes more findings than a function call takes arguments', () => {
    // A large codebase with a systematic mistake: spreading the findings
    // into push() overflowed the stack (RangeError) past ~120k of them.
    const n = 200_000;
    const many = defineRule({
      id: 'many',
      meta: {
        description: 'd',
        defaultSeverity: 'warn',
        messages: { m: 'finding {{i}}' },
        docs: 'docs/rules/many.md',
      },
      check: (m) =>
        Array.from({ length: n }, (_, i) => ({
          messageId: 'm',
          data: { i },
          location: { ...m.stores[0]!.location, line: i + 1 },
          subject: {},
        })),
    });
    const report = lint(receiptsApp().build(), { rules: [many] });
    expect(report.warningCount).toBe(n);
    expect(report.messages.at(-1)?.message).toBe(`finding ${n - 1}`);
  });

  it('interpolates placeholders', () => {
    expect(interpolate('`{{a}}` and {{ b }}', { a: 'x', b: 2 })).toBe('`x` and 2');
  });
});

describe('rule modules', () => {
  it('each has an id matching its doc page, a description, and messages', () => {
    for (const rule of rules) {
      expect(rule.meta.docs).toBe(`docs/rules/${rule.id}.md`);
      expect(rule.meta.description.length).toBeGreaterThan(20);
      expect(Object.keys(rule.meta.messages).length).toBeGreaterThan(0);
      expect(['warn', 'error']).toContain(rule.meta.defaultSeverity);
    }
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  });

  it('each has a doc page saying what it finds, why, a failing and a passing example', () => {
    for (const rule of rules) {
      const text = readFileSync(
        fileURLToPath(new URL(`../../${rule.meta.docs}`, import.meta.url)),
        'utf8',
      );
      expect(text.startsWith(`# ${rule.id}\n`)).toBe(true);
      expect(text).toContain(`**Default severity:** ${rule.meta.defaultSeverity}`);
      for (const section of [
        '## What it finds',
        '## Why it matters',
        '## Failing',
        '## Passing',
        '## Options',
      ]) {
        expect(text, `${rule.id}: ${section}`).toContain(section);
      }
    }
  });
});
