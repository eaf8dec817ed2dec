// store-lint's report options: --report <dir>, --report-format (comma-separated
// or repeated), --check-coverage <pct>; run in this process on a rule fixture.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/lint/cli.js';
import { DEFAULT_REPORT_FORMATS, REPORT_FILES } from '../../src/report/formatters/index.js';
import { runReport } from '../../src/report/index.js';
import { galleryModel } from './models.js';

const FAILING = fileURLToPath(
  new URL('../fixtures/rules/cache-not-invalidated-on-worker/failing/', import.meta.url),
);
const CLEAN = fileURLToPath(new URL('../fixtures/rules/clean-app/', import.meta.url));
const ANSI = /\u001b\[[0-9;]*m/;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(
  args: string[],
  cwd: string,
  env: Record<string, string> = { CI: '1' },
  tty = false,
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    cwd,
    env,
    stdoutIsTTY: tty,
    stderrIsTTY: false,
  });
  return { code, stdout, stderr };
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'store-lint-report-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('store-lint --report', { timeout: 120_000 }, () => {
  it('rejects an unknown format, a file format without a directory, an empty directory and a bad threshold (exit 2, one line)', async () => {
    const unknown = await run(['--report-format', 'text,pdf'], CLEAN);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'store-lint: --report-format: unknown format "pdf" (expected text, text-summary, json-summary, json, md, html)\n',
    );
    const noDir = await run(['--report-format', 'md'], CLEAN);
    expect(noDir).toMatchObject({ code: 2 });
    expect(noDir.stderr).toBe(
      'store-lint: --report-format md writes files: give the directory with --report <dir>\n',
    );
    const bad = await run(['--check-coverage', '150'], CLEAN);
    expect(bad.stderr).toBe(
      'store-lint: --check-coverage: expected a percentage from 0 to 100, got "150"\n',
    );
    expect(bad.code).toBe(2);
    const printModel = await run(['--print-model', '--report', tmp], CLEAN);
    expect(printModel.code).toBe(2);
    const empty = join(tmp, 'empty-cwd');
    await mkdir(empty);
    const noValue = await run([CLEAN, '--report='], empty);
    expect(noValue).toMatchObject({
      code: 2,
      stderr: 'store-lint: --report: expected a directory, got an empty value\n',
    });
    expect(await readdir(empty)).toEqual([]);
  });

  it('writes the default formats and prints the summary line on a clean project', async () => {
    const dir = join(tmp, 'clean');
    const r = await run(['--report', dir, '--check-coverage', '100'], CLEAN);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^Stream coverage: cache invalidations 100% \(\d+\/\d+\), cached reads 100%/,
    );
    expect(r.stderr).toMatch(
      /coverage report \(text-summary, json-summary, json, md, html\) written to /,
    );
    for (const file of [
      'coverage-summary.txt',
      'coverage-summary.json',
      'coverage.json',
      'coverage.md',
      'index.html',
    ]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    const summary = JSON.parse(await readFile(join(dir, 'coverage-summary.json'), 'utf8')) as {
      total: { invalidations: { pct: number } };
    };
    expect(summary.total.invalidations.pct).toBe(100);
    // Source links lead from the report directory back to the project.
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    expect(html).toMatch(/href="(\.\.\/)+[^"]*test\/fixtures\/rules\/clean-app\/src\/[^"]+#L\d+"/);
  });

  it('writes no file at all when one of them cannot be written (exit 2, one line)', async () => {
    const dir = join(tmp, 'blocked');
    await mkdir(join(dir, 'index.html'), { recursive: true });
    await writeFile(join(dir, 'coverage.md'), 'an older report\n');
    const r = await run(['--report', dir], CLEAN);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `store-lint: cannot write the coverage report to ${join(dir, 'index.html')}: it is a directory\n`,
    );
    expect((await readdir(dir)).sort()).toEqual(['coverage.md', 'index.html']);
    expect(await readFile(join(dir, 'coverage.md'), 'utf8')).toBe('an older report\n');
  });

  it('links sources relative to the report when the report directory is the project root', async () => {
    const root = join(tmp, 'root');
    await mkdir(root);
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, cwd: root };
    const request = { dir: root, formats: ['md', 'html'] as const, threshold: null };
    await runReport({ ...galleryModel(), root }, request, io, {
      toolVersion: '0',
      machineOutput: false,
      color: { stdout: false, stderr: false },
    });
    const md = await readFile(join(root, 'coverage.md'), 'utf8');
    expect(md).toContain('](src/stores/receipts-count.ts#L270)');
    expect(md).not.toContain('](/');
    const html = await readFile(join(root, 'index.html'), 'utf8');
    expect(html).toContain('href="src/stores/receipts-count.ts#L270"');
    expect(html).not.toContain('href="/');
  });

  it('is described in the README as it behaves: the files --report writes by default', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const paragraph = readme.slice(readme.indexOf('`--report <dir>` writes')).split('\n\n')[0]!;
    const named = [...paragraph.matchAll(/`([\w-]+\.\w+)`/g)].map((m) => m[1]);
    const text = REPORT_FILES.text;
    expect(named.filter((f) => f !== text)).toEqual(
      DEFAULT_REPORT_FORMATS.map((f) => REPORT_FILES[f]),
    );
    // The terminal table only on request.
    expect(paragraph).toContain(`\`--report-format text\` adds the terminal table (\`${text}\`)`);
  });

  it('fails --check-coverage with an istanbul-style ERROR line, even when the baseline hides the findings', async () => {
    const baseline = join(tmp, 'baseline.json');
    expect((await run(['--update-baseline', '--baseline', baseline], FAILING)).code).toBe(0);
    const dir = join(tmp, 'failing');
    const r = await run(
      [
        '--baseline',
        baseline,
        '--report',
        dir,
        '--report-format',
        'text-summary',
        '--report-format',
        'md,html',
        '--check-coverage',
        '90',
      ],
      FAILING,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^ERROR: Coverage for cache invalidations \(\d+(\.\d+)?%\) does not meet threshold \(90%\) for app reader$/m,
    );
    expect(r.stderr).not.toMatch(/for app main$/m);
    expect(r.stdout).toContain('Stream coverage: cache invalidations');
    expect(existsSync(join(dir, 'coverage.md'))).toBe(true);
    expect(existsSync(join(dir, 'index.html'))).toBe(true);
    expect(existsSync(join(dir, 'coverage-summary.json'))).toBe(false);
    expect((await run(['--baseline', baseline, '--check-coverage', '0'], FAILING)).code).toBe(0);
  });

  it('keeps machine-read lint output on stdout clean: terminal formats go to stderr', async () => {
    const r = await run(['--format', 'json', '--report-format', 'text-summary'], FAILING);
    expect(r.code).toBe(1);
    expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
    expect(r.stderr).toContain('Stream coverage: cache invalidations');
  });

  it('colours the table on a terminal, never under NO_COLOR', async () => {
    const tty = await run(['--report-format', 'text'], CLEAN, {}, true);
    expect(tty.stdout).toMatch(ANSI);
    const noColor = await run(['--report-format', 'text'], CLEAN, { NO_COLOR: '1' }, true);
    expect(noColor.stdout).not.toMatch(ANSI);
    expect(noColor.stdout).toMatch(/^-+\|/);
    const piped = await run(['--report-format', 'text'], CLEAN, {}, false);
    expect(piped.stdout).not.toMatch(ANSI);
  });
});
