// Test support: a small typed builder for store models, so rules can be
// unit-tested on hand-built models without the analyser. Lines are explicit
// where a test asserts them and numbered automatically elsewhere; each
// direct read or write gets a table access on the line after its method.
import {
  MODEL_VERSION,
  type AppCall,
  type CachedInfo,
  type CompositionInfo,
  type CompositionMethod,
  type DatabaseWrite,
  type InvalidationInfo,
  type InvalidationKind,
  type MethodCall,
  type MethodInfo,
  type SourceLocation,
  type StoreInfo,
  type StoreModel,
  type StreamInfo,
  type Suppression,
  type UnresolvedFact,
  type UnresolvedKind,
} from '../../src/analysis/model.js';
import { deepFreeze } from '../../src/analysis/freeze.js';

export const ROOT = '/project';

export function loc(file: string, line: number, column = 5, length = 10): SourceLocation {
  return { file, line, column, endLine: line, endColumn: column + length };
}

export interface InvalidationSpec {
  readonly cache: string;
  readonly kind?: InvalidationKind;
  /** Default: the number of key args a full key would need is unknown here, so 1. */
  readonly keyArity?: number | null;
  readonly inTransaction?: boolean;
  readonly afterCommit?: boolean;
  readonly inNestedFunction?: boolean;
  readonly line?: number;
}

export interface MethodSpec {
  readonly line?: number;
  readonly reads?: readonly string[];
  readonly writes?: readonly string[];
  /** Tables of `writes` the database writes (a trigger, a foreign key): no statement names them. */
  readonly databaseWrites?: readonly DatabaseWrite[];
  readonly invalidates?: readonly (string | InvalidationSpec)[];
  /** Stream names allocated on (`withNextId`), at the line after the method. */
  readonly allocates?: readonly string[];
  /** `this.x()` calls, or full call specs. */
  readonly calls?: readonly (
    | string
    | {
        method: string;
        receiver?: string;
        line?: number;
        reference?: boolean;
        inTransaction?: boolean;
        /** The store the analyser fixed the call to (`super.`, `#private`). */
        store?: string;
      }
  )[];
  readonly cached?:
    | {
        kind?: 'cached' | 'cachedList';
        keyArity?: number;
        fronts?: string;
        unkeyedParameters?: readonly string[];
      }
    | boolean;
  /** Stream name this method handles (`@onReplication`). */
  readonly handles?: string;
  /** Line of the first table access (default: the line after the method). */
  readonly accessLine?: number;
  /** A helper function it calls holds an unresolved fact. */
  readonly helpersUnresolved?: boolean;
}

interface StoreDraft {
  name: string;
  exportName: string;
  kind: 'mixin' | 'class';
  file: string;
  line: number;
  composes: string[];
  methods: { name: string; spec: MethodSpec; line: number }[];
  idGenerators: {
    field: string;
    stream: string;
    kind: 'idGenerator' | 'memoryStream';
    line: number;
  }[];
  ctor: { parameters: string[]; passes: boolean; line: number } | null;
}

export class StoreBuilder {
  constructor(
    private readonly draft: StoreDraft,
    private readonly nextLine: () => number,
  ) {}

  method(name: string, spec: MethodSpec = {}): this {
    this.draft.methods.push({ name, spec, line: spec.line ?? this.nextLine() });
    return this;
  }

  cached(name: string, spec: MethodSpec & { keyArity?: number } = {}): this {
    const cached = typeof spec.cached === 'object' ? spec.cached : {};
    return this.method(name, {
      ...spec,
      cached: { kind: 'cached', keyArity: spec.keyArity ?? 1, ...cached },
    });
  }

  cachedList(name: string, fronts: string, spec: MethodSpec = {}): this {
    return this.method(name, { ...spec, cached: { kind: 'cachedList', keyArity: 1, fronts } });
  }

  handler(name: string, stream: string, spec: MethodSpec = {}): this {
    return this.method(name, { ...spec, handles: stream });
  }

  idGen(
    field: string,
    stream: string,
    line?: number,
    kind: 'idGenerator' | 'memoryStream' = 'idGenerator',
  ): this {
    this.draft.idGenerators.push({ field, stream, kind, line: line ?? this.nextLine() });
    return this;
  }

  ctor(parameters: string[], passes: boolean, line?: number): this {
    this.draft.ctor = { parameters, passes, line: line ?? this.nextLine() };
    return this;
  }
}

