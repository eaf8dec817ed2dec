// The store model: what store-lint extracts from a codebase written against
// the storesplit runtime. Plain, frozen, JSON-serialisable data: analysis
// builds it, rules and reports only read it. `store-lint --print-model`
// prints it. Table names are normalised as in the schema (lower case,
// snake_case under `naming: "camelCase"`, without a schema prefix); CTE and
// derived-table names never appear as tables.

export const MODEL_VERSION = 1;

/** The runtime's built-in `caches` stream (`invalidateCacheAndStream`); every composition follows it. */
export const CACHES_STREAM = 'caches';
/** The table the `caches` stream announces. */
export const CACHES_TABLE = 'storesplit_cache_invalidations';
/** Tables the runtime itself creates (`schema/runtime`), which an application's schema need not define. */
export const RUNTIME_TABLES: readonly string[] = Object.freeze([
  'storesplit_cache_invalidations',
  'storesplit_stream_positions',
  'storesplit_writer_locks',
]);

/**
 * A place in the analysed project; `file` is relative to the project root, POSIX separators.
 * Lines and columns are 1-based; `endColumn` is one past the last character (ESLint's convention).
 */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

export interface StoreModel {
  readonly version: typeof MODEL_VERSION;
  /** Absolute path of the analysed project root. */
  readonly root: string;
  readonly stores: readonly StoreInfo[];
  readonly compositions: readonly CompositionInfo[];
  readonly streams: readonly StreamInfo[];
  readonly apps: readonly AppInfo[];
  /** Tables defined by the SQL files named by the config's `schema` globs. */
  readonly schemaTables: readonly string[];
  /** Things the analyser could not resolve (rule id `analysis-unresolved`); never a silent guess. */
  readonly unresolved: readonly UnresolvedFact[];
  /** Inline `// store-lint-disable-next-line <rule> -- reason` comments found. */
  readonly suppressions: readonly Suppression[];
}

export interface StoreInfo {
  /** The class name (for a mixin: the class declared inside the mixin function, else the function name). */
  readonly name: string;
  /** For a mixin: the exported function's name; for a plain store class: the class name. */
  readonly exportName: string;
  readonly file: string;
  readonly line: number;
  readonly kind: 'mixin' | 'class';
  /**
   * Mixins this mixin applies to its base, innermost first (a writer mixin lists its worker mixin),
   * by `exportName`. For a plain class: the store class it extends, if that is a store.
   */
  readonly composes: readonly string[];
  readonly location: SourceLocation;
  /**
   * Methods with a body: method declarations, get accessors and fields initialised with a function.
   * Abstract declarations and overload signatures implement nothing and are left out.
   */
  readonly methods: readonly MethodInfo[];
  /**
   * Fields holding stream ID generators: `readonly receiptsIdGen = this.streamIdGenerator(ReceiptsStream)`,
   * and in-memory stream sources: `readonly typingSource = this.memoryStream(TypingStream)` (`kind` tells which).
   */
  readonly idGenerators: readonly IdGeneratorField[];
  /** A constructor declared by the store, if any (mixins must declare none). */
  readonly constructorInfo: ConstructorInfo | null;
}

export interface MethodInfo {
  readonly name: string;
  readonly line: number;
  readonly location: SourceLocation;
  /**
   * Tables read, including through calls to other methods and query fragments. A `this.foo()`
   * that neither this store nor what it composes declares counts every store's `foo` (only the
   * composition knows which one runs); `CompositionInfo.methods` has the exact closure.
   */
  readonly reads: readonly string[];
  /** Tables written, including through calls. */
  readonly writes: readonly string[];
  /** Tables read in this method's own body. */
  readonly directReads: readonly string[];
  /** Tables written in this method's own body, and what the database writes with them (`databaseWrites`). */
  readonly directWrites: readonly string[];
  /**
   * Tables of `directWrites` that the method's statements do not name: the
   * database writes them when the method writes another table (a trigger on
   * it, a foreign key's `ON DELETE` action, a view's tables), sorted by table.
   */
  readonly databaseWrites: readonly DatabaseWrite[];
  /** Present when the method is `@cached()` / `@cachedList()`. */
  readonly cached: CachedInfo | null;
  /**
   * Present when the method is an `@onReplication(Stream)` handler. `stream` is the stream's name
   * (`caches` for the runtime's `CachesStream`); `variable` the identifier passed to the decorator.
   * When the identifier names no stream definition the analyser knows, `stream` is the identifier
   * and an `UnresolvedFact` says so.
   */
  readonly handles: { readonly stream: string; readonly variable: string } | null;
  /** Cache invalidations this method performs (directly). */
  readonly invalidations: readonly InvalidationInfo[];
  /** Streams this method allocates IDs on (`withNextId` / `withNextIds` / `nextIdInTxn` on a generator field). */
  readonly allocates: readonly StreamAllocation[];
  /**
   * Calls to other store methods (`this.foo()`), by name, with where they happen; also method
   * references passed as values (`qb.select(this.withOwner)`, `reference: true`). Invalidation
   * targets (`this.invalidate(this.getFoo, …)`) are not calls.
   */
  readonly calls: readonly MethodCall[];
  /** Each table access with its location, for diagnostics. */
  readonly tableAccesses: readonly TableAccess[];
  /**
   * True when a helper function it calls (directly, or through other helpers)
   * holds an unresolved fact: the rules stay silent about it, as about a
   * method holding one itself.
   */
  readonly helpersUnresolved: boolean;
}

