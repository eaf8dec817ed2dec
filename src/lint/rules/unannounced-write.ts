// A table that a worker cache reads is written without a token on any stream
// that announces it and without a caches-stream invalidation of each such
// cache: no worker ever hears of the write, so their caches stay stale until
// restart. An after-commit `this.invalidate(...)` fixes the writer only
// (Synapse #13863); `invalidateCacheAndStream` or a stream fixes everyone.
import {
  appsText,
  codeList,
  databaseWriteNote,
  factsOf,
  getOrCreate,
  qualified,
  type ModelFacts,
} from '../facts.js';
import { defineRule, type Finding } from '../rule.js';

interface Group {
  readonly writer: string;
  /** How the database writes the table when none of the writer's statements does ('' when one does). */
  readonly how: string;
  readonly store: string;
  readonly method: string;
  readonly table: string;
  readonly location: Finding['location'];
  readonly apps: Set<string>;
  readonly caches: Set<string>;
  readonly workerApps: Set<string>;
}

/** Whether one of `streams` announces (or may announce) writes of `table`. */
function announcedOnAny(facts: ModelFacts, streams: ReadonlySet<string>, table: string): boolean {
  for (const s of streams) if (facts.covers(s, table) !== 'no') return true;
  return false;
}

export const unannouncedWrite = defineRule({
  id: 'unannounced-write',
  meta: {
    description:
      'A table read by a worker cache is written without a token on a stream covering it and without a caches-stream invalidation of each such cache.',
    defaultSeverity: 'error',
    messages: {
      unannounced:
        '`{{writer}}` ({{apps}}) writes `{{table}}`{{how}} on no stream that announces it ({{coverage}}) and records no caches-stream invalidation of {{caches}}, which {{workerApps}} cache{{s}}; the workers never hear of this write',
    },
    docs: 'docs/rules/unannounced-write.md',
  },
  check(model) {
    const facts = factsOf(model);
    const groups = new Map<string, Group>();
    for (const { writer, writerApps, path, table } of facts.certainWrites()) {
      // Announced (or perhaps announced) on a stream: the worker rule's concern.
      if (announcedOnAny(facts, path.streams, table)) continue;
      const uncovered: string[] = [];
      const workerApps = new Set<string>();
      for (const worker of facts.workerCompositions) {
        if (worker.unknownMixins.length) continue;
        for (const cache of worker.cachesReading(table)) {
          if (path.cachesStream.has(cache.name)) continue;
          if (worker.handlerInvalidates(path.streams, cache.name)) continue;
          uncovered.push(`\`${cache.name}\` (${cache.owner.store.name})`);
          for (const a of worker.apps) if (a.role === 'worker') workerApps.add(a.name);
        }
      }
      if (uncovered.length === 0) continue;
      const key = [qualified(path.root), table].join('\0');
      const group = getOrCreate(groups, key, () => ({
        writer: qualified(path.root),
        how: databaseWriteNote(path, table),
        store: path.root.store.name,
        method: path.root.method.name,
        table,
        location: writer.writeLocation(path.root, table),
        apps: new Set<string>(),
        caches: new Set<string>(),
        workerApps: new Set<string>(),
      }));
      for (const a of writerApps) group.apps.add(a);
      for (const c of uncovered) group.caches.add(c);
      for (const a of workerApps) group.workerApps.add(a);
    }
    return [...groups.values()].map((g) => {
      const covering = facts.model.streams
        .filter((s) => s.tables.includes(g.table))
        .map((s) => s.name);
      const nameOf = (text: string) => text.slice(1, text.indexOf('`', 1));
      const caches = [...g.caches].sort((a, b) =>
        nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0,
      );
      return {
        messageId: 'unannounced' as const,
        data: {
          writer: g.writer,
          how: g.how,
          apps: appsText([...g.apps].sort()),
          table: g.table,
          coverage: covering.length
            ? `${covering.length > 1 ? 'streams' : 'stream'} ${codeList(covering)} would, but it allocates no token there`
            : 'no stream lists it',
          caches: caches.join(', '),
          workerApps: appsText([...g.workerApps].sort()),
          s: g.workerApps.size > 1 ? '' : 's',
        },
        location: g.location,
        subject: {
          apps: [...g.apps].sort(),
          store: g.store,
          method: g.method,
          table: g.table,
        },
      };
    });
  },
});
