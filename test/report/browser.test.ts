// The HTML report in a real browser: Debian's chromium (never a downloaded
// one) driven by playwright-core opens the page from a file:// URL, checks
// the matrix counts, uses the filters, clicks a cell, and takes a screenshot
// that the test decodes (node:zlib) and checks for content. Without
// /usr/bin/chromium this fails in CI (CI=true) and is skipped locally.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeCoverage, defaultContext, writeReport } from '../../src/report/index.js';
import { model } from '../lint/model-builder.js';
import { chromiumAvailable, CHROMIUM, launchChromium, type Browser } from './browser.js';
import { galleryModel } from './models.js';
import { decodePng, pixelAt, pixelStats } from './png.js';

const inCI = ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
const available = chromiumAvailable();
const title = available
  ? 'HTML report in Debian chromium'
  : `HTML report in Debian chromium (skipped: ${CHROMIUM} is not installed; apt-get install -y chromium)`;

describe.skipIf(!available && !inCI)(title, { timeout: 90_000 }, () => {
  const coverage = computeCoverage(galleryModel());
  let dir: string;
  let browser: Browser | undefined;
  let page: Page;
  const requests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    expect(
      available,
      `${CHROMIUM} is missing: CI must install Debian's chromium (apt-get install -y chromium)`,
    ).toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'store-lint-report-'));
    await writeReport(
      coverage,
      dir,
      ['html'],
      defaultContext({ project: 'gallery', sourceBase: '../' }),
    );
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning')
        problems.push(`console ${m.type()}: ${m.text()}`);
    });
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const visible = (selector: string) => page.locator(selector).filter({ visible: true }).count();

  it('shows the app × cache matrix with the expected counts', async () => {
    expect(await page.locator('#matrix tbody tr.cache-row').count()).toBe(9);
    expect(await page.locator('#matrix thead th.col').allTextContents()).toEqual([
      'mainwriter · 62.5%',
      'statswriter · 0%',
      'readerworker · 42.86%',
      'pusherworker · 50%',
    ]);
    const byStatus = async (s: string) =>
      page.locator(`#matrix td.cell[data-status="${s}"]`).count();
    const inModel = (s: string) =>
      coverage.apps.flatMap((a) => a.caches).filter((k) => k.status === s).length;
    for (const [status, count] of [
      ['covered', 9],
      ['uncovered', 8],
      ['unknown', 2],
      ['partly', 0],
    ] as const) {
      expect(await byStatus(status), status).toBe(count);
      expect(inModel(status), status).toBe(count);
    }
    expect(await byStatus('absent')).toBe(9 * 4 - 19);
    expect(await page.locator('#f-count').textContent()).toBe('9 of 9 cached reads');
    expect(await page.locator('#total-pct').textContent()).toBe('50%');
  });

  it('filters by app, stream and store', async () => {
    await page.selectOption('#f-app', 'pusher');
    expect(await page.locator('#f-count').textContent()).toBe('4 of 9 cached reads');
    expect(await visible('#matrix thead th.col')).toBe(1);
    expect(await visible('#matrix tbody td.cell')).toBe(4);
    // The graph dims what does not run in the pusher.
    expect(await page.locator('#graph g.node.dim').count()).toBeGreaterThan(0);
    expect(await page.locator('#graph g.node.handler:not(.dim)').count()).toBe(1); // the runtime's

    await page.check('#f-gaps');
    expect(await page.locator('#f-count').textContent()).toBe('2 of 9 cached reads');
    await page.uncheck('#f-gaps');

    await page.selectOption('#f-stream', 'receipts');
    expect(await page.locator('#f-count').textContent()).toBe('1 of 9 cached reads');
    expect(await visible('#matrix tbody tr.cache-row')).toBe(1);
    await page.selectOption('#f-stream', '');

    await page.selectOption('#f-app', '');
    await page.selectOption('#f-store', 'ReceiptsWorkerStore');
    expect(await page.locator('#f-count').textContent()).toBe('2 of 9 cached reads');
    await page.selectOption('#f-store', '');
    expect(await page.locator('#f-count').textContent()).toBe('9 of 9 cached reads');
  });

  it('dims the graph by store and by "only gaps", as it does by app and stream', async () => {
    try {
      const lit = (selector: string) => page.locator(`#graph ${selector}:not(.dim)`);
      expect(await page.locator('#graph .dim').count()).toBe(0);

      await page.selectOption('#f-store', 'ReceiptsWorkerStore');
      const labels = (selector: string) =>
        page.locator(`#graph ${selector}:not(.dim) text.label`).allTextContents();
      expect(await labels('g.node.cache')).toEqual(['getLastReceipt', 'getReceiptsForRoom']);
      expect(await labels('g.node.stream')).toEqual(['receipts']);
      expect(await lit('path.edge').count()).toBe(3); // receipts → onReceipts → both caches
      await page.selectOption('#f-store', '');

      await page.check('#f-gaps');
      const shown = await visible('#matrix tbody tr.cache-row');
      expect(await lit('g.node.cache').count()).toBe(shown);
      expect(await lit('g.node.cache.s-covered').count()).toBe(0);
      expect(await page.locator('#graph g.node.cache.s-covered.dim').count()).toBeGreaterThan(0);
      await page.uncheck('#f-gaps');
      expect(await page.locator('#graph .dim').count()).toBe(0);
    } finally {
      // Leave the filters as the other tests expect them, pass or fail.
      await page.selectOption('#f-store', '');
      await page.uncheck('#f-gaps');
    }
  });

  it('opens the chain of facts and source locations of a clicked cell', async () => {
    expect(await visible('article.detail')).toBe(0);
    const cell = page.locator(
      'tr.cache-row[data-cache="getUnreadCount"] td.cell[data-app="pusher"]',
    );
    await cell.locator('a').click();
    expect(await cell.getAttribute('class')).toContain('selected');
    expect(await visible('article.detail')).toBe(1);
    const detail = page.locator('article.detail.active');
    expect(await detail.getAttribute('id')).toBe(new URL(page.url()).hash.slice(1));
    const text = (await detail.textContent()) ?? '';
    expect(text).toContain('getUnreadCount');
    expect(text).toContain('no handler in this app follows the stream');
    expect(text).toContain(
      'Reported by cache-not-invalidated-on-worker at src/stores/receipts-count.ts:270:11',
    );
    expect(await detail.locator('ol.chain li').count()).toBe(4);
    const links = await Promise.all(
      (await detail.locator('a.src').all()).map((a) => a.getAttribute('href')),
    );
    expect(links.slice(0, 2)).toEqual([
      '../src/stores/receipts-count.ts#L270', // the cached read
      '../src/stores/receipts-count.ts#L271', // where it reads `receipts`
    ]);

    // Another cell replaces it.
    await page
      .locator('tr.cache-row[data-cache="getReceiptsForRoom"] td.cell[data-app="reader"] a')
      .click();
    expect(await visible('article.detail')).toBe(1);
    expect(await page.locator('article.detail.active ol.chain li').count()).toBe(5);
  });

  it('renders a page with content, which a screenshot shows', async () => {
    const file = join(dir, 'report.png');
    await page.screenshot({ path: file });
    const png = decodePng(await readFile(file));
    expect([png.width, png.height]).toEqual([1400, 1000]);
    const stats = pixelStats(png);
    expect(stats.variance).toBeGreaterThan(200);
    expect(stats.distinctColours).toBeGreaterThan(50);
    expect(stats.nonBackground).toBeGreaterThan(0.05);
    // The uncovered cell's red shows where the matrix draws it.
    const box = (await page
      .locator('tr.cache-row[data-cache="getUnreadCount"] td.cell[data-app="pusher"]')
      .boundingBox())!;
    const [r, g, b] = pixelAt(png, Math.round(box.x + 4), Math.round(box.y + 4));
    expect(r).toBeGreaterThan(g + 10);
    expect(r).toBeGreaterThan(b + 10);
  });

  it('keeps the matrix in its own column when names are long', async () => {
    const method = `getAuditEntryForTheGivenIdentifier${'WhichKeepsGoing'.repeat(6)}`;
    const store = 'AuditWorkerStoreWithAnEquallyLongClassNameForTheMatrixStoreColumn';
    const long = computeCoverage(
      model()
        .schema('audit')
        .mixin(store, (s) => s.cached(method, { reads: ['audit'] }))
        .mixin('AuditStore', (s) => s.method('logAudit', { writes: ['audit'] }), {
          composes: [store],
        })
        .composition('Main', ['AuditStore'])
        .composition('Reader', [store])
        .app('main', 'writer', 'Main')
        .app('reader', 'worker', 'Reader')
        .build(),
    );
    const longDir = join(dir, 'long');
    await writeReport(long, longDir, ['html'], defaultContext({ project: 'long' }));
    const p = await browser!.context.newPage();
    try {
      await p.setViewportSize({ width: 1280, height: 900 });
      await p.goto(pathToFileURL(join(longDir, 'index.html')).href);
      const box = async (selector: string) => (await p.locator(selector).boundingBox())!;
      const section = await box('#matrix-section');
      const details = await box('#details-section');
      expect(section.x + section.width).toBeLessThanOrEqual(details.x);
      // Every app column is on screen, inside the matrix's own column.
      for (const cell of await p.locator('#matrix td.cell').all()) {
        const b = (await cell.boundingBox())!;
        expect(b.x + b.width).toBeLessThanOrEqual(section.x + section.width + 1);
      }
      // A string: the tests' tsconfig has no DOM types.
      const pageWidth = await p.evaluate<number>('document.documentElement.scrollWidth');
      expect(pageWidth).toBeLessThanOrEqual(1280);
      await p.locator('#matrix td.cell[data-app="reader"] a').click();
      const open = await box('article.detail.active');
      expect(open.x).toBeGreaterThanOrEqual(section.x + section.width);
    } finally {
      await p.close();
    }
  });

  it('fetched nothing but the file, and raised no error', () => {
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
