// What the report needs beyond the rules' shared facts (src/lint/facts.ts):
// not only *whether* a handler or write path invalidates a cache, but *where*
// (the invalidation calls, with their kind, key and place), whether each call
// actually drops the entries (its key fits the cache's key, and a writer's
// local invalidation happens after commit), where a cache reads a table, and
// why a path is uncertain. Everything is derived from the facts' `reach`, so
// the report walks exactly the calls the rules walk.
import type {
  CachedInfo,
  InvalidationInfo,
  InvalidationKind,
  SourceLocation,
  Suppression,
  UnresolvedKind,
} from '../analysis/model.js';
import {
  STREAM_INVALIDATION_KINDS,
  type CacheFacts,
  type CompositionFacts,
  type ModelFacts,
  type Reach,
  type Resolved,
} from '../lint/facts.js';

/** An invalidation call and the method (reached from a handler or write path) it is in. */
export interface Site {
  readonly inv: InvalidationInfo;
  readonly at: Resolved;
}

/** Invalidations of `cache` in everything `start` reaches (what `HandlerFacts.invalidates` summarises). */
export function invalidationSites(
  composition: CompositionFacts,
  start: Resolved,
  cache: string,
  kinds?: ReadonlySet<InvalidationKind>,
): Site[] {
  const sites: Site[] = [];
  for (const r of composition.reach(start).members) {
    for (const inv of r.method.invalidations) {
      if (inv.cache !== cache) continue;
      if (kinds && !kinds.has(inv.kind)) continue;
      sites.push({ inv, at: r });
    }
  }
  return sites.sort((a, b) => compareLocations(a.inv.location, b.inv.location));
}

// The same test as the `invalidation-key-mismatch` rule: a full key must have
// the cache's arity, a prefix one to that many arguments; the `*All*` kinds
// and the bulk form carry no key to check.
const FULL_KEY_KINDS: ReadonlySet<InvalidationKind> = new Set([
  'invalidate',
  'invalidateCacheAndStream',
]);

export function keyFits(inv: InvalidationInfo, cached: CachedInfo | null): boolean {
  if (!cached || cached.kind !== 'cached' || inv.keyArity === null) return true;
  if (FULL_KEY_KINDS.has(inv.kind)) return inv.keyArity === cached.keyArity;
  if (inv.kind === 'invalidatePrefix') return inv.keyArity >= 1 && inv.keyArity <= cached.keyArity;
  return true;
}

/** The `invalidation-before-commit` rule's test: a local invalidation inside the transaction body. */
export function beforeCommit(inv: InvalidationInfo): boolean {
  return inv.inTransaction && !inv.afterCommit && !STREAM_INVALIDATION_KINDS.has(inv.kind);
}

/** `invalidate(this.getFoo, 2 key arguments)`-style description of a call. */
export function describeInvalidation(inv: InvalidationInfo, cached: CachedInfo | null): string {
  const call = `\`${inv.kind}(${inv.kind.includes('CacheAndStream') ? 'txn, ' : ''}this.${inv.cache}${inv.keyArity === 0 || inv.keyArity === null ? '' : ', …'})\``;
  if (inv.keyArity === null || !cached) return call;
  const expected = cached.keyArity;
  return `${call} with ${inv.keyArity} of ${expected} key argument${expected === 1 ? '' : 's'}`;
}

/** Where a cache reads `table`: its own access, else the call that leads there, else a list front's. */
export function readLocation(
  composition: CompositionFacts,
  cache: CacheFacts,
  table: string,
): SourceLocation {
  for (const r of [cache.owner, ...cache.fronts]) {
    const own = r.method.tableAccesses.find((a) => a.access === 'read' && a.table === table);
    if (own) return own.location;
  }
  for (const r of [cache.owner, ...cache.fronts]) {
    for (const call of r.method.calls) {
      const target = composition.resolveCall(r, call);
      if (typeof target === 'object' && target.reads.includes(table)) return call.location;
    }
  }
  return cache.owner.method.location;
}

