// Facts several rules need, derived once per model: each composition's
// effective methods (outermost definition wins, as at run time), its caches
// and what they read, its `@onReplication` handlers and what they invalidate
// (following `this.` calls into helpers), and its write paths: the methods a
// write can start from, with the streams they allocate on and the caches they
// invalidate, through everything they call.
//
// Precision rule: a fact the rules use to say "nothing invalidates this" must
// be a proven absence. Where the analyser left something unresolved inside a
// method (or a call could not be resolved to a known method), the method is
// marked `uncertain` and the rules stay silent about it; the unresolved fact
// itself is reported by `analysis-unresolved`.
//
// Speed: lint() runs after every edit under `--watch`. The model arrives
// deep-frozen (src/analysis/freeze.ts), and V8 (Node 20) iterates a frozen
// array with `for…of`, or builds a Set from one, through the generic iterator
// protocol: one object per element. So the loops here and in the rules over
// model arrays that run per method are indexed, and `setOf` builds sets.
import {
  CACHES_STREAM,
  CACHES_TABLE,
  type AppInfo,
  type CompositionInfo,
  type CompositionMethod,
  type DatabaseWrite,
  type InvalidationKind,
  type MethodCall,
  type MethodInfo,
  type SourceLocation,
  type StoreInfo,
  type StoreModel,
  type StreamInfo,
  type UnresolvedFact,
} from '../analysis/model.js';

export { CACHES_STREAM };
/** The table the runtime's `caches` stream announces. */
export const CACHES_STREAM_TABLE = CACHES_TABLE;

/** Members `SQLBaseStore` gives every composition: never "missing", never user code. */
export const BASE_MEMBERS: ReadonlySet<string> = new Set([
  'dbConn',
  'hs',
  'streamPositions',
  'prepare',
  'streamIdGenerator',
  'memoryStream',
  'idGenerators',
  'memoryStreamSources',
  'streamToken',
  'waitForStreamPosition',
  'processReplicationRows',
  'cacheStats',
  'invalidate',
  'invalidatePrefix',
  'invalidateAll',
  'invalidateCacheAndStream',
  'invalidateCacheAndStreamBulk',
  'invalidateAllCacheAndStream',
  'applyCacheInvalidations',
  'close',
]);

/** Invalidation kinds that go through the caches stream (and invalidate locally after commit). */
export const STREAM_INVALIDATION_KINDS: ReadonlySet<InvalidationKind> = new Set([
  'invalidateCacheAndStream',
  'invalidateCacheAndStreamBulk',
  'invalidateAllCacheAndStream',
]);

/** A method as defined by one store of a composition's chain. */
export interface Resolved {
  readonly store: StoreInfo;
  readonly method: MethodInfo;
  /** Tables read, closed over calls as resolved in the composition (the model's `CompositionMethod`). */
  readonly reads: readonly string[];
  /** Tables written, closed over calls as resolved in the composition. */
  readonly writes: readonly string[];
}

export interface CacheFacts {
  /** The cache's name: its `@cached()` method's name. */
  readonly name: string;
  readonly owner: Resolved;
  /** `@cachedList()` methods that fill this cache. */
  readonly fronts: readonly Resolved[];
  /** Tables the cache's entries come from (the method's and its list fronts' reads). */
  readonly reads: ReadonlySet<string>;
}

export interface HandlerFacts {
  readonly handler: Resolved;
  /** Stream name. */
  readonly stream: string;
  /** Caches the handler invalidates, directly or through helpers it calls. */
  readonly invalidates: ReadonlySet<string>;
  /** Something in the handler or its helpers is unresolved: it may invalidate more. */
  readonly uncertain: boolean;
}

/** What a method does through everything it calls on `this`. */
export interface Reach {
  readonly members: readonly Resolved[];
  /** Streams allocated on (names). */
  readonly streams: ReadonlySet<string>;
  /** Caches invalidated on this process (every kind; caches-stream kinds invalidate locally after commit). */
  readonly local: ReadonlySet<string>;
  /** Caches invalidated through the caches stream (on every process that has them). */
  readonly cachesStream: ReadonlySet<string>;
  /** Something unresolved or an unknown `this.` call is in reach. */
  readonly uncertain: boolean;
}

