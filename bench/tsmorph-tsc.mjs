// `tsc --noEmit -p <project>` with the TypeScript that ts-morph bundles — the
// compiler store-lint itself loads — for the store-lint benchmark, which
// needs it beside TypeScript 7 but cannot use a CLI: ts-morph ships none.
// Plain Node (no tsx), so that its time and memory are the compiler's alone.
//   node bench/tsmorph-tsc.mjs <dir or tsconfig.json>
// Exit status as tsc --noEmit: 0 no errors, 1 errors (config or type).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
// The bundle has no lib/*.d.ts files on disk: ts-morph serves the standard
// library from these in-memory texts, and so must this script.
import { getLibFiles, libFolderInMemoryPath } from '@ts-morph/common';
import { ts } from 'ts-morph';

const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: tsmorph-tsc.mjs <dir or tsconfig.json>\n');
  process.exit(2);
}
// Absolute, as tsc makes it: from a relative base path the include globs match nothing.
const configPath =
  existsSync(target) && statSync(target).isDirectory()
    ? path.resolve(target, 'tsconfig.json')
    : path.resolve(target);

const host = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => process.cwd(),
  getNewLine: () => '\n',
};

function finish(diagnostics) {
  const shown = diagnostics.slice(0, 5);
  if (shown.length) process.stdout.write(ts.formatDiagnostics(shown, host));
  process.stdout.write(`TypeScript ${ts.version}: ${diagnostics.length} error(s)\n`);
  process.exit(diagnostics.length ? 1 : 0);
}

const read = ts.readConfigFile(configPath, ts.sys.readFile);
if (read.error) finish([read.error]);
const parsed = ts.parseJsonConfigFileContent(
  read.config,
  ts.sys,
  path.dirname(configPath),
  undefined,
  configPath,
);
const options = { ...parsed.options, noEmit: true };

const libDir = libFolderInMemoryPath;
const libTexts = new Map(getLibFiles().map((f) => [path.posix.join(libDir, f.fileName), f.text]));
const compilerHost = ts.createCompilerHost(options);
const { fileExists, readFile, getSourceFile } = compilerHost;
Object.assign(compilerHost, {
  getDefaultLibLocation: () => libDir,
  getDefaultLibFileName: (o) => path.posix.join(libDir, ts.getDefaultLibFileName(o)),
  fileExists: (f) => libTexts.has(f) || fileExists.call(compilerHost, f),
  readFile: (f) => libTexts.get(f) ?? readFile.call(compilerHost, f),
  getSourceFile: (f, language, ...rest) => {
    const lib = libTexts.get(f);
    return lib === undefined
      ? getSourceFile.call(compilerHost, f, language, ...rest)
      : ts.createSourceFile(f, lib, language);
  },
});

const program = ts.createProgram({
  rootNames: parsed.fileNames,
  options,
  host: compilerHost,
  projectReferences: parsed.projectReferences,
  configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(parsed),
});
// What tsc reports before emitting: config, options, syntax, global and semantic diagnostics.
finish(ts.getPreEmitDiagnostics(program));
