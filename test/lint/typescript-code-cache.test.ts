// `--cache` keeps V8's code cache for TypeScript beside the cache file: each
// run is a fresh process (as a user runs store-lint) that loads TypeScript
// through the code cache, then through ts-morph, and parses a file.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MODULE = new URL('../../src/lint/typescript-code-cache.ts', import.meta.url).href;

const SCRIPT = `
import { createRequire } from 'node:module';
import { typeScriptCodeCache } from ${JSON.stringify(MODULE)};
const cache = typeScriptCodeCache(process.argv[2]);
cache.preload();
const used = cache.usedCodeCache;
const require = createRequire(${JSON.stringify(MODULE)});
const { ts } = require('ts-morph');
const common = require.resolve('@ts-morph/common', { paths: [require.resolve('ts-morph')] });
const preloaded = Object.values(require.cache).find((m) => m.filename.endsWith('/typescript.js'));
const parsed = ts.createSourceFile('x.ts', 'const a: number = 1; export {};', ts.ScriptTarget.Latest);
await cache.save();
console.log(JSON.stringify({
  used,
  // ts-morph hands out a namespace copy of the module: compare what is in it.
  sameTypeScript:
    preloaded?.exports.createSourceFile === ts.createSourceFile &&
    preloaded.filename.startsWith(common.replace(/[^/]*$/, '')),
  statements: parsed.statements.length,
}));
`;

interface Result {
  readonly used: boolean;
  readonly sameTypeScript: boolean;
  readonly statements: number;
}

let tmp: string;
let script: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'store-lint-code-cache-'));
  script = join(tmp, 'load.mts');
  await writeFile(script, SCRIPT);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

function load(codeCache: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx/esm', script, codeCache],
      { cwd: REPO, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as Result);
      },
    );
  });
}

describe('TypeScript from the V8 code cache', { timeout: 120_000 }, () => {
  it('writes the code cache, then compiles from it; ts-morph uses that TypeScript', async () => {
    const codeCache = join(tmp, 'typescript.v8-code-cache');
    const first = await load(codeCache);
    expect(first).toEqual({ used: false, sameTypeScript: true, statements: 2 });
    expect((await stat(codeCache)).size).toBeGreaterThan(0);
    const second = await load(codeCache);
    expect(second).toEqual({ used: true, sameTypeScript: true, statements: 2 });
  });

  it('compiles afresh and rewrites a code cache V8 rejects', async () => {
    const codeCache = join(tmp, 'corrupt.v8-code-cache');
    await writeFile(codeCache, 'not V8 code cache');
    const rejected = await load(codeCache);
    expect(rejected).toEqual({ used: false, sameTypeScript: true, statements: 2 });
    expect((await readFile(codeCache, 'utf8')).startsWith('not V8')).toBe(false);
    expect((await load(codeCache)).used).toBe(true);
  });

  it('works on when the code cache cannot be written', async () => {
    const codeCache = join(tmp, 'no-such-dir', 'typescript.v8-code-cache');
    expect(await load(codeCache)).toEqual({ used: false, sameTypeScript: true, statements: 2 });
  });
});