/** A method a write can start from (no other method of the composition calls it, or app code does). */
export interface WritePath extends Reach {
  readonly root: Resolved;
  readonly writes: ReadonlySet<string>;
}

export interface CompositionFacts {
  readonly name: string;
  readonly info: CompositionInfo | null;
  readonly apps: readonly AppInfo[];
  readonly isWriter: boolean;
  readonly isWorker: boolean;
  /** Stores in the composition, innermost first (nested mixins expanded). */
  readonly chain: readonly StoreInfo[];
  /**
   * How many times the runtime applies each store of the chain: a mixin that
   * two others compose (or the composition and another) defines its methods
   * twice, which `chain`, one entry per store, does not show.
   */
  readonly applications: ReadonlyMap<StoreInfo, number>;
  /** Mixins named by the composition that the model has no store for. */
  readonly unknownMixins: readonly string[];
  /** The effective definition of each method name. */
  readonly methods: ReadonlyMap<string, Resolved>;
  /** Every definition of each method name, innermost first. */
  readonly definitions: ReadonlyMap<string, readonly Resolved[]>;
  readonly caches: ReadonlyMap<string, CacheFacts>;
  /** Handlers by stream name. */
  readonly handlers: ReadonlyMap<string, readonly HandlerFacts[]>;
  /**
   * Where work enters the composition: methods no other method of it calls,
   * or that app code calls; not `prepare()`, which runs before any cache
   * holds an entry.
   */
  readonly entryPoints: readonly Resolved[];
  /** The entry points that write a table the analyser named. */
  readonly writePaths: readonly WritePath[];
  /**
   * Whether a handler in this composition of one of `streams` invalidates
   * `cache`, or may (an uncertain handler counts: the rules stay silent).
   * A handler of any stream a write allocates on runs for that write.
   */
  handlerInvalidates(streams: Iterable<string>, cache: string): boolean;
  /** The caches whose entries come from `table`, in `caches` order. */
  cachesReading(table: string): readonly CacheFacts[];
  reach(r: Resolved): Reach;
  resolveCall(from: Resolved, call: MethodCall): Resolved | 'base' | 'unknown' | 'other';
  /** Where `r` writes `table`: its own access, else the call that leads to it, else the method. */
  writeLocation(r: Resolved, table: string): SourceLocation;
}

export interface ModelFacts {
  readonly model: StoreModel;
  readonly compositions: readonly CompositionFacts[];
  /** A composition by class name; undefined when two share the name. */
  composition(name: string): CompositionFacts | undefined;
  compositionOf(app: AppInfo): CompositionFacts | undefined;
  readonly writerCompositions: readonly CompositionFacts[];
  readonly workerCompositions: readonly CompositionFacts[];
  /** Compositions whose chain contains `store`. */
  compositionsContaining(store: StoreInfo): readonly CompositionFacts[];
  /** A store by class name or mixin export name. */
  store(name: string): StoreInfo | undefined;
  stream(nameOrVariable: string): StreamInfo | undefined;
  /** A stream reference (name or the variable holding it) as the stream's name. */
  streamName(nameOrVariable: string): string;
  /** The variable a stream is defined in, for messages (`ReceiptsStream`); else its name. */
  streamLabel(name: string): string;
  /** Whether writes of `table` are announced by `stream`: unknown when the stream or its tables are unknown. */
  covers(stream: string, table: string): 'yes' | 'no' | 'unknown';
  /** Unresolved facts the analyser attributes to a store's method. */
  unresolvedWithin(store: StoreInfo, method: MethodInfo): readonly UnresolvedFact[];
  /** Every certain write (see `CertainWrite`), listed once per model for the rules that walk them all. */
  certainWrites(): readonly CertainWrite[];
  /** The certain writes of `table`, in `certainWrites()` order. */
  certainWritesOf(table: string): readonly CertainWrite[];
}

