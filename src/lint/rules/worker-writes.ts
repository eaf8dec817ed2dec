// A method composed into a worker writes a table, or the worker app's own
// code writes one through a store's database handle. Workers never write: the
// writer owns every table so that every write is announced from one place
// (its own stream positions, listed under the app's `writes`, are the
// exception). Recording a caches-stream invalidation or allocating a stream
// ID is a write too; the runtime throws on the former at run time.
import {
  CACHES_STREAM_TABLE,
  STREAM_INVALIDATION_KINDS,
  codeList,
  factsOf,
  getOrCreate,
} from '../facts.js';
import { defineRule, type Finding, type FindingSubject } from '../rule.js';

type MessageId = 'write' | 'indirectWrite' | 'cachesStream' | 'allocates' | 'appWrite';

interface Group {
  readonly messageId: MessageId;
  readonly data: Record<string, string>;
  readonly location: Finding['location'];
  readonly subject: Omit<FindingSubject, 'apps'>;
  readonly apps: Set<string>;
  readonly compositions: Set<string>;
}

export const workerWrites = defineRule({
  id: 'worker-writes',
  meta: {
    description:
      'A method composed into a worker writes a table (other than those the app config lets that worker write).',
    defaultSeverity: 'error',
    messages: {
      write:
        '`{{store}}.{{method}}` is composed into worker `{{composition}}` ({{apps}}) and writes `{{table}}`; workers never write{{allowed}}',
      indirectWrite:
        '`{{store}}.{{method}}` is composed into worker `{{composition}}` ({{apps}}) and writes `{{table}}` through a query fragment or helper; workers never write{{allowed}}',
      cachesStream:
        '`{{store}}.{{method}}` is composed into worker `{{composition}}` ({{apps}}) and records an invalidation of `{{cache}}` in the caches stream, a write the runtime refuses on a worker',
      allocates:
        '`{{store}}.{{method}}` is composed into worker `{{composition}}` ({{apps}}) and allocates IDs on stream `{{stream}}`; only the writer announces rows',
      appWrite:
        'code of worker {{apps}} writes `{{table}}` itself, through a store’s database handle rather than a store method; workers never write{{allowed}}',
    },
    docs: 'docs/rules/worker-writes.md',
  },
  check(model) {
    const facts = factsOf(model);
    const groups = new Map<string, Group>();
    const add = (
      messageId: MessageId,
      location: Finding['location'],
      app: string,
      composition: string,
      subject: Omit<FindingSubject, 'apps'>,
      data: Record<string, string>,
    ) => {
      const key = [
        messageId,
        location.file,
        location.line,
        location.column,
        subject.table ?? subject.cache ?? subject.stream,
      ].join('\0');
      const group = getOrCreate(groups, key, () => ({
        messageId,
        data,
        location,
        subject,
        apps: new Set<string>(),
        compositions: new Set<string>(),
      }));
      group.apps.add(app);
      group.compositions.add(composition);
    };

    for (const app of model.apps) {
      if (app.role !== 'worker') continue;
      const worker = facts.compositionOf(app);
      if (!worker) continue;
      const allowed = new Set(app.allowedWrites);
      const allowedText = allowed.size ? ` (${app.name} may write only ${codeList(allowed)})` : '';
      for (const write of app.writes) {
        if (allowed.has(write.table)) continue;
        add(
          'appWrite',
          write.location,
          app.name,
          worker.name,
          { table: write.table },
          { table: write.table, allowed: allowedText },
        );
      }
      for (const defs of worker.definitions.values()) {
        for (const r of defs) {
          const { store, method } = r;
          const { tableAccesses, directWrites, invalidations, allocates } = method;
          const base = { store: store.name, method: method.name };
          // Made at the first write: most methods of a worker write nothing.
          let reported: Set<string> | undefined;
          // Indexed loops over the frozen model's arrays (see the top of facts.ts).
          for (let i = 0; i < tableAccesses.length; i++) {
            const access = tableAccesses[i]!;
            if (
              access.access !== 'write' ||
              allowed.has(access.table) ||
              reported?.has(access.table)
            )
              continue;
            (reported ??= new Set()).add(access.table);
            add(
              'write',
              access.location,
              app.name,
              worker.name,
              { ...base, table: access.table },
              {
                ...base,
                table: access.table,
                allowed: allowedText,
              },
            );
          }
          for (let i = 0; i < directWrites.length; i++) {
            const table = directWrites[i]!;
            if (allowed.has(table) || reported?.has(table)) continue;
            (reported ??= new Set()).add(table);
            add(
              'write',
              method.location,
              app.name,
              worker.name,
              { ...base, table },
              { ...base, table, allowed: allowedText },
            );
          }
          for (let i = 0; i < r.writes.length; i++) {
            const table = r.writes[i]!;
            if (allowed.has(table) || reported?.has(table)) continue;
            // Reported where a called method writes it.
            const viaCallee = method.calls.some((call) => {
              const target = worker.resolveCall(r, call);
              return typeof target === 'object' && target.writes.includes(table);
            });
            if (viaCallee) continue;
            add(
              'indirectWrite',
              method.location,
              app.name,
              worker.name,
              { ...base, table },
              {
                ...base,
                table,
                allowed: allowedText,
              },
            );
          }
          if (!allowed.has(CACHES_STREAM_TABLE)) {
            for (let i = 0; i < invalidations.length; i++) {
              const inv = invalidations[i]!;
              if (!STREAM_INVALIDATION_KINDS.has(inv.kind)) continue;
              add(
                'cachesStream',
                inv.location,
                app.name,
                worker.name,
                { ...base, cache: inv.cache },
                {
                  ...base,
                  cache: inv.cache,
                },
              );
            }
          }
          for (let i = 0; i < allocates.length; i++) {
            const allocation = allocates[i]!;
            const stream = facts.streamName(allocation.stream);
            add(
              'allocates',
              allocation.location,
              app.name,
              worker.name,
              { ...base, stream },
              { ...base, stream },
            );
          }
        }
      }
    }

    return [...groups.values()].map((g) => {
      const apps = [...g.apps].sort();
      const composition = [...g.compositions].sort().join(', ');
      return {
        messageId: g.messageId,
        data: {
          ...g.data,
          composition,
          apps: `${apps.length > 1 ? 'apps' : 'app'} ${apps.join(', ')}`,
        },
        location: g.location,
        subject: { ...g.subject, apps, composition },
      };
    });
  },
});