/** Where a path (or handler) allocates on `stream`. */
export function allocationLocation(
  facts: ModelFacts,
  reach: Reach,
  stream: string,
): { at: Resolved; location: SourceLocation } | null {
  for (const r of reach.members) {
    const a = r.method.allocates.find((x) => facts.streamName(x.stream) === stream);
    if (a) return { at: r, location: a.location };
  }
  return null;
}

/** Why `reach` is uncertain, as one sentence and a place, or null when it is not. */
export function uncertainty(
  facts: ModelFacts,
  composition: CompositionFacts,
  reach: Reach,
): { text: string; location: SourceLocation | null } | null {
  if (!reach.uncertain) return null;
  for (const r of reach.members) {
    const u = facts.unresolvedWithin(r.store, r.method)[0];
    if (u) {
      return {
        text: `\`${r.store.name}.${r.method.name}\` holds something the analyser could not resolve: ${u.message}`,
        location: u.location,
      };
    }
  }
  for (const r of reach.members) {
    for (const call of r.method.calls) {
      if (composition.resolveCall(r, call) === 'unknown') {
        return {
          text: `\`${r.store.name}.${r.method.name}\` calls \`${call.receiver}.${call.method}()\`, which no store of \`${composition.name}\` defines`,
          location: call.location,
        };
      }
    }
  }
  if (composition.unknownMixins.length) {
    return {
      text: `\`${composition.name}\` composes ${composition.unknownMixins.map((m) => `\`${m}\``).join(', ')}, which the analyser did not find`,
      location: composition.info?.location ?? null,
    };
  }
  return { text: 'something on this path could not be resolved', location: null };
}

// Unresolved facts that hide a table: a dynamic table name, SQL the analyser
// could not read (in the code, or in the function of a trigger a write
// fires). The analyser cannot tell whether such a table is read or written,
// so a method holding one may read or write any table.
const UNNAMED_TABLE_KINDS: ReadonlySet<UnresolvedKind> = new Set([
  'table-name',
  'raw-sql',
  'trigger',
]);

/**
 * Why the methods of a reach may read or write a table the analyser could not
 * name (one sentence and the unresolved fact's place), or null when they name
 * every table they touch.
 */
export function unnamedTable(
  facts: ModelFacts,
  members: readonly Resolved[],
): { text: string; location: SourceLocation } | null {
  for (const r of members) {
    const u = facts
      .unresolvedWithin(r.store, r.method)
      .find((f) => UNNAMED_TABLE_KINDS.has(f.kind));
    if (u)
      return { text: `\`${r.store.name}.${r.method.name}\`: ${u.message}`, location: u.location };
  }
  // A helper function's unresolved fact may be a table name too.
  for (const r of members) {
    if (r.method.helpersUnresolved) {
      return {
        text: `\`${r.store.name}.${r.method.name}\` calls a helper function holding something the analyser could not resolve`,
        location: r.method.location,
      };
    }
  }
  return null;
}

/** Inline suppressions by `file\0line\0rule`, as the lint engine matches them. */
export class SuppressionIndex {
  private readonly byLine = new Map<string, Suppression>();

  constructor(suppressions: readonly Suppression[]) {
    for (const s of suppressions) {
      const key = `${s.location.file}\0${s.appliesToLine}\0${s.ruleId}`;
      if (!this.byLine.has(key)) this.byLine.set(key, s);
    }
  }

  /** The comment that hides a finding of `ruleId` at `location`, if any (`*` names every rule). */
  find(ruleId: string, location: SourceLocation): Suppression | undefined {
    const at = `${location.file}\0${location.line}\0`;
    return this.byLine.get(at + ruleId) ?? this.byLine.get(`${at}*`);
  }
}

export function compareLocations(a: SourceLocation, b: SourceLocation): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.line - b.line ||
    a.column - b.column ||
    a.endLine - b.endLine ||
    a.endColumn - b.endColumn
  );
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareStrings);
}