export interface CachedInfo {
  readonly kind: 'cached' | 'cachedList';
  /**
   * Number of key arguments (`numArgs`, else the declared parameter count the way `fn.length`
   * counts: up to the first parameter with a default or a rest parameter). For `@cachedList`: 1.
   */
  readonly keyArity: number;
  /** For `@cachedList`: the `@cached` method it fronts. */
  readonly fronts: string | null;
  /**
   * Parameters a call can pass that the key leaves out, when `numArgs` is
   * not written (`includeDeleted` of `get(id, includeDeleted = false)`,
   * `...ids`): calls differing only there share one entry. Empty otherwise.
   */
  readonly unkeyedParameters: readonly string[];
}

export type InvalidationKind =
  | 'invalidate'
  | 'invalidatePrefix'
  | 'invalidateAll'
  | 'invalidateCacheAndStream'
  | 'invalidateCacheAndStreamBulk'
  | 'invalidateAllCacheAndStream';

export interface InvalidationInfo {
  readonly kind: InvalidationKind;
  /** The cached method named as the target (`this.getFoo`). */
  readonly cache: string;
  /** Number of key arguments passed; null for `*All*` kinds and the bulk form. */
  readonly keyArity: number | null;
  /**
   * True when it happens inside a transaction body: lexically inside a `runInteraction` callback
   * (or the callback of a wrapper helper that passes it on to `runInteraction`, or of Kysely's
   * `transaction().execute`), or in a function whose parameter is declared as a `Txn`/`Transaction`,
   * and not inside a `txn.callAfter(…)` callback; or, in the function's flow, while a Kysely
   * controlled transaction (`startTransaction()…execute()`, or a `ControlledTransaction`
   * parameter) is open: before its `commit().execute()` or `rollback().execute()`.
   */
  readonly inTransaction: boolean;
  /**
   * True when the (local) invalidation takes effect after commit: inside a `txn.callAfter(…)`
   * callback, after an awaited interaction in the same function (or in a `.then` on it), after a
   * controlled transaction's `await trx.commit().execute()` (with none open), or a
   * `*CacheAndStream*` kind (the runtime defers the local part to after commit itself).
   */
  readonly afterCommit: boolean;
  /**
   * True when it sits in a function nested in the method's body (a callback,
   * a returned closure): calling the method need not run it there and then.
   * A synchronous callback of `forEach`, `map`, `filter`, … runs at once and
   * does not count as nested.
   */
  readonly inNestedFunction: boolean;
  readonly location: SourceLocation;
}

export interface StreamAllocation {
  /** Stream name (the `name` of the stream definition the generator field was built from). */
  readonly stream: string;
  readonly field: string;
  readonly location: SourceLocation;
}

export interface MethodCall {
  readonly method: string;
  /** `this` for calls on the store itself; otherwise the receiver expression text. */
  readonly receiver: string;
  /**
   * The store (`exportName`) whose method is called, when this store alone decides it: its own
   * class or the mixins it composes (`this.`/`super.`), or a receiver declared as a store type.
   * Null for `this.foo()` where `foo` comes from another mixin of the composition; the
   * composition resolves it (`CompositionInfo.methods`).
   */
  readonly store: string | null;
  /** True for a method reference passed as a value (`qb.select(this.withOwner)`), not called here. */
  readonly reference: boolean;
  /** True when the call happens inside a transaction body, as `InvalidationInfo.inTransaction`. */
  readonly inTransaction: boolean;
  readonly location: SourceLocation;
}

