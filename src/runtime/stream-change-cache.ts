/**
 * StreamChangeCache: answers "may entity E (a room, a user) have changed since
 * stream token T?" from memory, so hot read paths (sync-like endpoints) can skip
 * the database for the many entities that cannot have changed. Semantics follow
 * Synapse's `StreamChangeCache`: the cache knows every change at a token above
 * its *earliest known position*; for older tokens it answers "maybe" (true).
 * Every answer is conservative: it may say "changed" when nothing changed, never
 * "unchanged" when something did.
 *
 * Ordering invariant (Synapse #14158, fixed by #14723): the cache must be
 * updated (`entityHasChangedAt`, `allEntitiesChanged`) BEFORE the stream token
 * that covers the change becomes visible to readers. Otherwise a reader can
 * take the new token, ask the cache about the old one, hear "unchanged", and
 * miss the change for good, because it will next ask about the new token.
 * The cache cannot enforce this itself; the runtime does:
 * - on a worker, the replication handler: for each batch it runs every
 *   `@onReplication` handler (which updates the cache) synchronously, and only
 *   then advances the stream position and wakes waiters;
 * - on the writer, the same handlers run right after the write's transaction
 *   commits while its stream ID is still in flight, so the generator's current
 *   token cannot cover the change yet.
 * Every method here is synchronous, so an update cannot be interleaved with a
 * read halfway through.
 */

import { sql, type Kysely } from 'kysely';

/** Default bound on the number of entities a cache remembers (Synapse's default). */
export const DEFAULT_STREAM_CHANGE_CACHE_SIZE = 10_000;

/** Default number of rows {@link loadStreamChangeCache} reads. */
export const DEFAULT_STREAM_CHANGE_CACHE_LOAD_LIMIT = 10_000;

export interface StreamChangeCacheOptions {
  /** Maximum number of entities remembered; older tokens are evicted beyond it. Default 10,000. */
  readonly maxSize?: number;
  /**
   * Changes known at construction, e.g. read from the stream's table. Each is
   * recorded as by {@link StreamChangeCache.entityHasChangedAt}, so entries at
   * or below the earliest known position are ignored.
   */
  readonly prefilled?: Iterable<readonly [entity: string, token: number]>;
  /**
   * The position above which the cache knows every change. Defaults to
   * `currentStreamPosition`. Pass a lower value only when `prefilled` holds
   * every change above it (this is what {@link loadStreamChangeCache} does).
   */
  readonly earliestKnownPosition?: number;
}

/**
 * Answer of {@link StreamChangeCache.getEntitiesChanged}. `entities` is always
 * safe to use as is: it holds every asked-about entity that may have changed
 * (on a miss, all of them). `hit` says whether the cache could tell them apart.
 */
export interface EntitiesChanged {
  readonly hit: boolean;
  readonly entities: Set<string>;
}

/**
 * Answer of {@link StreamChangeCache.getAllEntitiesChanged}. On a miss the
 * cache cannot list the changed entities, and there is no list to misuse.
 */
export type AllEntitiesChanged =
  { readonly hit: true; readonly entities: readonly string[] } | { readonly hit: false };

/**
 * Complexity, with n the number of distinct tokens held (n <= entities <= maxSize + 1):
 * - `entityHasChanged`: O(1); `getEntitiesChanged`: O(number of entities asked about);
 * - `hasAnyEntityChanged`: O(log n); `getAllEntitiesChanged`: O(log n + k) for k results;
 * - `entityHasChangedAt`: O(1) plus expected O(log n) when a token enters or leaves
 *   the ordered set; eviction costs expected O(log n) per evicted token plus O(1)
 *   per evicted entity, which is amortised against that entity's insertion;
 * - `allEntitiesChanged`: O(1) (old structures are dropped, not walked).
 */
export class StreamChangeCache {
  readonly name: string;
  readonly maxSize: number;
  #earliestKnown: number;
  #maxPosition: number;
  /** entity → the latest token it changed at (only tokens above #earliestKnown). */
  readonly #entityToToken = new Map<string, number>();
  /** token → the entities whose latest change is at that token; never holds an empty set. */
  #tokenToEntities = new Map<number, Set<string>>();
  /** The keys of #tokenToEntities, ordered. */
  #tokens = new OrderedNumberSet();

