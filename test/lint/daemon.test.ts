// `store-lint --daemon`: real executables, a real background process and its
// socket. Each test gets its own TMPDIR, where the runs and the background
// store-lint they start find the socket folder (os.tmpdir()), so nothing
// here meets a watch or daemon of the machine's user; every background
// process a test started is stopped after it. An answered run writes no
// cache file (it analysed nothing): that tells an answer from a run that
// linted by itself.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { askWatch } from '../../src/lint/answer-socket.js';
import { IdleStop } from '../../src/lint/daemon.js';
import { BIN, lintJson, save, type JsonRun, otherBuildRequest } from './watch-process.js';

const FIXTURE = fileURLToPath(
  new URL('../fixtures/rules/cache-not-invalidated-on-worker/passing/', import.meta.url),
);
const HANDLER_LINE = 'this.invalidate(this.getReceiptsForRoom, row.roomId);';
const CACHE_FILE = join('.storesplit-cache', 'store-lint.json');
const STARTED =
  /--daemon: started a background store-lint for this project \(pid (\d+);.*; log: (.*)\)$/m;

let tmp: string;
const started = new Set<number>();
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'store-lint-daemon-'));
});
afterEach(async () => {
  for (const pid of started) {
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    await gone(pid);
  }
  started.clear();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, limitMs = 30_000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await new Promise((wait) => setTimeout(wait, 50));
  }
  return true;
}

interface Project {
  readonly dir: string;
  readonly store: string;
  readonly clean: string;
  /** This project's own TMPDIR: its socket folder. */
  readonly tmpdir: string;
}

async function project(name: string): Promise<Project> {
  const dir = join(tmp, name);
  await cp(FIXTURE, dir, { recursive: true });
  const store = join(dir, 'src', 'stores', 'receipts.ts');
  const clean = await readFile(store, 'utf8');
  expect(clean).toContain(HANDLER_LINE);
  const own = join(tmp, `${name}-tmp`);
  await mkdir(own);
  return { dir, store, clean, tmpdir: own };
}

interface Linted extends JsonRun {
  /** The background store-lint this run started, if it did. */
  readonly started: number | null;
  /** Its log, named as its socket but `.log`. */
  readonly log: string | null;
}

