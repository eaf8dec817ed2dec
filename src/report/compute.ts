// computeCoverage(model): for every app, every cached read, every table it
// reads and every write path that writes the table, the route that
// invalidates the cache on that app or the link that is missing.
//
// The reasoning is the rules' own, on the rules' own facts (src/lint/facts.ts):
// - on a worker, as `cache-not-invalidated-on-worker` and `unannounced-write`:
//   a write is covered by a caches-stream invalidation on its path, or by a
//   handler (in the worker's composition) of a stream the write allocates on
//   that invalidates the cache; a write announced on no stream that lists the
//   table is `unannounced-write`'s finding;
// - on the writer, as `cache-not-invalidated-on-writer`: by a handler of a
//   stream the write allocates on (the writer applies its own rows), by a
//   local invalidation on the path, or because the cached read is the write.
// Where the rules stay silent because something is unresolved, the pair is
// `unknown`; so is a pair the analyser cannot name the table of (a cached
// read or a write path holding a dynamic table name), which the rules never
// form at all. A cache whose name two `@cached()` methods of the composition
// share is uncovered (`duplicate-cache-name`): nothing can invalidate it reliably. Beyond the rules' "is there an invalidation", the report checks
// that the invalidation drops the entries: a key that does not fit the cache
// (`invalidation-key-mismatch`) or, on the writer, a local invalidation
// before commit (`invalidation-before-commit`) leaves the pair uncovered.
// So every uncovered pair is some rule's finding, and every finding of the
// cache rules is some uncovered pair (test/report/agreement.test.ts).
import { deepFreeze } from '../analysis/freeze.js';
import {
  CACHES_STREAM,
  CACHES_TABLE,
  type AppInfo,
  type SourceLocation,
  type StoreModel,
} from '../analysis/model.js';
import {
  codeList,
  factsOf,
  qualified,
  STREAM_INVALIDATION_KINDS,
  type CacheFacts,
  type CompositionFacts,
  type HandlerFacts,
  type ModelFacts,
  type Resolved,
  type WritePath,
} from '../lint/facts.js';
import {
  allocationLocation,
  beforeCommit,
  compareLocations,
  compareStrings,
  describeInvalidation,
  invalidationSites,
  keyFits,
  readLocation,
  sortedUnique,
  SuppressionIndex,
  uncertainty,
  unnamedTable,
  type Site,
} from './evidence.js';
import { addCounts, cacheStatus, countCaches, countPairs } from './metrics.js';
import {
  COVERAGE_VERSION,
  type AppCoverage,
  type CacheCoverage,
  type CacheTableCoverage,
  type CoverageModel,
  type Fact,
  type HandlerCoverage,
  type MethodRef,
  type MissingKind,
  type MissingLink,
  type PairCoverage,
  type PairStatus,
  type Route,
  type StoreCoverage,
  type StreamCoverage,
  type TableCoverage,
  type WriterRef,
  storeId,
  UNNAMED_TABLE,
} from './model.js';

const RULE = {
  worker: 'cache-not-invalidated-on-worker',
  writer: 'cache-not-invalidated-on-writer',
  unannounced: 'unannounced-write',
  keyMismatch: 'invalidation-key-mismatch',
  duplicate: 'duplicate-cache-name',
  beforeCommit: 'invalidation-before-commit',
} as const;

/** The coverage of every app's cached reads; see the module comment and `model.ts`. */
export function computeCoverage(model: StoreModel): CoverageModel {
  const facts = factsOf(model);
  const suppressions = new SuppressionIndex(model.suppressions);
  const apps = model.apps.map((app) => appCoverage(facts, suppressions, app));
  const streams = streamCoverage(facts, apps);
  const stores = storeCoverage(apps);
  return deepFreeze({
    version: COVERAGE_VERSION,
    totals: {
      invalidations: addCounts(apps.map((a) => a.metrics.invalidations)),
      caches: addCounts(apps.map((a) => a.metrics.caches)),
    },
    apps,
    streams,
    unfollowedStreams: streams
      .filter((s) => s.kind !== 'caches' && s.followedBy.length === 0)
      .map((s) => s.name),
    tables: tableCoverage(facts),
    stores,
  });
}

// ---------------------------------------------------------------- apps

function appCoverage(facts: ModelFacts, suppressions: SuppressionIndex, app: AppInfo): AppCoverage {
  const comp = facts.compositionOf(app)!;
  const caches = compositionCaches(comp)
    .sort(
      (a, b) =>
        compareStrings(a.owner.store.name, b.owner.store.name) || compareStrings(a.name, b.name),
    )
    .map((cache) => cacheCoverage(facts, suppressions, app, comp, cache));
  const invalidations = addCounts(caches.map((c) => c.invalidations));
  return {
    name: app.name,
    role: app.role,
    composition: app.composition,
    unknownMixins: [...comp.unknownMixins],
    metrics: { invalidations, caches: countCaches(caches.map((c) => c.invalidations)) },
    caches,
  };
}

