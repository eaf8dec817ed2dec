// Project loading: the files the project's tsconfig names, parsed with the
// TypeScript parser that ts-morph bundles (its `ts` namespace; a ts-morph
// `Project` would wrap every file and roughly double the cost of loading, see
// the research notes). Nothing the files import is parsed: node_modules and
// the runtime stay out of the analysed set. Analysis walks these raw trees;
// the type checker — a program over the same trees and what they import, the
// expensive part — is created only when a fact needs it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { PACKAGE_ROOT } from '../package-root.js';
import { bundledLibFiles, ts } from './typescript.cjs';
import type { StoreLintConfig } from './config.js';
import { AnalysisInputError } from './errors.js';
import { stampOf, unchangedSince, type FileStamp } from './file-stamps.js';

export interface ProjectFile {
  /** Absolute path, forward slashes. */
  readonly abs: string;
  /** Relative to the project root, POSIX separators. */
  readonly rel: string;
  readonly sf: ts.SourceFile;
}

export function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** The files the config's `stores` globs name (absolute, forward slashes): their classes are plain stores. */
export async function storeGlobFiles(config: StoreLintConfig): Promise<Set<string>> {
  if (config.stores.length === 0) return new Set();
  const files = await glob([...config.stores], {
    cwd: config.root,
    absolute: true,
    onlyFiles: true,
  });
  return new Set(files.map(toPosix));
}

/** A parse kept by `ParsedFiles`, with the file's stamp from before it was read. */
interface Parsed {
  readonly file: ProjectFile;
  readonly stamp: FileStamp | null;
}

/**
 * Parsed files that a long-running process (`store-lint --watch`) keeps
 * between analyses: a file whose text is unchanged is not parsed again, so
 * re-analysing after a one-file change parses one file, and a file not
 * written since it was read (its stamp) is not even read. Each analysis
 * keeps what it read and lets go of the rest (deleted files, files now
 * excluded).
 */
export class ParsedFiles {
  #previous = new Map<string, Parsed>();
  #current = new Map<string, Parsed>();
  /** Files parsed, and parses reused (`unread` of them without reading the file), over every analysis so far (for tests and benchmarks). */
  parses = 0;
  reused = 0;
  unread = 0;

  /** Called as an analysis starts: what the last one read is what this one may reuse. */
  nextAnalysis(): void {
    if (this.#current.size > 0) this.#previous = this.#current;
    this.#current = new Map();
  }

  #known(abs: string, rel: string): Parsed | undefined {
    const known = this.#current.get(abs) ?? this.#previous.get(abs);
    return known?.file.rel === rel ? known : undefined;
  }

  /** The parse of `abs` if the file was not written since it was read (`stamp`: now), without reading it. */
  unchanged(abs: string, rel: string, stamp: FileStamp | null): ProjectFile | undefined {
    const known = this.#known(abs, rel);
    if (known?.stamp == null || !unchangedSince(known.stamp, stamp)) return undefined;
    this.#current.set(abs, known);
    this.reused++;
    this.unread++;
    return known.file;
  }

  /** The parse of `abs` if its text (and the root it is named from) is what was parsed before. */
  reuse(abs: string, rel: string, text: string, stamp: FileStamp | null): ProjectFile | undefined {
    const known = this.#known(abs, rel);
    if (known === undefined || known.file.sf.text !== text) return undefined;
    this.#current.set(abs, { file: known.file, stamp });
    this.reused++;
    return known.file;
  }

  /** Keeps a new parse; `stamp`: the file's, taken before it was read. */
  keep(file: ProjectFile, stamp: FileStamp | null): void {
    this.#current.set(file.abs, { file, stamp });
    this.parses++;
  }

  #resolutions: { readonly key: string; readonly map: Map<string, Resolution> } | null = null;