/** A table the database writes because a statement wrote another: what writes it, and after which table. */
export interface DatabaseWrite {
  readonly table: string;
  /** A trigger on `after`, a foreign key referencing `after` (its `ON DELETE` action, or `TRUNCATE … CASCADE`), or view `after`'s tables. */
  readonly by: 'trigger' | 'foreign key' | 'view';
  /** The trigger, the constraint or the view. */
  readonly name: string;
  /** The table (or view) whose write makes it. */
  readonly after: string;
}

export interface TableAccess {
  readonly table: string;
  readonly access: 'read' | 'write';
  /** How it was found: a Kysely builder call or raw SQL. */
  readonly via: 'kysely' | 'sql';
  readonly location: SourceLocation;
}

export interface IdGeneratorField {
  readonly field: string;
  readonly stream: string;
  /** `idGenerator` for `this.streamIdGenerator(S)`, `memoryStream` for `this.memoryStream(S)`. */
  readonly kind: 'idGenerator' | 'memoryStream';
  readonly location: SourceLocation;
}

export interface ConstructorInfo {
  readonly parameters: readonly string[];
  /** True when the body calls `super(...)` with exactly the parameters, unchanged. */
  readonly passesDbConnAndHsToSuper: boolean;
  readonly location: SourceLocation;
}

export interface CompositionInfo {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  /**
   * Mixins applied over `SQLBaseStore`, innermost first, nested mixins expanded (by `exportName`;
   * a mixin that two others compose appears twice, as it does in the prototype chain).
   * A composition over another composition starts with that one's mixins.
   */
  readonly mixins: readonly string[];
  /** The `StoreInfo` for the composition's own class body when it declares members, else null. */
  readonly ownStore: string | null;
  /**
   * The composition's methods as the runtime sees them (a later mixin's method overrides an
   * earlier one's), with reads and writes closed over calls resolved in this composition.
   */
  readonly methods: readonly CompositionMethod[];
  readonly location: SourceLocation;
}

export interface CompositionMethod {
  readonly name: string;
  /** The store (`exportName`) whose method this is. */
  readonly store: string;
  readonly reads: readonly string[];
  readonly writes: readonly string[];
}

export interface StreamInfo {
  readonly name: string;
  /** The exported const holding the definition. */
  readonly variable: string;
  readonly kind: 'database' | 'memory';
  readonly tables: readonly string[];
  readonly location: SourceLocation;
}

export interface AppInfo {
  readonly name: string;
  readonly role: 'writer' | 'worker';
  /** Composition class name. */
  readonly composition: string;
  /** The file declaring the composition (relative), which tells apart two compositions of one name. */
  readonly compositionFile: string;
  readonly entries: readonly string[];
  /** Tables this worker may write (config `writes`). */
  readonly allowedWrites: readonly string[];
  /** Store methods called from code that runs in this app (entry modules followed through imports). */
  readonly calls: readonly AppCall[];
  /**
   * Tables the app's own code writes through a store's handle (`store.dbConn`,
   * or a transaction it opens), not through a store method.
   */
  readonly writes: readonly AppWrite[];
  /** Every module that runs in this app: the entries and what they import, relative paths. */
  readonly modules: readonly string[];
}

export interface AppWrite {
  readonly table: string;
  readonly location: SourceLocation;
}

export interface AppCall {
  readonly method: string;
  /** The composition or store (`exportName`) the receiver's type names. */
  readonly receiverType: string;
  readonly location: SourceLocation;
}

export type UnresolvedKind =
  | 'table-name'
  | 'raw-sql'
  | 'cte-name'
  | 'invalidation'
  | 'cache-options'
  | 'stream'
  | 'mixin'
  | 'app-call'
  | 'duplicate-name'
  | 'trigger'
  | 'transaction'
  | 'decorator';

export interface UnresolvedFact {
  readonly kind: UnresolvedKind;
  readonly message: string;
  /** The store (`exportName`) and method it occurs in, when it occurs in one. */
  readonly store: string | null;
  readonly method: string | null;
  readonly location: SourceLocation;
}

export interface Suppression {
  /**
   * One entry per rule named in the comment; `*` when the comment names none
   * (all rules); `''` for a comment in `directive`'s form.
   */
  readonly ruleId: string;
  /**
   * Set when the comment is no directive store-lint knows but looks like one
   * (`// store-lint-disable-line`, `/* store-lint-disable *\/`): its first
   * word. It suppresses nothing, and `unused-disable` reports it.
   */
  readonly directive?: string;
  readonly reason: string | null;
  /** The line the comment applies to. */
  readonly appliesToLine: number;
  readonly location: SourceLocation;
}
