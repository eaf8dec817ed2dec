// Golden files: the Markdown, json-summary and full JSON report of the
// largest app in the repository, examples/chat (or, while it has no config or
// does not analyse, the largest rule fixture project). A change to the
// report, the analyser or the example shows up here as a diff to review;
// UPDATE_GOLDEN=1 rewrites the files.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { StoreModel } from '../../src/analysis/model.js';
import { loadAnalyzer } from '../../src/lint/analyzer.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { computeCoverage, defaultContext, reportFormatters } from '../../src/report/index.js';

const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));
const CHAT = fileURLToPath(new URL('../../examples/chat/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/rules/', import.meta.url));
const UPDATE = ['1', 'true'].includes(process.env.UPDATE_GOLDEN ?? '');

async function analyse(dir: string): Promise<StoreModel> {
  const { analyzeProject } = await loadAnalyzer();
  return analyzeProject(await loadConfig({ cwd: dir }));
}

function sourceLines(dir: string): number {
  let n = 0;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) n += entry === 'node_modules' ? 0 : sourceLines(path);
    else if (entry.endsWith('.ts')) n += readFileSync(path, 'utf8').split('\n').length;
  }
  return n;
}

/** examples/chat when it has a config and analyses; else the rule fixture with the most code. */
async function subject(): Promise<{ name: string; model: StoreModel }> {
  if (existsSync(join(CHAT, 'store-lint.config.json'))) {
    try {
      return { name: 'chat', model: await analyse(CHAT) };
    } catch (error) {
      console.warn(`examples/chat does not analyse, using the largest fixture: ${String(error)}`);
    }
  }
  const projects = readdirSync(FIXTURES).flatMap((rule) =>
    ['failing', 'passing', '.']
      .map((v) => join(FIXTURES, rule, v))
      .filter((d) => existsSync(join(d, 'store-lint.config.json'))),
  );
  const largest = projects.sort((a, b) => sourceLines(b) - sourceLines(a))[0]!;
  return { name: basename(largest.replace(/\/\.?$/, '')), model: await analyse(largest) };
}

/** Golden files end in `.golden`, so that formatters (prettier) leave the exact output alone. */
async function expectGolden(file: string, actual: string): Promise<void> {
  const path = join(GOLDEN, `${file}.golden`);
  if (UPDATE) {
    await mkdir(GOLDEN, { recursive: true });
    await writeFile(path, actual);
    return;
  }
  expect(
    existsSync(path),
    `${path} is missing: run UPDATE_GOLDEN=1 npx vitest run test/report/golden.test.ts`,
  ).toBe(true);
  expect(actual, `${file} differs from the golden file (UPDATE_GOLDEN=1 rewrites it)`).toBe(
    await readFile(path, 'utf8'),
  );
}

describe('golden report', { timeout: 180_000 }, () => {
  it('of the largest app: Markdown, json-summary and JSON', async () => {
    const { name, model } = await subject();
    const coverage = computeCoverage(model);
    expect(coverage.totals.invalidations.total).toBeGreaterThan(0);
    const context = defaultContext({ project: name, toolVersion: 'golden' });
    await expectGolden(`${name}.coverage.md`, reportFormatters.md(coverage, context));
    await expectGolden(
      `${name}.coverage-summary.json`,
      reportFormatters['json-summary'](coverage, context),
    );
    await expectGolden(`${name}.coverage.json`, reportFormatters.json(coverage, context));
  });
});