/** The entry under `key`, made by `create` the first time it is asked for. */
export function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => NoInfer<V>): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

/**
 * The empty list every lookup that finds nothing returns: no allocation per
 * miss. Not frozen, unlike the model: `readonly` keeps it empty, and `for…of`
 * over a frozen array is slow (see the top of this file).
 */
const NONE: readonly never[] = [];
/** The empty set of names a reach without streams or invalidations holds. */
const NO_NAMES: ReadonlySet<string> = new Set();

/**
 * Adds `value` to the list under `key`. A new list is made to fit its first
 * value: most lists here hold one, and `[]` then `push` reserves room for
 * many.
 */
function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `items` in lists by `key`, each list in the items' order. */
function groupBy<K, V>(items: readonly V[], key: (v: V) => K): Map<K, V[]> {
  const out = new Map<K, V[]>();
  for (let i = 0; i < items.length; i++) append(out, key(items[i]!), items[i]!);
  return out;
}

/** A set of `items` (indexed: `items` may be a frozen model array, see the top of this file). */
function setOf<T>(items: readonly T[]): Set<T> {
  const set = new Set<T>();
  for (let i = 0; i < items.length; i++) set.add(items[i]!);
  return set;
}

const memo = new WeakMap<StoreModel, ModelFacts>();

/** The facts of a model, computed once and shared by every rule. */
export function factsOf(model: StoreModel): ModelFacts {
  let facts = memo.get(model);
  if (!facts) {
    facts = buildFacts(model);
    memo.set(model, facts);
  }
  return facts;
}

export function qualified(r: Resolved): string {
  return `${r.store.name}.${r.method.name}`;
}

/** `app reader` / `apps reader, reader2`. */
export function appsText(apps: readonly string[]): string {
  if (apps.length === 0) return 'no app';
  return `${apps.length === 1 ? 'app' : 'apps'} ${apps.join(', ')}`;
}

/** `` `a` ``, `` `a`, `b` `` (sorted, unique). */
export function codeList(names: Iterable<string>): string {
  return [...new Set(names)]
    .sort()
    .map((n) => `\`${n}\``)
    .join(', ');
}

