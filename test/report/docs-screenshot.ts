// Regenerates docs/report.png, the screenshot docs/report.md shows: the HTML
// report of examples/chat in Debian's chromium, with one cell's chain of
// facts open. Run: npx tsx test/report/docs-screenshot.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadAnalyzer } from '../../src/lint/analyzer.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { computeCoverage, defaultContext, writeReport } from '../../src/report/index.js';
import { launchChromium } from './browser.js';

const CHAT = fileURLToPath(new URL('../../examples/chat/', import.meta.url));
const OUT = fileURLToPath(new URL('../../docs/report.png', import.meta.url));

const { analyzeProject } = await loadAnalyzer();
const coverage = computeCoverage(await analyzeProject(await loadConfig({ cwd: CHAT })));
const dir = await mkdtemp(join(tmpdir(), 'store-lint-docs-'));
const browser = await launchChromium({ width: 1400, height: 1000 });
try {
  await writeReport(
    coverage,
    dir,
    ['html'],
    defaultContext({ project: 'examples/chat', sourceBase: '../' }),
  );
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.goto(pathToFileURL(join(dir, 'index.html')).href);
  await page
    .locator('tr.cache-row[data-cache="getReceiptsForRoom"] td.cell[data-app="reader"] a')
    .click();
  await page.screenshot({ path: OUT });
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
  await rm(dir, { recursive: true, force: true });
}
