// `store-lint --watch`: the real executable watching a copy of a fixture
// project while the test edits it as a user would: a bug introduced and
// fixed, a save that changes nothing, a file that does not parse, a new
// folder, a broken config, and Ctrl-C. Every wait is for a line the watcher
// prints; the timeouts only keep a broken watcher from hanging the suite.
import { writeFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/lint/cli.js';
import {
  foldersToWatch,
  watchProject,
  type WatchedRun,
  type WatchHandle,
} from '../../src/lint/watch.js';
import { save, Watcher } from './watch-process.js';

const FIXTURE = fileURLToPath(
  new URL('../fixtures/rules/cache-not-invalidated-on-worker/passing/', import.meta.url),
);

let tmp: string;
const running: Watcher[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'store-lint-watch-'));
});
// Stopped as a user stops them, so that each takes its answer socket with it
// (a killed watch leaves its socket file in the machine's temporary folder).
afterEach(async () => {
  for (const w of running.splice(0)) {
    if (w.child.exitCode !== null) continue;
    w.child.kill('SIGINT');
    await w.exited;
  }
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function copy(name: string): Promise<string> {
  const dir = join(tmp, name);
  await cp(FIXTURE, dir, { recursive: true });
  return dir;
}

function watch(dir: string, args: string[] = []): Watcher {
  const w = new Watcher([...args, dir], tmp);
  running.push(w);
  return w;
}

const HANDLER_LINE = 'this.invalidate(this.getReceiptsForRoom, row.roomId);';

describe('store-lint --watch', { timeout: 120_000 }, () => {
  it('re-lints when an input changes, and only then', async () => {
    const dir = await copy('edits');
    const store = join(dir, 'src', 'stores', 'receipts.ts');
    const clean = await readFile(store, 'utf8');
    expect(clean).toContain(HANDLER_LINE);
    const w = watch(dir);
    expect((await w.status(1)).slice(0, 2)).toEqual([0, 0]);

    // The handler forgets an invalidation: the worker's cache would stay stale.
    await save(store, clean.replace(HANDLER_LINE, `// ${HANDLER_LINE}`));
    const [errors, , line] = await w.status(2);
    expect(errors).toBe(1);
    expect(line).toContain('after a change to src/stores/receipts.ts');
    expect(w.stdout).toContain('cache-not-invalidated-on-worker');

    // Saves that change no input: the same bytes again, a new timestamp, an
    // editor's backup file. Then a real fix: the next status is the fix's.
    await save(store, clean.replace(HANDLER_LINE, `// ${HANDLER_LINE}`));
    await utimes(store, new Date(), new Date(Date.now() + 5000));
    await save(`${store}~`, clean);
    // Past the watcher's settling time, so that a re-lint for those would come
    // first (on a loaded machine they may merge with the fix and prove nothing,
    // but never fail a correct watcher).
    await new Promise((done) => setTimeout(done, 300));
    await save(store, clean);
    const [fixed, , fixLine] = await w.status(3);
    expect(fixed).toBe(0);
    expect(fixLine).toContain('src/stores/receipts.ts');
    expect(fixLine).not.toContain('receipts.ts~');

    // A file in a folder created after the watch started is seen.
    await mkdir(join(dir, 'src', 'later'));
    await save(join(dir, 'src', 'later', 'helper.ts'), 'export const later = 1;\n');
    expect((await w.status(4))[2]).toContain('src/later/helper.ts');
    expect(w.statusLines).toHaveLength(4);
  });

  it('reports a file that does not parse in one line and goes on watching', async () => {
    const dir = await copy('syntax');
    const broken = join(dir, 'src', 'broken.ts');
    const w = watch(dir);
    await w.status(1);
    await writeFile(broken, 'export const = ;\n');
    const error = await w.nth(/does not parse/, 1);
    expect(error).toMatch(/^store-lint: .*src\/broken\.ts:1:\d+: file does not parse/);
    expect(w.stderr).not.toMatch(/\n\s+at /); // no stack trace
    await writeFile(broken, 'export const fixed = 1;\n');
    expect((await w.status(2)).slice(0, 2)).toEqual([0, 0]);
  });

  it('waits out a broken config and lints once it is fixed', async () => {
    const dir = await copy('config');
    const configFile = join(dir, 'store-lint.config.json');
    const good = await readFile(configFile, 'utf8');
    await writeFile(configFile, '{ "apps": ');
    const w = watch(dir);
    await w.nth(/store-lint\.config\.json.*(JSON|parse|expected)/i, 1);
    await w.nth(/^store-lint: watching for changes/, 1);
    await writeFile(configFile, good);
    expect((await w.status(1)).slice(0, 2)).toEqual([0, 0]);
  });

  it('stops on Ctrl-C and on SIGTERM with status 0', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const w = watch(await copy(`stop-${signal}`));
      await w.status(1);
      w.child.kill(signal);
      expect(await w.exited).toBe(0);
    }
  });

  it('refuses options meant for a single run, in one line', async () => {
    const cases: [string[], RegExp][] = [
      [['--format', 'json'], /--watch prints stylish or github output, not json/],
      [['--cache'], /--watch does not go with --cache/],
      [['--max-warnings', '0'], /--watch does not go with --max-warnings/],
      [['--print-model', '--report', 'out'], /--watch does not go with --print-model, --report/],
    ];
    for (const [args, message] of cases) {
      let stderr = '';
      const code = await runCli(['--watch', ...args, FIXTURE], {
        stdout: { write: () => true },
        stderr: { write: (t: string) => (stderr += t) },
        cwd: tmp,
        env: { CI: '1' },
        stdoutIsTTY: false,
        stderrIsTTY: false,
      });
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('the folders watched', () => {
  it('are the project tree without node_modules and hidden folders, plus folders of outside inputs', async () => {
    const root = join(tmp, 'tree');
    for (const d of ['src/a', 'node_modules/x', '.git/objects', '.storesplit-cache', 'schema'])
      await mkdir(join(root, d), { recursive: true });
    await mkdir(join(tmp, 'shared'), { recursive: true });
    const folders = foldersToWatch({
      root,
      inputs: {
        'src/a/x.ts': 'h',
        '../shared/tsconfig.base.json': 'h',
        '../gone/later.ts': 'missing',
      },
      missingImports: [],
      status: '',
    });
    // A missing input is looked for in its nearest existing folder.
    expect(folders).toEqual(
      [
        root,
        join(root, 'schema'),
        join(root, 'src'),
        join(root, 'src', 'a'),
        join(tmp, 'shared'),
        tmp,
      ].sort(),
    );
  });
});

describe('the watch loop', () => {
  it('looks again right after a run: an edit made before any folder was watched is linted', async () => {
    const root = join(tmp, 'loop');
    await mkdir(root);
    const file = join(root, 'a.ts');
    await writeFile(file, 'export const v = 1;\n');
    const hash = async () => ({ 'a.ts': await readFile(file, 'utf8') });
    let stop = () => {};
    const stopped = new Promise<void>((done) => (stop = done));
    const runs: (readonly string[])[] = [];
    await watchProject({
      async run(changed) {
        runs.push(changed);
        const inputs = await hash();
        // Hashed, then edited before the loop watches the folder: no event will come.
        if (runs.length === 1) await writeFile(file, 'export const v = 2;\n');
        else stop();
        return { root, inputs, missingImports: [], status: '' };
      },
      inputsNow: hash,
      stopped,
      onWatchError: () => {},
      say: () => {},
    });
    expect(runs).toEqual([[], ['a.ts']]);
  });

  it("says a run's status only once its folders are watched: a fix saved on reading it is linted", async () => {
    // The first run fails (a broken config, say): nothing was hashed, so
    // only an event can tell that the user saved the fix.
    const root = join(tmp, 'said');
    await mkdir(root);
    const file = join(root, 'store-lint.config.json');
    await writeFile(file, '{');
    let stop = () => {};
    const stopped = new Promise<void>((done) => (stop = done));
    const runs: (readonly string[])[] = [];
    const said: string[] = [];
    await watchProject({
      run(changed) {
        runs.push(changed);
        if (runs.length > 1) stop();
        return Promise.resolve({
          root,
          inputs: null,
          missingImports: [],
          status: `run ${runs.length}`,
        });
      },
      inputsNow: () => Promise.resolve({}),
      stopped,
      onWatchError: () => {},
      say(status) {
        said.push(status);
        if (said.length === 1) writeFileSync(file, '{}');
      },
    });
    expect(runs).toEqual([[], ['store-lint.config.json']]);
    expect(said).toEqual(['run 1']);
  });

  it('answers who asks with a run of the inputs as they are when asked, without waiting for an event', async () => {
    // The inputs change where no folder is watched: no event will come, only the question.
    const root = join(tmp, 'asked');
    await mkdir(root);
    let version = 1;
    const hash = () => Promise.resolve({ 'src/a.ts': `v${version}` });
    // Looking takes a while: a question may come while the loop looks for an earlier one.
    const slowHash = async () => {
      await new Promise((done) => setTimeout(done, 30));
      return hash();
    };
    let stop = () => {};
    const stopped = new Promise<void>((done) => (stop = done));
    const runs: (readonly string[])[] = [];
    let failNext = false;
    type Numbered = WatchedRun & { readonly n: number };
    let handle: WatchHandle<Numbered> | undefined;
    const watching = watchProject<Numbered>(
      {
        async run(changed) {
          runs.push(changed);
          const failed = failNext;
          return {
            root,
            inputs: failed ? null : await hash(),
            missingImports: ['src/lib/missing.js'],
            status: '',
            n: runs.length,
          };
        },
        inputsNow: slowHash,
        stopped,
        onWatchError: () => {},
        say: () => {},
      },
      (h) => (handle = h),
    );
    const ask = async (touched?: string[]) => (await handle!.current(touched))?.n ?? null;
    expect(await ask()).toBe(1);
    expect(await ask()).toBe(1); // nothing changed: no run
    const first = ask();
    await new Promise((done) => setTimeout(done, 10));
    expect(await Promise.all([first, ask()])).toEqual([1, 1]);
    version = 2;
    expect(await ask()).toBe(2);
    expect(runs).toEqual([[], ['src/a.ts']]);
    // A file where an import found nothing is no input: the asker names it.
    expect(await ask([join(root, 'src', 'lib', 'missing.ts')])).toBe(3);
    expect(runs[2]).toEqual(['src/lib/missing.ts']);
    // A failed run has nothing to answer with.
    failNext = true;
    version = 3;
    expect(await ask()).toBeNull();
    expect(runs).toHaveLength(4);
    stop();
    await watching;
    expect(await ask()).toBeNull();
  });
});
