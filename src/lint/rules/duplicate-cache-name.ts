// Two `@cached()` methods in one composition share a name. A cache's name is
// its method's name: the caches stream invalidates by name, and the runtime
// refuses to construct a composition with two caches of one name (a cached
// method overridden by another cached method, or two mixins that picked the
// same name, or one mixin applied twice: composed by two mixins of the
// composition), so this fails at start-up rather than in CI without the rule.
import { codeList, factsOf } from '../facts.js';
import { defineRule, type Finding } from '../rule.js';

export const duplicateCacheName = defineRule({
  id: 'duplicate-cache-name',
  meta: {
    description: 'Two cached methods in one composition share a name.',
    defaultSeverity: 'error',
    messages: {
      duplicate:
        '`@cached()` method `{{cache}}` in `{{store}}` has the same name as the one in `{{other}}`; both are composed into {{compositions}}, and a cache name must be unique within a composition',
      appliedTwice:
        '`{{store}}` is applied {{count}} times in `{{composition}}` ({{via}}), so its `@cached()` method `{{cache}}` is defined {{count}} times; a cache name must be unique within a composition',
    },
    docs: 'docs/rules/duplicate-cache-name.md',
  },
  check(model) {
    const facts = factsOf(model);
    const byLocation = new Map<
      string,
      {
        store: string;
        other: string;
        cache: string;
        location: (typeof model.stores)[number]['location'];
        compositions: Set<string>;
      }
    >();
    for (const composition of facts.compositions) {
      // `forEach`, not `for…of`: no [name, defs] pair per name.
      composition.definitions.forEach((defs, name) => {
        // Most names have one definition: no list is made for them.
        if (defs.length < 2) return;
        const cached = defs.filter((d) => d.method.cached?.kind === 'cached');
        for (let i = 1; i < cached.length; i++) {
          const here = cached[i]!;
          const first = cached[0]!;
          const loc = here.method.location;
          const key = `${loc.file}:${loc.line}:${loc.column}:${name}`;
          let entry = byLocation.get(key);
          if (!entry) {
            entry = {
              store: here.store.name,
              other: first.store.name,
              cache: name,
              location: loc,
              compositions: new Set(),
            };
            byLocation.set(key, entry);
          }
          entry.compositions.add(composition.name);
        }
      });
    }
    const sameName = [...byLocation.values()].map((e) => ({
      messageId: 'duplicate' as const,
      data: {
        cache: e.cache,
        store: e.store,
        other: e.other,
        compositions: codeList(e.compositions),
      },
      location: e.location,
      subject: {
        store: e.store,
        method: e.cache,
        cache: e.cache,
        composition: [...e.compositions].sort().join(', '),
      },
    }));
    return [...sameName, ...appliedTwice(facts)];
  },
});

/** A mixin that the composition applies more than once: each of its caches exists that many times. */
function appliedTwice(facts: ReturnType<typeof factsOf>): Finding<'appliedTwice'>[] {
  const findings: Finding<'appliedTwice'>[] = [];
  for (const composition of facts.compositions) {
    // `forEach`, not a spread of the entries: no [store, count] pair per store.
    composition.applications.forEach((count, store) => {
      if (count < 2) return;
      const composers = composition.chain
        .filter((s) => s.composes.includes(store.exportName))
        .map((s) => s.name);
      const direct = count > composers.length ? ['the composition itself'] : [];
      const via = `composed by ${[...composers.map((c) => `\`${c}\``), ...direct].join(' and ')}`;
      for (const m of store.methods) {
        if (m.cached?.kind !== 'cached') continue;
        findings.push({
          messageId: 'appliedTwice',
          data: {
            store: store.name,
            count: String(count),
            composition: composition.name,
            via,
            cache: m.name,
          },
          location: composition.info?.location ?? m.location,
          subject: {
            store: store.name,
            method: m.name,
            cache: m.name,
            composition: composition.name,
          },
        });
      }
    });
  }
  return findings;
}
