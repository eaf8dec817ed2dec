// A `store-lint --cache` run answered by the `store-lint --watch` running on
// its project: real executables, a real socket. An answered run writes no
// cache file (it analysed nothing), which is how these tests tell an answer
// from a run that linted by itself. The watch's socket is found as the
// executables find it (answerSocketPath of the config file).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ANSWER_PROTOCOL,
  answerSocketPath,
  askWatch,
  serveAnswers,
  type Answer,
  type WorkProgress,
} from '../../src/lint/answer-socket.js';
import type { StoreLintConfig } from '../../src/analysis/config.js';
import type { StoreModel } from '../../src/analysis/model.js';
import type { LintReport } from '../../src/lint/engine.js';
import type { WatchHandle } from '../../src/lint/watch.js';
import { answerFrom, type AnsweringRun } from '../../src/lint/watch-answers.js';
import { BIN, lintJson, save, Watcher, type JsonRun, otherBuildRequest } from './watch-process.js';

const FIXTURE = fileURLToPath(
  new URL('../fixtures/rules/cache-not-invalidated-on-worker/passing/', import.meta.url),
);
const HANDLER_LINE = 'this.invalidate(this.getReceiptsForRoom, row.roomId);';
const CACHE_FILE = join('.storesplit-cache', 'store-lint.json');
const NOTE = /not answered here: another store-lint --watch answers for this project/;

let tmp: string;
const running: Watcher[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'store-lint-answers-'));
});
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

async function project(name: string): Promise<{ dir: string; store: string; clean: string }> {
  const dir = join(tmp, name);
  await cp(FIXTURE, dir, { recursive: true });
  const store = join(dir, 'src', 'stores', 'receipts.ts');
  const clean = await readFile(store, 'utf8');
  expect(clean).toContain(HANDLER_LINE);
  return { dir, store, clean };
}

async function watching(dir: string): Promise<Watcher> {
  const w = new Watcher([dir], tmp);
  running.push(w);
  await w.status(1);
  return w;
}

/** `store-lint --cache --format json <dir> …args`, as a hook would run it. */
function lintCached(dir: string, args: string[] = []): Promise<JsonRun> {
  return lintJson(['--cache', ...args, dir], tmp, { CI: '1' });
}