function buildFacts(model: StoreModel): ModelFacts {
  // The model names stores by `exportName` (compositions, calls); messages by
  // class name. A name two stores share (the analyser reports it as
  // `duplicate-name`) resolves to none: a composition over it then counts it
  // as unknown, and the rules stay silent about that composition instead of
  // reading one store for the other.
  const storesByExport = groupBy(model.stores, (s) => s.exportName);
  const storesByName = new Map<string, StoreInfo>();
  for (const [name, list] of groupBy(model.stores, (s) => s.name)) {
    if (list.length === 1 && !storesByExport.has(name)) storesByName.set(name, list[0]!);
  }
  for (const [name, list] of storesByExport)
    if (list.length === 1) storesByName.set(name, list[0]!);

  const streamsByRef = new Map<string, StreamInfo>();
  for (const s of model.streams) streamsByRef.set(s.variable, s);
  for (const s of model.streams) streamsByRef.set(s.name, s);
  const streamName = (ref: string): string => {
    if (ref === 'CachesStream') return CACHES_STREAM;
    return streamsByRef.get(ref)?.name ?? ref;
  };

  // The analyser names the store and method an unresolved fact occurs in.
  // Looked up once per method a rule visits: by store, then method, so that
  // no lookup builds a key string.
  const unresolvedByMethod = new Map<string, Map<string, UnresolvedFact[]>>();
  for (const u of model.unresolved) {
    if (u.store === null || u.method === null) continue;
    const byMethod = getOrCreate(unresolvedByMethod, u.store, () => new Map());
    append(byMethod, u.method, u);
  }
  const unresolvedWithin = (store: StoreInfo, method: MethodInfo): readonly UnresolvedFact[] =>
    unresolvedByMethod.get(store.exportName)?.get(method.name) ?? NONE;

  // Every stream a write may be announced on: defined, or named by a generator
  // or an allocation. Listed when first needed (only for a method whose
  // decorator is unresolved): it takes a walk over every method.
  let streamNameList: string[] | undefined;
  const streamNames = (): readonly string[] => {
    if (streamNameList) return streamNameList;
    const names = new Set<string>();
    for (const s of model.streams) names.add(s.name);
    for (const s of model.stores) {
      for (const g of s.idGenerators) names.add(streamName(g.stream));
      for (const m of s.methods) for (const a of m.allocates) names.add(streamName(a.stream));
    }
    return (streamNameList = [...names].sort());
  };

  // Compositions by file and name: two of one name are told apart by file.
  const compositionKey = (name: string, file: string): string => `${file}#${name}`;
  const appsByComposition = groupBy(model.apps, (a) =>
    compositionKey(a.composition, a.compositionFile),
  );

  const lookups: ModelLookups = {
    storesByName,
    streamName,
    unresolvedWithin,
    streamNames,
    decoratorsUnresolved: model.unresolved.some((u) => u.kind === 'decorator'),
  };
  const compositions: CompositionFacts[] = [];
  const byKey = new Map<string, CompositionFacts>();
  const addComposition = (
    key: string,
    name: string,
    info: CompositionInfo | null,
    roots: readonly string[],
  ) => {
    if (byKey.has(key)) return;
    const facts = buildComposition(name, info, roots, appsByComposition.get(key) ?? [], lookups);
    compositions.push(facts);
    byKey.set(key, facts);
  };
  for (const c of model.compositions) {
    addComposition(compositionKey(c.name, c.file), c.name, c, c.mixins);
  }
  // An app may run a plain store class instead of a composition.
  for (const app of model.apps) {
    const key = compositionKey(app.composition, app.compositionFile);
    addComposition(key, app.composition, null, [app.composition]);
  }
  const byName = new Map<string, CompositionFacts>();
  for (const [name, list] of groupBy(compositions, (c) => c.name)) {
    if (list.length === 1) byName.set(name, list[0]!);
  }

  const containing = new Map<StoreInfo, CompositionFacts[]>();
  for (const c of compositions) {
    for (const s of c.chain) {
      append(containing, s, c);
    }
  }

  const writerCompositions = compositions.filter((c) => c.isWriter);
  let writes: CertainWrite[] | null = null;
  const allCertainWrites = () => (writes ??= certainWrites(writerCompositions));
  let writesByTable: Map<string, CertainWrite[]> | null = null;
  return {
    model,
    compositions,
    composition: (name) => byName.get(name),
    compositionOf: (app) => byKey.get(compositionKey(app.composition, app.compositionFile)),
    writerCompositions,
    workerCompositions: compositions.filter((c) => c.isWorker),
    compositionsContaining: (store) => containing.get(store) ?? [],
    store: (name) => storesByName.get(name),
    stream: (ref) => streamsByRef.get(ref) ?? streamsByRef.get(streamName(ref)),
    streamName,
    streamLabel: (name) =>
      name === CACHES_STREAM ? 'CachesStream' : (streamsByRef.get(name)?.variable ?? name),
    covers(stream, table) {
      const name = streamName(stream);
      if (name === CACHES_STREAM) return table === CACHES_STREAM_TABLE ? 'yes' : 'no';
      const info = streamsByRef.get(name);
      if (!info) return 'unknown';
      if (info.kind === 'memory') return 'no';
      if (info.tables.length === 0) return 'unknown';
      return info.tables.includes(table) ? 'yes' : 'no';
    },
    unresolvedWithin,
    certainWrites: allCertainWrites,
    certainWritesOf(table) {
      writesByTable ??= groupBy(allCertainWrites(), (w) => w.table);
      return writesByTable.get(table) ?? [];
    },
  };
}

/**
 * How the database writes `table` on a write path none of whose methods
 * names it in a statement (a trigger, a foreign key's action, a view): words
 * for a message after "writes `table`", or '' when a method names it.
 */