/**
 * Every `@cached()` method of the composition. `comp.caches` is keyed by name
 * and keeps only the definition that wins; but each definition is a cache of
 * its own at run time (which is why two of one name are `duplicate-cache`), so
 * the report lists both rather than lose one.
 */
function compositionCaches(comp: CompositionFacts): CacheFacts[] {
  const caches: CacheFacts[] = [];
  for (const [name, defs] of comp.definitions) {
    const winner = comp.caches.get(name);
    for (const d of defs) {
      if (d.method.cached?.kind !== 'cached') continue;
      if (winner?.owner.method === d.method) caches.push(winner);
      else caches.push({ name, owner: d, fronts: [], reads: new Set(d.reads) });
    }
  }
  return caches;
}

/** The write paths whose writes can make `app`'s caches stale, with the composition they run in. */
function writeSources(
  facts: ModelFacts,
  app: AppInfo,
  comp: CompositionFacts,
): { writer: CompositionFacts; path: WritePath }[] {
  // A worker hears of the writers' writes; a writer's own caches see its own writes.
  const writers = app.role === 'worker' ? facts.writerCompositions : [comp];
  return writers.flatMap((writer) =>
    [...writer.writePaths, ...unnamedWritePaths(facts, writer)].map((path) => ({ writer, path })),
  );
}

const unnamedWritePathsMemo = new WeakMap<CompositionFacts, readonly WritePath[]>();

/**
 * Write paths the rules' facts leave out because they write no table the
 * analyser named, though they hold a table name it could not resolve: they
 * may write any table. They start where the rules' write paths do (the
 * composition's roots); cached reads are reads.
 */
function unnamedWritePaths(facts: ModelFacts, comp: CompositionFacts): readonly WritePath[] {
  const memo = unnamedWritePathsMemo.get(comp);
  if (memo) return memo;
  const paths: WritePath[] = [];
  for (const r of comp.entryPoints) {
    if (r.writes.length > 0 || r.method.cached) continue;
    const reach = comp.reach(r);
    if (unnamedTable(facts, reach.members)) {
      paths.push({ root: r, writes: new Set<string>(), ...reach });
    }
  }
  unnamedWritePathsMemo.set(comp, paths);
  return paths;
}

function cacheCoverage(
  facts: ModelFacts,
  suppressions: SuppressionIndex,
  app: AppInfo,
  comp: CompositionFacts,
  cache: CacheFacts,
): CacheCoverage {
  const sources = writeSources(facts, app, comp);
  const tables: CacheTableCoverage[] = [...cache.reads].sort(compareStrings).map((table) => {
    const readLoc = readLocation(comp, cache, table);
    const writes = sources
      .filter(({ path }) => path.writes.has(table))
      .map(({ writer, path }) =>
        pairCoverage({ facts, suppressions, app, comp, cache, table, readLoc, writer, path }),
      )
      .sort((a, b) => compareStrings(a.writer.id, b.writer.id));
    return { table, location: readLoc, writes };
  });
  const unnamed = unnamedTableCoverage(facts, app, comp, cache, sources);
  if (unnamed) tables.push(unnamed);
  const pairs = tables.flatMap((t) => t.writes);
  const invalidations = countPairs(pairs);
  const streams = new Set<string>();
  for (const p of pairs) {
    for (const s of p.streams) streams.add(s);
    for (const r of p.routes) if (r.stream) streams.add(r.stream);
  }
  return {
    name: cache.name,
    store: cache.owner.store.name,
    location: cache.owner.method.location,
    keyArity: cache.owner.method.cached?.keyArity ?? 0,
    fronts: cache.fronts.map((f) => f.method.name).sort(compareStrings),
    status: cacheStatus(invalidations),
    invalidations,
    streams: sortedUnique(streams),
    tables,
  };
}

/**
 * The pairs whose table the analyser could not name: the cache may read such
 * a table, or the write path may write one. One unknown pair for each write
 * path such a table could connect to the cache and no named table does
 * already (that pair is judged, or unknown, on its own).
 */
function unnamedTableCoverage(
  facts: ModelFacts,
  app: AppInfo,
  comp: CompositionFacts,
  cache: CacheFacts,
  sources: readonly { writer: CompositionFacts; path: WritePath }[],
): CacheTableCoverage | null {
  const reads = unnamedTable(
    facts,
    [cache.owner, ...cache.fronts].flatMap((r) => comp.reach(r).members),
  );
  const writes: PairCoverage[] = [];
  for (const { writer, path } of sources) {
    if ([...path.writes].some((t) => cache.reads.has(t))) continue;
    // As for a named table: a writer's cached read that performs the write fills its own entry.
    if (app.role === 'writer' && (path.root === cache.owner || cache.fronts.includes(path.root))) {
      continue;
    }
    const written = unnamedTable(facts, path.members);
    if (!written && !(reads && path.writes.size > 0)) continue;
    writes.push(unnamedPair(app, cache, writer, path, reads, written));
  }
  if (writes.length === 0) return null;
  return {
    table: UNNAMED_TABLE,
    location: reads?.location ?? cache.owner.method.location,
    writes: writes.sort((a, b) => compareStrings(a.writer.id, b.writer.id)),
  };
}