describe('store-lint --cache with a --watch running on the project', { timeout: 120_000 }, () => {
  it('is answered by the watch, with the files as they are when it asks', async () => {
    const { dir, store, clean } = await project('answered');
    await watching(dir);
    expect(await lintCached(dir)).toMatchObject({ code: 0, rules: [] });

    // Saved and linted at once, as a pre-commit hook does: the watch may not
    // have seen the save yet, and must look before it answers.
    await save(store, clean.replace(HANDLER_LINE, `// ${HANDLER_LINE}`));
    expect(await lintCached(dir)).toMatchObject({
      code: 1,
      rules: ['cache-not-invalidated-on-worker'],
    });
    await save(store, clean);
    expect(await lintCached(dir)).toMatchObject({ code: 0, rules: [] });
    expect(existsSync(join(dir, CACHE_FILE))).toBe(false);
  });

  it("answers with the asking run's baseline, not the watch's", async () => {
    const { dir, store, clean } = await project('baseline');
    const w = await watching(dir);
    await save(store, clean.replace(HANDLER_LINE, `// ${HANDLER_LINE}`));
    await w.status(2);
    const baseline = join(dir, 'known.json');
    const update = await new Promise<number | null>((done) =>
      spawn(process.execPath, [BIN, '--update-baseline', '--baseline', baseline, dir], {
        cwd: tmp,
        stdio: 'ignore',
      }).on('close', done),
    );
    expect(update).toBe(0);
    expect(await lintCached(dir, ['--baseline', baseline])).toMatchObject({ code: 0, rules: [] });
    expect(await lintCached(dir)).toMatchObject({ code: 1 });
    expect(existsSync(join(dir, CACHE_FILE))).toBe(false);
  });

  it('lints by itself when the watch died, and a new watch takes over its socket', async () => {
    const { dir, store, clean } = await project('died');
    const first = await watching(dir);
    first.child.kill('SIGKILL');
    await first.exited;
    // The socket file is left behind: nobody answers there.
    expect(await lintCached(dir)).toMatchObject({ code: 0, rules: [] });
    const cacheFile = join(dir, CACHE_FILE);
    const written = (await stat(cacheFile)).mtimeMs;

    await watching(dir);
    await save(store, clean.replace(HANDLER_LINE, `// ${HANDLER_LINE}`));
    expect(await lintCached(dir)).toMatchObject({ code: 1 });
    expect((await stat(cacheFile)).mtimeMs).toBe(written); // answered: the cache was not touched
  });

  it('has one watch answer per project: a second one says it does not', async () => {
    const { dir } = await project('two');
    await watching(dir);
    const second = await watching(dir);
    await second.nth(NOTE, 1);
    expect(await lintCached(dir)).toMatchObject({ code: 0 });
    expect(existsSync(join(dir, CACHE_FILE))).toBe(false);
  });

  it('stops on Ctrl-C with a connection open that asks nothing', async () => {
    const { dir } = await project('idle');
    const w = await watching(dir);
    const path = answerSocketPath(join(dir, 'store-lint.config.json'))!;
    const idle = createConnection(path);
    idle.on('error', () => {}); // reset by the watch as it stops
    await new Promise((done) => idle.once('connect', done));
    const closed = new Promise((done) => idle.once('close', done));
    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
    await closed;
    expect(existsSync(path)).toBe(false); // its socket goes with it
  });

  it('declines another build of store-lint and a request it cannot read', async () => {
    const { dir } = await project('declines');
    await watching(dir);
    const configPath = join(dir, 'store-lint.config.json');
    const path = answerSocketPath(configPath)!;
    const request = otherBuildRequest(configPath);
    expect(await askWatch(path, request)).toMatchObject({
      declined: 'it is another build of store-lint',
    });
    const garbage = await new Promise<string>((done) => {
      let heard = '';
      const socket = createConnection(path, () => socket.write('{"protocol": 99}\n'));
      socket.on('data', (c: Buffer) => (heard += c.toString()));
      socket.on('close', () => done(heard));
    });
    expect(garbage).toMatch(/"declined":"not a store-lint request/);
  });
});

describe("the watch's answer", () => {
  it('is a run made after a file appeared where an import found nothing', async () => {
    // Such a file is no input: the watch may not have heard of it when asked.
    const root = join(tmp, 'appeared');
    await mkdir(join(root, 'src', 'lib'), { recursive: true });
    const configPath = join(root, 'store-lint.config.json');
    const run = (n: number, missing: [string, string[]][]): AnsweringRun => ({
      root,
      inputs: {},
      missingImports: missing.map(([m]) => m),
      status: '',
      linted: {
        config: { root, configPath } as StoreLintConfig,
        model: {} as StoreModel,
        report: { root: `report ${n}` } as LintReport,
        settings: 'settings',
        missing,
      },
    });
    const asked: (readonly string[])[] = [];
    const handle: WatchHandle<AnsweringRun> = {
      current(touched = []) {
        asked.push(touched);
        // The first run's import found nothing; the second's finds the new file.
        return Promise.resolve(
          asked.length === 1 ? run(1, [['src/lib/inner.js', []]]) : run(2, []),
        );
      },
    };
    await writeFile(join(root, 'src', 'lib', 'inner.ts'), 'export const inner = 1;\n');
    const answer = await answerFrom(
      handle,
      {
        protocol: ANSWER_PROTOCOL,
        configPath,
        tool: 'this build',
        lintSettings: 'settings',
        baseline: null,
      },
      'this build',
    );
    expect(answer).toEqual({ report: { root: 'report 2' } });
    expect(asked).toEqual([[], [join(root, 'src', 'lib', 'inner.ts')]]);
  });
});

describe('a run waiting for the watch', () => {
  it("hears how far the watch's lint is, for its progress line", async () => {
    const path = join(tmp, 'progress.sock');
    const now: WorkProgress = { done: 3, total: 7, file: 'src/stores/receipts.ts' };
    let finish: (answer: Answer) => void = () => {};
    const served = await serveAnswers(path, () => new Promise((done) => (finish = done)), {
      progress: () => now,
    });
    try {
      const heard: WorkProgress[] = [];
      const asked = await askWatch(
        path,
        {
          protocol: ANSWER_PROTOCOL,
          configPath: join(tmp, 'store-lint.config.json'),
          tool: 'this build',
          lintSettings: 'settings',
          baseline: null,
        },
        (p) => {
          heard.push(p);
          if (heard.length === 2) finish({ declined: 'heard enough' });
        },
      );
      expect(asked).toMatchObject({ declined: 'heard enough' });
      expect(heard).toEqual([now, now]);
    } finally {
      await served.close();
    }
  });
});
