// The analyser's entry point: from a loaded config to the frozen store model.
// Phases: load the project and the schema; index every module; discover
// streams, stores and compositions (syntax only); find transaction wrapper
// helpers; walk each store method once for its facts (helper functions only
// when a method reaches them); close reads and writes over calls, per store
// and per composition; resolve apps. The type checker is created only if a
// fact needs it (a non-literal table name, a receiver syntax cannot type).
import path from 'node:path';
import type { ts } from 'ts-morph';
import { analyseApps } from './apps.js';
import { closeCalls } from './call-closure.js';
import { CodeIndex, type Unit } from './code-index.js';
import { layoutCompositions } from './compositions.js';
import { filesIndependentOf } from './dependencies.js';
import type { StoreLintConfig } from './config.js';
import { byName, deepFreeze, sortedUnique } from './freeze.js';
import { compareLocations, nodeLocation } from './location.js';
import { cachedInfo, constructorInfo, generatorFields, handlerInfo } from './member-facts.js';
import {
  UnitWalker,
  type CallFact,
  type GeneratorField,
  type UnitFacts,
  type WalkContext,
} from './method-facts.js';
import {
  MODEL_VERSION,
  type CompositionInfo,
  type MethodCall,
  type MethodInfo,
  type StoreInfo,
  type StoreModel,
} from './model.js';
import { discoverFile } from './file-discovery.js';
import { ModuleGraph, type ModuleInfo } from './module-index.js';
import { ensurePgParser } from './pg-parser.js';
import { AnalysisProject, storeGlobFiles, toPosix, type ParsedFiles } from './project.js';
import { readSchema, writesThrough } from './schema.js';
import {
  compositionStore,
  confirmComposingMixins,
  reportDuplicateNames,
  settlePendingClasses,
  type CompositionDecl,
  type StoreDecl,
} from './stores.js';
import { streamResolver, type StreamDecl } from './streams.js';
import { findSuppressions } from './suppressions.js';
import { TransactionOpeners } from './transactions.js';
import { reportTriggerGaps } from './triggers.js';
import { RecordingSink, UnresolvedSink } from './unresolved.js';
import type { KeptFacts } from './kept-facts.js';
import { keptDecorations, sameStore, type Decorations } from './kept-stores.js';

// The CLI loads this module on demand and takes its entry points from it.
export { findRoot } from './dependencies.js';
export { printModel } from './print-model.js';
export { ParsedFiles } from './project.js';
export { KeptFacts } from './kept-facts.js';

export interface AnalyzeOptions {
  /** Called after each file's store methods are analysed. */
  readonly onProgress?: (done: number, total: number, file: string) => void;
  /** Parses kept by a long-running process (`--watch`): unchanged files are not parsed again. */
  readonly parsed?: ParsedFiles;
  /** Unit facts kept by a long-running process (`--watch`): units of unchanged files are not walked again where they still hold. */
  readonly kept?: KeptFacts;
  /** False: leave `independentFiles` empty (only `--cache` needs them, and they cost a pass over the imports). */
  readonly independentFiles?: boolean;
}

/** Statistics of the last `analyzeProject` run, for benchmarks and tests. */
export interface AnalysisStats {
  readonly files: number;
  readonly units: number;
  /** Units whose facts a `KeptFacts` run reused instead of walking them. */
  readonly unitsReused: number;
  /** Stores whose model entry a `KeptFacts` run reused instead of building it. */
  readonly storesReused: number;
  readonly checkerCreated: boolean;
  readonly checkerQueries: number;
  /** Wall time per phase, milliseconds. */
  readonly phases: Readonly<Record<string, number>>;
}

let lastStats: AnalysisStats | null = null;

/** How long the walk of store methods may hold the event loop at a time. */
const YIELD_EVERY_MS = 100;

export function lastAnalysisStats(): AnalysisStats | null {
  return lastStats;
}

export async function analyzeProject(
  config: StoreLintConfig,
  options: AnalyzeOptions = {},
): Promise<StoreModel> {
  return (await analyzeWithDependencies(config, options)).model;
}

/** The model, and the analysed files it does not depend on (see `dependencies.ts`). */
export interface AnalysisResult {
  readonly model: StoreModel;
  /** Paths relative to the root: files whose content cannot change the model, as long as each still declares nothing. */
  readonly independentFiles: readonly string[];
  /**
   * Relative imports that resolved to no file: what they name, relative to the
   * root (`src/lib/inner.js`). A file appearing there changes the analysis.
   */
  readonly missingImports: readonly string[];
  /** Files only the type checker read (relative to the root): its answers depend on them. */
  readonly checkerFiles: readonly string[];
}