function unnamedPair(
  app: AppInfo,
  cache: CacheFacts,
  writer: CompositionFacts,
  path: WritePath,
  reads: { text: string; location: SourceLocation } | null,
  written: { text: string; location: SourceLocation } | null,
): PairCoverage {
  const writerRef = writerRefOf(writer, path);
  const cause = (written ?? reads)!;
  const text = written
    ? `the write may write a table the analyser could not name (${cause.text})`
    : `the cached read may read a table the analyser could not name (${cause.text})`;
  const apps = writerRef.apps.length ? ` (${appList(writerRef.apps)})` : '';
  return {
    id: [app.name, cache.name, UNNAMED_TABLE, writerRef.id].join('|'),
    writer: writerRef,
    status: 'unknown',
    skipped: false,
    routes: [],
    missing: {
      kind: 'unresolved',
      text,
      location: cause.location,
      finding: null,
      suppressed: null,
    },
    streams: sortedUnique(path.streams),
    chain: [
      {
        step: 'read',
        text: reads
          ? `\`${cache.name}\` (${cache.owner.store.name}) may read a table the analyser could not name`
          : `\`${cache.name}\` (${cache.owner.store.name}) reads ${codeList(cache.reads)}`,
        location: reads?.location ?? cache.owner.method.location,
        ok: true,
      },
      {
        step: 'write',
        text: written
          ? `\`${qualified(path.root)}\` may write a table the analyser could not name${apps}`
          : `\`${qualified(path.root)}\` writes ${codeList(path.writes)}${apps}`,
        location: path.root.method.location,
        ok: true,
      },
      { step: 'unresolved', text, location: cause.location, ok: false },
    ],
  };
}

// ---------------------------------------------------------------- pairs

interface PairInput {
  readonly facts: ModelFacts;
  readonly suppressions: SuppressionIndex;
  readonly app: AppInfo;
  /** The app's composition (where the cache and the handlers are). */
  readonly comp: CompositionFacts;
  readonly cache: CacheFacts;
  readonly table: string;
  readonly readLoc: SourceLocation;
  /** The composition the write path runs in. */
  readonly writer: CompositionFacts;
  readonly path: WritePath;
}

/** A route with the facts that show it. */
interface Evidence {
  readonly route: Route;
  readonly facts: readonly Fact[];
}

/** A missing link before suppressions are looked up; `findings` are every finding that reports it. */
interface Gap {
  readonly kind: MissingKind;
  readonly text: string;
  readonly location: Fact['location'];
  readonly findings: readonly { ruleId: string; location: SourceLocation }[];
}

interface Judgement {
  readonly status: PairStatus;
  readonly routes: readonly Evidence[];
  readonly gap: Gap | null;
}

function writerRefOf(writer: CompositionFacts, path: WritePath): WriterRef {
  return {
    id: `${writer.name}:${qualified(path.root)}`,
    composition: writer.name,
    apps: writer.apps
      .filter((a) => a.role === 'writer')
      .map((a) => a.name)
      .sort(compareStrings),
    store: path.root.store.name,
    method: path.root.method.name,
    location: path.root.method.location,
  };
}

function pairCoverage(input: PairInput): PairCoverage {
  const { facts, app, cache, table, writer, path } = input;
  const writerRef = writerRefOf(writer, path);
  const judgement = withDuplicates(
    input,
    app.role === 'worker' ? judgeOnWorker(input) : judgeOnWriter(input),
  );
  const missing = judgement.gap ? withSuppression(input.suppressions, judgement.gap) : null;
  const streams = sortedUnique(path.streams);

  const chain: Fact[] = [
    {
      step: 'read',
      text: `\`${cache.name}\` (${cache.owner.store.name}) reads \`${table}\``,
      location: input.readLoc,
      ok: true,
    },
    {
      step: 'write',
      text: `\`${qualified(path.root)}\` writes \`${table}\`${writerRef.apps.length ? ` (${appList(writerRef.apps)})` : ''}`,
      location: writer.writeLocation(path.root, table),
      ok: true,
    },
  ];
  const seen = new Set<string>();
  const push = (f: Fact) => {
    const key = `${f.step}\0${f.text}`;
    if (seen.has(key)) return;
    seen.add(key);
    chain.push(f);
  };
  if (judgement.status === 'covered') {
    for (const r of judgement.routes) for (const f of r.facts) push(f);
  } else {
    for (const s of streams) push(allocationFact(facts, path, s, table));
    if (missing) {
      push({
        step: missing.kind === 'unresolved' ? 'unresolved' : 'missing',
        text: missing.text,
        location: missing.location,
        ok: false,
      });
    }
  }

  return {
    id: [app.name, cache.name, table, writerRef.id].join('|'),
    writer: writerRef,
    status: judgement.status,
    skipped: judgement.status === 'uncovered' && missing?.suppressed != null,
    routes: judgement.routes.map((r) => r.route),
    missing,
    streams,
    chain,
  };
}