export function databaseWriteNote(path: WritePath, table: string): string {
  let found: DatabaseWrite | undefined;
  for (const r of [path.root, ...path.members]) {
    const { tableAccesses, databaseWrites } = r.method;
    for (let i = 0; i < tableAccesses.length; i++) {
      const a = tableAccesses[i]!;
      if (a.access === 'write' && a.table === table) return '';
    }
    found ??= databaseWrites.find((w) => w.table === table);
  }
  if (!found) return '';
  const by =
    found.by === 'trigger'
      ? `trigger \`${found.name}\` on \`${found.after}\``
      : found.by === 'foreign key'
        ? `foreign key \`${found.name}\` referencing \`${found.after}\``
        : `view \`${found.after}\``;
  return ` (in the database, through ${by})`;
}

/** One table a writer's write path writes, where the path holds nothing unresolved. */
export interface CertainWrite {
  readonly writer: CompositionFacts;
  /** The writer apps that run `writer`. */
  readonly writerApps: readonly string[];
  readonly path: WritePath;
  readonly table: string;
}

/**
 * Every table written on a certain write path of a writer composition whose
 * mixins are all known: what the rules about writes examine. A path with
 * something unresolved in reach is skipped (it may announce or invalidate
 * more than the model shows); `analysis-unresolved` reports why.
 */
function certainWrites(writerCompositions: readonly CompositionFacts[]): CertainWrite[] {
  const writes: CertainWrite[] = [];
  for (const writer of writerCompositions) {
    if (writer.unknownMixins.length) continue;
    const writerApps = writer.apps.filter((a) => a.role === 'writer').map((a) => a.name);
    for (const path of writer.writePaths) {
      if (path.uncertain) continue;
      for (const table of path.writes) writes.push({ writer, writerApps, path, table });
    }
  }
  return writes;
}

/** What each composition's facts are built from: derived once per model. */
interface ModelLookups {
  readonly storesByName: ReadonlyMap<string, StoreInfo>;
  readonly streamName: (ref: string) => string;
  readonly unresolvedWithin: (s: StoreInfo, m: MethodInfo) => readonly UnresolvedFact[];
  /** Every stream a write may be announced on. */
  readonly streamNames: () => readonly string[];
  /** Some decorator was left unresolved: a method may be a handler the model does not show. */
  readonly decoratorsUnresolved: boolean;
}

