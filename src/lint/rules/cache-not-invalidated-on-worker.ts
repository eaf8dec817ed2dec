// A cached read on a worker reads table T; a writer writes T and announces it
// on a stream that covers T; no handler of that stream in the worker's
// composition invalidates the cache. The worker then serves the old value
// until the entry is evicted or the process restarts (the Synapse bug class:
// the handler that would have invalidated it was never added to the worker).
// Writes announced on no covering stream are `unannounced-write`'s concern.
import {
  appsText,
  codeList,
  databaseWriteNote,
  factsOf,
  getOrCreate,
  qualified,
  type CacheFacts,
  type CompositionFacts,
  type WritePath,
} from '../facts.js';
import { defineRule, type Finding } from '../rule.js';

interface Group {
  readonly cache: string;
  readonly cacheStore: string;
  readonly table: string;
  readonly streams: readonly string[];
  readonly location: Finding['location'];
  readonly apps: Set<string>;
  readonly compositions: Set<string>;
  /** Each writer, with how the database writes the table when none of its statements does. */
  readonly writers: Map<string, string>;
}

/** The certain writes of one table announced on one set of streams. */
interface WriteGroup {
  readonly streams: ReadonlySet<string>;
  /** The streams of the set that carry the table, sorted. */
  readonly covering: readonly string[];
  readonly paths: WritePath[];
  /** Cache name → how many of `paths` invalidate it through the caches stream. */
  readonly throughCachesStream: Map<string, number>;
}

/**
 * Reports each write group of a table `cache` reads that may leave it stale
 * on `worker`: announced on a stream that carries the table, not every write
 * invalidating it through the caches stream, and no handler of the group's
 * streams in `worker` invalidating it. (Its own function, called per cache,
 * so that V8 optimises it early.)
 */
function checkCache(
  worker: CompositionFacts,
  cache: CacheFacts,
  writeGroupsOf: (table: string) => readonly WriteGroup[],
  report: (cache: CacheFacts, table: string, writes: WriteGroup) => void,
): void {
  for (const table of cache.reads) {
    for (const writes of writeGroupsOf(table)) {
      // Every write of the group invalidates the cache through the caches stream.
      if (writes.throughCachesStream.get(cache.name) === writes.paths.length) continue;
      if (writes.covering.length === 0) continue;
      // Asked again for each table of one stream set: cheaper than a memo per cache.
      if (worker.handlerInvalidates(writes.streams, cache.name)) continue;
      report(cache, table, writes);
    }
  }
}

export const cacheNotInvalidatedOnWorker = defineRule({
  id: 'cache-not-invalidated-on-worker',
  meta: {
    description:
      'A worker’s cached read reads a table that a writer writes on a stream, and no handler of that stream in the worker invalidates the cache.',
    defaultSeverity: 'error',
    messages: {
      notInvalidated:
        '`{{cache}}` ({{cacheStore}}, {{apps}}) reads `{{table}}`; `{{writer}}` writes it{{how}} on {{streams}}{{others}}; no {{handlers}} handler in {{appNames}} invalidates `{{cache}}`',
    },
    docs: 'docs/rules/cache-not-invalidated-on-worker.md',
  },
  check(model) {
    const facts = factsOf(model);
    const groups = new Map<string, Group>();
    // Every worker cache meets every write of its tables, across all writer
    // compositions; the answer depends on a write only through its stream
    // set (and whether it invalidates the cache through the caches stream),
    // and many writes share a stream set: the writes of each table are
    // grouped by it once, so a cache is checked once per group, not per write.
    const writeGroups = new Map<string, readonly WriteGroup[]>();
    const groupWrites = (table: string): readonly WriteGroup[] => {
      const byStreams = new Map<string, WriteGroup>();
      for (const { path } of facts.certainWritesOf(table)) {
        const key = [...path.streams].sort().join('\0');
        const group = getOrCreate(byStreams, key, () => ({
          streams: path.streams,
          // Only the streams that carry this table can invalidate for it.
          covering: [...path.streams].filter((s) => facts.covers(s, table) === 'yes').sort(),
          paths: [],
          throughCachesStream: new Map<string, number>(),
        }));
        group.paths.push(path);
        for (const c of path.cachesStream)
          group.throughCachesStream.set(c, (group.throughCachesStream.get(c) ?? 0) + 1);
      }
      return [...byStreams.values()];
    };
    // Asked once per table each cache reads: the hit makes no closure.
    const writeGroupsOf = (table: string): readonly WriteGroup[] => {
      let groups = writeGroups.get(table);
      if (!groups) writeGroups.set(table, (groups = groupWrites(table)));
      return groups;
    };
    for (const worker of facts.workerCompositions) {
      // Handlers of a mixin the model lacks could invalidate anything.
      if (worker.unknownMixins.length) continue;
      const workerApps = worker.apps.filter((a) => a.role === 'worker').map((a) => a.name);
      const report = (cache: CacheFacts, table: string, writes: WriteGroup) => {
        const streams = writes.covering;
        const groupKey = [cache.owner.store.name, cache.name, table, streams.join(',')].join('\0');
        const group = getOrCreate(groups, groupKey, () => ({
          cache: cache.name,
          cacheStore: cache.owner.store.name,
          table,
          streams,
          location: cache.owner.method.location,
          apps: new Set<string>(),
          compositions: new Set<string>(),
          writers: new Map<string, string>(),
        }));
        for (const a of workerApps) group.apps.add(a);
        group.compositions.add(worker.name);
        for (const path of writes.paths)
          if (!path.cachesStream.has(cache.name) && !group.writers.has(qualified(path.root)))
            group.writers.set(qualified(path.root), databaseWriteNote(path, table));
      };
      for (const cache of worker.caches.values()) checkCache(worker, cache, writeGroupsOf, report);
    }
    return [...groups.values()].map((g) => {
      const writers = [...g.writers.keys()].sort();
      const apps = [...g.apps].sort();
      const plural = g.streams.length > 1;
      return {
        messageId: 'notInvalidated' as const,
        data: {
          cache: g.cache,
          cacheStore: g.cacheStore,
          apps: appsText(apps),
          appNames: codeList(apps),
          table: g.table,
          writer: writers[0]!,
          how: g.writers.get(writers[0]!)!,
          others:
            writers.length > 1
              ? ` (and ${writers.length - 1} more write path${writers.length > 2 ? 's' : ''})`
              : '',
          streams: `${plural ? 'streams' : 'stream'} ${codeList(g.streams)}`,
          handlers: g.streams
            .map((s) => `\`@onReplication(${facts.streamLabel(s)})\``)
            .join(' or '),
        },
        location: g.location,
        subject: {
          apps,
          composition: [...g.compositions].sort().join(', '),
          store: g.cacheStore,
          method: g.cache,
          table: g.table,
          cache: g.cache,
          stream: g.streams.join(', '),
        },
      };
    });
  },
});
