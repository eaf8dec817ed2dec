// The CLI: the real executable, spawned as a user would run it, for exit
// codes, one-line errors, --help, --format json and the baseline round trip;
// the same code in this process (runCli) for the other formats,
// --max-warnings, --print-model and --cache, where a process adds only time.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  cp,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/lint/cli.js';

const BIN = fileURLToPath(new URL('../../bin/store-lint', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/rules/', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1', CI: '1', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The real executable with its stdout on file descriptor `fd`, or a pipe closed at once. */
function runWithStdout(args: string[], cwd: string, fd: number | 'closed'): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
      stdio: ['ignore', fd === 'closed' ? 'pipe' : fd, 'pipe'],
    });
    // A reader that stops before store-lint writes (`| head -c 0`).
    if (fd === 'closed') child.stdout!.destroy();
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: '', stderr }));
  });
}

/** The same CLI in this process (for the cases that do not need a real process). */
async function runHere(
  args: string[],
  cwd: string,
  tty = false,
  env: Record<string, string> = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    cwd,
    env: { ...(tty ? { NO_COLOR: '1' } : { NO_COLOR: '1', CI: '1' }), ...env },
    stdoutIsTTY: false,
    stderrIsTTY: tty,
  });
  return { code, stdout, stderr };
}

const fixture = (rule: string, variant: 'failing' | 'passing') => join(FIXTURES, rule, variant);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'store-lint-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function copyFixture(
  rule: string,
  variant: 'failing' | 'passing',
  name: string,
): Promise<string> {
  const dir = join(tmp, name);
  await cp(fixture(rule, variant), dir, { recursive: true });
  return dir;
}