function withSuppression(index: SuppressionIndex, gap: Gap): MissingLink {
  // Suppressed when lint would show none of the findings that report the gap.
  const found = gap.findings.map((f) => index.find(f.ruleId, f.location));
  const all = found.length > 0 && found.every((s) => s !== undefined);
  const first = gap.findings[0];
  return {
    kind: gap.kind,
    text: gap.text,
    location: gap.location,
    finding: first ? { ruleId: first.ruleId, location: first.location } : null,
    suppressed: all ? { reason: found[0]!.reason, location: found[0]!.location } : null,
  };
}

const covered = (routes: Evidence[]): Judgement => ({ status: 'covered', routes, gap: null });

function unknown(text: string, location: Fact['location']): Judgement {
  return {
    status: 'unknown',
    routes: [],
    gap: { kind: 'unresolved', text, location, findings: [] },
  };
}

function uncovered(gap: Gap): Judgement {
  return { status: 'uncovered', routes: [], gap };
}

/**
 * Two `@cached()` methods of the cache's name in the composition: invalidations
 * (and caches-stream rows) name a cache by its name, so they cannot tell the
 * two apart, and the runtime refuses to start the composition at all.
 */
function duplicateJudgement(input: PairInput): Judgement | null {
  const { comp, cache } = input;
  const defs = (comp.definitions.get(cache.name) ?? []).filter(
    (d) => d.method.cached?.kind === 'cached',
  );
  if (defs.length < 2) return null;
  // `duplicate-cache-name` reports every definition after the first.
  const reported = defs.slice(1);
  const here = reported.find((d) => d.method === cache.owner.method) ?? reported[0]!;
  return uncovered({
    kind: 'duplicate-cache',
    text: `${defs.map((d) => `\`${qualified(d)}\``).join(' and ')} are both \`@cached()\` and named \`${cache.name}\` in \`${comp.name}\`: invalidations cannot tell them apart, and the runtime refuses to start the composition`,
    location: here.method.location,
    findings: [here, ...reported.filter((d) => d !== here)].map((d) => ({
      ruleId: RULE.duplicate,
      location: d.method.location,
    })),
  });
}

const CACHE_RULES: ReadonlySet<string> = new Set([RULE.worker, RULE.writer, RULE.unannounced]);

/** A duplicate name overrides any judgement but a cache rule's own finding (which lint shows too). */
function withDuplicates(input: PairInput, judgement: Judgement): Judgement {
  if (judgement.gap?.findings.some((f) => CACHE_RULES.has(f.ruleId))) return judgement;
  return duplicateJudgement(input) ?? judgement;
}