  constructor(name: string, currentStreamPosition: number, options: StreamChangeCacheOptions = {}) {
    this.name = name;
    const maxSize = options.maxSize ?? DEFAULT_STREAM_CHANGE_CACHE_SIZE;
    if (!Number.isSafeInteger(maxSize) || maxSize < 0) {
      throw new RangeError(
        `StreamChangeCache ${name}: maxSize must be a non-negative integer, got ${maxSize}`,
      );
    }
    this.maxSize = maxSize;
    this.#assertToken(currentStreamPosition, 'currentStreamPosition');
    const earliest = options.earliestKnownPosition ?? currentStreamPosition;
    this.#assertToken(earliest, 'earliestKnownPosition');
    this.#earliestKnown = earliest;
    this.#maxPosition = Math.max(currentStreamPosition, earliest);
    for (const [entity, token] of options.prefilled ?? []) {
      this.entityHasChangedAt(entity, token);
    }
  }

  /** Number of entities remembered. */
  get size(): number {
    return this.#entityToToken.size;
  }

  /** The cache knows every change at a token above this position. */
  earliestKnownPosition(): number {
    return this.#earliestKnown;
  }

  /** The highest position this cache has heard of (construction, changes, resets). */
  maxStreamPosition(): number {
    return this.#maxPosition;
  }