function buildComposition(
  name: string,
  info: CompositionInfo | null,
  roots: readonly string[],
  apps: readonly AppInfo[],
  lookups: ModelLookups,
): CompositionFacts {
  const { storesByName, streamName, unresolvedWithin, streamNames } = lookups;
  const chain: StoreInfo[] = [];
  const unknownMixins: string[] = [];
  // A store entered is in the chain or, while its inner mixins are added, on
  // the path to them (a cycle): either way it is not added again.
  const entered = new Set<StoreInfo>();
  const add = (mixin: string) => {
    const store = storesByName.get(mixin);
    if (!store) {
      if (!unknownMixins.includes(mixin)) unknownMixins.push(mixin);
      return;
    }
    if (entered.has(store)) return;
    entered.add(store);
    for (let i = 0; i < store.composes.length; i++) add(store.composes[i]!);
    chain.push(store);
  };
  for (let i = 0; i < roots.length; i++) add(roots[i]!);
  // A composition class may declare members of its own.
  if (info?.ownStore) add(info.ownStore);
  const chainIndex = new Map<StoreInfo, number>();
  for (const [i, store] of chain.entries()) chainIndex.set(store, i);
  // `roots` lists the layers as the runtime applies them, repeats included.
  const applications = new Map<StoreInfo, number>();
  for (let i = 0; i < roots.length; i++) {
    const store = storesByName.get(roots[i]!);
    if (store) applications.set(store, (applications.get(store) ?? 0) + 1);
  }

  const { methods, definitions } = resolveDefinitions(chain, info, storesByName);

  const resolveCall = (
    from: Resolved,
    call: MethodCall,
  ): Resolved | 'base' | 'unknown' | 'other' => {
    if (call.receiver === 'this') {
      return methods.get(call.method) ?? (BASE_MEMBERS.has(call.method) ? 'base' : 'unknown');
    }
    if (call.receiver === 'super') {
      // The outermost definition inside the calling store.
      const at = chainIndex.get(from.store) ?? chain.length;
      const defs = definitions.get(call.method) ?? NONE;
      for (let i = defs.length - 1; i >= 0; i--) {
        if ((chainIndex.get(defs[i]!.store) ?? -1) < at) return defs[i]!;
      }
      return BASE_MEMBERS.has(call.method) ? 'base' : 'unknown';
    }
    return 'other';
  };

  const reachMemo = new Map<Resolved, Reach>();
  const reach = (start: Resolved): Reach => {
    const cached = reachMemo.get(start);
    if (cached) return cached;
    const members = [start];
    // Most methods call no other and allocate or invalidate little: each
    // collection is made when it gets its first member (an empty set is shared).
    let stack: Resolved[] | undefined;
    let seen: Set<Resolved> | undefined;
    let streams: Set<string> | undefined;
    let local: Set<string> | undefined;
    let cachesStream: Set<string> | undefined;
    let uncertain = unknownMixins.length > 0;
    for (let r: Resolved | undefined = start; r; r = stack?.pop()) {
      // Past `start`, each method comes off the stack of calls.
      if (stack) {
        seen ??= new Set(members);
        if (seen.has(r)) continue;
        seen.add(r);
        members.push(r);
      }
      const { allocates, invalidations, calls } = r.method;
      if (unresolvedWithin(r.store, r.method).length || r.method.helpersUnresolved)
        uncertain = true;
      for (let i = 0; i < allocates.length; i++)
        (streams ??= new Set()).add(streamName(allocates[i]!.stream));
      for (let i = 0; i < invalidations.length; i++) {
        const inv = invalidations[i]!;
        (local ??= new Set()).add(inv.cache);
        if (STREAM_INVALIDATION_KINDS.has(inv.kind)) (cachesStream ??= new Set()).add(inv.cache);
      }
      for (let i = 0; i < calls.length; i++) {
        const target = resolveCall(r, calls[i]!);
        if (target === 'unknown') uncertain = true;
        else if (typeof target === 'object') (stack ??= []).push(target);
      }
    }
    const result: Reach = {
      members,
      streams: streams ?? NO_NAMES,
      local: local ?? NO_NAMES,
      cachesStream: cachesStream ?? NO_NAMES,
      uncertain,
    };
    reachMemo.set(start, result);
    return result;
  };

  const caches = cachesOf(methods);

  // Every definition's handler is registered at run time, overridden or not.
  const handlers = new Map<string, HandlerFacts[]>();
  for (const defs of definitions.values()) {
    for (const r of defs) {
      if (!r.method.handles) continue;
      const stream = streamName(r.method.handles.stream);
      const { local, uncertain } = reach(r);
      append(handlers, stream, { handler: r, stream, invalidates: local, uncertain });
    }
  }
  // A method whose decorator the analyser could not resolve may be a handler
  // of any stream: an uncertain one of each, so the rules stay silent.
  if (lookups.decoratorsUnresolved) {
    for (const defs of definitions.values()) {
      for (const r of defs) {
        if (r.method.handles) continue;
        if (!unresolvedWithin(r.store, r.method).some((u) => u.kind === 'decorator')) continue;
        for (const stream of streamNames()) {
          append(handlers, stream, {
            handler: r,
            stream,
            invalidates: reach(r).local,
            uncertain: true,
          });
        }
      }
    }
  }

  // Write paths start where no other method of the composition calls in, or
  // where app code calls in. `prepare()` runs at start-up, before any cache
  // holds an entry, so its writes cannot leave one stale. Found when first
  // asked for: the rules ask only of writers.
  let entries: { entryPoints: Resolved[]; writePaths: WritePath[] } | undefined;
  const findEntries = () => {
    const called = new Set<Resolved>();
    for (const defs of definitions.values()) {
      for (const r of defs) {
        const calls = r.method.calls;
        for (let i = 0; i < calls.length; i++) {
          const target = resolveCall(r, calls[i]!);
          if (typeof target === 'object' && target !== r) called.add(target);
        }
      }
    }
    const appCalled = new Set<string>();
    for (const a of apps) for (const c of a.calls) appCalled.add(c.method);
    const entryPoints: Resolved[] = [];
    const writePaths: WritePath[] = [];
    for (const r of methods.values()) {
      if (r.method.name === 'prepare' || (called.has(r) && !appCalled.has(r.method.name))) continue;
      entryPoints.push(r);
      if (r.writes.length === 0) continue;
      const { members, streams, local, cachesStream, uncertain } = reach(r);
      const writes = setOf(r.writes);
      writePaths.push({ root: r, writes, members, streams, local, cachesStream, uncertain });
    }
    return { entryPoints, writePaths };
  };

  const writeLocation = (r: Resolved, table: string): SourceLocation => {
    const own = r.method.tableAccesses.find((a) => a.access === 'write' && a.table === table);
    if (own) return own.location;
    for (const call of r.method.calls) {
      const target = resolveCall(r, call);
      if (typeof target === 'object' && target.writes.includes(table)) return call.location;
    }
    return r.method.location;
  };

  // Indexed by table: the rules ask per write, and a scan of every cache per
  // write grows with the square of the codebase.
  let byTable: Map<string, CacheFacts[]> | null = null;
  const cachesReading = (table: string): readonly CacheFacts[] => {
    if (!byTable) {
      byTable = new Map();
      for (const cache of caches.values()) {
        for (const t of cache.reads) append(byTable, t, cache);
      }
    }
    return byTable.get(table) ?? [];
  };

  const handlerInvalidates = (streams: Iterable<string>, cache: string): boolean => {
    for (const s of streams) {
      for (const h of handlers.get(s) ?? NONE)
        if (h.uncertain || h.invalidates.has(cache)) return true;
    }
    return false;
  };

  return {
    name,
    info,
    apps,
    isWriter: apps.some((a) => a.role === 'writer'),
    isWorker: apps.some((a) => a.role === 'worker'),
    chain,
    applications,
    unknownMixins,
    methods,
    definitions,
    caches,
    handlers,
    get entryPoints() {
      return (entries ??= findEntries()).entryPoints;
    },
    get writePaths() {
      return (entries ??= findEntries()).writePaths;
    },
    handlerInvalidates,
    cachesReading,
    reach,
    resolveCall,
    writeLocation,
  };
}