function unknownMixinsJudgement(comp: CompositionFacts): Judgement {
  return unknown(
    `\`${comp.name}\` composes ${comp.unknownMixins.map((m) => `\`${m}\``).join(', ')}, which the analyser did not find: its handlers could invalidate anything`,
    comp.info?.location ?? null,
  );
}

/** Judgement on a worker app: the rules `cache-not-invalidated-on-worker` and `unannounced-write`. */
function judgeOnWorker(input: PairInput): Judgement {
  const { facts, app, comp, cache, table, writer, path } = input;
  if (comp.unknownMixins.length) return unknownMixinsJudgement(comp);
  if (path.uncertain) {
    const why = uncertainty(facts, writer, path)!;
    return unknown(`the write path is uncertain: ${why.text}`, why.location);
  }
  const cached = cache.owner.method.cached;
  const routes: Evidence[] = [];
  const broken: Site[] = [];

  // The caches stream: recorded on the write path, applied by every process.
  const streamSites = path.cachesStream.has(cache.name)
    ? invalidationSites(writer, path.root, cache.name, STREAM_INVALIDATION_KINDS)
    : [];
  for (const site of streamSites) {
    if (!keyFits(site.inv, cached)) {
      broken.push(site);
      continue;
    }
    routes.push(cachesStreamRoute(input, site));
  }

  // Handlers (in this app) of every stream the write allocates on.
  const { invalidating, uncertainHandlers } = handlerRoutes(input, routes, broken);
  if (routes.length) return covered(routes);
  if (uncertainHandlers.length) return uncertainHandlerJudgement(facts, comp, uncertainHandlers);
  if (streamSites.length || invalidating) return brokenJudgement(input, broken);

  const streams = sortedUnique(path.streams);
  const covering = streams.filter((s) => facts.covers(s, table) === 'yes');
  if (covering.length) {
    const ruleFinding = [{ ruleId: RULE.worker, location: cache.owner.method.location }];
    const followed = covering.filter((s) => (comp.handlers.get(s) ?? []).length > 0);
    if (followed.length === 0) {
      const first = covering[0]!;
      return uncovered({
        kind: 'no-handler',
        text: `no ${covering.map((s) => `\`@onReplication(${facts.streamLabel(s)})\``).join(' or ')} handler in app \`${app.name}\` (\`${comp.name}\`) follows the stream, so nothing there invalidates \`${cache.name}\``,
        location: facts.stream(first)?.location ?? null,
        findings: ruleFinding,
      });
    }
    const handlers = followed.flatMap((s) => comp.handlers.get(s) ?? []);
    return uncovered({
      kind: 'handler-does-not-invalidate',
      text: `${handlers.map((h) => `\`${qualified(h.handler)}\` (\`@onReplication(${facts.streamLabel(h.stream)})\`)`).join(', ')} ${handlers.length > 1 ? 'run' : 'runs'} in app \`${app.name}\` but ${handlers.length > 1 ? 'do' : 'does'} not invalidate \`${cache.name}\``,
      location: handlers[0]!.handler.method.location,
      findings: ruleFinding,
    });
  }
  const unknownStream = streams.find((s) => facts.covers(s, table) === 'unknown');
  if (unknownStream) {
    return unknown(
      `the write allocates on stream \`${unknownStream}\`, whose tables the analyser does not know`,
      facts.stream(unknownStream)?.location ?? null,
    );
  }
  const writeLoc = writer.writeLocation(path.root, table);
  const listing = facts.model.streams.filter((s) => s.tables.includes(table));
  return uncovered({
    kind: 'no-stream',
    text:
      `no stream announces this write: \`${qualified(path.root)}\` allocates no token on a stream that lists \`${table}\`` +
      (listing.length
        ? ` (${listing.map((s) => `\`${s.variable}\``).join(', ')} ${listing.length > 1 ? 'do' : 'does'})`
        : '') +
      ` and records no caches-stream invalidation of \`${cache.name}\``,
    location: writeLoc,
    findings: [{ ruleId: RULE.unannounced, location: writeLoc }],
  });
}

/** Judgement on a writer app: the rule `cache-not-invalidated-on-writer`. */
function judgeOnWriter(input: PairInput): Judgement {
  const { facts, app, comp, cache, table, path } = input;
  if (comp.unknownMixins.length) return unknownMixinsJudgement(comp);
  if (path.uncertain) {
    const why = uncertainty(facts, comp, path)!;
    return unknown(`the write path is uncertain: ${why.text}`, why.location);
  }
  if (cache.owner === path.root || cache.fronts.includes(path.root)) {
    return covered([
      {
        route: { kind: 'self', stream: null, handler: null, invalidation: null },
        facts: [
          {
            step: 'self',
            text: `\`${cache.name}\` performs this write itself (get-or-create): it fills its own entry`,
            location: path.root.method.location,
            ok: true,
          },
        ],
      },
    ]);
  }
  const cached = cache.owner.method.cached;
  const routes: Evidence[] = [];
  const broken: Site[] = [];

  // Local invalidations on the write path (the caches-stream kinds invalidate locally after commit).
  for (const site of invalidationSites(comp, path.root, cache.name)) {
    if (!keyFits(site.inv, cached) || beforeCommit(site.inv)) {
      broken.push(site);
      continue;
    }
    const viaStream = STREAM_INVALIDATION_KINDS.has(site.inv.kind);
    routes.push({
      route: {
        kind: viaStream ? 'caches-stream' : 'after-commit',
        stream: viaStream ? CACHES_STREAM : null,
        handler: null,
        invalidation: invalidationRef(site),
      },
      facts: [
        {
          step: viaStream ? 'caches-stream' : 'invalidate',
          text:
            `\`${qualified(site.at)}\` calls ${describeInvalidation(site.inv, cached)} ` +
            (viaStream
              ? 'in the transaction: the writer invalidates locally after commit (and the caches stream tells the workers)'
              : site.inv.afterCommit
                ? 'after commit'
                : 'outside the transaction'),
          location: site.inv.location,
          ok: true,
        },
      ],
    });
  }

  // The writer applies its own rows through its handlers right after commit.
  const { invalidating, uncertainHandlers } = handlerRoutes(input, routes, broken);
  if (routes.length) return covered(routes);
  if (uncertainHandlers.length) return uncertainHandlerJudgement(facts, comp, uncertainHandlers);
  if (path.local.has(cache.name) || invalidating) return brokenJudgement(input, broken);

  const writeLoc = comp.writeLocation(path.root, table);
  const ruleFinding = [{ ruleId: RULE.writer, location: writeLoc }];
  const streams = sortedUnique(path.streams);
  const neither = `\`${qualified(path.root)}\` invalidates \`${cache.name}\` neither after commit nor through the caches stream`;
  if (streams.length === 0) {
    return uncovered({
      kind: 'no-stream',
      text: `the write is announced on no stream, and ${neither}`,
      location: writeLoc,
      findings: ruleFinding,
    });
  }
  const handlers = streams.flatMap((s) => comp.handlers.get(s) ?? []);
  if (handlers.length === 0) {
    return uncovered({
      kind: 'no-handler',
      text: `no ${streams.map((s) => `\`@onReplication(${facts.streamLabel(s)})\``).join(' or ')} handler in app \`${app.name}\` (\`${comp.name}\`) applies the write's rows, and ${neither}`,
      location: facts.stream(streams[0]!)?.location ?? null,
      findings: ruleFinding,
    });
  }
  return uncovered({
    kind: 'handler-does-not-invalidate',
    text: `${handlers.map((h) => `\`${qualified(h.handler)}\``).join(', ')} ${handlers.length > 1 ? 'run' : 'runs'} on the writer for the write's rows but ${handlers.length > 1 ? 'do' : 'does'} not invalidate \`${cache.name}\`, and ${neither}`,
    location: handlers[0]!.handler.method.location,
    findings: ruleFinding,
  });
}

