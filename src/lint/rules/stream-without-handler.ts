// A stream the writer announces (it holds an ID generator for it) that no
// worker composition follows: every row the writer pays for is read by
// nobody. Not a stale cache by itself (the cache rules report those), so a
// warning by default: usually a handler was forgotten, sometimes the stream
// is consumed outside the worker apps. The runtime's own `caches` stream is
// followed by every composition.
import type { SourceLocation, StoreInfo } from '../../analysis/model.js';
import { CACHES_STREAM, codeList, factsOf } from '../facts.js';
import { defineRule } from '../rule.js';

export const streamWithoutHandler = defineRule({
  id: 'stream-without-handler',
  meta: {
    description: 'A stream is announced by the writer but no worker composition follows it.',
    defaultSeverity: 'warn',
    messages: {
      noHandler:
        'stream `{{stream}}` is announced by `{{announcer}}` ({{writers}}), but no worker composition has an `@onReplication({{label}})` handler (workers: {{workers}})',
    },
    docs: 'docs/rules/stream-without-handler.md',
  },
  check(model) {
    const facts = factsOf(model);
    const workers = facts.workerCompositions;
    if (workers.length === 0) return [];
    // Without every mixin, a worker might follow it in code the model lacks.
    if (workers.some((w) => w.unknownMixins.length)) return [];
    const announced = new Map<
      string,
      { announcer: string; location: SourceLocation; writers: Set<string> }
    >();
    for (const writer of facts.writerCompositions) {
      const announce = (store: StoreInfo, ref: string, location: SourceLocation) => {
        const stream = facts.streamName(ref);
        if (stream === CACHES_STREAM) return;
        let entry = announced.get(stream);
        if (!entry) {
          entry = { announcer: store.name, location, writers: new Set() };
          announced.set(stream, entry);
        }
        for (const a of writer.apps) if (a.role === 'writer') entry.writers.add(a.name);
      };
      // Generator fields first, then allocations, each store in chain order.
      // Indexed loops over the frozen model's arrays (see the top of facts.ts).
      for (const store of writer.chain) {
        for (let g = 0; g < store.idGenerators.length; g++) {
          const { stream, location } = store.idGenerators[g]!;
          announce(store, stream, location);
        }
        for (let m = 0; m < store.methods.length; m++) {
          const allocates = store.methods[m]!.allocates;
          for (let a = 0; a < allocates.length; a++) {
            announce(store, allocates[a]!.stream, allocates[a]!.location);
          }
        }
      }
    }
    const findings = [];
    for (const [stream, entry] of announced) {
      if (workers.some((w) => w.handlers.has(stream))) continue;
      const info = facts.stream(stream);
      findings.push({
        messageId: 'noHandler' as const,
        data: {
          stream,
          label: facts.streamLabel(stream),
          announcer: entry.announcer,
          writers: `${entry.writers.size > 1 ? 'apps' : 'app'} ${[...entry.writers].sort().join(', ')}`,
          workers: codeList(workers.map((w) => w.name)),
        },
        location: info?.location ?? entry.location,
        subject: { stream, store: entry.announcer },
      });
    }
    return findings;
  },
});