export async function analyzeWithDependencies(
  config: StoreLintConfig,
  options: AnalyzeOptions = {},
): Promise<AnalysisResult> {
  const naming = config.naming;
  const unresolved = new UnresolvedSink();
  const phases: Record<string, number> = {};
  let mark = performance.now();
  const phase = (name: string): void => {
    const now = performance.now();
    phases[name] = Math.round(now - mark);
    mark = now;
  };
  const project = AnalysisProject.load(config, options.parsed);
  phase('load');
  const schema = await readSchema(config);
  const schemaTables = schema.tables;
  await ensurePgParser();
  phase('schema');

  const files = project.files;
  const graph = new ModuleGraph(project);

  // Discovery: each file's own declarations, then what they make together.
  const storeFiles = await storeGlobFiles(config);
  const discovered = files.map((f) => discoverFile(f, naming, storeFiles.has(f.abs), unresolved));
  const modules = discovered.map((d) => {
    graph.add(d.module);
    return d.module;
  });
  // Modules that declare something: with what they import, what the model depends on.
  const declaring = new Set<ModuleInfo>();
  const streams: StreamDecl[] = [];
  const stores: StoreDecl[] = [];
  const compositions: CompositionDecl[] = [];
  const pending: { cls: ts.ClassDeclaration; module: ModuleInfo; plainStoreFile: boolean }[] = [];
  for (const { module: m, streams: own, found } of discovered) {
    if (own.length > 0) declaring.add(m);
    streams.push(...own);
    const plain = storeFiles.has(m.file.abs);
    // A class over an identifier counts once it settles as a composition or store (below).
    if (found.stores.length + found.compositions.length > 0) declaring.add(m);
    stores.push(...found.stores);
    compositions.push(...found.compositions);
    for (const cls of found.pendingClasses) pending.push({ cls, module: m, plainStoreFile: plain });
  }
  const compositionNodes = new Set<ts.Node>(compositions.map((c) => c.classNode));
  const settled = settlePendingClasses(pending, (module, name) => {
    const r = graph.resolve(module, name);
    return r !== null && compositionNodes.has(r.node);
  });
  compositions.push(...settled.compositions);
  stores.push(...settled.stores);
  for (const d of [...settled.compositions, ...settled.stores]) declaring.add(d.module);
  const confirmed = confirmComposingMixins(
    stores,
    (m, name) => graph.resolve(m, name)?.node ?? null,
  );
  stores.length = 0;
  for (const s of confirmed) stores.push(s);
  const ownStores = new Map<CompositionDecl, StoreDecl>();
  for (const c of compositions) {
    if (!c.hasMembers) continue;
    const own = compositionStore(c);
    ownStores.set(c, own);
    stores.push(own);
  }
  reportDuplicateNames(stores, compositions, unresolved);
  const index = new CodeIndex(graph, stores, compositions);
  for (const m of modules) index.addModuleFunctions(m);
  index.addMixinLocalFunctions();
  index.addStaticMethods();

  const resolveStream = streamResolver(streams, graph);

  const generators = generatorFields(stores, resolveStream, unresolved);
  const generatorField = (store: StoreDecl, field: string): GeneratorField | null => {
    for (const s of index.chain(store)) {
      const g = generators.get(s)?.find((x) => x.field === field);
      if (g) return g;
    }
    const anywhere = [...generators.values()].flat().filter((x) => x.field === field);
    return anywhere.length === 1 ? anywhere[0]! : null;
  };

  phase('discover');
  const openers = new TransactionOpeners(index);
  openers.findWrappers(index.units);
  openers.findDeferrers(index.units);
  phase('wrappers');

  // Facts: store methods file by file, then the helper functions they reach.
  const ctx: WalkContext = {
    project,
    index,
    openers,
    naming,
    unresolved,
    schemaRoutines: schema.routines,
    routineAccess: schema.routineAccess,
    generatorField,
  };
  const factsRun = options.kept?.start({
    files,
    index,
    stores,
    compositions,
    openers,
    // What else a walk or the closure reads: the naming, the schema's
    // routines, views, triggers and foreign keys, the `stores` globs' files.
    settings: JSON.stringify([
      naming,
      [...schema.routines].sort(),
      [...schema.routineAccess],
      [...schema.viewReads],
      [...schema.triggers],
      [...schema.referencedBy],
      [...storeFiles].sort(),
    ]),
  });
  const facts = new Map<Unit, UnitFacts>();
  const unitsByFile = new Map<string, Unit[]>();
  for (const u of index.units) {
    if (!u.store) continue;
    const list = unitsByFile.get(u.module.file.abs);
    if (list) list.push(u);
    else unitsByFile.set(u.module.file.abs, [u]);
  }
  const helperQueue: Unit[] = [];
  const walk = (u: Unit): void => {
    let f = factsRun?.reuse(u, unresolved) ?? null;
    if (f === null && factsRun) {
      const recording = new RecordingSink(unresolved);
      const queries = project.checkerQueries;
      f = new UnitWalker(u, { ...ctx, unresolved: recording }).run();
      factsRun.record(u, f, recording.added, project.checkerQueries > queries);
    }
    f ??= new UnitWalker(u, ctx).run();
    facts.set(u, f);
    for (const h of f.helpers) if (!facts.has(h)) helperQueue.push(h);
  };
  // Yields now and then, so that a process that answers others while it
  // analyses (`--watch`, `--daemon`) tells them how far it is.
  let yielded = performance.now();
  for (const [i, file] of files.entries()) {
    for (const u of unitsByFile.get(file.abs) ?? []) walk(u);
    options.onProgress?.(i + 1, files.length, file.rel);
    if (performance.now() - yielded > YIELD_EVERY_MS) {
      await new Promise((next) => setImmediate(next));
      yielded = performance.now();
    }
  }
  while (helperQueue.length > 0) {
    const h = helperQueue.pop()!;
    if (!facts.has(h)) walk(h);
  }

  phase('facts');

  const layouts = layoutCompositions(compositions, index, ownStores, unresolved);
  const effectiveMethod = (c: CompositionDecl, name: string): Unit | undefined =>
    layouts.get(c)?.effective.get(name);

  // Closure over calls.
  const units = index.units;
  const callTargets = (call: CallFact): readonly Unit[] => {
    if (call.composition) {
      const u = effectiveMethod(call.composition, call.method);
      return u ? [u] : [];
    }
    return call.units;
  };
  const lastClosure = factsRun?.lastClosure() ?? null;
  const closure = closeCalls({
    units,
    facts,
    schema,
    unresolved,
    compositions,
    layouts,
    callTargets,
    last: lastClosure && {
      memo: lastClosure,
      changed: (u) => !factsRun!.wasReused(u),
      compositionKey: (c) => factsRun!.compositionKey(c),
    },
  });
  const { reads, writes, readsDirect, writesDirect } = closure;
  factsRun?.recordClosure(closure.memo((c) => factsRun.compositionKey(c)));

  phase('closure');

  // Store infos.
  const methodCall = (call: CallFact): MethodCall => {
    let store = call.store?.exportName ?? null;
    if (call.composition)
      store = effectiveMethod(call.composition, call.method)?.store?.exportName ?? null;
    return {
      method: call.method,
      receiver: call.receiver,
      store,
      reference: call.reference,
      inTransaction: call.inTransaction,
      location: call.location,
    };
  };
  /** A method's closed-over tables and whether its helpers leave something unresolved: what the model says of it beyond its own facts. */
  const closedOf = (u: Unit) => ({
    reads: reads[u.id]!,
    writes: writes[u.id]!,
    directReads: readsDirect[u.id]!,
    directWrites: writesDirect[u.id]!,
    databaseWrites: closure.databaseWrites[u.id]!,
    helpersUnresolved: closure.helpersUnresolved(u),
  });
  /** A store's decorators, with the files they were read from. */
  const decorate = (s: StoreDecl): Decorations => {
    const { rel, sf } = s.module.file;
    const recording = new RecordingSink(unresolved);
    const { value: members, modules } = graph.tracking(() =>
      s.members.map((m) => ({
        cached: cachedInfo(m.member, m.fn, s, rel, sf, recording, graph),
        handles: handlerInfo(m.member, s, resolveStream, recording, graph),
      })),
    );
    const files = new Set([rel, ...[...modules].map((m) => m.file.rel)]);
    return { members, files, unresolved: recording.added };
  };
  const storeInfo = (s: StoreDecl): StoreInfo => {
    const { rel, sf } = s.module.file;
    const last = factsRun?.lastStore(s) ?? null;
    const decorations =
      keptDecorations(last, (f) => factsRun!.edited(f), unresolved) ?? decorate(s);
    const units = s.members.map((m) => index.memberUnit(m));
    const members = units.map(closedOf);
    if (
      last &&
      sameStore(last, s, { decorations, units, reused: (u) => factsRun!.wasReused(u), members })
    ) {
      // Decorations read again this run are kept as read (what they reported may differ).
      factsRun!.keepStore(s, { ...last, decorations }, true);
      return last.info;
    }
    const methods: MethodInfo[] = s.members.map((m, i) => {
      const f = facts.get(units[i]!)!;
      const closed = members[i]!;
      const location = nodeLocation(m.nameNode, rel, sf);
      return {
        name: m.name,
        line: location.line,
        location,
        reads: sortedUnique(closed.reads),
        writes: sortedUnique(closed.writes),
        directReads: sortedUnique(closed.directReads),
        directWrites: sortedUnique(closed.directWrites),
        databaseWrites: closed.databaseWrites,
        cached: decorations.members[i]!.cached,
        handles: decorations.members[i]!.handles,
        invalidations: [...f.invalidations].sort((a, b) =>
          compareLocations(a.location, b.location),
        ),
        allocates: [...f.allocations].sort((a, b) => compareLocations(a.location, b.location)),
        calls: f.calls
          .map(methodCall)
          .sort(
            (a, b) => compareLocations(a.location, b.location) || (a.method < b.method ? -1 : 1),
          ),
        // The kind of a write serves the closure over foreign keys; the model keeps its shape.
        tableAccesses: f.accesses
          .map(({ table, access, via, location }) => ({ table, access, via, location }))
          .sort(
            (a, b) =>
              compareLocations(a.location, b.location) ||
              (a.table < b.table ? -1 : a.table > b.table ? 1 : 0),
          ),
        helpersUnresolved: closed.helpersUnresolved,
      };
    });
    const location = nodeLocation(s.nameNode, rel, sf);
    const info: StoreInfo = {
      name: s.name,
      exportName: s.exportName,
      file: rel,
      line: location.line,
      kind: s.kind,
      composes: index.composes(s).map((c) => c.exportName),
      location,
      methods: methods.sort((a, b) => compareLocations(a.location, b.location)),
      idGenerators: [...(generators.get(s) ?? [])].sort((a, b) =>
        compareLocations(a.location, b.location),
      ),
      constructorInfo: constructorInfo(s),
    };
    factsRun?.keepStore(s, { info, decorations, members }, false);
    return info;
  };
  const storeInfos: StoreInfo[] = stores.map(storeInfo);
  phase('stores');

  const compositionInfos: CompositionInfo[] = compositions.map((c) => {
    const location = nodeLocation(c.nameNode, c.module.file.rel, c.module.file.sf);
    return {
      name: c.name,
      file: c.module.file.rel,
      line: location.line,
      mixins: layouts.get(c)!.mixins,
      ownStore: ownStores.get(c)?.exportName ?? null,
      methods: closure.compositionMethods.get(c)!,
      location,
    };
  });

  phase('compositions');

  // App code's own writes fire triggers too.
  const apps = analyseApps({ config, project, graph, index, naming, unresolved }).apps.map((a) => ({
    ...a,
    writes: a.writes.flatMap((w) => {
      const { tables, fired } = writesThrough([w.table], schema);
      reportTriggerGaps(fired, unresolved);
      return [...tables].map((table) => ({ table, location: w.location }));
    }),
  }));
  // After apps: entry modules outside the tsconfig's files count too.
  phase('apps');
  const analysedFiles = project.files;
  const suppressions = analysedFiles.flatMap(findSuppressions);
  phase('suppressions');

  const independentFiles =
    project.checkerCreated || options.independentFiles === false
      ? []
      : filesIndependentOf(
          analysedFiles,
          graph,
          declaring,
          [
            ...unresolved.facts.map((f) => f.location.file),
            ...suppressions.map((s) => s.location.file),
            ...apps.flatMap((a) => a.modules),
          ],
          modules,
        );
  phase('dependencies');

  if (factsRun) options.kept!.done(factsRun, project.missingImports);
  lastStats = {
    files: files.length,
    units: facts.size,
    unitsReused: factsRun?.reused ?? 0,
    storesReused: factsRun?.storesReused ?? 0,
    checkerCreated: project.checkerCreated,
    checkerQueries: project.checkerQueries,
    phases,
  };

  const model: StoreModel = {
    version: MODEL_VERSION,
    root: config.root,
    stores: storeInfos.sort(
      (a, b) => byName(a, b) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0),
    ),
    compositions: compositionInfos.sort(
      (a, b) => byName(a, b) || compareLocations(a.location, b.location),
    ),
    streams: streams
      .map((s) => s.info)
      .sort((a, b) => byName(a, b) || compareLocations(a.location, b.location)),
    apps,
    schemaTables,
    unresolved: unresolved.facts.sort(
      (a, b) =>
        compareLocations(a.location, b.location) ||
        (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
    ),
    suppressions: suppressions.sort(
      (a, b) =>
        compareLocations(a.location, b.location) ||
        (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0),
    ),
  };
  const missingImports = project.missingImports.map((abs) =>
    toPosix(path.relative(project.root, abs)),
  );
  return {
    model: deepFreeze(model),
    independentFiles,
    missingImports,
    checkerFiles: project.checkerFiles,
  };
}