/**
 * Adds a route for each handler (in the app's composition) of a stream the
 * write allocates on that invalidates the cache with a fitting key; collects
 * the invalidations that do not fit. Returns whether any handler invalidates
 * the cache at all (what the rules check) and the uncertain handlers.
 */
function handlerRoutes(
  input: PairInput,
  routes: Evidence[],
  broken: Site[],
): { invalidating: boolean; uncertainHandlers: HandlerFacts[] } {
  const { facts, app, comp, cache, table, path } = input;
  const cached = cache.owner.method.cached;
  let invalidating = false;
  const uncertainHandlers: HandlerFacts[] = [];
  for (const stream of sortedUnique(path.streams)) {
    for (const h of comp.handlers.get(stream) ?? []) {
      if (h.uncertain) uncertainHandlers.push(h);
      if (!h.invalidates.has(cache.name)) continue;
      invalidating = true;
      for (const site of invalidationSites(comp, h.handler, cache.name)) {
        if (!keyFits(site.inv, cached)) {
          broken.push(site);
          continue;
        }
        routes.push({
          route: {
            kind: 'stream',
            stream,
            handler: methodRef(h.handler),
            invalidation: invalidationRef(site),
          },
          facts: [
            allocationFact(facts, path, stream, table),
            {
              step: 'handler',
              text:
                `\`@onReplication(${facts.streamLabel(stream)})\` handler \`${qualified(h.handler)}\` ` +
                (app.role === 'writer'
                  ? `runs in app \`${app.name}\` right after commit (the writer applies its own rows)`
                  : `runs in app \`${app.name}\``),
              location: h.handler.method.location,
              ok: true,
            },
            {
              step: 'invalidate',
              text:
                (site.at === h.handler
                  ? 'it calls '
                  : `through \`${qualified(site.at)}\`, it calls `) +
                describeInvalidation(site.inv, cached),
              location: site.inv.location,
              ok: true,
            },
          ],
        });
      }
    }
  }
  return { invalidating, uncertainHandlers };
}

function uncertainHandlerJudgement(
  facts: ModelFacts,
  comp: CompositionFacts,
  handlers: readonly HandlerFacts[],
): Judgement {
  const h = handlers[0]!;
  const why = uncertainty(facts, comp, comp.reach(h.handler))!;
  return unknown(
    `handler \`${qualified(h.handler)}\` is uncertain and may invalidate it: ${why.text}`,
    why.location,
  );
}

/** Every invalidation of the cache on the route is broken: a key that does not fit, or before commit. */
function brokenJudgement(input: PairInput, broken: readonly Site[]): Judgement {
  const cached = input.cache.owner.method.cached;
  const sites = [...broken].sort((a, b) => compareLocations(a.inv.location, b.inv.location));
  const first = sites[0];
  if (!first) {
    // Cannot happen while the facts and the sites agree; say so rather than guess.
    return unknown('an invalidation was found but not its call', null);
  }
  const findings = sites.flatMap((s) => [
    ...(keyFits(s.inv, cached) ? [] : [{ ruleId: RULE.keyMismatch, location: s.inv.location }]),
    ...(beforeCommit(s.inv) ? [{ ruleId: RULE.beforeCommit, location: s.inv.location }] : []),
  ]);
  const mismatch = !keyFits(first.inv, cached);
  return uncovered({
    kind: mismatch ? 'key-mismatch' : 'before-commit',
    text: mismatch
      ? `\`${qualified(first.at)}\` calls ${describeInvalidation(first.inv, cached)}: the key does not fit \`${input.cache.name}\`'s, so it drops nothing`
      : `\`${qualified(first.at)}\` invalidates \`${input.cache.name}\` inside the transaction body: a read before the commit caches the old row again`,
    location: first.inv.location,
    findings,
  });
}