  /** May `entity` have changed after `token`? True means "maybe". */
  entityHasChanged(entity: string, token: number): boolean {
    if (!this.#canAnswer(token)) return true;
    const latest = this.#entityToToken.get(entity);
    return latest !== undefined && token < latest;
  }

  /** Which of `entities` may have changed after `token`. See {@link EntitiesChanged}. */
  getEntitiesChanged(entities: Iterable<string>, token: number): EntitiesChanged {
    if (!this.#canAnswer(token)) return { hit: false, entities: new Set(entities) };
    const changed = new Set<string>();
    for (const entity of entities) {
      const latest = this.#entityToToken.get(entity);
      if (latest !== undefined && token < latest) changed.add(entity);
    }
    return { hit: true, entities: changed };
  }

  /**
   * Every entity that changed after `token`, ordered by the token of its latest
   * change (entities sharing a token in the order they were recorded), or a
   * miss when `token` is older than the earliest known position.
   */
  getAllEntitiesChanged(token: number): AllEntitiesChanged {
    if (!this.#canAnswer(token)) return { hit: false };
    const entities: string[] = [];
    for (const t of this.#tokens.keysAbove(token)) {
      const atToken = this.#tokenToEntities.get(t);
      // A loop, not push(...set): one token can hold more entities than a call takes arguments.
      for (const entity of atToken ?? []) entities.push(entity);
    }
    return { hit: true, entities };
  }

  /** May anything have changed after `token`? */
  hasAnyEntityChanged(token: number): boolean {
    if (!this.#canAnswer(token)) return true;
    const newest = this.#tokens.max();
    return newest !== undefined && token < newest;
  }

  /**
   * Records that `entity` changed at `token`. Ignored at or below the earliest
   * known position (questions about such tokens already answer "maybe"). An
   * entity keeps only its latest token, so an older token arriving late (from
   * another writer) changes nothing. Beyond `maxSize` entities, the oldest
   * tokens are evicted and the earliest known position rises to the highest
   * evicted token.
   */
  entityHasChangedAt(entity: string, token: number): void {
    this.#assertToken(token, 'token');
    if (token <= this.#earliestKnown) return;
    if (token > this.#maxPosition) this.#maxPosition = token;
    const previous = this.#entityToToken.get(entity);
    if (previous !== undefined) {
      if (previous >= token) return;
      this.#removeFromToken(entity, previous);
    }
    const atToken = this.#tokenToEntities.get(token);
    if (atToken === undefined) {
      this.#tokenToEntities.set(token, new Set([entity]));
      this.#tokens.insert(token);
    } else {
      atToken.add(entity);
    }
    this.#entityToToken.set(entity, token);
    this.#evict();
  }

  /**
   * Every entity may have changed at `token` (e.g. a "state-all" row): forget
   * everything and answer "maybe" for older tokens. Unlike Synapse, the earliest
   * known position never moves backwards nor below a change being forgotten, so
   * a reset that arrives late cannot make a recorded change look unchanged.
   */
  allEntitiesChanged(token: number): void {
    this.#assertToken(token, 'token');
    const newest = this.#tokens.max();
    this.#earliestKnown = Math.max(this.#earliestKnown, token, newest ?? token);
    if (token > this.#maxPosition) this.#maxPosition = token;
    this.#entityToToken.clear();
    this.#tokenToEntities = new Map();
    this.#tokens = new OrderedNumberSet();
  }

  /** Also false for NaN, which therefore answers "maybe". */
  #canAnswer(token: number): boolean {
    return token >= this.#earliestKnown;
  }

  #removeFromToken(entity: string, token: number): void {
    const atToken = this.#tokenToEntities.get(token);
    if (atToken === undefined) return;
    atToken.delete(entity);
    if (atToken.size === 0) {
      this.#tokenToEntities.delete(token);
      this.#tokens.delete(token);
    }
  }

  #evict(): void {
    while (this.#entityToToken.size > this.maxSize) {
      const oldest = this.#tokens.min();
      if (oldest === undefined) break; // unreachable: entities imply tokens
      for (const entity of this.#tokenToEntities.get(oldest) ?? []) {
        this.#entityToToken.delete(entity);
      }
      this.#tokenToEntities.delete(oldest);
      this.#tokens.delete(oldest);
      if (oldest > this.#earliestKnown) this.#earliestKnown = oldest;
    }
  }

  #assertToken(value: number, what: string): void {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(
        `StreamChangeCache ${this.name}: ${what} must be a safe integer, got ${value}`,
      );
    }
  }
}

export interface LoadStreamChangeCacheOptions {
  /** The cache's name. */
  readonly name: string;
  /** The table to read (`schema.table` allowed); an index on `tokenColumn` keeps the load cheap. */
  readonly table: string;
  /** Column holding the entity (text). */
  readonly entityColumn: string;
  /** Column holding the stream token (integer); rows where it is null are skipped. */
  readonly tokenColumn: string;
  /**
   * The stream's current token, read BEFORE the load. Every change at a token
   * above it must still reach the cache afterwards (replication catch-up from
   * this position does that; changes the load already saw are harmless
   * duplicates). It is the earliest known position of an empty table.
   */
  readonly currentPosition: number;
  /** Rows to read, newest first. Default 10,000. */
  readonly limit?: number;
  /** The cache's maxSize. Default 10,000. */
  readonly maxSize?: number;
  /**
   * A position above which the table holds a row for every change (0 for a
   * table that is never pruned and whose tokens start at 1). Used when the
   * whole table fits in `limit`. Without it the table is trusted from its
   * oldest row on: rows are assumed removed only oldest-token-first or when
   * superseded by a newer row for the same entity.
   */
  readonly floor?: number;
}

/**
 * Builds a cache prefilled from the newest `limit` rows of a stream's table.
 *
 * Earliest known position E (the cache then claims to know every change above E):
 * - more than `limit` rows: E is the token of the newest row NOT loaded. Rows are
 *   read by token descending, so every change above that token was loaded. When
 *   that token's rows were only partly loaded (several rows share the token at the
 *   limit boundary), E equals the lowest loaded token and its loaded rows are
 *   dropped: claiming E = lowest - 1 would assert knowledge of a token whose other
 *   rows were never read. We read `limit + 1` rows to see that next row, and
 *   prefer dropping a partial token to reading past `limit` (one token can have
 *   any number of rows). If `floor` is higher, E is `floor`.
 * - otherwise the whole table is loaded: E is `floor` when given, else the lowest
 *   token minus 1, or `currentPosition` for an empty table.
 */
export async function loadStreamChangeCache<DB>(
  db: Kysely<DB>,
  options: LoadStreamChangeCacheOptions,
): Promise<StreamChangeCache> {
  const limit = options.limit ?? DEFAULT_STREAM_CHANGE_CACHE_LOAD_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(
      `loadStreamChangeCache ${options.name}: limit must be a positive integer, got ${limit}`,
    );
  }
  for (const [what, value] of [
    ['currentPosition', options.currentPosition],
    ['floor', options.floor ?? 0],
  ] as const) {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(
        `loadStreamChangeCache ${options.name}: ${what} must be a safe integer, got ${value}`,
      );
    }
  }
  const token = sql.ref(options.tokenColumn);
  const result = await sql<{ entity: unknown; token: unknown }>`
    SELECT ${sql.ref(options.entityColumn)} AS entity, ${token} AS token
    FROM ${sql.table(options.table)}
    WHERE ${token} IS NOT NULL
    ORDER BY ${token} DESC
    LIMIT ${limit + 1}
  `.execute(db);
  const rows = result.rows.map((row): [string, number] => [
    toEntity(row.entity, options),
    toToken(row.token, options),
  ]);