// Each run starts Node, tsx and the analyser: give the slow machines room.
describe('store-lint CLI', { timeout: 180_000 }, () => {
  it('exits 0 and prints nothing on a clean project', async () => {
    const r = await run([], fixture('unannounced-write', 'passing'));
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('exits 1 on errors, with stylish output and no colour under NO_COLOR', async () => {
    const r = await run(['.'], fixture('unannounced-write', 'failing'), { FORCE_COLOR: '1' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('src/stores/tags.ts');
    expect(r.stdout).toMatch(
      /25:\d+ +error +`TagsStore.addTag` \(app main\) writes `room_tags`.* unannounced-write/,
    );
    expect(r.stdout).toContain('1 problem (1 error, 0 warnings)');
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('takes the project directory as an argument and finds its config', async () => {
    const r = await run([fixture('worker-writes', 'failing'), '--format', 'json'], tmp);
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout) as {
      filePath: string;
      messages: { ruleId: string; line: number }[];
    }[];
    expect(results.flatMap((f) => f.messages.map((m) => [m.ruleId, m.line]))).toEqual([
      ['worker-writes', 9],
      ['worker-writes', 17],
    ]);
    expect(results[0]!.filePath).toBe(
      join(fixture('worker-writes', 'failing'), 'src/stores/positions.ts'),
    );
  });

  it('writes SARIF and GitHub annotations', async () => {
    const cwd = fixture('invalidation-key-mismatch', 'failing');
    const sarif = await runHere(['--format', 'sarif'], cwd);
    expect(sarif.code).toBe(1);
    const log = JSON.parse(sarif.stdout) as {
      version: string;
      runs: { results: { ruleId: string }[] }[];
    };
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0]!.results.map((x) => x.ruleId)).toEqual(['invalidation-key-mismatch']);
    const github = await runHere(['-f', 'github'], cwd);
    expect(github.code).toBe(1);
    expect(github.stdout).toMatch(
      /^::error file=src\/stores\/tags.ts,line=28,endLine=28,col=\d+,endColumn=\d+,title=store-lint\/invalidation-key-mismatch::/,
    );
    // In a step with `working-directory:`, paths stay relative to the repository root.
    const inStep = await runHere(['-f', 'github'], cwd, false, {
      GITHUB_WORKSPACE: join(cwd, '..', '..'),
    });
    expect(inStep.stdout).toMatch(
      /^::error file=invalidation-key-mismatch\/failing\/src\/stores\/tags.ts,line=28,/,
    );
  });

  it('passes on warnings unless --max-warnings says otherwise', async () => {
    const cwd = fixture('stream-without-handler', 'failing');
    expect((await runHere([], cwd)).code).toBe(0);
    const strict = await runHere(['--max-warnings', '0'], cwd);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toBe('store-lint found too many warnings (maximum: 0).\n');
    expect((await runHere(['--max-warnings', '1'], cwd)).code).toBe(0);
    const bad = await runHere(['--max-warnings', 'many'], cwd);
    expect(bad).toMatchObject({
      code: 2,
      stderr: 'store-lint: --max-warnings: expected a whole number of at least -1, got "many"\n',
    });
  });

  it('gives one line and exit 2 for user mistakes, never a stack trace', async () => {
    const none = await run([], tmp);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /^store-lint: no store-lint\.config\.json, store-lint\.config\.ts, store-lint\.config\.js in .* or any parent directory\n$/,
    );

    const badConfig = await copyFixture('unannounced-write', 'passing', 'bad-config');
    const config = JSON.parse(
      await readFile(join(badConfig, 'store-lint.config.json'), 'utf8'),
    ) as { apps: { reader: { role: string } } };
    config.apps.reader.role = 'reader';
    await writeFile(join(badConfig, 'store-lint.config.json'), JSON.stringify(config));
    const bad = await run([], badConfig);
    expect(bad).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'store-lint: store-lint.config.json: apps.reader.role: expected "writer" or "worker"\n',
    });

    const noTsconfig = await copyFixture('unannounced-write', 'passing', 'no-tsconfig');
    await rm(join(noTsconfig, 'tsconfig.json'));
    expect(await run([], noTsconfig)).toMatchObject({
      code: 2,
      stderr: 'store-lint: store-lint.config.json: tsconfig: tsconfig.json does not exist\n',
    });

    const badTsconfig = await copyFixture('unannounced-write', 'passing', 'bad-tsconfig');
    const tsconfig = join(badTsconfig, 'tsconfig.json');
    await writeFile(
      tsconfig,
      (await readFile(tsconfig, 'utf8')).replace('"strict": true,', '"strict": true,,'),
    );
    expect(await run([], join(badTsconfig, 'src'))).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'store-lint: ../tsconfig.json:8:20: invalid tsconfig: Property assignment expected.\n',
    });

    const broken = await copyFixture('unannounced-write', 'passing', 'broken-source');
    await writeFile(
      join(broken, 'src', 'stores', 'tags.ts'),
      'export function TagsWorkerStore( {\n  return class {;\n',
    );
    const parse = await run([], broken);
    expect(parse.code).toBe(2);
    expect(parse.stderr.split('\n')).toHaveLength(2);
    expect(parse.stderr).toMatch(/^store-lint: .*tags\.ts/);
    expect(parse.stderr).not.toMatch(/\n\s+at /);

    const option = await run(['--frobnicate'], tmp);
    expect(option.code).toBe(2);
    expect(option.stderr).toBe("store-lint: unknown option '--frobnicate'\n");
    const misspelt = await run(['--formt', 'json'], tmp);
    expect(misspelt).toMatchObject({
      code: 2,
      stderr: "store-lint: unknown option '--formt' (did you mean --format?)\n",
    });
  });

  it('says in one line where a .ts config does not parse', async () => {
    const dir = join(tmp, 'ts-config-syntax');
    await mkdir(dir);
    await writeFile(
      join(dir, 'store-lint.config.ts'),
      "export default {\n  schema: ['schema/*.sql']\n  apps: {},\n};\n",
    );
    expect(await runHere(['ts-config-syntax'], tmp)).toEqual({
      code: 2,
      stdout: '',
      stderr: "store-lint: ts-config-syntax/store-lint.config.ts:3:3: ',' expected.\n",
    });
  });

  it('refuses in one line a [dir] that -c would ignore', async () => {
    await copyFixture('worker-writes', 'failing', 'cfg-a');
    await copyFixture('worker-writes', 'passing', 'cfg-b');
    const config = 'cfg-a/store-lint.config.json';
    expect(await runHere(['cfg-b', '-c', config], tmp)).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "store-lint: [dir] cfg-b is not the folder of -c cfg-a/store-lint.config.json: with -c the project is the config file's folder; give one or the other\n",
    });
    expect(await runHere(['does-not-exist', '-c', config], tmp)).toEqual({
      code: 2,
      stdout: '',
      stderr: `store-lint: ${join(tmp, 'does-not-exist')} is not a directory\n`,
    });
    // The same folder (here the working directory), or no [dir], lints it.
    expect((await runHere(['.', '-c', 'store-lint.config.json'], join(tmp, 'cfg-a'))).code).toBe(1);
    expect((await runHere(['-c', config], tmp)).code).toBe(1);
  });

  it('says in one line that a config file is a directory', async () => {
    const dir = join(tmp, 'config-dir');
    await mkdir(join(dir, 'store-lint.config.json'), { recursive: true });
    await mkdir(join(dir, 'other.json'));
    const found = await runHere(['config-dir'], tmp);
    expect(found).toEqual({
      code: 2,
      stdout: '',
      stderr: 'store-lint: config-dir/store-lint.config.json: is a directory, not a config file\n',
    });
    const named = await runHere(['-c', 'config-dir/other.json', 'config-dir'], tmp);
    expect(named).toEqual({
      code: 2,
      stdout: '',
      stderr: 'store-lint: config-dir/other.json: is a directory, not a config file\n',
    });
  });

  it('names files in run failures relative to the working directory, as findings are', async () => {
    const broken = await copyFixture('unannounced-write', 'passing', 'rel-broken');
    await writeFile(join(broken, 'src', 'stores', 'tags.ts'), 'export const x = (;\n');
    const parse = await runHere(['rel-broken'], tmp);
    expect(parse.code).toBe(2);
    expect(parse.stderr).toMatch(
      /^store-lint: rel-broken\/src\/stores\/tags\.ts:1:\d+: file does not parse: .*\n$/,
    );

    const noClass = await copyFixture('unannounced-write', 'passing', 'rel-no-class');
    const file = join(noClass, 'store-lint.config.json');
    const config = JSON.parse(await readFile(file, 'utf8')) as {
      apps: { reader: { store: string } };
    };
    config.apps.reader.store = 'src/stores/reader.ts#Nope';
    await writeFile(file, JSON.stringify(config));
    expect(await runHere(['rel-no-class'], tmp)).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'store-lint: rel-no-class/store-lint.config.json: apps.reader.store: src/stores/reader.ts declares no class Nope\n',
    });
  });

  it.skipIf(!existsSync('/dev/full'))(
    'fails in one line with exit 2 when stdout cannot be written, and stays quiet when the reader left',
    async () => {
      // Exit 1 would read as findings on this clean project.
      const full = await open('/dev/full', 'w');
      try {
        expect(
          await runWithStdout(['-f', 'sarif'], fixture('worker-writes', 'passing'), full.fd),
        ).toEqual({
          code: 2,
          stdout: '',
          stderr: 'store-lint: cannot write the results to stdout: no space left on device\n',
        });
      } finally {
        await full.close();
      }
      // EPIPE: what the reader took is what it wanted; the status is the run's.
      expect(await runWithStdout([], fixture('worker-writes', 'failing'), 'closed')).toEqual({
        code: 1,
        stdout: '',
        stderr: '',
      });
    },
  );

  it('has a true --help and a --version', async () => {
    const help = await run(['--help'], tmp);
    expect(help.code).toBe(0);
    for (const option of [
      '-c, --config <file>',
      '-f, --format <name>',
      '--max-warnings <n>',
      '--print-model',
      '--baseline <file>',
      '--update-baseline',
      '--cache',
      '--cache-location <path>',
      '--daemon',
      '--daemon-idle <minutes>',
    ]) {
      expect(help.stdout).toContain(option);
    }
    expect(help.stdout).not.toContain('--as-daemon'); // internal
    const text = help.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('(choices: "stylish", "json", "sarif", "github", default: "stylish")');
    expect(text).toContain(
      'Exit status: 0 no errors, 1 errors found (or too many warnings), 2 the run failed.',
    );
    const version = await run(['--version'], tmp);
    expect(version).toMatchObject({ code: 0 });
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('prints the model', async () => {
    const r = await runHere(['--print-model'], fixture('worker-writes', 'passing'));
    expect(r.code).toBe(0);
    const model = JSON.parse(r.stdout) as {
      version: number;
      stores: { name: string }[];
      apps: { name: string }[];
    };
    expect(model.version).toBe(1);
    expect(model.apps.map((a) => a.name).sort()).toEqual(['main', 'reader']);
    expect(model.stores.map((s) => s.name)).toContain('ReaderPositionsStore');
  });

  it('round-trips a baseline: known findings pass, new ones fail, stale entries are reported', async () => {
    const cwd = fixture('worker-writes', 'failing');
    const file = join(tmp, 'baseline.json');
    const update = await run(['--update-baseline', '--baseline', file], cwd);
    expect(update.code).toBe(0);
    expect(update.stderr).toContain('wrote 2 baseline entries');
    expect(update.stdout).toContain('2 known findings suppressed by the baseline');
    const text = await readFile(file, 'utf8');
    expect(text).toBe(
      '{\n  "version": 1,\n  "entries": [\n' +
        '    {"rule":"worker-writes","store":"ReaderPositionsStore","method":"markRead","table":"receipts"},\n' +
        '    {"rule":"worker-writes","store":"ReaderPositionsStore","method":"savePosition","table":"reader_positions"}\n' +
        '  ]\n}\n',
    );

    // Known findings pass; json lists them as suppressed by the baseline file.
    const again = await run(['--baseline', file, '-f', 'json'], cwd);
    expect(again.code).toBe(0);
    const known = JSON.parse(again.stdout) as {
      messages: unknown[];
      suppressedMessages: { ruleId: string; suppressions: unknown[] }[];
    }[];
    expect(known.flatMap((f) => f.messages)).toEqual([]);
    expect(
      known.flatMap((f) => f.suppressedMessages.map((m) => [m.ruleId, m.suppressions])),
    ).toEqual([
      ['worker-writes', [{ kind: 'file', justification: '' }]],
      ['worker-writes', [{ kind: 'file', justification: '' }]],
    ]);

    // A baseline from another project: its entries are stale, and a new finding still fails.
    const other = await run(
      ['--baseline', file, '-f', 'json'],
      fixture('unannounced-write', 'failing'),
    );
    expect(other.code).toBe(1);
    const results = JSON.parse(other.stdout) as {
      filePath: string;
      messages: { ruleId: string; messageId: string; line: number }[];
    }[];
    const all = results.flatMap((f) =>
      f.messages.map((m) => [f.filePath.endsWith('baseline.json'), m.ruleId, m.messageId, m.line]),
    );
    expect(all).toEqual(
      expect.arrayContaining([
        [false, 'unannounced-write', 'unannounced', 25],
        [true, 'unused-disable', 'staleBaselineEntry', 4],
        [true, 'unused-disable', 'staleBaselineEntry', 5],
      ]),
    );

    await writeFile(file, '[]');
    expect(await run(['--baseline', file], cwd)).toMatchObject({
      code: 2,
      stderr: `store-lint: baseline ${file}: (root): expected an object { "version": 1, "entries": [...] }\n`,
    });
  });

  it('keeps the baseline entries of a rule switched off when regenerating, so turning it back on passes', async () => {
    const dir = await copyFixture('worker-writes', 'failing', 'baseline-off');
    const configFile = join(dir, 'store-lint.config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    const file = join(dir, 'store-lint-baseline.json');
    expect((await runHere(['--update-baseline'], dir)).code).toBe(0);
    const accepted = await readFile(file, 'utf8');
    expect(accepted).toContain('"rule":"worker-writes"');

    await writeFile(configFile, JSON.stringify({ ...config, rules: { 'worker-writes': 'off' } }));
    expect(await runHere(['--update-baseline'], dir)).toMatchObject({
      code: 0,
      stderr:
        'store-lint: wrote 2 baseline entries to store-lint-baseline.json (2 kept for rules that are off)\n',
    });
    expect(await readFile(file, 'utf8')).toBe(accepted);

    await writeFile(configFile, JSON.stringify(config));
    expect((await runHere(['--baseline', 'store-lint-baseline.json'], dir)).code).toBe(0);
  });

  it('reuses the model with --cache until an input changes', async () => {
    const dir = await copyFixture('unannounced-write', 'failing', 'cached');
    const cache = join(tmp, 'cache', 'model.json');
    const first = await runHere(['--cache', '--cache-location', cache, '-f', 'json'], dir);
    const written = await readFile(cache, 'utf8');
    const second = await runHere(['--cache', '--cache-location', cache, '-f', 'json'], dir);
    expect(first.code).toBe(1);
    expect(second).toEqual(first);
    // A hit reads the stored model and leaves the file alone.
    expect(await readFile(cache, 'utf8')).toBe(written);
    const stored = JSON.parse(written) as { key: string };

    // Fix the bug: the cache must not hide the change.
    const tags = join(dir, 'src', 'stores', 'tags.ts');
    const source = await readFile(tags, 'utf8');
    await writeFile(
      tags,
      source.replace(
        'txn.callAfter(() => this.invalidate(this.getTagsForRoom, userId, roomId));',
        'await this.invalidateCacheAndStream(txn, this.getTagsForRoom, userId, roomId);',
      ),
    );
    const fixed = await runHere(['--cache', '--cache-location', cache, '-f', 'json'], dir);
    expect(fixed).toMatchObject({ code: 0, stdout: '[]\n' });
    expect((JSON.parse(await readFile(cache, 'utf8')) as { key: string }).key).not.toBe(stored.key);
  });

  it('says in one line when an output path cannot be written, and leaves no temporary file', async () => {
    const dir = await copyFixture('worker-writes', 'failing', 'paths');
    await writeFile(join(dir, 'afile'), '');
    await mkdir(join(dir, 'adir'));
    expect(await runHere(['--report', 'afile'], dir)).toEqual({
      code: 2,
      stdout: '',
      stderr: `store-lint: cannot write the coverage report to ${join(dir, 'afile')}: it is a file\n`,
    });
    expect(await runHere(['--update-baseline', '--baseline', 'adir'], dir)).toMatchObject({
      code: 2,
      stderr: `store-lint: cannot write the baseline to ${join(dir, 'adir')}: it is a directory\n`,
    });
    expect(await runHere(['--update-baseline', '--baseline', 'afile/b.json'], dir)).toMatchObject({
      code: 2,
      stderr: `store-lint: cannot write the baseline to ${join(dir, 'afile', 'b.json')}: a file is in the way of its directory\n`,
    });
    // A directory as --cache-location holds the cache file.
    expect((await runHere(['--cache', '--cache-location', 'adir'], dir)).code).toBe(1);
    expect((await runHere(['--cache', '--cache-location', 'newdir/'], dir)).code).toBe(1);
    expect((await readdir(join(dir, 'adir'))).sort()).toEqual([
      'store-lint.json',
      'store-lint.model.json',
    ]);
    expect((await readdir(join(dir, 'newdir'))).sort()).toEqual([
      'store-lint.json',
      'store-lint.model.json',
    ]);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes the baseline and the --cache files through symlinks, and refuses a FIFO in one line', async () => {
    const dir = await copyFixture('worker-writes', 'failing', 'symlinked-outputs');
    const shared = join(tmp, 'shared-outputs');
    await mkdir(shared);
    await writeFile(join(shared, 'team.json'), '{"version":1,"entries":[]}');
    await symlink(join(shared, 'team.json'), join(dir, 'store-lint-baseline.json'));
    // A cache of an older format, shared through a symlink: replaced through it.
    await writeFile(join(shared, 'index.json'), '{"format":1,"key":"old"}');
    await symlink(join(shared, 'index.json'), join(dir, 'index.json'));
    expect((await runHere(['--update-baseline'], dir)).code).toBe(0);
    expect(await readFile(join(shared, 'team.json'), 'utf8')).toContain('"rule":"worker-writes"');
    expect((await runHere(['--cache', '--cache-location', 'index.json'], dir)).code).toBe(1);
    expect(await readFile(join(shared, 'index.json'), 'utf8')).toContain('"key"');
    expect((await lstat(join(dir, 'store-lint-baseline.json'))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(dir, 'index.json'))).isSymbolicLink()).toBe(true);

    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(await runHere(['--update-baseline', '--baseline', 'fifo'], dir)).toEqual({
      code: 2,
      stdout: '',
      stderr: `store-lint: cannot write the baseline to ${join(dir, 'fifo')}: it is a FIFO, not a regular file\n`,
    });
    expect(await runHere(['--cache', '--cache-location', 'fifo'], dir)).toEqual({
      code: 2,
      stdout: '',
      stderr: `store-lint: cannot write the --cache file to ${join(dir, 'fifo')}: it is a FIFO, not a regular file\n`,
    });
    expect((await lstat(join(dir, 'fifo'))).isFIFO()).toBe(true);
  });

  it('refuses a --cache location holding a file store-lint did not write, and leaves it as it was', async () => {
    const dir = await copyFixture('worker-writes', 'failing', 'cache-not-ours');
    const tsconfig = await readFile(join(dir, 'tsconfig.json'), 'utf8');
    expect(await runHere(['--cache', '--cache-location', 'tsconfig.json'], dir)).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `store-lint: cannot write the --cache file to ${join(dir, 'tsconfig.json')}: it holds something else ` +
        '(not a store-lint cache), which would be lost; remove it or choose another --cache-location\n',
    });
    expect(await readFile(join(dir, 'tsconfig.json'), 'utf8')).toBe(tsconfig);
    // The model is written beside the index: a file in its place is kept too.
    await writeFile(join(dir, 'notes.model.json'), 'my notes\n');
    const refused = await runHere(['--cache', '--cache-location', 'notes.json'], dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${join(dir, 'notes.model.json')}: it holds something else`);
    expect(await readFile(join(dir, 'notes.model.json'), 'utf8')).toBe('my notes\n');
    // An empty file, and store-lint's own cache, are replaced.
    await writeFile(join(dir, 'empty.json'), '');
    expect((await runHere(['--cache', '--cache-location', 'empty.json'], dir)).code).toBe(1);
    expect((await runHere(['--cache', '--cache-location', 'empty.json'], dir)).code).toBe(1);
    expect(await readFile(join(dir, 'empty.json'), 'utf8')).toMatch(/^\{"format":\d+,"key":"/);
  });

  it('reports as a cold run does, with one warning, when the --cache file cannot be written', async () => {
    const dir = await copyFixture('worker-writes', 'failing', 'cache-unwritable');
    await writeFile(join(dir, 'afile'), '');
    const cold = await runHere(['-f', 'json'], dir);
    expect(cold.code).toBe(1);
    // Under a regular file: ENOTDIR for any user, as a read-only folder is for one.
    const cached = await runHere(
      ['--cache', '--cache-location', 'afile/lint.json', '-f', 'json'],
      dir,
    );
    expect(cached).toEqual({
      ...cold,
      stderr:
        `store-lint: warning: cannot write the --cache file to ${join(dir, 'afile', 'lint.model.json')}: ` +
        'a file is in the way of its directory; the results are not cached\n',
    });
  });

  it('takes a dangling symlink as an output folder for one line, or one warning for --cache', async () => {
    const dir = await copyFixture('worker-writes', 'failing', 'dangling-output');
    // As a CI cache restore or a cleaned tmpfs can leave it.
    await symlink(join(dir, 'gone'), join(dir, '.storesplit-cache'));
    const cold = await runHere(['-f', 'json'], dir);
    expect(await runHere(['--cache', '-f', 'json'], dir)).toEqual({
      ...cold,
      stderr:
        `store-lint: warning: cannot write the --cache file to ${join(dir, '.storesplit-cache', 'store-lint.model.json')}: ` +
        'no such file or directory; the results are not cached\n',
    });
    expect(
      await runHere(['--update-baseline', '--baseline', '.storesplit-cache/b.json'], dir),
    ).toEqual({
      code: 2,
      stdout: '',
      stderr: `store-lint: cannot write the baseline to ${join(dir, '.storesplit-cache', 'b.json')}: no such file or directory\n`,
    });
  });

  it("keeps TypeScript's compiled code beside the --cache index, and finds the same with it", async () => {
    const dir = await copyFixture('unannounced-write', 'failing', 'code-cache');
    const cache = join(tmp, 'code-cache', 'lint.json');
    const args = ['--cache', '--cache-location', cache, '-f', 'json'];
    const first = await run(args, dir);
    expect(first.code).toBe(1);
    const codeCache = join(tmp, 'code-cache', 'lint.typescript.v8-code-cache');
    const written = await readFile(codeCache);
    expect(written.length).toBeGreaterThan(0);
    // A change makes the next run analyse, with TypeScript from the code cache.
    await writeFile(join(dir, 'src', 'streams.ts'), '\n// touched\n', { flag: 'a' });
    const second = await run(args, dir);
    expect(second).toEqual(first);
    expect((await readFile(codeCache)).equals(written)).toBe(true);
  });

  it('--cache notices a file appearing where an app module’s import named none', async () => {
    const dir = await copyFixture('missing-worker-method', 'passing', 'appearing');
    const args = ['--cache', '--cache-location', join(tmp, 'cache-appearing', 'c.json')];
    // Outside the tsconfig's `include`, and not there yet.
    await writeFile(
      join(dir, 'src', 'apps', 'reader.ts'),
      (await readFile(join(dir, 'src', 'apps', 'reader.ts'), 'utf8')) +
        "import { inner } from '../../lib/inner.js';\nexport const useInner = inner;\n",
    );
    expect((await runHere(args, dir)).code).toBe(0);
    expect((await runHere(args, dir)).code).toBe(0);
    await mkdir(join(dir, 'lib'));
    await writeFile(
      join(dir, 'lib', 'inner.ts'),
      "import type { MainDataStore } from '../src/stores/main.js';\n" +
        'export async function inner(store: MainDataStore) {\n' +
        "  await store.insertReceipt('!r', '@u', '$e');\n}\n",
    );
    const cached = await runHere([...args, '-f', 'json'], dir);
    expect(cached).toEqual(await runHere(['-f', 'json'], dir));
    expect(cached.code).toBe(1);
  });

  it('lints again when a stored report in the cache index is damaged (valid JSON, wrong shape)', async () => {
    const dir = await copyFixture('unannounced-write', 'failing', 'cached-damaged');
    const cache = join(tmp, 'cache-damaged', 'model.json');
    const args = ['--cache', '--cache-location', cache, '-f', 'json'];
    const first = await runHere(args, dir);
    for (const damage of [
      (r: Record<string, unknown>) => (r.rules = {}),
      (r: Record<string, unknown>) => (r.messages = null),
      (r: Record<string, unknown>) => (r.messages = [{ ruleId: 'worker-writes' }]),
    ]) {
      const index = JSON.parse(await readFile(cache, 'utf8')) as {
        reports: [string, Record<string, unknown>][];
      };
      damage(index.reports[0]![1]);
      await writeFile(cache, JSON.stringify(index));
      expect(await runHere(args, dir)).toEqual(first);
    }
  });

  it('shows progress on a terminal with CI=false or CI=0, and no control sequences on TERM=dumb', async () => {
    const cwd = fixture('worker-writes', 'passing');
    for (const CI of ['false', '0']) {
      const r = await runHere([], cwd, true, { CI });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('\r\x1b[Kstore-lint: analysing ');
    }
    expect((await runHere([], cwd, true, { CI: 'true' })).stderr).toBe('');
    expect(await runHere([], cwd, true, { TERM: 'dumb' })).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
  });

  it('prints the same SARIF from a cache hit as from a cold run, rule table included', async () => {
    // A hit reads the stored report, whose rules are their ids and metadata, not their code.
    const dir = await copyFixture('cache-not-invalidated-on-worker', 'failing', 'cached-sarif');
    const cold = await runHere(['-f', 'sarif'], dir);
    const args = ['--cache', '-f', 'sarif'];
    expect(await runHere(args, dir)).toEqual(cold); // a miss: stores the report
    expect(await runHere(args, dir)).toEqual(cold); // a hit
    const driver = (
      JSON.parse(cold.stdout) as { runs: { tool: { driver: { rules: unknown[] } } }[] }
    ).runs[0]!.tool.driver;
    expect(driver.rules.length).toBeGreaterThan(0);
  });

  it('says on a terminal when --cache kept the model because the model does not depend on what changed', async () => {
    const dir = await copyFixture('unannounced-write', 'failing', 'cached-independent');
    const cache = join(tmp, 'cache-independent', 'model.json');
    const args = ['--cache', '--cache-location', cache, '-f', 'json'];
    await writeFile(join(dir, 'src', 'seed.ts'), 'export const rows = 10;\n');
    const first = await runHere(args, dir, true);
    expect(first.stderr).toMatch(/store-lint: analysed in /);
    await writeFile(join(dir, 'src', 'seed.ts'), 'export const rows = 20;\n');
    const second = await runHere(args, dir, true);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toMatch(
      /store-lint: model reused from the cache in .*; the model does not depend on the changed input src\/seed\.ts\)\n$/,
    );
  });
});
