// The published package, not the checkout (laid out by
// scripts/layout-package.ts: the files `npm pack` would ship, the sources
// compiled to dist/). store-lint must run there with plain Node (no tsx, no
// .ts files), and the runtime must find its own schema from dist/.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutPackage } from '../../scripts/layout-package.js';

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(REPO, 'test', 'fixtures', 'rules');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(file: string, args: string[], cwd: string): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [file, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    };
  }
}

let pkg: string;
let shipped: string[];

beforeAll(async () => {
  pkg = await mkdtemp(join(tmpdir(), 'storesplit-pkg-'));
  await layoutPackage(pkg);
  // What `npm pack` would put in the tarball, from the package's own `files`.
  const { stdout } = await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: pkg,
  });
  shipped = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
}, 180_000);

afterAll(async () => {
  if (pkg) await rm(pkg, { recursive: true, force: true });
});

describe('the published package', () => {
  it('ships the compiled CLI and the runtime schema, and no TypeScript sources to run', () => {
    expect(shipped).toContain('bin/store-lint');
    expect(shipped).toContain('dist/bin/store-lint.js');
    expect(shipped).toContain('dist/src/index.js');
    expect(shipped).toContain('dist/src/analysis/analyze.js');
    expect(shipped.some((f) => f.startsWith('schema/runtime/') && f.endsWith('.sql'))).toBe(true);
    expect(shipped.filter((f) => /(?<!\.d)\.ts$/.test(f))).toEqual([]);
    expect(shipped.filter((f) => f.startsWith('dist/test/') || f.startsWith('test/'))).toEqual([]);
  });

  it('runs store-lint with plain Node: a clean project exits 0, findings exit 1', async () => {
    const bin = join(pkg, 'bin', 'store-lint');
    const clean = await run(bin, [join(FIXTURES, 'worker-writes', 'passing')], REPO);
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    const failing = await run(
      bin,
      [join(FIXTURES, 'worker-writes', 'failing'), '--format', 'json'],
      REPO,
    );
    expect(failing.code).toBe(1);
    const results = JSON.parse(failing.stdout) as { messages: { ruleId: string }[] }[];
    expect(results.flatMap((r) => r.messages.map((m) => m.ruleId))).toContain('worker-writes');
    const version = await run(bin, ['--version'], REPO);
    expect(version.stdout.trim()).toMatch(/\d+\.\d+\.\d+/);
  }, 120_000);

  it('loads a store-lint.config.ts with plain Node (no TypeScript loader registered)', async () => {
    const project = join(pkg, 'ts-config-project');
    await cp(join(FIXTURES, 'worker-writes', 'failing'), project, { recursive: true });
    const json = await readFile(join(project, 'store-lint.config.json'), 'utf8');
    await rm(join(project, 'store-lint.config.json'));
    await writeFile(
      join(project, 'store-lint.config.ts'),
      `const rules: Record<string, 'off' | 'warn' | 'error'> = { 'worker-writes': 'warn' };\n` +
        `export default { ...${json.trim()}, rules };\n`,
    );
    const result = await run(join(pkg, 'bin', 'store-lint'), [project, '--format', 'json'], REPO);
    expect(result.stderr).toBe('');
    const results = JSON.parse(result.stdout) as {
      messages: { ruleId: string; severity: number }[];
    }[];
    const found = results.flatMap((r) => r.messages.map((m) => [m.ruleId, m.severity]));
    // The config's own rules setting applied: worker-writes is a warning (1) now.
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found.map((f) => f.join(':')))).toEqual(new Set(['worker-writes:1']));
    expect((await readdir(project)).filter((f) => f.endsWith('.mjs'))).toEqual([]);
  }, 120_000);

  it('migrates the runtime schema from dist/ on the embedded database', async () => {
    const script = join(pkg, 'migrate-check.mjs');
    await cp(join(REPO, 'test', 'lint', 'packaged-migrate.mjs'), script);
    const result = await run(script, [], pkg);
    expect(result.stderr).toBe('');
    const applied = JSON.parse(result.stdout) as string[];
    const files = (await readdir(join(REPO, 'schema', 'runtime'))).filter((f) =>
      f.endsWith('.sql'),
    );
    expect(applied.length).toBe(files.length);
  }, 120_000);
});