  let earliest: number;
  const next = rows[limit];
  if (next !== undefined) {
    rows.length = limit;
    earliest = Math.max(next[1], options.floor ?? next[1]);
  } else {
    const oldest = rows[rows.length - 1];
    earliest = options.floor ?? (oldest === undefined ? options.currentPosition : oldest[1] - 1);
  }
  // Loaded rows at or below `earliest` (a partly loaded boundary token) are
  // ignored by the cache.
  return new StreamChangeCache(options.name, options.currentPosition, {
    earliestKnownPosition: earliest,
    prefilled: rows,
    ...(options.maxSize === undefined ? {} : { maxSize: options.maxSize }),
  });
}

function toEntity(value: unknown, options: LoadStreamChangeCacheOptions): string {
  if (typeof value === 'string') return value;
  throw new TypeError(
    `loadStreamChangeCache ${options.name}: ${options.table}.${options.entityColumn} must be text, got ${typeof value}`,
  );
}

/** Postgres int8 arrives as a string from pg and as a number from PGlite. */
function toToken(value: unknown, options: LoadStreamChangeCacheOptions): number {
  const token =
    typeof value === 'number'
      ? value
      : typeof value === 'string' || typeof value === 'bigint'
        ? Number(value)
        : Number.NaN;
  if (Number.isSafeInteger(token)) return token;
  throw new TypeError(
    `loadStreamChangeCache ${options.name}: ${options.table}.${options.tokenColumn} must hold safe integers, got ${String(value)}`,
  );
}

interface TreapNode {
  readonly key: number;
  readonly priority: number;
  left: TreapNode | null;
  right: TreapNode | null;
}

/**
 * An ordered set of numbers: a treap, i.e. a binary search tree on keys that is
 * a heap on random priorities, which keeps its depth O(log n) in expectation
 * whatever the insertion order (stream tokens mostly arrive ascending, which
 * would degrade a plain BST into a list). Operations are expected O(log n);
 * recursion depth is the tree depth.
 */
class OrderedNumberSet {
  #root: TreapNode | null = null;

  /** Precondition: `key` is absent. */
  insert(key: number): void {
    this.#root = insertNode(this.#root, { key, priority: Math.random(), left: null, right: null });
  }

  delete(key: number): void {
    this.#root = removeNode(this.#root, key);
  }

  min(): number | undefined {
    let node = this.#root;
    if (node === null) return undefined;
    while (node.left !== null) node = node.left;
    return node.key;
  }

  max(): number | undefined {
    let node = this.#root;
    if (node === null) return undefined;
    while (node.right !== null) node = node.right;
    return node.key;
  }

  /** Keys strictly greater than `key`, ascending. */
  *keysAbove(key: number): Generator<number, void, undefined> {
    // The stack holds the nodes above `key` whose key and right subtree are still to visit.
    const stack: TreapNode[] = [];
    let node = this.#root;
    while (node !== null) {
      if (node.key > key) {
        stack.push(node);
        node = node.left;
      } else {
        node = node.right;
      }
    }
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      yield top.key;
      for (let child = top.right; child !== null; child = child.left) stack.push(child);
    }
  }
}

function insertNode(node: TreapNode | null, fresh: TreapNode): TreapNode {
  if (node === null) return fresh;
  if (fresh.priority > node.priority) {
    const [below, above] = split(node, fresh.key);
    fresh.left = below;
    fresh.right = above;
    return fresh;
  }
  if (fresh.key < node.key) node.left = insertNode(node.left, fresh);
  else node.right = insertNode(node.right, fresh);
  return node;
}

/** Splits into keys below and keys above `key` (which is absent). */
function split(node: TreapNode | null, key: number): [TreapNode | null, TreapNode | null] {
  if (node === null) return [null, null];
  if (node.key < key) {
    const [below, above] = split(node.right, key);
    node.right = below;
    return [node, above];
  }
  const [below, above] = split(node.left, key);
  node.left = above;
  return [below, node];
}

function removeNode(node: TreapNode | null, key: number): TreapNode | null {
  if (node === null) return null;
  if (key < node.key) {
    node.left = removeNode(node.left, key);
    return node;
  }
  if (key > node.key) {
    node.right = removeNode(node.right, key);
    return node;
  }
  return merge(node.left, node.right);
}

/** Joins two treaps where every key of `low` is below every key of `high`. */
function merge(low: TreapNode | null, high: TreapNode | null): TreapNode | null {
  if (low === null) return high;
  if (high === null) return low;
  if (low.priority > high.priority) {
    low.right = merge(low.right, high);
    return low;
  }
  high.left = merge(low, high.left);
  return high;
}