/**
 * Each method name's definitions along `chain`, innermost first, and the one
 * that wins. With the analyser's view of the composition (`info`), the winner
 * is the definition it names (the first of that name in the store it names),
 * carrying reads and writes closed over calls as the composition resolves
 * them; without, the outermost definition.
 */
function resolveDefinitions(
  chain: readonly StoreInfo[],
  info: CompositionInfo | null,
  storesByName: ReadonlyMap<string, StoreInfo>,
): { methods: Map<string, Resolved>; definitions: Map<string, Resolved[]> } {
  const definitions = new Map<string, Resolved[]>();
  if (!info) {
    const methods = new Map<string, Resolved>();
    for (const store of chain) {
      for (let i = 0; i < store.methods.length; i++) {
        const method = store.methods[i]!;
        const r: Resolved = { store, method, reads: method.reads, writes: method.writes };
        append(definitions, method.name, r);
        methods.set(method.name, r);
      }
    }
    return { methods, definitions };
  }
  // The winners by name, in the analyser's order. Each slot holds what the
  // analyser says until the chain walk meets that definition, and then its
  // `Resolved`: the map becomes `methods` without a second map of this size.
  const slots = new Map<string, CompositionMethod | Resolved>();
  for (let i = 0; i < info.methods.length; i++) slots.set(info.methods[i]!.name, info.methods[i]!);
  for (const store of chain) {
    // The names that resolve to this store (`storesByName.get(slot.store) ===
    // store`), worked out once per store rather than looked up per method.
    const exportName = storesByName.get(store.exportName) === store ? store.exportName : null;
    const className = storesByName.get(store.name) === store ? store.name : null;
    for (let i = 0; i < store.methods.length; i++) {
      const method = store.methods[i]!;
      const slot = slots.get(method.name);
      const wins =
        slot !== undefined &&
        unfilled(slot) &&
        (slot.store === exportName || slot.store === className);
      const { reads, writes } = wins ? slot : method;
      const r: Resolved = { store, method, reads, writes };
      if (wins) slots.set(method.name, r);
      append(definitions, method.name, r);
    }
  }
  // (`forEach`, not `for…of`: no [key, value] pair per entry.)
  slots.forEach((slot, name) => {
    if (!unfilled(slot)) return;
    const store = storesByName.get(slot.store);
    const method = store?.methods.find((x) => x.name === name);
    // A winner the model lacks resolves to nothing.
    if (!store || !method) {
      slots.delete(name);
      return;
    }
    // A winner outside the chain comes after every definition in it.
    const r: Resolved = { store, method, reads: slot.reads, writes: slot.writes };
    slots.set(name, r);
    append(definitions, name, r);
  });
  return { methods: slots as Map<string, Resolved>, definitions };
}

