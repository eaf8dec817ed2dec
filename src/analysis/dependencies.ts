// Which analysed files the model depends on, so that `--cache` can reuse a
// model when only other files changed (a test, a script, code no store and
// no app reaches).
//
// The analyser reads a file's content in two ways only. Every file is
// scanned on its own for what it declares (streams, mixins, compositions,
// classes that settle as compositions, plain stores in `stores` files,
// suppression comments); and names are followed from one module into
// another only along its import and re-export specifiers (`ModuleGraph`), as
// are app entries.
// So the model depends exactly on the files that declare something, the app
// modules, the files it reports something in, and everything those import,
// transitively. The type checker, once created, reads the whole program:
// then every file counts.
import path from 'node:path';
import { ts } from './typescript.cjs';
import type { StoreLintConfig } from './config.js';
import { indexModule, ModuleGraph, type ModuleInfo } from './module-index.js';
import {
  AnalysisProject,
  parseProjectFile,
  storeGlobFiles,
  toPosix,
  type ProjectFile,
} from './project.js';
import { discoverStores, extendsExpression, isSqlBaseStore, parseChain } from './stores.js';
import { discoverStreams } from './streams.js';
import { findSuppressions } from './suppressions.js';
import { UnresolvedSink } from './unresolved.js';

/** The modules `roots` import or re-export, transitively, with the roots themselves. */
function importClosure(roots: Iterable<ModuleInfo>, graph: ModuleGraph): Set<ModuleInfo> {
  const reached = new Set<ModuleInfo>();
  const queue = [...roots];
  while (queue.length > 0) {
    const m = queue.pop()!;
    if (reached.has(m)) continue;
    reached.add(m);
    for (const specifier of m.specifiers) {
      const target = graph.importTarget(m, specifier);
      if (target && !reached.has(target)) queue.push(target);
    }
  }
  return reached;
}

/**
 * The analysed files the model does not depend on: outside the import
 * closure of the modules that declare something and of the files the model
 * names (app modules, files with unresolved facts or suppressions).
 */
export function filesIndependentOf(
  files: readonly ProjectFile[],
  graph: ModuleGraph,
  declaring: ReadonlySet<ModuleInfo>,
  namedFiles: readonly string[],
  modules: readonly ModuleInfo[],
): string[] {
  const byRel = new Map(modules.map((m) => [m.file.rel, m]));
  const roots = new Set(declaring);
  for (const rel of namedFiles) {
    const m = byRel.get(rel);
    if (m) roots.add(m);
  }
  const dependent = new Set([...importClosure(roots, graph)].map((m) => m.file.rel));
  for (const rel of namedFiles) dependent.add(rel);
  return files.map((f) => f.rel).filter((rel) => !dependent.has(rel));
}

/**
 * Whether the class `name` used in `module` is a composition: over
 * `SQLBaseStore`, or over a class that is, through imports (what
 * `settlePendingClasses` decides with every module at hand).
 */
function namesComposition(
  graph: ModuleGraph,
  module: ModuleInfo,
  name: string,
  seen = new Set<string>(),
): boolean {
  const resolved = graph.resolve(module, name);
  if (!resolved || !ts.isClassDeclaration(resolved.node)) return false;
  const key = `${resolved.module.file.abs}#${resolved.name}`;
  if (seen.has(key)) return false;
  seen.add(key);
  const ext = extendsExpression(resolved.node);
  if (!ext) return false;
  const { base } = parseChain(ext);
  if (isSqlBaseStore(base)) return true;
  return ts.isIdentifier(base) && namesComposition(graph, resolved.module, base.text, seen);
}

/** What the stored model knows that decides whether a class over an identifier settles. */
export interface KnownDeclarations {
  /** Every composition's class name: a class over one of these names settles by name alone. */
  readonly compositions: readonly string[];
}

/** A changed file that, as it is now, counts for the model, and why. */
export interface RootFile {
  readonly file: string;
  readonly reason: string;
}

/**
 * The first of `files` (relative to the project root) that, as it is now,
 * would count for the model, or null when each declares nothing the analyser
 * discovers and parses cleanly. A file that does not parse counts: the full
 * analysis reports it. Only these files and the modules their classes'
 * superclasses resolve through are parsed.
 */
export async function findRoot(
  config: StoreLintConfig,
  files: readonly string[],
  known: KnownDeclarations,
): Promise<RootFile | null> {
  const project = AnalysisProject.loadLazily(config);
  const context: RootContext = {
    config,
    project,
    graph: new ModuleGraph(project),
    storeFiles: await storeGlobFiles(config),
    compositionNames: new Set(known.compositions),
  };
  for (const file of files) {
    const reason = rootReason(context, file);
    if (reason !== null) return { file, reason };
  }
  return null;
}

interface RootContext {
  readonly config: StoreLintConfig;
  readonly project: AnalysisProject;
  readonly graph: ModuleGraph;
  readonly storeFiles: ReadonlySet<string>;
  readonly compositionNames: ReadonlySet<string>;
}

function rootReason(
  { config, project, graph, storeFiles, compositionNames }: RootContext,
  rel: string,
): string | null {
  const abs = toPosix(path.resolve(config.root, rel));
  let module: ModuleInfo;
  try {
    module = indexModule(project.get(abs) ?? parseProjectFile(config.root, abs));
  } catch {
    return 'does not parse';
  }
  graph.add(module);
  const unresolved = new UnresolvedSink();
  if (discoverStreams(module, config.naming, unresolved).length > 0) return 'declares a stream';
  if (unresolved.facts.length > 0) return 'has an unresolved stream';
  const plainStoreFile = storeFiles.has(abs);
  const found = discoverStores(module, plainStoreFile);
  if (found.stores.length > 0 || found.compositions.length > 0) return 'declares a store';
  for (const cls of found.pendingClasses) {
    if (plainStoreFile) return 'declares a class in a `stores` file';
    const base = parseChain(extendsExpression(cls)!).base as ts.Identifier;
    if (compositionNames.has(base.text) || namesComposition(graph, module, base.text))
      return `declares ${cls.name!.text} over a composition`;
  }
  if (findSuppressions(module.file).length > 0) return 'has a suppression comment';
  return null;
}