/** `store-lint --daemon --format json <dir> …args`, as a pre-commit hook runs it (no terminal, not CI). */
async function lintDaemon(
  p: Project,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<Linted> {
  const run = await lintJson(['--daemon', ...args, p.dir], tmp, {
    CI: '',
    TMPDIR: p.tmpdir,
    ...env,
  });
  const [, pid, log] = STARTED.exec(run.stderr) ?? [];
  if (pid !== undefined) started.add(Number(pid));
  return { ...run, started: pid === undefined ? null : Number(pid), log: log ?? null };
}

describe('store-lint --daemon', { timeout: 120_000 }, () => {
  it('starts a background store-lint that answers the next runs, with the files as they are', async () => {
    const p = await project('answers');
    const first = await lintDaemon(p);
    expect(first).toMatchObject({ code: 0, rules: [] });
    expect(first.started).not.toBeNull();
    expect(alive(first.started!)).toBe(true);

    // Saved and linted at once, as a hook does: the background store-lint
    // may not have seen the save yet, and looks at the files when asked.
    await save(p.store, p.clean.replace(HANDLER_LINE, `// ${HANDLER_LINE}`));
    const edited = await lintDaemon(p);
    expect(edited).toMatchObject({
      code: 1,
      rules: ['cache-not-invalidated-on-worker'],
      started: null,
    });
    await save(p.store, p.clean);
    expect(await lintDaemon(p)).toMatchObject({ code: 0, rules: [], started: null });
    expect(existsSync(join(p.dir, CACHE_FILE))).toBe(false);
  });

  it('starts one background store-lint for two runs at once, which answers both', async () => {
    const p = await project('two-at-once');
    const runs = await Promise.all([lintDaemon(p), lintDaemon(p)]);
    for (const run of runs) expect(run).toMatchObject({ code: 0, rules: [] });
    // Each may have started one; the one that finds the other's socket stops
    // before it lints (on a loaded machine it may still be starting now).
    const pids = runs.flatMap((r) => (r.started === null ? [] : [r.started]));
    const end = Date.now() + 30_000;
    while (pids.filter(alive).length > 1 && Date.now() < end) {
      await new Promise((wait) => setTimeout(wait, 50));
    }
    expect(pids.filter(alive)).toHaveLength(1);
    expect(existsSync(join(p.dir, CACHE_FILE))).toBe(false);
    const log = await readFile(runs.find((r) => r.log)!.log!, 'utf8');
    expect(log).not.toContain('\0'); // neither cut the other's log short
    // The other said why it stopped.
    expect(log.match(/cannot answer --cache runs/g) ?? []).toHaveLength(pids.length - 1);
    expect(await lintDaemon(p)).toMatchObject({ code: 0, started: null });
  });

  it('stops after --daemon-idle minutes without a question', async () => {
    const p = await project('idle');
    // 1.2 s: less than its first lint takes here, which the run that started
    // it waits for and is answered by (it wrote no cache file).
    const { started: pid, log } = await lintDaemon(p, ['--daemon-idle', '0.02']);
    expect(pid).not.toBeNull();
    expect(existsSync(join(p.dir, CACHE_FILE))).toBe(false);
    expect(await gone(pid!)).toBe(true);
    expect(log!.startsWith(p.tmpdir)).toBe(true);
    expect(await readFile(log!, 'utf8')).toMatch(/no question for 0\.02 minutes; stopping/);
  });

  it('stops when another build of store-lint asks, so that it can start its own', async () => {
    const p = await project('other-build');
    const { started: pid, log } = await lintDaemon(p);
    const socket = log!.replace(/\.log$/, '.sock');
    expect(existsSync(socket)).toBe(true);
    const configPath = join(p.dir, 'store-lint.config.json');
    const request = otherBuildRequest(configPath);
    expect(await askWatch(socket, request)).toMatchObject({
      declined: 'it is another build of store-lint',
    });
    expect(await gone(pid!)).toBe(true);
    expect(existsSync(socket)).toBe(false);
  });

  it('starts nothing in CI, and lints by itself', async () => {
    const p = await project('ci');
    const run = await lintDaemon(p, [], { CI: 'true' });
    expect(run).toMatchObject({ code: 0, rules: [], started: null });
    expect(run.stderr).toMatch(/no background store-lint in CI \(CI is set\); linting here/);
    expect(existsSync(join(p.dir, CACHE_FILE))).toBe(true);
  });

  it('lints by itself, saying why, when the background lint fails', async () => {
    const p = await project('broken');
    await writeFile(join(p.dir, 'src', 'broken.ts'), 'export const = ;\n');
    const child = spawn(process.execPath, [BIN, '--daemon', p.dir], {
      cwd: tmp,
      env: { ...process.env, CI: '', NO_COLOR: '1', TMPDIR: p.tmpdir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise((done) => child.on('close', done));
    const pid = STARTED.exec(stderr)?.[1];
    if (pid !== undefined) started.add(Number(pid));
    expect(code).toBe(2);
    expect(stderr).toMatch(/did not answer: its last lint failed; linting here/);
    expect(stderr).toMatch(/src\/broken\.ts:1:\d+: /);
  });

  it('refuses options that do not go with it', async () => {
    const p = await project('usage');
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = spawn(process.execPath, [BIN, ...args, p.dir], {
          cwd: tmp,
          env: { ...process.env, NO_COLOR: '1', TMPDIR: p.tmpdir },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('close', (code) => done({ code, stderr }));
      });
    expect(await run(['--daemon', '--daemon-idle', '0'])).toEqual({
      code: 2,
      stderr:
        'store-lint: --daemon-idle: expected a number of minutes above 0 and at most 10080 (a week), got "0"\n',
    });
    expect((await run(['--daemon', '--daemon-idle', '20000'])).stderr).toMatch(
      /at most 10080 \(a week\), got "20000"/,
    );
    expect(await run(['--daemon-idle', '5'])).toEqual({
      code: 2,
      stderr: 'store-lint: --daemon-idle goes with --daemon\n',
    });
    expect((await run(['--watch', '--daemon'])).stderr).toMatch(
      /^store-lint: --watch does not go with --daemon/,
    );
  });
});

describe("the background store-lint's idle stop", () => {
  it('comes a while after the last answer, never while a question waits', () => {
    vi.useFakeTimers();
    try {
      let stopped = 0;
      const idle = new IdleStop(1_000, () => stopped++);
      idle.arm();
      idle.asked(); // the run that started it asks at once: its first lint may take long
      vi.advanceTimersByTime(5_000);
      expect(stopped).toBe(0);
      idle.answered();
      vi.advanceTimersByTime(999);
      expect(stopped).toBe(0);
      idle.asked();
      idle.answered(); // a question starts the clock again
      vi.advanceTimersByTime(999);
      expect(stopped).toBe(0);
      vi.advanceTimersByTime(1);
      expect(stopped).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