function cachesStreamRoute(input: PairInput, site: Site): Evidence {
  const { app, cache } = input;
  return {
    route: {
      kind: 'caches-stream',
      stream: CACHES_STREAM,
      handler: null,
      invalidation: invalidationRef(site),
    },
    facts: [
      {
        step: 'caches-stream',
        text: `\`${qualified(site.at)}\` records ${describeInvalidation(site.inv, cache.owner.method.cached)} on the \`caches\` stream`,
        location: site.inv.location,
        ok: true,
      },
      {
        step: 'handler',
        text: `the runtime applies \`caches\` stream rows in app \`${app.name}\` (every composition follows it)`,
        location: null,
        ok: true,
      },
    ],
  };
}

function allocationFact(facts: ModelFacts, path: WritePath, stream: string, table: string): Fact {
  const at = allocationLocation(facts, path, stream);
  const label = facts.streamLabel(stream);
  const covers = facts.covers(stream, table);
  return {
    step: 'allocate',
    text:
      `${at ? `\`${qualified(at.at)}\`` : 'it'} allocates a token on stream \`${stream}\` ` +
      (covers === 'yes'
        ? `(\`${label}\` announces \`${table}\`)`
        : covers === 'no'
          ? `(\`${label}\` does not list \`${table}\`)`
          : `(the tables of \`${label}\` are unknown)`),
    location: at?.location ?? null,
    ok: true,
  };
}

function methodRef(r: Resolved): MethodRef {
  return { store: r.store.name, method: r.method.name, location: r.method.location };
}

function invalidationRef(site: Site) {
  return {
    kind: site.inv.kind,
    store: site.at.store.name,
    method: site.at.method.name,
    keyArity: site.inv.keyArity,
    location: site.inv.location,
  };
}