export interface AppSpec {
  readonly calls?: readonly (
    string | { method: string; line: number; file?: string; receiverType?: string }
  )[];
  readonly writes?: readonly string[];
  readonly entries?: readonly string[];
  /** Tables the app's own code writes through a store's handle, at these lines. */
  readonly ownWrites?: readonly { table: string; line: number }[];
}

export class ModelBuilder {
  private readonly streams: StreamInfo[] = [];
  private readonly stores: StoreDraft[] = [];
  private readonly compositions: {
    name: string;
    mixins: string[];
    line: number;
    ownStore: string | null;
  }[] = [];
  private readonly apps: {
    name: string;
    role: 'writer' | 'worker';
    composition: string;
    spec: AppSpec;
  }[] = [];
  private readonly tables = new Set<string>();
  private readonly unresolvedFacts: UnresolvedFact[] = [];
  private readonly suppressionList: Suppression[] = [];
  private line = 1;

  private readonly nextLine = (): number => (this.line += 10);

  stream(
    name: string,
    tables: readonly string[],
    opts: { variable?: string; kind?: 'database' | 'memory'; line?: number } = {},
  ): this {
    const variable = opts.variable ?? `${name[0]!.toUpperCase()}${name.slice(1)}Stream`;
    this.streams.push({
      name,
      variable,
      kind: opts.kind ?? 'database',
      tables: [...tables],
      location: loc('src/streams.ts', opts.line ?? this.nextLine(), 14, variable.length),
    });
    return this;
  }

  mixin(
    exportName: string,
    build: (s: StoreBuilder) => void = () => {},
    opts: { composes?: string[]; file?: string; name?: string } = {},
  ): this {
    return this.store('mixin', exportName, build, opts);
  }

  plainClass(
    name: string,
    build: (s: StoreBuilder) => void = () => {},
    opts: { composes?: string[]; file?: string } = {},
  ): this {
    return this.store('class', name, build, opts);
  }

  private store(
    kind: 'mixin' | 'class',
    exportName: string,
    build: (s: StoreBuilder) => void,
    opts: { composes?: string[]; file?: string; name?: string },
  ): this {
    const draft: StoreDraft = {
      name: opts.name ?? exportName,
      exportName,
      kind,
      file: opts.file ?? `src/stores/${exportName}.ts`,
      line: this.nextLine(),
      composes: [...(opts.composes ?? [])],
      methods: [],
      idGenerators: [],
      ctor: null,
    };
    this.stores.push(draft);
    build(new StoreBuilder(draft, this.nextLine));
    return this;
  }

  /** A composition over mixins (innermost first; nested ones are expanded at build time). */
  composition(name: string, mixins: readonly string[], opts: { ownStore?: string } = {}): this {
    this.compositions.push({
      name,
      mixins: [...mixins],
      line: this.nextLine(),
      ownStore: opts.ownStore ?? null,
    });
    return this;
  }

  app(name: string, role: 'writer' | 'worker', composition: string, spec: AppSpec = {}): this {
    this.apps.push({ name, role, composition, spec });
    return this;
  }

  schema(...tables: string[]): this {
    for (const t of tables) this.tables.add(t);
    return this;
  }

  unresolved(
    message: string,
    at: SourceLocation,
    opts: { kind?: UnresolvedKind; store?: string; method?: string } = {},
  ): this {
    this.unresolvedFacts.push({
      kind: opts.kind ?? 'table-name',
      message,
      store: opts.store ?? null,
      method: opts.method ?? null,
      location: at,
    });
    return this;
  }

  suppress(
    ruleId: string,
    file: string,
    appliesToLine: number,
    reason: string | null = 'known',
  ): this {
    this.suppressionList.push({
      ruleId,
      reason,
      appliesToLine,
      location: loc(file, appliesToLine - 1, 3, 40),
    });
    return this;
  }

