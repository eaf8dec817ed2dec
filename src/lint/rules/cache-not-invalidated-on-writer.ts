// A write of T on the writer leaves one of the writer's own cached reads of T
// valid. The writer applies its own rows through its composition's
// `@onReplication` handlers right after commit, so a write announced on a
// stream whose handler invalidates the cache is fine; so is an invalidation
// after commit or through the caches stream. Anything else leaves the writer
// serving what it just overwrote (Synapse #13863 the other way round).
import {
  appsText,
  codeList,
  databaseWriteNote,
  factsOf,
  getOrCreate,
  qualified,
  type CacheFacts,
} from '../facts.js';
import { defineRule, type Finding } from '../rule.js';

interface Group {
  readonly writer: string;
  /** How the database writes the table when none of the writer's statements does ('' when one does). */
  readonly how: string;
  readonly writerStore: string;
  readonly writerMethod: string;
  readonly table: string;
  readonly streams: readonly string[];
  readonly location: Finding['location'];
  readonly apps: Set<string>;
  readonly compositions: Set<string>;
  /** Stale caches by name, as `` `name` (Store) ``. */
  readonly caches: Map<string, string>;
}

export const cacheNotInvalidatedOnWriter = defineRule({
  id: 'cache-not-invalidated-on-writer',
  meta: {
    description:
      'A write on the writer leaves one of the writer’s own cached reads of that table valid: no handler of a stream it is announced on, no after-commit invalidation, no caches-stream invalidation.',
    defaultSeverity: 'error',
    messages: {
      unannounced:
        '`{{writer}}` ({{apps}}) writes `{{table}}`{{how}}, which {{caches}} read{{s}}; the write is announced on no stream, and `{{method}}` invalidates {{them}} neither after commit nor through the caches stream',
      noHandler:
        '`{{writer}}` ({{apps}}) writes `{{table}}`{{how}}, which {{caches}} read{{s}}; it is announced on {{streams}}, but no {{handlers}} handler in `{{composition}}` invalidates {{them}}, and `{{method}}` invalidates {{them}} neither after commit nor through the caches stream',
    },
    docs: 'docs/rules/cache-not-invalidated-on-writer.md',
  },
  check(model) {
    const facts = factsOf(model);
    const groups = new Map<string, Group>();
    for (const { writer, writerApps, path, table } of facts.certainWrites()) {
      const stale: CacheFacts[] = [];
      for (const cache of writer.cachesReading(table)) {
        // A cached read that writes (get-or-create) fills its own entry.
        if (cache.owner === path.root || cache.fronts.includes(path.root)) continue;
        if (path.local.has(cache.name)) continue;
        if (!writer.handlerInvalidates(path.streams, cache.name)) stale.push(cache);
      }
      if (stale.length === 0) continue;
      const location = writer.writeLocation(path.root, table);
      const key = [qualified(path.root), table].join('\0');
      const group = getOrCreate(groups, key, () => ({
        writer: qualified(path.root),
        how: databaseWriteNote(path, table),
        writerStore: path.root.store.name,
        writerMethod: path.root.method.name,
        table,
        streams: [...path.streams].sort(),
        location,
        apps: new Set<string>(),
        compositions: new Set<string>(),
        caches: new Map<string, string>(),
      }));
      for (const a of writerApps) group.apps.add(a);
      group.compositions.add(writer.name);
      for (const c of stale) group.caches.set(c.name, `\`${c.name}\` (${c.owner.store.name})`);
    }
    return [...groups.values()].map((g) => {
      const caches = [...g.caches].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, text]) => text);
      const many = caches.length > 1;
      const composition = [...g.compositions].sort().join(', ');
      return {
        messageId: g.streams.length ? ('noHandler' as const) : ('unannounced' as const),
        data: {
          writer: g.writer,
          how: g.how,
          method: g.writerMethod,
          apps: appsText([...g.apps].sort()),
          table: g.table,
          caches: caches.join(', '),
          s: many ? '' : 's',
          them: many ? 'them' : 'it',
          streams: `${g.streams.length > 1 ? 'streams' : 'stream'} ${codeList(g.streams)}`,
          handlers: g.streams
            .map((s) => `\`@onReplication(${facts.streamLabel(s)})\``)
            .join(' or '),
          composition,
        },
        location: g.location,
        subject: {
          apps: [...g.apps].sort(),
          composition,
          store: g.writerStore,
          method: g.writerMethod,
          table: g.table,
        },
      };
    });
  },
});