/** A slot of `resolveDefinitions` that the chain walk has not filled: it names its store by name. */
function unfilled(slot: CompositionMethod | Resolved): slot is CompositionMethod {
  return typeof slot.store === 'string';
}

/** The composition's caches, in `methods` order, each with its `@cachedList()` fronts in that order. */
function cachesOf(methods: ReadonlyMap<string, Resolved>): Map<string, CacheFacts> {
  // One pass over the methods for the caches' owners and the fronts of each
  // name (`forEach`: no iterator result per method); then each cache is
  // made once, whole.
  const owners: Resolved[] = [];
  const frontsOf = new Map<string, Resolved[]>();
  methods.forEach((r) => {
    const cached = r.method.cached;
    if (cached?.kind === 'cached') owners.push(r);
    else if (cached?.kind === 'cachedList' && cached.fronts) append(frontsOf, cached.fronts, r);
  });
  const caches = new Map<string, CacheFacts>();
  for (const r of owners) {
    const fronts = frontsOf.get(r.method.name) ?? NONE;
    const reads = setOf(r.reads);
    for (const front of fronts)
      for (let i = 0; i < front.reads.length; i++) reads.add(front.reads[i]!);
    caches.set(r.method.name, { name: r.method.name, owner: r, fronts, reads });
  }
  return caches;
}

/** The method `name` resolves to from `store`: in each composition holding it, else along its own mixin chain. */
export function resolveMethod(facts: ModelFacts, store: StoreInfo, name: string): Resolved[] {
  const compositions = facts.compositionsContaining(store);
  if (compositions.length) {
    // Room for one per composition, trimmed to those found: `push` onto a
    // short list would reserve room for many (rules ask this per invalidation).
    const found = new Array<Resolved>(compositions.length);
    let count = 0;
    for (const c of compositions) {
      const r = c.methods.get(name);
      if (r) found[count++] = r;
    }
    found.length = count;
    return found;
  }
  const seen = new Set<StoreInfo>();
  const find = (s: StoreInfo): Resolved | undefined => {
    if (seen.has(s)) return undefined;
    seen.add(s);
    const own = s.methods.find((m) => m.name === name);
    if (own) return { store: s, method: own, reads: own.reads, writes: own.writes };
    for (const inner of [...s.composes].reverse()) {
      const base = facts.store(inner);
      const found = base && find(base);
      if (found) return found;
    }
    return undefined;
  };
  const found = find(store);
  return found ? [found] : [];
}