  /**
   * Import resolutions kept across analyses while `key` (the compiler
   * options and the tsconfig's files) is the same. `AnalysisProject` keeps
   * here only resolutions nothing in the project can change: see `#resolution`.
   */
  resolutions(key: string): Map<string, Resolution> {
    if (this.#resolutions?.key !== key) this.#resolutions = { key, map: new Map() };
    return this.#resolutions.map;
  }
}

/** Reads and parses one source file; a file that does not parse is an `AnalysisInputError`. */
export function parseProjectFile(root: string, abs: string, parsed?: ParsedFiles): ProjectFile {
  const rel = toPosix(path.relative(root, abs));
  const stamp = parsed ? stampOf(abs) : null;
  const unchanged = parsed?.unchanged(abs, rel, stamp);
  if (unchanged) return unchanged;
  const text = ts.sys.readFile(abs);
  if (text === undefined) throw new AnalysisInputError(`${rel}: cannot read file`, rel);
  const reused = parsed?.reuse(abs, rel, text, stamp);
  if (reused) return reused;
  const sf = ts.createSourceFile(abs, text, ts.ScriptTarget.Latest, true);
  const parseDiagnostics = (sf as unknown as { parseDiagnostics?: readonly ts.Diagnostic[] })
    .parseDiagnostics;
  const first = parseDiagnostics?.[0];
  if (first) {
    const { line, character } = sf.getLineAndCharacterOfPosition(first.start ?? 0);
    const message = ts.flattenDiagnosticMessageText(first.messageText, ' ');
    throw new AnalysisInputError(
      `${rel}:${line + 1}:${character + 1}: file does not parse: ${message}`,
      rel,
    );
  }
  const file = { abs, rel, sf };
  parsed?.keep(file, stamp);
  return file;
}

/** What one import resolved to. */
interface Resolution {
  /** The project file it runs (see `resolveImport`), or null. */
  readonly target: string | null;
  /** A package import landing on TypeScript sources the tsconfig leaves out: that file. */
  readonly outside: string | null;
  /** Nothing at all: no file, not even a library's. */
  readonly nowhere: boolean;
  /** The file it resolved to, whatever it is; null when none. */
  readonly file: string | null;
}

export class AnalysisProject {
  readonly #options: ts.CompilerOptions;

  /** `verbatimModuleSyntax`: an `import { type A } from` stays, as `import {} from`, and runs the module. */
  get keepsInlineTypeImports(): boolean {
    return this.#options.verbatimModuleSyntax === true;
  }

  /**
   * Whether the compiler drops an import whose bindings are used in types
   * alone: not when imports are kept as written, nor when decorator metadata
   * may turn a type into a value, nor in JSX files (a factory is used unseen).
   */
  dropsTypeOnlyImports(file: ProjectFile): boolean {
    const o = this.#options;
    return (
      o.verbatimModuleSyntax !== true &&
      o.preserveValueImports !== true &&
      o.importsNotUsedAsValues !== ts.ImportsNotUsedAsValues.Preserve &&
      o.importsNotUsedAsValues !== ts.ImportsNotUsedAsValues.Error &&
      o.emitDecoratorMetadata !== true &&
      !/\.[cm]?[jt]sx$/.test(file.abs)
    );
  }
  readonly #files = new Map<string, ProjectFile>();
  /** Parses kept from an earlier analysis of the same process, to reuse. */
  readonly #parsed: ParsedFiles | undefined;
  /** Files of a lazily loaded project not parsed yet: parsed when first asked for. */
  readonly #unparsed = new Set<string>();
  /** Files added by `ensureFile`, outside the tsconfig's own set. */
  readonly #added = new Set<string>();
  readonly #resolutionCache: ts.ModuleResolutionCache;
  /** What each import (`from\0specifier`) resolved to, once. */
  readonly #resolved = new Map<string, Resolution>();
  /** Resolutions kept from earlier analyses of the same process (`ParsedFiles`). */
  readonly #keptResolutions: Map<string, Resolution> | undefined;
  readonly #missing = new Set<string>();
  #program: ts.Program | null = null;
  /** How many times a fact needed the type checker (for tests and performance reports). */
  checkerQueries = 0;

