// The least a fresh process must do to re-read one changed TypeScript file:
// load TypeScript's parser (the copy ts-morph bundles, which store-lint
// uses) and parse the file. The store-lint benchmark times this beside a
// cache hit, to show the floor under any `--cache` run after a one-file
// change, however incremental the analysis behind it.
//   node bench/parse-one-file.cjs <file.ts>                 plain require
//   node bench/parse-one-file.cjs <file.ts> <code-cache>   V8 code cache
// With a code-cache path, TypeScript is compiled from V8's cached code when
// the file holds it (best case: no compile), and the file is written when it
// does not. Prints the statement count, so the parse cannot be skipped.
'use strict';
const { readFileSync, writeFileSync, existsSync } = require('node:fs');
const { dirname } = require('node:path');
const { Script } = require('node:vm');
const { wrap } = require('node:module');

const [file, codeCache] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: parse-one-file.cjs <file.ts> [code-cache]\n');
  process.exit(2);
}
const tsPath = require.resolve('@ts-morph/common/dist/typescript.js', {
  paths: [require.resolve('ts-morph')],
});

/** TypeScript, compiled from the code cache if it holds it, and `save`, which writes it if not. */
function loadWithCodeCache(cachePath) {
  const cached = existsSync(cachePath) ? readFileSync(cachePath) : undefined;
  const script = new Script(wrap(readFileSync(tsPath, 'utf8')), {
    filename: tsPath,
    cachedData: cached,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, tsPath, dirname(tsPath));
  // Written after the parse, so that the parser's lazily compiled functions are in it.
  const save =
    !cached || script.cachedDataRejected
      ? () => writeFileSync(cachePath, script.createCachedData())
      : () => {};
  return { ts: module.exports, save };
}

const { ts, save } = codeCache
  ? loadWithCodeCache(codeCache)
  : { ts: require(tsPath), save: () => {} };
const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
save();
process.stdout.write(`${source.statements.length}\n`);
