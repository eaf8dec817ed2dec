// End to end over the rule fixtures: each tiny project under
// test/fixtures/rules/<rule-id>/{failing,passing} is loaded with the real
// config loader, analysed by the real analyser and linted with every rule;
// the findings must equal its expected.json (`[{ruleId, line}]`). Every rule
// has both fixtures; a failing fixture reports only its own rule, a passing
// one nothing at all. The clean app reports nothing either.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadAnalyzer } from '../../src/lint/analyzer.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { lint } from '../../src/lint/engine.js';
import { ruleIds } from '../../src/lint/rules/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/rules/', import.meta.url));

interface Expected {
  readonly ruleId: string;
  readonly line: number;
}

async function findings(dir: string): Promise<Expected[]> {
  const config = await loadConfig({ cwd: dir });
  const { analyzeProject } = await loadAnalyzer();
  const report = lint(await analyzeProject(config), { config });
  return report.messages
    .map((m) => ({ ruleId: m.ruleId, line: m.location.line }))
    .sort((a, b) => a.line - b.line || (a.ruleId < b.ruleId ? -1 : 1));
}

function expected(dir: string): Expected[] {
  return JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected[];
}

describe('rule fixtures', () => {
  for (const id of ruleIds) {
    describe(id, () => {
      it('has a failing fixture that reports this rule, where expected', async () => {
        const dir = join(FIXTURES, id, 'failing');
        expect(existsSync(join(dir, 'expected.json'))).toBe(true);
        const want = expected(dir);
        expect(want.length).toBeGreaterThan(0);
        expect(want.every((e) => e.ruleId === id)).toBe(true);
        expect(await findings(dir)).toEqual(want);
      });

      it('has a passing fixture that reports nothing', async () => {
        const dir = join(FIXTURES, id, 'passing');
        expect(expected(dir)).toEqual([]);
        expect(await findings(dir)).toEqual([]);
      });
    });
  }

  it('says what in the database writes a table no statement of the writer names', async () => {
    const dir = join(FIXTURES, 'cache-not-invalidated-on-worker', 'failing');
    const config = await loadConfig({ cwd: dir });
    const { analyzeProject } = await loadAnalyzer();
    const messages = lint(await analyzeProject(config), { config }).messages;
    const at = (line: number) => messages.find((m) => m.location.line === line)?.message;
    expect(at(33)).toContain(
      '`ReceiptsStore.insertReceipt` writes it (in the database, through trigger `receipts_counted` on `receipts`) on stream `receipts`',
    );
    expect(at(55)).toContain(
      '`ReceiptsStore.forgetReceipts` writes it (in the database, through foreign key `receipt_flags_room_id_user_id_fkey` referencing `receipts`) on stream `receipts`',
    );
    // A table the writer's own statements write gets no such words.
    expect(at(11)).toContain('`ReceiptsStore.forgetReceipts` writes it on stream `receipts`');
  });

  it('reports nothing on the clean app', async () => {
    const dir = join(FIXTURES, 'clean-app');
    expect(expected(dir)).toEqual([]);
    expect(await findings(dir)).toEqual([]);
  });
});