  private constructor(
    readonly root: string,
    options: ts.CompilerOptions,
    fileNames: readonly string[],
    readonly lazy: boolean,
    parsed: ParsedFiles | undefined,
  ) {
    this.#options = options;
    this.#parsed = parsed;
    this.#resolutionCache = ts.createModuleResolutionCache(root, (f) => f, options);
    this.#keptResolutions = parsed?.resolutions(
      `${root}\0${JSON.stringify(options)}\0${[...fileNames].sort().join('\n')}`,
    );
    for (const fileName of fileNames) {
      if (!isAnalysable(path.relative(root, fileName))) continue;
      if (lazy) this.#unparsed.add(toPosix(fileName));
      else this.#parse(toPosix(fileName));
    }
  }

  /** The project with every file parsed (or taken from `parsed` where its text is unchanged). */
  static load(config: StoreLintConfig, parsed?: ParsedFiles): AnalysisProject {
    parsed?.nextAnalysis();
    return AnalysisProject.#load(config, false, parsed);
  }

  /** The project with files parsed only when `get` first asks for them (to look at a few). */
  static loadLazily(config: StoreLintConfig): AnalysisProject {
    return AnalysisProject.#load(config, true, undefined);
  }

  static #load(
    config: StoreLintConfig,
    lazy: boolean,
    reuse: ParsedFiles | undefined,
  ): AnalysisProject {
    const tsconfig = path.resolve(config.root, config.tsconfig);
    const rel = toPosix(path.relative(config.root, tsconfig));
    if (!existsSync(tsconfig)) {
      throw new AnalysisInputError(`no tsconfig: ${rel} not found in ${config.root}`, rel);
    }
    // Parsed as a JSON source file (as tsc does), so errors carry their position.
    const source = ts.readJsonConfigFile(tsconfig, (f) => ts.sys.readFile(f));
    const syntax = (source as { parseDiagnostics?: readonly ts.Diagnostic[] })
      .parseDiagnostics?.[0];
    const parsed = syntax
      ? null
      : ts.parseJsonSourceFileConfigFileContent(
          source,
          ts.sys,
          path.dirname(tsconfig),
          undefined,
          tsconfig,
        );
    // TS18003 "no inputs": a project with no sources is analysed as empty.
    const error =
      syntax ??
      parsed?.errors.find((d) => d.category === ts.DiagnosticCategory.Error && d.code !== 18003);
    if (error || !parsed) {
      const message = error
        ? ts.flattenDiagnosticMessageText(error.messageText, ' ')
        : 'unreadable';
      // `file:line:col`, as a source that does not parse; the file may be a tsconfig it `extends`.
      let file = rel;
      let at = '';
      if (error?.file && error.start !== undefined) {
        file = toPosix(path.relative(config.root, error.file.fileName));
        const { line, character } = error.file.getLineAndCharacterOfPosition(error.start);
        at = `:${line + 1}:${character + 1}`;
      }
      throw new AnalysisInputError(`${file}${at}: invalid tsconfig: ${message}`, file);
    }
    // A solution-style tsconfig (`files: []` and `references`) holds no sources itself.
    const references = parsed.projectReferences ?? [];
    if (parsed.fileNames.length === 0 && references.length > 0) {
      const named = references
        .map((r) => toPosix(path.relative(config.root, ts.resolveProjectReferencePath(r))))
        .join(', ');
      throw new AnalysisInputError(
        `${rel} includes no files, only project references (${named}); set "tsconfig" in the store-lint config to the one that holds the stores`,
        rel,
      );
    }
    return new AnalysisProject(
      path.resolve(config.root),
      parsed.options,
      parsed.fileNames,
      lazy,
      reuse,
    );
  }

  /** The analysed files, sorted by relative path. */
  get files(): ProjectFile[] {
    return [...this.#files.values()].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  }

  get(abs: string): ProjectFile | undefined {
    const key = toPosix(abs);
    if (this.#unparsed.delete(key)) return this.#parse(key);
    return this.#files.get(key);
  }

  /** A file the tsconfig does not include (an app entry outside `include`): parse and add it. */
  ensureFile(abs: string): ProjectFile {
    const known = this.get(abs);
    if (known) return known;
    this.#program = null;
    this.#added.add(toPosix(abs));
    return this.#parse(toPosix(abs));
  }

  /** Whether `specifier` imported from `fromAbs` names no file at all (not even a library). */
  resolvesNowhere(specifier: string, fromAbs: string): boolean {
    return this.#resolution(specifier, fromAbs).nowhere;
  }

  /** Whether a tsconfig `paths` entry claims `specifier` (`@lib/*` claims `@lib/view.js`). */
  mapsPath(specifier: string): boolean {
    return Object.keys(this.#options.paths ?? {}).some((pattern) => {
      const star = pattern.indexOf('*');
      if (star < 0) return pattern === specifier;
      const [prefix, suffix] = [pattern.slice(0, star), pattern.slice(star + 1)];
      return (
        specifier.length >= prefix.length + suffix.length &&
        specifier.startsWith(prefix) &&
        specifier.endsWith(suffix)
      );
    });
  }

  /** Whether the tsconfig itself includes `abs` (not only `ensureFile`). */
  includes(abs: string): boolean {
    const key = toPosix(abs);
    return this.#isProjectFile(key) && !this.#added.has(key);
  }

  #parse(abs: string): ProjectFile {
    const file = parseProjectFile(this.root, abs, this.#parsed);
    this.#files.set(abs, file);
    return file;
  }

  /** The absolute path a module specifier resolves to, when it is a TypeScript source file. */
  resolveImport(specifier: string, fromAbs: string): string | null {
    return this.#resolution(specifier, fromAbs).target;
  }

  /** The file `specifier` imported from `fromAbs` resolves to, analysed or not (a library's too); null when none. */
  resolvedFile(specifier: string, fromAbs: string): string | null {
    return this.#resolution(specifier, fromAbs).file;
  }

  #resolution(specifier: string, fromAbs: string): Resolution {
    const key = `${fromAbs}\0${specifier}`;
    const hit = this.#resolved.get(key) ?? this.#keptResolutions?.get(key);
    if (hit !== undefined) {
      this.#resolved.set(key, hit);
      return hit;
    }
    const result = ts.resolveModuleName(
      specifier,
      fromAbs,
      this.#options,
      ts.sys,
      this.#resolutionCache,
    );
    const resolved = result.resolvedModule;
    if (!resolved && specifier.startsWith('.'))
      this.#missing.add(toPosix(path.resolve(path.dirname(fromAbs), specifier)));
    // Where TypeScript looked first and found nothing (an earlier `paths`
    // candidate, `x.ts` before `x.tsx`): a file appearing there changes the
    // resolution. One path per folder and name stem; libraries are not watched.
    const failed = (result as { failedLookupLocations?: readonly string[] }).failedLookupLocations;
    let lookedInProject = !resolved && specifier.startsWith('.');
    for (const lookup of failed ?? []) {
      const abs = toPosix(lookup);
      if (abs.split('/').includes('node_modules')) continue;
      const stem = path.posix.basename(abs).split('.')[0]!;
      this.#missing.add(path.posix.join(path.posix.dirname(abs), `${stem}.ts`));
      lookedInProject = true;
    }
    const file = resolved && toPosix(resolved.resolvedFileName);
    const declarations = file !== undefined && /\.d\.[mc]?ts$/.test(file);
    const external = resolved?.isExternalLibraryImport === true;
    // A package import counts when it lands on a file the tsconfig includes
    // (a workspace package linked into node_modules); else it is a library.
    const target =
      file !== undefined && !declarations && (!external || this.#isProjectFile(file)) ? file : null;
    const outside =
      file !== undefined &&
      target === null &&
      external &&
      /\.[mc]?tsx?$/.test(file) &&
      !declarations
        ? file
        : null;
    const resolution = { target, outside, nowhere: !resolved, file: file ?? null };
    this.#resolved.set(key, resolution);
    // Kept for later analyses only when it found a file, no file appearing in
    // the project can change it (TypeScript found it at the first place it
    // looked there, or looked only in node_modules, which is not watched),
    // and it does not depend on which files this analysis added (`ensureFile`).
    if (resolved && !lookedInProject && (!external || declarations))
      this.#keptResolutions?.set(key, resolution);
    return resolution;
  }

  /**
   * For a package import that `resolveImport` does not follow because it
   * lands on a TypeScript source outside the tsconfig (a workspace package
   * the project does not include): that file, relative to the root, for
   * messages. Null otherwise.
   */
  sourceOutsideProject(specifier: string, fromAbs: string): string | null {
    const { outside } = this.#resolution(specifier, fromAbs);
    return outside === null ? null : toPosix(path.relative(this.root, outside));
  }

  #isProjectFile(abs: string): boolean {
    return this.#files.has(abs) || this.#unparsed.has(abs);
  }

  /**
   * The type checker, created on first use: a program over the analysed
   * trees themselves (so their nodes can be asked about) and what they import.
   */
  checker(): ts.TypeChecker {
    this.checkerQueries++;
    if (!this.#program) {
      const host = ts.createCompilerHost(this.#options, true);
      const parse = host.getSourceFile.bind(host);
      // The standard library comes from ts-morph's bundle, under a folder of its own.
      const libs = new Map(bundledLibFiles().map((f) => [`${LIB_FOLDER}/${f.fileName}`, f.text]));
      const fileExists = host.fileExists.bind(host);
      const readFile = host.readFile.bind(host);
      host.getDefaultLibLocation = () => LIB_FOLDER;
      host.getDefaultLibFileName = (options) =>
        `${LIB_FOLDER}/${ts.getDefaultLibFileName(options)}`;
      host.fileExists = (fileName) => libs.has(fileName) || fileExists(fileName);
      host.readFile = (fileName) => libs.get(fileName) ?? readFile(fileName);
      host.getSourceFile = (fileName, languageVersionOrOptions, onError, shouldCreate) => {
        const lib = libs.get(fileName);
        if (lib !== undefined) return ts.createSourceFile(fileName, lib, languageVersionOrOptions);
        const own = this.#files.get(toPosix(fileName));
        if (!own) return parse(fileName, languageVersionOrOptions, onError, shouldCreate);
        if (
          typeof languageVersionOrOptions === 'object' &&
          languageVersionOrOptions.impliedNodeFormat !== undefined
        ) {
          own.sf.impliedNodeFormat = languageVersionOrOptions.impliedNodeFormat;
        }
        return own.sf;
      };
      this.#program = ts.createProgram({
        rootNames: [...this.#files.keys()],
        options: this.#options,
        host,
      });
    }
    return this.#program.getTypeChecker();
  }

  /**
   * Relative imports that resolved to no file, as absolute paths of what they
   * name, and the places TypeScript looked in vain before it found a file: a
   * file appearing there would change the analysis.
   */
  get missingImports(): string[] {
    return [...this.#missing].sort();
  }

  get checkerCreated(): boolean {
    return this.#program !== null;
  }

  /**
   * The project's files the checker's program read beyond the analysed ones
   * (a `.d.ts` outside the tsconfig's globs, say), relative to the root: its
   * answers depend on them. Libraries under node_modules are left out.
   */
  get checkerFiles(): string[] {
    if (!this.#program) return [];
    return this.#program
      .getSourceFiles()
      .map((sf) => toPosix(sf.fileName))
      .filter((f) => !f.startsWith(`${LIB_FOLDER}/`) && !this.#files.has(f))
      .filter((f) => !f.split('/').includes('node_modules'))
      .map((f) => toPosix(path.relative(this.root, f)))
      .sort();
  }
}

/** The runtime's own sources, in a checkout (src/) and as published (dist/). */
const RUNTIME_SOURCES = ['src', 'dist'].map((d) => path.join(PACKAGE_ROOT.dir, d) + path.sep);

/** Whether `abs` is a file of the storesplit runtime itself (reached by a relative path in its checkout). */
export function isRuntimeSource(abs: string): boolean {
  return RUNTIME_SOURCES.some((dir) => path.resolve(abs).startsWith(dir));
}

/** Where the checker's program finds the bundled standard library (no such folder exists on disk). */
const LIB_FOLDER = '/__storesplit_ts_lib__';

/** Project sources: TypeScript files that are not declarations and not under a node_modules of the project. */
function isAnalysable(rel: string): boolean {
  return (
    !toPosix(rel).split('/').includes('node_modules') &&
    !/\.d\.[mc]?ts$/.test(rel) &&
    /\.[mc]?tsx?$/.test(rel)
  );
}