  build(): StoreModel {
    const byExport = new Map(this.stores.map((s) => [s.exportName, s]));
    const ownChain = (s: StoreDraft, out: StoreDraft[] = []): StoreDraft[] => {
      for (const c of s.composes) {
        const inner = byExport.get(c);
        if (inner && !out.includes(inner)) ownChain(inner, out);
      }
      if (!out.includes(s)) out.push(s);
      return out;
    };
    /** The layers the runtime applies for a mixin: what it composes (expanded), then itself. */
    const layers = (s: StoreDraft): StoreDraft[] => [
      ...s.composes.flatMap((c) => {
        const inner = byExport.get(c);
        return inner ? layers(inner) : [];
      }),
      s,
    ];
    const closeOver = (
      chain: StoreDraft[],
      start: { name: string; spec: MethodSpec },
      key: 'reads' | 'writes',
    ): string[] => {
      const methods = new Map<string, { name: string; spec: MethodSpec }>();
      for (const s of chain) for (const m of s.methods) methods.set(m.name, m);
      const out = new Set<string>();
      const seen = new Set<string>();
      const visit = (m: { name: string; spec: MethodSpec }) => {
        if (seen.has(m.name)) return;
        seen.add(m.name);
        for (const t of m.spec[key] ?? []) out.add(t);
        for (const c of m.spec.calls ?? []) {
          const call = typeof c === 'string' ? { method: c, receiver: 'this' } : c;
          if ((call.receiver ?? 'this') !== 'this' && call.receiver !== 'super') continue;
          const target = methods.get(call.method);
          if (target) visit(target);
        }
      };
      visit(start);
      return [...out].sort();
    };

    const stores: StoreInfo[] = this.stores.map((s) => {
      const chain = ownChain(s);
      const methods: MethodInfo[] = s.methods.map(({ name, spec, line }) => {
        const at = loc(s.file, line, 11, name.length);
        const accessLine = spec.accessLine ?? line + 1;
        let n = 0;
        const access = (table: string, kind: 'read' | 'write') => ({
          table,
          access: kind,
          via: 'kysely' as const,
          location: loc(s.file, accessLine + n++, 9, table.length + 2),
        });
        const invalidations: InvalidationInfo[] = (spec.invalidates ?? []).map((i) => {
          const inv = typeof i === 'string' ? { cache: i } : i;
          const kind = inv.kind ?? 'invalidate';
          const all =
            kind === 'invalidateAll' ||
            kind === 'invalidateAllCacheAndStream' ||
            kind === 'invalidateCacheAndStreamBulk';
          return {
            kind,
            cache: inv.cache,
            keyArity: inv.keyArity === undefined ? (all ? null : 1) : inv.keyArity,
            inTransaction: inv.inTransaction ?? kind.includes('CacheAndStream'),
            afterCommit: inv.afterCommit ?? kind.includes('CacheAndStream'),
            inNestedFunction: inv.inNestedFunction ?? false,
            location: loc(s.file, inv.line ?? line + 2, 7, 20),
          };
        });
        const calls: MethodCall[] = (spec.calls ?? []).map((c) => {
          const call = typeof c === 'string' ? { method: c } : c;
          return {
            method: call.method,
            receiver: 'receiver' in call && call.receiver ? call.receiver : 'this',
            store: ('store' in call && call.store) || null,
            reference: 'reference' in call ? Boolean(call.reference) : false,
            inTransaction: 'inTransaction' in call ? Boolean(call.inTransaction) : false,
            location: loc(
              s.file,
              ('line' in call && call.line) || line + 1,
              12,
              call.method.length,
            ),
          };
        });
        const cached: CachedInfo | null =
          spec.cached === undefined || spec.cached === false
            ? null
            : spec.cached === true
              ? { kind: 'cached', keyArity: 1, fronts: null, unkeyedParameters: [] }
              : {
                  kind: spec.cached.kind ?? 'cached',
                  keyArity: spec.cached.keyArity ?? 1,
                  fronts: spec.cached.fronts ?? null,
                  unkeyedParameters: spec.cached.unkeyedParameters ?? [],
                };
        const handles = spec.handles
          ? {
              stream: spec.handles,
              variable: this.streams.find((x) => x.name === spec.handles)?.variable ?? spec.handles,
            }
          : null;
        return {
          name,
          line,
          location: at,
          reads: closeOver(chain, { name, spec }, 'reads'),
          writes: closeOver(chain, { name, spec }, 'writes'),
          directReads: [...(spec.reads ?? [])].sort(),
          directWrites: [...(spec.writes ?? [])].sort(),
          databaseWrites: spec.databaseWrites ?? [],
          cached,
          handles,
          invalidations,
          allocates: (spec.allocates ?? []).map((stream) => ({
            stream,
            field: `${stream}IdGen`,
            location: loc(s.file, line + 1, 14, 20),
          })),
          calls,
          tableAccesses: [
            ...(spec.reads ?? []).map((t) => access(t, 'read')),
            ...(spec.writes ?? [])
              .filter((t) => !spec.databaseWrites?.some((w) => w.table === t))
              .map((t) => access(t, 'write')),
          ],
          helpersUnresolved: spec.helpersUnresolved ?? false,
        };
      });
      return {
        name: s.name,
        exportName: s.exportName,
        file: s.file,
        line: s.line,
        kind: s.kind,
        composes: s.composes,
        location: loc(s.file, s.line, 18, s.name.length),
        methods,
        idGenerators: s.idGenerators.map((g) => ({
          field: g.field,
          stream: g.stream,
          kind: g.kind,
          location: loc(s.file, g.line, 14, g.field.length),
        })),
        constructorInfo: s.ctor
          ? {
              parameters: s.ctor.parameters,
              passesDbConnAndHsToSuper: s.ctor.passes,
              location: loc(s.file, s.ctor.line, 5, 11),
            }
          : null,
      };
    });

    const compositions: CompositionInfo[] = this.compositions.map((c) => {
      const chain: StoreDraft[] = [];
      for (const m of c.mixins) {
        const s = byExport.get(m);
        if (s) for (const x of ownChain(s)) if (!chain.includes(x)) chain.push(x);
      }
      const own = c.ownStore ? byExport.get(c.ownStore) : undefined;
      if (own) chain.push(own);
      const effective = new Map<
        string,
        { store: StoreDraft; m: { name: string; spec: MethodSpec } }
      >();
      for (const s of chain) for (const m of s.methods) effective.set(m.name, { store: s, m });
      const methods: CompositionMethod[] = [...effective.values()]
        .map(({ store, m }) => ({
          name: m.name,
          store: store.exportName,
          reads: closeOver(chain, m, 'reads'),
          writes: closeOver(chain, m, 'writes'),
        }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      return {
        name: c.name,
        file: `src/stores/${c.name}.ts`,
        line: c.line,
        // As the analyser lists them: every application, repeats included.
        mixins: c.mixins
          .flatMap((m) => {
            const s = byExport.get(m);
            return s ? layers(s) : [];
          })
          .map((s) => s.exportName)
          .concat(c.mixins.filter((m) => !byExport.has(m))),
        ownStore: c.ownStore,
        methods,
        location: loc(`src/stores/${c.name}.ts`, c.line, 14, c.name.length),
      };
    });

    const apps = this.apps.map((a) => ({
      name: a.name,
      role: a.role,
      composition: a.composition,
      compositionFile: `src/stores/${a.composition}.ts`,
      entries: [...(a.spec.entries ?? [`src/apps/${a.name}.ts`])],
      allowedWrites: [...(a.spec.writes ?? [])],
      calls: (a.spec.calls ?? []).map((c, i): AppCall => {
        const call = typeof c === 'string' ? { method: c, line: 10 + i } : c;
        return {
          method: call.method,
          receiverType: call.receiverType ?? a.composition,
          location: loc(call.file ?? `src/apps/${a.name}.ts`, call.line, 15, call.method.length),
        };
      }),
      writes: (a.spec.ownWrites ?? []).map((w) => ({
        table: w.table,
        location: loc(`src/apps/${a.name}.ts`, w.line, 5, w.table.length),
      })),
      modules: [...(a.spec.entries ?? [`src/apps/${a.name}.ts`])],
    }));

    return deepFreeze({
      version: MODEL_VERSION,
      root: ROOT,
      stores,
      compositions,
      streams: this.streams,
      apps,
      schemaTables: [...this.tables].sort(),
      unresolved: this.unresolvedFacts,
      suppressions: this.suppressionList,
    });
  }
}

export function model(): ModelBuilder {
  return new ModelBuilder();
}

/**
 * The receipts app of DESIGN.md as a model: receipts announced on their own
 * stream, room tags invalidated through the caches stream, a writer and a
 * worker composition. Clean: no rule reports anything. Tests mutate it.
 */
export interface ReceiptsAppOptions {
  /** Drop the handler's invalidation of `getReceiptsForRoom`. */
  readonly handlerInvalidates?: readonly string[];
  readonly withHandler?: boolean;
  readonly insertAllocates?: boolean;
  readonly addTagInvalidation?: InvalidationSpec | null;
  readonly readerMixins?: readonly string[];
  readonly readerCalls?: readonly (string | { method: string; line: number })[];
  readonly extraWorkerWrite?: boolean;
  /** Tables the reader app's own code writes through a store's handle. */
  readonly readerOwnWrites?: readonly { table: string; line: number }[];
}

export const RECEIPTS_LINES = {
  getReceiptsForRoom: 10,
  onReceipts: 20,
  insertReceipt: 40,
  getTagsForRoom: 60,
  addTag: 80,
  readerCall: 5,
} as const;

export function receiptsApp(o: ReceiptsAppOptions = {}): ModelBuilder {
  const L = RECEIPTS_LINES;
  return model()
    .schema('receipts', 'room_tags', 'reader_positions')
    .stream('receipts', ['receipts'], { variable: 'ReceiptsStream', line: 3 })
    .mixin(
      'ReceiptsWorkerStore',
      (s) => {
        s.cached('getReceiptsForRoom', { line: L.getReceiptsForRoom, reads: ['receipts'] });
        if (o.withHandler ?? true) {
          s.handler('onReceipts', 'receipts', {
            line: L.onReceipts,
            invalidates: o.handlerInvalidates ?? ['getReceiptsForRoom'],
          });
        }
        if (o.extraWorkerWrite) s.method('markSeen', { line: 30, writes: ['receipts'] });
      },
      { file: 'src/stores/receipts.ts' },
    )
    .mixin(
      'ReceiptsStore',
      (s) =>
        s.idGen('receiptsIdGen', 'receipts', 35).method('insertReceipt', {
          line: L.insertReceipt,
          writes: ['receipts'],
          allocates: (o.insertAllocates ?? true) ? ['receipts'] : [],
        }),
      { composes: ['ReceiptsWorkerStore'], file: 'src/stores/receipts.ts' },
    )
    .mixin(
      'TagsWorkerStore',
      (s) =>
        s.cached('getTagsForRoom', { line: L.getTagsForRoom, reads: ['room_tags'], keyArity: 2 }),
      {
        file: 'src/stores/tags.ts',
      },
    )
    .mixin(
      'TagsStore',
      (s) =>
        s.method('addTag', {
          line: L.addTag,
          writes: ['room_tags'],
          invalidates:
            o.addTagInvalidation === null
              ? []
              : [
                  o.addTagInvalidation ?? {
                    cache: 'getTagsForRoom',
                    kind: 'invalidateCacheAndStream',
                    keyArity: 2,
                  },
                ],
        }),
      { composes: ['TagsWorkerStore'], file: 'src/stores/tags.ts' },
    )
    .composition('MainDataStore', ['ReceiptsStore', 'TagsStore'])
    .composition('ReaderDataStore', o.readerMixins ?? ['ReceiptsWorkerStore', 'TagsWorkerStore'])
    .app('main', 'writer', 'MainDataStore', { calls: ['insertReceipt', 'addTag'] })
    .app('reader', 'worker', 'ReaderDataStore', {
      calls: o.readerCalls ?? [
        { method: 'getReceiptsForRoom', line: L.readerCall },
        { method: 'getTagsForRoom', line: L.readerCall + 1 },
      ],
      writes: ['reader_positions'],
      ownWrites: o.readerOwnWrites ?? [],
    });
}

/** A copy of `m` with one method changed (for mutations the builder has no option for). */
export function patchMethod(
  m: StoreModel,
  store: string,
  method: string,
  change: Partial<MethodInfo>,
): StoreModel {
  let found = false;
  const stores = m.stores.map((s) =>
    s.exportName !== store
      ? s
      : {
          ...s,
          methods: s.methods.map((me) => {
            if (me.name !== method) return me;
            found = true;
            return { ...me, ...change };
          }),
        },
  );
  if (!found) throw new Error(`patchMethod: no ${store}.${method}`);
  return deepFreeze({ ...m, stores });
}

/** An invalidation fact for `patchMethod`. */
export function invalidation(
  kind: InvalidationKind,
  cache: string,
  line: number,
  extra: Partial<InvalidationInfo> = {},
): InvalidationInfo {
  const all =
    kind === 'invalidateAll' ||
    kind === 'invalidateAllCacheAndStream' ||
    kind === 'invalidateCacheAndStreamBulk';
  return {
    kind,
    cache,
    keyArity: all ? null : 1,
    inTransaction: false,
    afterCommit: false,
    inNestedFunction: false,
    location: loc('src/stores/receipts.ts', line, 7, 20),
    ...extra,
  };
}

/** A `this.method()` call fact for `patchMethod`. */
export function thisCall(method: string, file: string, line: number): MethodCall {
  return {
    method,
    receiver: 'this',
    store: null,
    reference: false,
    inTransaction: false,
    location: loc(file, line, 12, method.length),
  };
}