function appList(apps: readonly string[]): string {
  return `${apps.length === 1 ? 'app' : 'apps'} ${apps.map((a) => `\`${a}\``).join(', ')}`;
}

// ---------------------------------------------------------------- streams

function streamCoverage(facts: ModelFacts, apps: readonly AppCoverage[]): StreamCoverage[] {
  const { model } = facts;
  const coveredBy = new Map<string, number>();
  for (const app of apps) {
    for (const cache of app.caches) {
      for (const t of cache.tables) {
        for (const p of t.writes) {
          if (p.status !== 'covered') continue;
          for (const s of new Set(p.routes.map((r) => r.stream).filter((s) => s !== null))) {
            coveredBy.set(s, (coveredBy.get(s) ?? 0) + 1);
          }
        }
      }
    }
  }
  // Caches that caches-stream invalidations name anywhere: the runtime's handler drops them.
  const cachesStreamNames = new Set<string>();
  for (const store of model.stores) {
    for (const m of store.methods) {
      for (const inv of m.invalidations) {
        if (STREAM_INVALIDATION_KINDS.has(inv.kind)) cachesStreamNames.add(inv.cache);
      }
    }
  }

  const entries = [
    ...[...model.streams].sort((a, b) => compareStrings(a.name, b.name)),
    null, // the runtime's caches stream
  ];
  return entries.map((info): StreamCoverage => {
    const name = info?.name ?? CACHES_STREAM;
    const isCaches = info === null;
    const writers = new Map<string, MethodRef & { apps: Set<string> }>();
    for (const w of facts.writerCompositions) {
      const writerApps = w.apps.filter((a) => a.role === 'writer').map((a) => a.name);
      for (const r of w.methods.values()) {
        const location = isCaches
          ? r.method.invalidations.find((i) => STREAM_INVALIDATION_KINDS.has(i.kind))?.location
          : r.method.allocates.find((a) => facts.streamName(a.stream) === name)?.location;
        if (!location) continue;
        const key = qualified(r);
        const entry = writers.get(key) ?? {
          store: r.store.name,
          method: r.method.name,
          location,
          apps: new Set<string>(),
        };
        for (const a of writerApps) entry.apps.add(a);
        writers.set(key, entry);
      }
    }
    // What `stream-without-handler` counts as announcing: a generator field or an allocation.
    const announced = isCaches
      ? writers.size > 0
      : facts.writerCompositions.some((w) =>
          w.chain.some(
            (s) =>
              s.idGenerators.some((g) => facts.streamName(g.stream) === name) ||
              s.methods.some((m) => m.allocates.some((a) => facts.streamName(a.stream) === name)),
          ),
        );
    const handlers = facts.model.apps.map((app) => {
      const comp = facts.compositionOf(app)!;
      const list: HandlerCoverage[] = (comp.handlers.get(name) ?? []).map((h) => ({
        store: h.handler.store.name,
        method: h.handler.method.name,
        location: h.handler.method.location,
        invalidates: sortedUnique(h.invalidates),
        uncertain: h.uncertain,
        runtime: false,
      }));
      if (isCaches) {
        list.push({
          store: 'SQLBaseStore',
          method: 'applyCacheInvalidations',
          location: null,
          invalidates: sortedUnique(
            [...comp.caches.keys()].filter((c) => cachesStreamNames.has(c)),
          ),
          uncertain: false,
          runtime: true,
        });
      }
      return { app: app.name, role: app.role, handlers: list };
    });
    return {
      name,
      variable: info?.variable ?? 'CachesStream',
      kind: info?.kind ?? 'caches',
      tables: info ? [...info.tables] : [CACHES_TABLE],
      location: info?.location ?? null,
      writers: [...writers.entries()]
        .sort(([a], [b]) => compareStrings(a, b))
        .map(([, w]) => ({ ...w, apps: sortedUnique(w.apps) })),
      announced,
      handlers,
      followedBy: handlers
        .filter((h) => h.role === 'worker' && h.handlers.length > 0)
        .map((h) => h.app)
        .sort(compareStrings),
      coveredPairs: coveredBy.get(name) ?? 0,
    };
  });
}

// ---------------------------------------------------------------- tables

function tableCoverage(facts: ModelFacts): TableCoverage[] {
  type Entry = MethodRef & { apps: Set<string> };
  const readers = new Map<
    string,
    Map<string, Entry & { cached: 'cached' | 'cachedList' | null }>
  >();
  const writers = new Map<string, Map<string, Entry>>();
  const names = new Set<string>();
  const add = <E extends Entry>(
    index: Map<string, Map<string, E>>,
    table: string,
    r: Resolved,
    app: string,
    make: () => E,
  ) => {
    names.add(table);
    const byMethod = index.get(table) ?? new Map<string, E>();
    index.set(table, byMethod);
    const key = qualified(r);
    const entry = byMethod.get(key) ?? make();
    entry.apps.add(app);
    byMethod.set(key, entry);
  };
  for (const app of facts.model.apps) {
    const comp = facts.compositionOf(app)!;
    const readingMethods = new Set([
      ...comp.methods.values(),
      ...compositionCaches(comp).map((c) => c.owner),
    ]);
    for (const r of readingMethods) {
      for (const t of r.reads) {
        add(readers, t, r, app.name, () => ({
          ...methodRef(r),
          apps: new Set<string>(),
          cached: r.method.cached?.kind ?? null,
        }));
      }
    }
    for (const path of comp.writePaths) {
      for (const t of path.writes) {
        add(writers, t, path.root, app.name, () => ({
          ...methodRef(path.root),
          apps: new Set<string>(),
        }));
      }
    }
  }
  for (const s of facts.model.streams) for (const t of s.tables) names.add(t);
  const schema = new Set(facts.model.schemaTables);
  const list = <E extends Entry>(m: Map<string, E> | undefined) =>
    [...(m ?? new Map<string, E>()).entries()]
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([, e]) => ({ ...e, apps: sortedUnique(e.apps) }));
  return [...names].sort(compareStrings).map((name) => ({
    name,
    inSchema: schema.has(name),
    readers: list(readers.get(name)),
    writers: list(writers.get(name)),
    streams: [
      ...facts.model.streams
        .filter((s) => s.tables.includes(name))
        .map((s) => s.name)
        .sort(compareStrings),
      ...(name === CACHES_TABLE ? [CACHES_STREAM] : []),
    ],
  }));
}

// ---------------------------------------------------------------- stores

function storeCoverage(apps: readonly AppCoverage[]): StoreCoverage[] {
  // By file and class name: two stores of one name in two files are two stores.
  const byStore = new Map<string, { name: string; file: string; caches: CacheCoverage[] }>();
  for (const app of apps) {
    for (const cache of app.caches) {
      const key = storeId(cache.location.file, cache.store);
      const entry = byStore.get(key) ?? {
        name: cache.store,
        file: cache.location.file,
        caches: [],
      };
      entry.caches.push(cache);
      byStore.set(key, entry);
    }
  }
  return [...byStore.values()]
    .sort((a, b) => compareStrings(a.name, b.name) || compareStrings(a.file, b.file))
    .map(({ name, file, caches }) => ({
      name,
      file,
      metrics: {
        invalidations: addCounts(caches.map((c) => c.invalidations)),
        caches: countCaches(caches.map((c) => c.invalidations)),
      },
    }));
}
